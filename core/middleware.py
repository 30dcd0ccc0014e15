from django.db import InterfaceError, OperationalError
from django.http import HttpRequest, JsonResponse
from django.shortcuts import render


class ChineseFirstMiddleware:
    """Simplified Chinese unless the user chose another language.

    The browser's Accept-Language is ignored: a phone set to English in a Zhengzhou compound
    still gets the Chinese pages its neighbours and workers see. The choice made with the
    language menu (the language cookie) is honoured by Django's LocaleMiddleware after this.
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request: HttpRequest):
        request.META.pop("HTTP_ACCEPT_LANGUAGE", None)
        return self.get_response(request)


class DatabaseUnavailableMiddleware:
    """A page whose database went away mid-request (a restart) answers 503 with a calm message and
    Retry-After, not a 500: the request's transaction was rolled back, so trying again is safe."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request: HttpRequest):
        return self.get_response(request)

    def process_exception(self, request: HttpRequest, exception: Exception):
        if not isinstance(exception, (OperationalError, InterfaceError)):
            return None
        from core.api_errors import database_unavailable_message, logger

        logger.warning("database unavailable during %s: %s", request.path, exception)
        response = error_response(request, status=503, message=database_unavailable_message(exception))
        response["Retry-After"] = "5"
        return response


def error_response(request: HttpRequest, *, status: int, message: str, errors: dict | None = None):
    """An error answer in the user's language: JSON under /api/, the error page elsewhere."""
    if request.path.startswith("/api/"):
        return JsonResponse({"detail": message, "errors": errors or {}}, status=status)
    template = {429: "429.html", 503: "503.html"}.get(status, "400.html")
    try:
        return render(request, template, {"message": message}, status=status)
    except Exception:  # the page itself may need the database (the signed-in user): say it plainly
        return JsonResponse({"detail": message, "errors": errors or {}}, status=status)


def _bad_field(data, *, allow_newlines: bool) -> str | None:
    """The name of the first field (of a QueryDict) whose name or value holds a control character."""
    from core.edges import has_control_characters

    for key, values in data.lists():
        if has_control_characters(key) or any(
            isinstance(v, str) and has_control_characters(v, allow_newlines=allow_newlines) for v in values
        ):
            return key if not has_control_characters(key) else "?"
    return None


class RequestEdgesMiddleware:
    """Refuses before any view runs what no page can use, and turns the edge errors of views
    into clean answers:

    - a query string or form holding NUL or another control character → 400 (forms may hold
      line breaks and tabs; query strings may not);
    - a body larger than ``DATA_UPLOAD_MAX_MEMORY_SIZE`` (or with too many fields) → 413 / 400;
    - :class:`core.edges.BadParameter` raised by a view → 400 with its message.
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request: HttpRequest):
        from django.core.exceptions import RequestDataTooBig, TooManyFieldsSent
        from django.utils.translation import gettext as _

        try:
            bad = _bad_field(request.GET, allow_newlines=False)
            # Forms of the pages; the API parses its own bodies (core/parsers.py).
            if (
                bad is None
                and request.method == "POST"
                and not request.path.startswith("/api/")
                and request.content_type in ("application/x-www-form-urlencoded", "multipart/form-data")
            ):
                bad = _bad_field(request.POST, allow_newlines=True)
        except RequestDataTooBig:
            return error_response(request, status=413, message=_("What was sent is too large. Nothing was changed."))
        except (TooManyFieldsSent, UnicodeDecodeError):
            return error_response(request, status=400, message=_("What was sent cannot be read. Nothing was changed."))
        if bad is not None:
            message = _("What was sent holds characters that cannot be typed (such as NUL). Nothing was changed.")
            return error_response(request, status=400, message=message, errors={bad: [message]})
        return self.get_response(request)

    def process_exception(self, request: HttpRequest, exception: Exception):
        from django.core.exceptions import RequestDataTooBig
        from django.utils.translation import gettext as _

        from core.edges import BadParameter

        if isinstance(exception, BadParameter):
            return error_response(request, status=400, message=exception.message, errors=exception.errors)
        if isinstance(exception, RequestDataTooBig):
            return error_response(request, status=413, message=_("What was sent is too large. Nothing was changed."))
        return None
