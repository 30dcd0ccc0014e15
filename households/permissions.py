"""Which roles may open which pages. Which rows they then see is decided by households.access."""

from collections.abc import Callable
from functools import wraps

from django.contrib.auth.views import redirect_to_login
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse

from households.models import Role

STAFF_ROLES = (Role.WORKER, Role.OFFICE, Role.OPERATOR, Role.TASKFORCE, Role.ADMIN)


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
