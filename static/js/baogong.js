/* Every behaviour of the pages, bound from data attributes: the Content-Security-Policy allows no
   inline script or handler (config/settings.py). Works the same on pages loaded by htmx. */
(function () {
  "use strict";

  // The − / + of a quantity stepper: one less or one more, within the field's min and max.
  document.addEventListener("click", function (event) {
    var step = event.target.closest("[data-step]");
    if (!step) { return; }
    var field = document.getElementById(step.getAttribute("aria-controls"));
    if (!field) { return; }
    var value = (parseInt(field.value, 10) || 0) + parseInt(step.getAttribute("data-step"), 10);
    var min = parseInt(field.min, 10);
    var max = parseInt(field.max, 10);
    if (!isNaN(min)) { value = Math.max(value, min); }
    if (!isNaN(max)) { value = Math.min(value, max); }
    field.value = value;
  });

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

  // A search box over a table: rows whose data-search does not hold every word typed are hidden
  // (a group heading stays while any of its rows shows). Nothing is sent: what was typed in the
  // hidden rows' boxes is kept.
  document.addEventListener("input", function (event) {
    var box = event.target.closest("[data-filter-rows]");
    if (!box) { return; }
    var table = document.querySelector(box.getAttribute("data-filter-rows"));
    if (!table) { return; }
    var words = box.value.toLowerCase().split(/\s+/).filter(Boolean);
    var heading = null;
    var headingShown = false;
    table.querySelectorAll("tbody tr").forEach(function (row) {
      if (!row.hasAttribute("data-search")) {
        if (heading) { heading.hidden = !headingShown; }
        heading = row;
        headingShown = false;
        return;
      }
      var text = row.getAttribute("data-search").toLowerCase();
      var shown = words.every(function (word) { return text.indexOf(word) !== -1; });
      row.hidden = !shown;
      headingShown = headingShown || shown;
    });
    if (heading) { heading.hidden = !headingShown; }
  });

  document.addEventListener("change", function (event) {
    var target = event.target.closest("[data-autosubmit]");
    if (target && target.form) {
      target.form.submit();
    }
  });

  // A form answered with problems: a summary at the top of the page, focused (a screen reader
  // reads it, a phone shows it), each problem a link to its field, which scrolls into view and
  // takes the focus. The problems stay beside their fields too; without script they are all there is.
  function fieldOf(problem) {
    var holder = problem.closest(".field, td, tr, p, div");
    return holder ? holder.querySelector("input:not([type=hidden]), select, textarea") : null;
  }

  function summarise() {
    var main = document.getElementById("main");
    if (!main || main.querySelector(".error-summary")) { return; }
    var problems = [];
    main.querySelectorAll("form .errorlist li, form [role=alert]").forEach(function (node) {
      if (node.closest(".errorlist") && node.closest("[role=alert]")) { return; }
      var text = node.textContent.replace(/\s+/g, " ").trim();
      if (text) { problems.push({ text: text, field: node.closest("[role=alert]") ? null : fieldOf(node) }); }
    });
    if (!problems.length) { return; }
    var summary = document.createElement("div");
    summary.className = "error-summary message error";
    summary.setAttribute("role", "alert");
    summary.tabIndex = -1;
    var title = document.createElement("p");
    title.className = "error-summary-title";
    title.textContent = main.getAttribute("data-error-title") || "";
    summary.appendChild(title);
    var list = document.createElement("ul");
    problems.forEach(function (problem) {
      var item = document.createElement("li");
      if (problem.field && problem.field.id) {
        var link = document.createElement("a");
        link.href = "#" + problem.field.id;
        link.textContent = problem.text;
        link.addEventListener("click", function (event) {
          event.preventDefault();
          problem.field.scrollIntoView({ block: "center" });
          problem.field.focus();
        });
        item.appendChild(link);
      } else {
        item.textContent = problem.text;
      }
      list.appendChild(item);
    });
    summary.appendChild(list);
    var messages = main.querySelector(":scope > .messages");
    main.insertBefore(summary, messages ? messages.nextSibling : main.firstChild);
    summary.focus();
    window.scrollTo(0, 0);
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", summarise);
  } else {
    summarise();
  }
})();
