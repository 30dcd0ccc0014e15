"""Throttles: how often one person (or one address) may sign in and place orders.

API: DRF throttles with the rates in ``settings.REST_FRAMEWORK["DEFAULT_THROTTLE_RATES"]``
(answer 429 with the project's error JSON). Pages: django-ratelimit with the same rates
(``settings.SIGN_IN_RATE``, ``settings.ORDER_RATE``). Counters live in the cache: Redis in a real
deployment, so every web process counts together.
"""

import logging

from rest_framework.throttling import AnonRateThrottle, UserRateThrottle

logger = logging.getLogger("baogong.throttling")


class _FailOpen:
    """When the cache (Redis) cannot be reached, let the request through rather than refuse
    every sign-in and order of the city: a throttle protects the service, it must not stop it."""

    def allow_request(self, request, view) -> bool:
        try:
            return super().allow_request(request, view)  # type: ignore[misc]  # mixed into a DRF throttle
        except Exception as exc:  # the cache backend's connection errors (redis.ConnectionError, OSError…)
            logger.warning("throttle cache unreachable, request let through: %s", exc)
            return True


class SignInThrottle(_FailOpen, AnonRateThrottle):
    """Token sign-in attempts per client address."""

    scope = "sign_in"


class OrderPlaceThrottle(_FailOpen, UserRateThrottle):
    """Orders placed per account (reading orders is not limited)."""

    scope = "orders"

    def allow_request(self, request, view) -> bool:
        if request.method != "POST":
            return True
        return super().allow_request(request, view)
