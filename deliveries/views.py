"""Pages for the cycle's packaging: progress, closing, levelling delivery days."""

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from deliveries import selectors, services
from households import selectors as household_selectors
from households import services as household_services
from households.errors import BaogongError
from households.models import Role
from households.permissions import role_required

CYCLE_VIEWERS = (Role.TASKFORCE, Role.OFFICE, Role.WORKER, Role.ADMIN)
CLOSERS = (Role.TASKFORCE, Role.ADMIN)
LEVELLERS = (Role.TASKFORCE, Role.OFFICE, Role.ADMIN)


@role_required(*CYCLE_VIEWERS)
def cycle_list(request: HttpRequest) -> HttpResponse:
    cycles = list(selectors.cycle_list(user=request.user)[:6])
    progress = [selectors.cycle_progress(user=request.user, cycle=cycle) for cycle in cycles]
    return render(
        request,
        "deliveries/cycle_list.html",
        {"progress": progress, "can_close": request.user.role in CLOSERS or request.user.is_superuser,
         "can_level": request.user.role in LEVELLERS or request.user.is_superuser},
    )


@require_POST
@role_required(*CLOSERS)
def cycle_close(request: HttpRequest, pk: int) -> HttpResponse:
    cycle = get_object_or_404(selectors.cycle_list(user=request.user), pk=pk)
    try:
        services.cycle_close(cycle_id=cycle.pk)
    except BaogongError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, _("Cycle %(n)s is closing: each community's packages are being built.") % {"n": cycle.number})
    return redirect("deliveries:cycle_list")


@require_POST
@role_required(*LEVELLERS)
def delivery_days_level(request: HttpRequest) -> HttpResponse:
    """Level the delivery days of every community in the user's scope (by household counts)."""
    results = [
        (community, household_services.community_delivery_days_level(community_id=community.pk))
        for community in household_selectors.community_list(user=request.user)
    ]
    if results:
        worst = max(results, key=lambda item: item[1].spread)
        messages.success(
            request,
            _("Delivery days levelled in %(n)d communities; the least even is %(name)s (days: %(loads)s households).")
            % {"n": len(results), "name": worst[0].name, "loads": " / ".join(str(x) for x in worst[1].loads)},
        )
    return redirect("deliveries:cycle_list")
