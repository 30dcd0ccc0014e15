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
        from households.api_errors import database_unavailable_message, logger

        logger.warning("database unavailable during %s: %s", request.path, exception)
        message = database_unavailable_message()
        if request.path.startswith("/api/"):
            response = JsonResponse({"detail": message, "errors": {}}, status=503)
        else:
            try:
                response = render(request, "503.html", {"message": message}, status=503)
            except Exception:  # the page itself may need the database (the signed-in user)
                response = JsonResponse({"detail": message, "errors": {}}, status=503)
        response["Retry-After"] = "5"
        return response
