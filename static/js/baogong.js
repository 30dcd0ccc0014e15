/* Every behaviour of the pages, bound from data attributes: the Content-Security-Policy allows no
   inline script or handler (config/settings.py). Works the same on pages loaded by htmx. */
(function () {
  "use strict";

  document.addEventListener("click", function (event) {
    var target = event.target.closest("[data-print], [data-reload], [data-confirm]");
    if (!target) { return; }
    if (target.hasAttribute("data-print")) {
      event.preventDefault();
      window.print();
    } else if (target.hasAttribute("data-reload")) {
      event.preventDefault();
      window.location.reload();
    } else if (target.hasAttribute("data-confirm") && !window.confirm(target.getAttribute("data-confirm"))) {
      event.preventDefault();
    }
  });

  document.addEventListener("change", function (event) {
    var target = event.target.closest("[data-autosubmit]");
    if (target && target.form) {
      target.form.submit();
    }
  });
})();
