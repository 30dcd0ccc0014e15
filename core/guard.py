"""Bounds on guessing: who is asking (the client address) and how often they may fail.

Client address: ``REMOTE_ADDR``, unless ``settings.TRUSTED_PROXIES`` (a count) says that many
proxies of our own stand in front; then the address the outermost of them saw, read from the
right of ``X-Forwarded-For``. Whatever a client writes into that header itself is never believed,
so rotating it does not give a new address. django-ratelimit, the DRF throttles and the guard
below all read the address through :func:`client_ip`.

The guard counts failed attempts (a wrong password, a wrong code) per key — an account, a phone
number, a client address — in the cache. Beyond a free number of failures a key is locked, and
each further failure doubles the lock (``GUARD_BACKOFF_SECONDS`` up to ``GUARD_BACKOFF_MAX_SECONDS``).
While any key of an attempt is locked the attempt is refused without being checked. With Redis the
counts hold across every web process; the embedded demo's local-memory cache counts per process
(README and RELIABILITY.md say so). A cache that cannot be reached lets attempts through (with a
warning): the limit protects the service, it must not stop it.
"""

from __future__ import annotations

import ipaddress
import logging
import math
import time
from dataclasses import dataclass

from django.conf import settings
from django.core.cache import cache
from django.http import HttpRequest

logger = logging.getLogger("baogong.guard")


def client_ip(request: HttpRequest) -> str:
    """The client's address, believing ``X-Forwarded-For`` only for ``TRUSTED_PROXIES`` hops."""
    remote = request.META.get("REMOTE_ADDR") or "0.0.0.0"
    proxies = settings.TRUSTED_PROXIES
    if proxies <= 0:
        return remote
    forwarded = [part.strip() for part in request.META.get("HTTP_X_FORWARDED_FOR", "").split(",") if part.strip()]
    if not forwarded:
        return remote
    # Our N proxies each appended the address they saw: the client is the N-th from the right.
    candidate = forwarded[-min(proxies, len(forwarded))]
    try:
        return str(ipaddress.ip_address(candidate))
    except ValueError:
        return remote


@dataclass(frozen=True)
class Limit:
    """A kind of key, and the setting saying how many failures it may have before the back-off."""

    name: str
    setting: str

    @property
    def free(self) -> int:
        return getattr(settings, self.setting)


ACCOUNT = Limit("account", "GUARD_FREE_FAILURES_PER_ACCOUNT")
ADDRESS = Limit("address", "GUARD_FREE_FAILURES_PER_ADDRESS")


def _count_key(limit: Limit, value: str) -> str:
    return f"guard:n:{limit.name}:{value}"


def _lock_key(limit: Limit, value: str) -> str:
    return f"guard:lock:{limit.name}:{value}"


def lock_seconds(failures: int, free: int) -> int:
    """How long a key stays locked after its ``failures``-th failure (0 while within the free ones)."""
    if failures < free:
        return 0
    base, ceiling = settings.GUARD_BACKOFF_SECONDS, settings.GUARD_BACKOFF_MAX_SECONDS
    return int(min(ceiling, base * 2 ** min(failures - free, 30)))


class Guard:
    """The keys of one kind of attempt: ``Guard(ACCOUNT="…", ADDRESS="…")``."""

    def __init__(self, **keys: str):
        limits = {"ACCOUNT": ACCOUNT, "ADDRESS": ADDRESS}
        self.keys = [(limits[name], value.lower()) for name, value in keys.items() if value]

    def wait_seconds(self) -> int:
        """0 if the attempt may be checked, otherwise how many seconds until it may."""
        try:
            until = cache.get_many([_lock_key(limit, value) for limit, value in self.keys])
        except Exception as exc:  # the cache backend's connection errors
            logger.warning("guard cache unreachable, attempt let through: %s", exc)
            return 0
        remaining = max((float(v) - time.time() for v in until.values()), default=0)
        return math.ceil(remaining) if remaining > 0 else 0

    def failed(self) -> int:
        """Count a failure on every key; returns the longest lock now in force (seconds)."""
        longest = 0
        try:
            for limit, value in self.keys:
                key = _count_key(limit, value)
                cache.add(key, 0, timeout=settings.GUARD_WINDOW_SECONDS)
                try:
                    failures = cache.incr(key)
                except ValueError:  # expired between add and incr
                    cache.set(key, 1, timeout=settings.GUARD_WINDOW_SECONDS)
                    failures = 1
                seconds = lock_seconds(failures, limit.free)
                if seconds:
                    cache.set(_lock_key(limit, value), time.time() + seconds, timeout=seconds)
                    longest = max(longest, seconds)
        except Exception as exc:
            logger.warning("guard cache unreachable, failure not counted: %s", exc)
        return longest

    def succeeded(self) -> None:
        """A right answer clears the account's count (never the address's: one right password
        must not buy an address another round of guesses at other accounts)."""
        try:
            cache.delete_many(
                [
                    k
                    for limit, value in self.keys
                    if limit is ACCOUNT
                    for k in (_count_key(limit, value), _lock_key(limit, value))
                ]
            )
        except Exception as exc:
            logger.warning("guard cache unreachable: %s", exc)


def wait_message(seconds: int) -> str:
    """What a person is told while locked out, in their language."""
    from django.utils.translation import gettext as _
    from django.utils.translation import ngettext

    minutes = max(1, math.ceil(seconds / 60))
    if seconds < 60:
        return ngettext(
            "Too many wrong attempts. Try again in %(n)d second.",
            "Too many wrong attempts. Try again in %(n)d seconds.",
            seconds,
        ) % {"n": seconds}
    return (
        ngettext(
            "Too many wrong attempts. Try again in %(n)d minute.",
            "Too many wrong attempts. Try again in %(n)d minutes.",
            minutes,
        )
        % {"n": minutes}
        + " "
        + _("If you forgot your password, sign in with a text-message code instead.")
    )


def guarded(guard: Guard, attempt):
    """Run ``attempt()`` (a password or code check) under ``guard``.

    Refused with :class:`TooManyAttempts` while any key is locked (the attempt is not even
    checked); a :class:`WrongAnswer` is counted against every key and raised again; a right
    answer clears the account's count.
    """
    from core.errors import TooManyAttempts, WrongAnswer

    wait = guard.wait_seconds()
    if wait:
        raise TooManyAttempts(wait_message(wait))
    try:
        result = attempt()
    except WrongAnswer:
        guard.failed()
        raise
    guard.succeeded()
    return result
