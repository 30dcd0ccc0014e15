"""One JSON shape for every API error: ``{"detail": "…", "errors": {"field": ["…"]}}``, in the user's language."""

import logging

from django.core.exceptions import RequestDataTooBig
from django.db import InterfaceError, OperationalError
from django.http import Http404
from django.utils.translation import gettext as _
from rest_framework.exceptions import NotFound, ValidationError
from rest_framework.response import Response
from rest_framework.views import exception_handler as drf_exception_handler

from core.errors import BaogongError

logger = logging.getLogger("baogong.errors")


def _flatten(detail) -> dict[str, list[str]]:
    if isinstance(detail, dict):
        errors: dict[str, list[str]] = {}
        for field, value in detail.items():
            if isinstance(value, dict):
                for sub, messages in _flatten(value).items():
                    errors[f"{field}.{sub}"] = messages
            elif isinstance(value, list) and value and isinstance(value[0], dict):
                for index, item in enumerate(value):
                    for sub, messages in _flatten(item).items():
                        errors[f"{field}.{index}.{sub}"] = messages
            else:
                errors[field] = [str(v) for v in (value if isinstance(value, list) else [value])]
        return errors
    return {"non_field_errors": [str(v) for v in (detail if isinstance(detail, list) else [detail])]}


def database_unavailable_message(exc: Exception | None = None) -> str:
    """What happened, truthfully: the database was busy (another request held it for longer than
    the wait allows: the embedded SQLite demo under a burst), or it went away (a restart)."""
    text = str(exc or "").lower()
    if "locked" in text or "busy" in text:
        return _(
            "Too many requests were being saved at the same moment, and this one could not wait any longer. Nothing was saved from it; try again in a moment."
        )
    return _(
        "The service is briefly unavailable (its database is restarting). Nothing was saved from this request; try again in a moment."
    )


def exception_handler(exc, context):
    if isinstance(exc, (OperationalError, InterfaceError)):
        # The database went away mid-request (restart, failover): a clean 503, never a 500. A
        # transaction cut off here was rolled back; a retry with the same Idempotency-Key is safe.
        logger.warning("database unavailable during %s: %s", context.get("request") and context["request"].path, exc)
        return Response(
            {"detail": database_unavailable_message(exc), "errors": {}}, status=503, headers={"Retry-After": "5"}
        )
    if isinstance(exc, RequestDataTooBig):
        return Response({"detail": _("What was sent is too large. Nothing was changed."), "errors": {}}, status=413)
    if isinstance(exc, BaogongError):
        return Response({"detail": exc.message, "errors": exc.errors}, status=exc.status_code)
    if isinstance(exc, Http404):
        # DRF would say "No Order matches the given query.": English, and naming our models.
        exc = NotFound(_("Not found: it does not exist, or it is not yours to see."))
    response = drf_exception_handler(exc, context)
    if response is None:
        return None
    if isinstance(exc, ValidationError):
        errors = _flatten(exc.detail)
        first = next((messages[0] for messages in errors.values() if messages), "")
        detail = first if len(errors) == 1 else _("Some fields are not valid: %(first)s") % {"first": first}
        response.data = {"detail": detail, "errors": errors}
    elif isinstance(response.data, dict) and "detail" in response.data:
        response.data = {"detail": str(response.data["detail"]), "errors": {}}
    return response
