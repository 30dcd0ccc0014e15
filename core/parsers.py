"""The API's JSON parser: DRF's, refusing what no endpoint can use with a 400 in the error JSON."""

from django.utils.translation import gettext as _
from rest_framework.exceptions import ParseError
from rest_framework.parsers import JSONParser

from core.edges import has_control_characters

MAX_DEPTH = 20


class SafeJSONParser(JSONParser):
    """JSON nested deeper than ``MAX_DEPTH`` (Python's parser would hit its recursion limit at
    about 1,000 and answer 500) and strings holding NUL or other control characters (PostgreSQL
    refuses NUL in text) are a parse error."""

    def parse(self, stream, media_type=None, parser_context=None):
        try:
            data = super().parse(stream, media_type, parser_context)
        except RecursionError:
            raise ParseError(_("The JSON is nested too deeply.")) from None
        _check(data)
        return data


def _check(data) -> None:
    stack = [(data, 0)]
    while stack:
        value, depth = stack.pop()
        if depth > MAX_DEPTH:
            raise ParseError(_("The JSON is nested too deeply."))
        if isinstance(value, dict):
            for key, item in value.items():
                if has_control_characters(key):
                    raise ParseError(_("The JSON holds characters that cannot be typed (such as NUL)."))
                stack.append((item, depth + 1))
        elif isinstance(value, list):
            stack.extend((item, depth + 1) for item in value)
        elif isinstance(value, str) and has_control_characters(value, allow_newlines=True):
            raise ParseError(_("The JSON holds characters that cannot be typed (such as NUL)."))
