"""Throttles: how often one person (or one address) may sign in and place orders.

API: DRF throttles with the rates in ``settings.REST_FRAMEWORK["DEFAULT_THROTTLE_RATES"]``
(answer 429 with the project's error JSON). Pages: django-ratelimit with the same rates
(``settings.SIGN_IN_RATE``, ``settings.ORDER_RATE``). Counters live in the cache: Redis in a real
deployment, so every web process counts together.
"""

from rest_framework.throttling import AnonRateThrottle, UserRateThrottle


class SignInThrottle(AnonRateThrottle):
    """Token sign-in attempts per client address."""

    scope = "sign_in"


class OrderPlaceThrottle(UserRateThrottle):
    """Orders placed per account (reading orders is not limited)."""

    scope = "orders"

    def allow_request(self, request, view) -> bool:
        if request.method != "POST":
            return True
        return super().allow_request(request, view)
