"""Reads of dashboards and reports from a PostgreSQL streaming replica (``DATABASE_REPLICA_URL``).

A view marked :func:`reads_from_replica` reads everything (its session and user included) from
the ``replica`` database on a GET, so the heavy aggregate queries of a city's dashboards do not
load the primary that takes the orders. Every write goes to the primary. Read-your-writes: a
person who just changed something (any POST, PUT, PATCH or DELETE) reads from the primary for
``REPLICA_PIN_SECONDS`` afterwards (a cookie), so they never see the page from before their change
while the replica catches up. Without ``DATABASE_REPLICA_URL`` nothing here is active.
"""

import time
from collections.abc import Callable
from contextvars import ContextVar

from django.conf import settings
from django.http import HttpRequest, HttpResponse

REPLICA = "replica"
PIN_COOKIE = "baogong_primary_until"
_reading: ContextVar[bool] = ContextVar("replica_reading", default=False)


def replica_configured() -> bool:
    return REPLICA in settings.DATABASES


def reads_from_replica(view: Callable) -> Callable:
    """Mark a view (function, or an API view class) whose GETs may read from the replica. Only
    for pages that write nothing and can be a second behind: dashboards, statements, reports."""
    view.reads_from_replica = True  # type: ignore[attr-defined]
    return view


def _marked(view_func) -> bool:
    return bool(
        getattr(view_func, "reads_from_replica", False)
        or getattr(getattr(view_func, "cls", None), "reads_from_replica", False)
    )


def _pinned(request: HttpRequest) -> bool:
    try:
        return float(request.COOKIES.get(PIN_COOKIE, "0")) > time.time()
    except ValueError:
        return False


class ReplicaReadsMiddleware:
    """First in MIDDLEWARE: before anything reads the session or the user."""

    def __init__(self, get_response):
        self.get_response = get_response
        self.active = replica_configured()

    def __call__(self, request: HttpRequest) -> HttpResponse:
        try:
            response = self.get_response(request)
        finally:
            token = getattr(request, "_replica_token", None)
            if token is not None:
                _reading.reset(token)
        if self.active and request.method not in ("GET", "HEAD", "OPTIONS"):
            seconds = settings.REPLICA_PIN_SECONDS
            response.set_cookie(
                PIN_COOKIE, f"{time.time() + seconds:.0f}", max_age=seconds, httponly=True, samesite="Lax"
            )
        return response

    def process_view(self, request: HttpRequest, view_func, view_args, view_kwargs):
        if self.active and request.method in ("GET", "HEAD") and _marked(view_func) and not _pinned(request):
            request._replica_token = _reading.set(True)  # type: ignore[attr-defined]
        return None


class ReplicaRouter:
    """Reads inside a replica view go to the replica; every other read, and every write, to the primary."""

    def db_for_read(self, model, **hints):
        return REPLICA if _reading.get() else "default"

    def db_for_write(self, model, **hints):
        return "default"

    def allow_relation(self, obj1, obj2, **hints):
        return True  # the same data

    def allow_migrate(self, db, app_label, model_name=None, **hints):
        return db != REPLICA
