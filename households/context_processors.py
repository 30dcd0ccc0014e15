from django.conf import settings
from django.http import HttpRequest

from households.selectors import hotline_for


def hotline(request: HttpRequest) -> dict:
    """The supply hotline shown on every page: the user's district's, else the city's."""
    return {"supply_hotline": hotline_for(user=getattr(request, "user", None)) or settings.CITY_SUPPLY_HOTLINE}


def large_text(request) -> dict:
    """适老化: whether pages are drawn with large text (the account's choice, or the session's
    when signed out). No query: the user and the session are loaded already."""
    user = getattr(request, "user", None)
    chosen = bool(getattr(user, "large_text", False))
    session = getattr(request, "session", None)
    if not chosen and session is not None and session.session_key:
        chosen = bool(session.get("large_text", False))
    return {"large_text": chosen}
