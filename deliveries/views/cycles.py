"""The cycle's pages: progress, closing, levelling delivery days, the reconciliation, completing, and
who a lockdown change covered."""

from django.contrib import messages
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from core.edges import id_param
from core.errors import BaogongError
from deliveries import handovers, rules, selectors, services
from deliveries.views.rounds import OPEN_PER_PAGE
from households import selectors as household_selectors
from households import services as household_services
from households.permissions import allows, rule_required


@rule_required(rules.CYCLES)
def cycle_list(request: HttpRequest) -> HttpResponse:
    cycles = list(selectors.cycle_list(user=request.user)[:6])
    progress = [selectors.cycle_progress(user=request.user, cycle=cycle) for cycle in cycles]
    return render(
        request,
        "deliveries/cycle_list.html",
        {
            "progress": progress,
            "can_close": allows(request.user, rules.CLOSE_CYCLE),
            "can_level": allows(request.user, rules.LEVEL_DAYS),
        },
    )


@require_POST
@rule_required(rules.CLOSE_CYCLE)
def cycle_close(request: HttpRequest, pk: int) -> HttpResponse:
    cycle = get_object_or_404(selectors.cycle_list(user=request.user), pk=pk)
    try:
        services.cycle_close(cycle_id=cycle.pk)
    except BaogongError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(
            request, _("Cycle %(n)s is closing: each community's packages are being built.") % {"n": cycle.number}
        )
    return redirect("deliveries:cycle_list")


@require_POST
@rule_required(rules.LEVEL_DAYS)
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


@rule_required(rules.RECONCILE)
def reconciliation_page(request: HttpRequest, pk: int) -> HttpResponse:
    """What is still open in a cycle, by community, and (``?community=``) that community's open packages."""
    from django.core.paginator import Paginator

    cycle = get_object_or_404(selectors.cycle_list(user=request.user), pk=pk)
    rows = selectors.reconciliation(user=request.user, cycle=cycle)
    community_id = id_param(request.GET, "community")
    drill = next((r for r in rows if r.community_id == community_id), None)
    if community_id is not None and drill is None:
        raise Http404(_("There is no such community in this cycle, or it is not yours to see."))
    page = None
    if drill is not None:
        page = Paginator(
            selectors.open_packages(user=request.user, cycle=cycle, community_id=drill.community_id), OPEN_PER_PAGE
        ).get_page(request.GET.get("page"))
    totals = {key: sum(getattr(r, key) for r in rows) for key in ("total", "delivered", "refused", "open")}
    return render(
        request,
        "deliveries/handovers/reconciliation.html",
        {
            "cycle": cycle,
            "rows": rows,
            "totals": totals,
            "drill": drill,
            "page": page,
            "can_complete": allows(request.user, rules.COMPLETE_CYCLE),
        },
    )


@require_POST
@rule_required(rules.COMPLETE_CYCLE)
def cycle_complete(request: HttpRequest, pk: int) -> HttpResponse:
    cycle = get_object_or_404(selectors.cycle_list(user=request.user), pk=pk)
    cycle = handovers.cycle_complete_if_done(cycle_id=cycle.pk)
    if cycle.status == "complete":
        messages.success(
            request, _("Cycle %(n)s is complete: every package is delivered or has its outcome.") % {"n": cycle.number}
        )
    else:
        messages.error(
            request, _("Cycle %(n)s is not complete: packages are still open (listed below).") % {"n": cycle.number}
        )
    return redirect("deliveries:reconciliation", pk=cycle.pk)


@rule_required(rules.COVERAGE)
def change_coverage(request: HttpRequest, pk: int) -> HttpResponse:
    """Who a lockdown change to stay-at-home covered this cycle, and who is not yet."""
    found = selectors.change_coverage(user=request.user, change_id=pk)
    if found is None:
        raise Http404(_("There is no such lockdown change, or it is not yours to see."))
    change, cycle, rows = found
    counts = {state: sum(1 for r in rows if r.state == state) for state in ("covered", "declined", "waiting")}
    return render(
        request,
        "deliveries/change_coverage.html",
        {
            "change": change,
            "cycle": cycle,
            "rows": rows,
            "counts": counts,
        },
    )
