from django.http import HttpRequest


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
