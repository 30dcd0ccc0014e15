from django.conf import settings
from django.http import HttpRequest

from households.selectors import hotline_for


def hotline(request: HttpRequest) -> dict:
    """The supply hotline shown on every page: the user's district's, else the city's."""
    return {"supply_hotline": hotline_for(user=getattr(request, "user", None)) or settings.CITY_SUPPLY_HOTLINE}
