"""The care ledger: the households a worker looks after, the alert list, check-ins, cadence, standing
orders and assisted orders."""

import uuid

from django.contrib import messages
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from core.errors import BaogongError
from core.forms import form_errors
from hotlines import rules, selectors, services
from hotlines.forms import (
    CadenceForm,
    CheckInForm,
    StandingOrderForm,
    first_error,
)
from hotlines.views.console import PAGE_SIZE, PRINT_LIMIT
from households import services as household_services
from households.permissions import allows, rule_required
from supply import selectors as supply_selectors
from supply import services as supply_services

# --- the care ledger ----------------------------------------------------------------------------


def _ledger_worker_filter(request: HttpRequest) -> tuple[bool, int | None]:
    """Workers see their own ledger households first (``?mine=0`` for the whole community)."""
    mine = request.GET.get("mine", "1" if allows(request.user, rules.LEDGER_ORDER) else "0") == "1"
    return mine, request.user.pk if mine else None


def _with_due(households, now) -> list:
    for household in households:
        last = household.last_checkin_at
        household.checkin_due = last is None or (now - last).total_seconds() >= household.cadence_days * 86400
    return households


@require_GET
@rule_required(rules.LEDGER)
def ledger(request: HttpRequest) -> HttpResponse:
    """The care ledger (台账): ledger households, their assigned worker, check-in cadence and last check-in."""
    mine, worker_id = _ledger_worker_filter(request)
    cycle = selectors.current_cycle()
    printing = request.GET.get("print") == "1"
    rows = selectors.ledger_households(user=request.user, worker_id=worker_id, cycle=cycle)
    page = Paginator(rows, PRINT_LIMIT if printing else PAGE_SIZE).get_page(request.GET.get("page"))
    _with_due(page.object_list, timezone.now())
    return render(
        request,
        "hotlines/ledger.html",
        {"page": page, "mine": mine, "cycle": cycle, "printing": printing, "query": request.GET},
    )


@require_GET
@rule_required(rules.LEDGER)
def ledger_alerts(request: HttpRequest) -> HttpResponse:
    """Ledger households nobody has been in touch with this cycle: no order chosen, no check-in."""
    mine, worker_id = _ledger_worker_filter(request)
    printing = request.GET.get("print") == "1"
    cycle, rows = selectors.ledger_alerts(user=request.user, worker_id=worker_id)
    page = Paginator(rows, PRINT_LIMIT if printing else PAGE_SIZE).get_page(request.GET.get("page"))
    for household in page.object_list:
        household.order_key = uuid.uuid4().hex
    return render(
        request,
        "hotlines/ledger_alerts.html",
        {
            "page": page,
            "mine": mine,
            "cycle": cycle,
            "printing": printing,
            "query": request.GET,
            "can_order": allows(request.user, rules.LEDGER_ORDER),
            "ordering_open": supply_selectors.open_cycle() is not None,
        },
    )


def _ledger_household_page(request, household, *, checkin_form=None, cadence_form=None, standing_form=None, status=200):
    cycle = selectors.current_cycle()
    products = (
        list(supply_selectors.catalog(household=household, cycle=None))
        if allows(request.user, rules.LEDGER_WRITE)
        else []
    )
    cadence = selectors.cadence_of(user=request.user, household=household)
    return render(
        request,
        "hotlines/ledger_household.html",
        {
            "household": household,
            "cycle": cycle,
            "checkins": selectors.checkin_list(user=request.user, household_id=household.pk)[
                : selectors.CHECKINS_SHOWN
            ],
            "standing": selectors.standing_orders(user=request.user, household_id=household.pk),
            "tickets": selectors.ticket_list(user=request.user, household_id=household.pk),
            "cadence": cadence,
            "checkin_form": checkin_form or CheckInForm(),
            "cadence_form": cadence_form or CadenceForm(initial={"every_days": cadence}),
            "standing_form": standing_form or StandingOrderForm(products=products),
            "can_write": allows(request.user, rules.LEDGER_WRITE),
            "can_order": allows(request.user, rules.LEDGER_ORDER),
        },
        status=status,
    )


@require_GET
@rule_required(rules.LEDGER)
def ledger_household(request: HttpRequest, household_id: int) -> HttpResponse:
    household = selectors.ledger_household_get(user=request.user, pk=household_id)
    household_services.household_view_record(user=request.user, household_id=household.pk, where="ledger_household")
    return _ledger_household_page(request, household)


@require_POST
@rule_required(rules.LEDGER_WRITE)
def ledger_checkin(request: HttpRequest, household_id: int) -> HttpResponse:
    household = selectors.ledger_household_get(user=request.user, pk=household_id)
    form = CheckInForm(request.POST)
    try:
        if not form.is_valid():
            raise BaogongError(first_error(form))
        services.checkin_record(household_id=household.pk, worker=request.user, **form.cleaned_data)
    except BaogongError as exc:
        form_errors(form, exc)
        return _ledger_household_page(request, household, checkin_form=form, status=400)
    messages.success(request, _("The check-in is logged."))
    return redirect("hotlines:ledger_household", household_id=household.pk)


@require_POST
@rule_required(rules.LEDGER_WRITE)
def ledger_cadence(request: HttpRequest, household_id: int) -> HttpResponse:
    household = selectors.ledger_household_get(user=request.user, pk=household_id)
    form = CadenceForm(request.POST)
    try:
        if not form.is_valid():
            raise BaogongError(first_error(form))
        services.checkin_cadence_set(
            household_id=household.pk, every_days=form.cleaned_data["every_days"], by=request.user
        )
    except BaogongError as exc:
        form_errors(form, exc)
        return _ledger_household_page(request, household, cadence_form=form, status=400)
    messages.success(request, _("The check-in cadence is saved."))
    return redirect("hotlines:ledger_household", household_id=household.pk)


@require_POST
@rule_required(rules.LEDGER_WRITE)
def ledger_standing_add(request: HttpRequest, household_id: int) -> HttpResponse:
    household = selectors.ledger_household_get(user=request.user, pk=household_id)
    products = list(supply_selectors.catalog(household=household, cycle=None))
    form = StandingOrderForm(request.POST, products=products)
    try:
        if not form.is_valid():
            raise BaogongError(first_error(form))
        data = form.cleaned_data
        supply_services.standing_order_save(
            household_id=household.pk,
            product_id=data["product"],
            quantity=data["quantity"],
            note=data["note"],
            by=request.user,
        )
    except BaogongError as exc:
        form_errors(form, exc)
        return _ledger_household_page(request, household, standing_form=form, status=400)
    messages.success(request, _("The standing order is saved: it is ordered at every cycle opening."))
    return redirect("hotlines:ledger_household", household_id=household.pk)


@require_POST
@rule_required(rules.LEDGER_WRITE)
def ledger_standing_stop(request: HttpRequest, household_id: int, pk: int) -> HttpResponse:
    household = selectors.ledger_household_get(user=request.user, pk=household_id)
    standing = selectors.standing_orders(user=request.user, household_id=household.pk).filter(pk=pk).first()
    if standing is None:
        messages.error(request, _("Unknown standing order."))
    else:
        supply_services.standing_order_stop(standing_order_id=standing.pk, by=request.user)
        messages.success(request, _("The standing order is stopped from the next cycle on."))
    return redirect("hotlines:ledger_household", household_id=household.pk)


@require_POST
@rule_required(rules.LEDGER_ORDER)
def ledger_assisted_order(request: HttpRequest, household_id: int) -> HttpResponse:
    """One step from the alert list: the household's usual order, placed by the worker."""
    household = selectors.ledger_household_get(user=request.user, pk=household_id)
    key = request.POST.get("idempotency_key", "").strip()[:100] or uuid.uuid4().hex
    try:
        placed = services.assisted_order_place(household_id=household.pk, by=request.user, idempotency_key=key)
    except BaogongError as exc:
        messages.error(request, f"{household.address}: {exc.message}")
    else:
        lines = "、".join(
            f"{line.name} × {line.quantity}{line.unit}" for line in (placed.lines or placed.order.lines.all())
        )
        text = _("Order %(number)s is placed for %(address)s: %(lines)s, ¥%(total)s.") % {
            "number": placed.order.pk,
            "address": household.address,
            "lines": lines,
            "total": placed.order.total,
        }
        (messages.success if placed.created else messages.info)(request, text)
    return redirect("hotlines:ledger_alerts")
