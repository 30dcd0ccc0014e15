"""Putting a service's refusal on the form the person filled in."""

from django.utils.translation import gettext_noop

from core.errors import BaogongError

# Django puts gettext(":") after every form label; our catalog makes it the full-width "：" in
# Chinese (CONTRIBUTING.md, "Punctuation"), which Django's own catalog leaves ASCII.
LABEL_SUFFIX = gettext_noop(":")


def form_errors(form, exc: BaogongError, *, field: str | None = None) -> None:
    """Put a service's message on the form once, where the person will look.

    A form that already has errors keeps them (its own validation said why). Otherwise the
    message goes on the first field the service names, with the other named fields' errors on
    theirs; a message that names no field of the form goes on ``field`` (None: the form's top).
    """
    if form.errors:
        return
    fields = [name for name in exc.errors if name in form.fields]
    if not fields:
        form.add_error(field, exc.message)
        return
    form.add_error(fields[0], exc.message)
    for name in fields[1:]:
        for error in exc.errors[name]:
            form.add_error(name, error)
