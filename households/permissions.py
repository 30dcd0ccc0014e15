"""Who may do what: named rules, each declared once in its app's ``rules.py`` (which roles it
allows), read by views (``rule_required``), services and selectors (``allows``), templates and the
navigation (``{% if user|can:"app.rule" %}``) and the URL × role test alike. Which rows a user then
sees is decided by households.access."""

from collections.abc import Callable
from functools import wraps

from django.contrib.auth.views import redirect_to_login
from django.core.exceptions import ImproperlyConfigured, PermissionDenied
from django.http import HttpRequest, HttpResponse

from households.models import Role


def role_of(user) -> str | None:
    if not user.is_authenticated:
        return None
    return Role.ADMIN if user.is_superuser else user.role


def role_required(*roles: str) -> Callable:
    """Let only signed-in users of these roles in: others get the sign-in page or a 403."""

    def decorator(view: Callable) -> Callable:
        @wraps(view)
        def wrapper(request: HttpRequest, *args, **kwargs) -> HttpResponse:
            if not request.user.is_authenticated:
                return redirect_to_login(request.get_full_path())
            if role_of(request.user) not in roles:
                raise PermissionDenied
            return view(request, *args, **kwargs)

        wrapper.allowed_roles = tuple(roles)
        return wrapper

    return decorator


# name → the roles it allows; filled by each app's rules.py at import (apps.ready imports it).
RULES: dict[str, frozenset[str]] = {}


def rule(name: str, *roles: str) -> str:
    """Declare a named rule once; returns its name (the constant views and templates use)."""
    allowed = frozenset(str(role) for role in roles)
    if RULES.setdefault(name, allowed) != allowed:
        raise ImproperlyConfigured(f"the rule {name} is declared twice, with other roles")
    return name


def allows(user, name: str) -> bool:
    """Does the rule let this user in (by role; the rows are households.access's business)?"""
    try:
        allowed = RULES[name]
    except KeyError:
        raise ImproperlyConfigured(f"no rule named {name}") from None
    return role_of(user) in allowed


def rule_required(name: str) -> Callable:
    """A view only for users the rule lets in: others get the sign-in page or a 403."""
    if name not in RULES:
        raise ImproperlyConfigured(f"no rule named {name}")

    def decorator(view: Callable) -> Callable:
        wrapper = role_required(*sorted(RULES[name]))(view)
        wrapper.rule = name
        return wrapper

    return decorator
