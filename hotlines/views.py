"""Pages of the supply hotline (operator console, call log), tickets and the care ledger.

Views check the role, call a selector or a service, render. Phone orders are not made here: the
console links to the on-behalf order page of supply (read-back, warning about existing orders),
which places them through ``supply.services.order_place``.
"""

import uuid

from django.contrib import messages
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from core.edges import id_param, text_param
from core.errors import BaogongError, NotFound
from core.forms import form_errors
from core.phones import phone_normalize
from hotlines import offline as offline_archive
from hotlines import rules, selectors, services
from hotlines.forms import (
    CadenceForm,
    CallFinishForm,
    CallStartForm,
    CheckInForm,
    StandingOrderForm,
    TicketNoteForm,
    TicketOpenForm,
    TicketResolveForm,
    first_error,
)
from hotlines.models import CallCategory, CallOutcome, TicketCategory, TicketStatus
from households import selectors as household_selectors
from households import services as household_services
from households.permissions import allows, rule_required
from supply import selectors as supply_selectors
from supply import services as supply_services

PAGE_SIZE = 50
SEARCH_LIMIT = 20
PRINT_LIMIT = 2000


# What a ticket's category means for the call it came from, to suggest the call's wrap-up.
CALL_CATEGORY_OF_TICKET = {
    TicketCategory.MEDICINE: CallCategory.MEDICINE,
    TicketCategory.MEDICAL_TRANSPORT: CallCategory.MEDICAL_TRANSPORT,
    TicketCategory.UNSEALING: CallCategory.UNSEALING,
    TicketCategory.COMPLAINT: CallCategory.COMPLAINT,
    TicketCategory.OTHER: CallCategory.OTHER,
}


# --- the operator console ---------------------------------------------------------------------


@require_GET
@rule_required(rules.CONSOLE)
def console(request: HttpRequest) -> HttpResponse:
    """Start here with a headset on: type the caller's number (or the phone system opens the call)."""
    return render(
        request,
        "hotlines/console.html",
        {
            "form": CallStartForm(),
            "open_call": selectors.operator_open_call(user=request.user),
            "recent_calls": selectors.call_list(user=request.user, operator_id=request.user.pk)[:10],
        },
    )


@require_POST
@rule_required(rules.CONSOLE)
def call_start(request: HttpRequest) -> HttpResponse:
    form = CallStartForm(request.POST)
    try:
        if not form.is_valid():
            raise BaogongError(first_error(form))
        number = phone_normalize(form.cleaned_data["phone"])
        households = list(
            selectors.caller_households(user=request.user, phone=number).values_list("pk", flat=True)[:50]
        )
        call = services.call_start(operator=request.user, phone=number, household_ids=households)
    except BaogongError as exc:
        form_errors(form, exc, field="phone")
        return render(
            request,
            "hotlines/console.html",
            {
                "form": form,
                "open_call": selectors.operator_open_call(user=request.user),
                "recent_calls": selectors.call_list(user=request.user, operator_id=request.user.pk)[:10],
            },
            status=400,
        )
    return redirect("hotlines:call", pk=call.pk)


def _call_page(request: HttpRequest, call, *, ticket_form=None, finish_form=None, status: int = 200) -> HttpResponse:
    search = text_param(request.GET, "q", max_length=100)[:60]
    matches = list(selectors.caller_households(user=request.user, phone=call.caller_number)[:SEARCH_LIMIT])
    found = list(selectors.household_lookup(user=request.user, search=search)[:SEARCH_LIMIT]) if search else []
    panel = selectors.household_panel(user=request.user, household_id=call.household_id) if call.household_id else None
    if panel and request.method == "GET":
        household_services.household_view_record(
            user=request.user, household_id=call.household_id, where="hotline_call"
        )
    if finish_form is None:
        suggested = ""
        if panel and any(o.placed_by_id == request.user.pk and o.created_at >= call.started_at for o in panel.orders):
            suggested = CallOutcome.ORDER_PLACED
        elif panel and any(t.call_id == call.pk for t in panel.open_tickets):
            suggested = CallOutcome.TICKET_OPENED
        category = ""
        if suggested == CallOutcome.ORDER_PLACED:
            category = CallCategory.SUPPLY_ORDER
        elif suggested == CallOutcome.TICKET_OPENED:
            ticket = next(t for t in panel.open_tickets if t.call_id == call.pk)
            category = CALL_CATEGORY_OF_TICKET[ticket.category]
        finish_form = CallFinishForm(initial={"outcome": suggested, "category": category})
    return render(
        request,
        "hotlines/call.html",
        {
            "call": call,
            "matches": matches,
            "search": search,
            "found": found,
            "panel": panel,
            "ticket_form": (ticket_form or TicketOpenForm()).set_products(
                selectors.complaint_products(user=request.user, household_id=call.household_id)
            ),
            "finish_form": finish_form,
            "now": timezone.now(),
        },
        status=status,
    )


@require_GET
@rule_required(rules.CONSOLE)
def call(request: HttpRequest, pk: int) -> HttpResponse:
    """The console for one call: the caller's households, look-up by address, the chosen
    household's level, care, orders and packages, tickets and calls; order, ticket, wrap-up."""
    return _call_page(request, selectors.call_get(user=request.user, pk=pk))


@require_POST
@rule_required(rules.CONSOLE)
def call_household(request: HttpRequest, pk: int) -> HttpResponse:
    call = selectors.call_get(user=request.user, pk=pk)
    household_id = id_param(request.POST, "household")
    try:
        if household_id is not None:
            household_id = (
                selectors.household_lookup(user=request.user, search="")
                .filter(pk=household_id)
                .values_list("pk", flat=True)
                .first()
            )
            if household_id is None:
                raise BaogongError(_("This household is not in your district."))
        services.call_household_set(call_id=call.pk, household_id=household_id, by=request.user)
    except BaogongError as exc:
        messages.error(request, exc.message)
    return redirect("hotlines:call", pk=call.pk)


@require_POST
@rule_required(rules.CONSOLE)
def call_ticket(request: HttpRequest, pk: int) -> HttpResponse:
    call = selectors.call_get(user=request.user, pk=pk)
    form = TicketOpenForm(request.POST).set_products(
        selectors.complaint_products(user=request.user, household_id=call.household_id)
    )
    try:
        if call.household_id is None:
            raise BaogongError(_("First choose the caller's household: the ticket goes to its community."))
        if not form.is_valid():
            raise BaogongError(first_error(form))
        data = form.cleaned_data
        ticket = services.ticket_open(
            household_id=call.household_id,
            category=data["category"],
            summary=data["summary"],
            opened_by=request.user,
            call_id=call.pk,
            appointment_at=data["appointment_at"],
            destination=data["destination"],
            need=data["need"],
            product_id=data["product"],
        )
    except BaogongError as exc:
        for field, errors in exc.errors.items():
            if field in form.fields:
                for error in errors:
                    form.add_error(field, error)
        if not exc.errors or not any(field in form.fields for field in exc.errors):
            form.add_error(None, exc.message)
        return _call_page(request, call, ticket_form=form, status=400)
    messages.success(
        request,
        _("Ticket %(number)s is sent to %(community)s; answer due by %(due)s.")
        % {
            "number": ticket.pk,
            "community": ticket.community.name,
            "due": timezone.localtime(ticket.due_at).strftime("%Y-%m-%d %H:%M"),
        },
    )
    return redirect("hotlines:call", pk=call.pk)


@require_POST
@rule_required(rules.CONSOLE)
def call_finish(request: HttpRequest, pk: int) -> HttpResponse:
    call = selectors.call_get(user=request.user, pk=pk)
    form = CallFinishForm(request.POST)
    try:
        if not form.is_valid():
            raise BaogongError(first_error(form))
        services.call_finish(call_id=call.pk, by=request.user, **form.cleaned_data)
    except BaogongError as exc:
        form_errors(form, exc)
        return _call_page(request, call, finish_form=form, status=400)
    messages.success(request, _("The call is logged. Ready for the next caller."))
    return redirect("hotlines:console")


@require_GET
@rule_required(rules.CALL_LOG)
def call_log(request: HttpRequest) -> HttpResponse:
    """Every call of the hotline(s) in scope, newest first; printable."""
    printing = request.GET.get("print") == "1"
    calls = selectors.call_list(user=request.user)
    page = Paginator(calls, PRINT_LIMIT if printing else PAGE_SIZE).get_page(request.GET.get("page"))
    return render(request, "hotlines/call_log.html", {"page": page, "printing": printing, "query": request.GET})


# --- tickets ------------------------------------------------------------------------------------


@require_GET
@rule_required(rules.TICKETS)
def ticket_list(request: HttpRequest) -> HttpResponse:
    """The queue: open tickets for the user's level (a worker's community, what was escalated to an
    office or the task force), most urgent first; ``?all=1`` every open one in scope, ``?resolved=1``
    the resolved ones."""
    show_all = request.GET.get("all") == "1" or allows(request.user, rules.ALL_TICKETS_BY_DEFAULT)
    resolved = request.GET.get("resolved") == "1"
    if resolved:
        tickets = selectors.ticket_list(user=request.user, status=TicketStatus.RESOLVED).order_by("-resolved_at", "-id")
    else:
        tickets = selectors.ticket_queue(user=request.user, everything=show_all)
    printing = request.GET.get("print") == "1"
    page = Paginator(tickets, PRINT_LIMIT if printing else PAGE_SIZE).get_page(request.GET.get("page"))
    return render(
        request,
        "hotlines/ticket_list.html",
        {
            "page": page,
            "show_all": show_all,
            "resolved": resolved,
            "printing": printing,
            "now": timezone.now(),
            "query": request.GET,
        },
    )


def _ticket_page(request, ticket, *, note_form=None, resolve_form=None, status=200) -> HttpResponse:
    return render(
        request,
        "hotlines/ticket_detail.html",
        {
            "ticket": ticket,
            "events": selectors.ticket_events(user=request.user, ticket=ticket),
            "note_form": note_form or TicketNoteForm(),
            "resolve_form": resolve_form or TicketResolveForm(),
            "can_resolve": allows(request.user, rules.RESOLVE),
            "now": timezone.now(),
        },
        status=status,
    )


@require_GET
@rule_required(rules.TICKETS)
def ticket_detail(request: HttpRequest, pk: int) -> HttpResponse:
    return _ticket_page(request, selectors.ticket_get(user=request.user, pk=pk))


@require_POST
@rule_required(rules.TICKETS)
def ticket_note(request: HttpRequest, pk: int) -> HttpResponse:
    ticket = selectors.ticket_get(user=request.user, pk=pk)
    form = TicketNoteForm(request.POST)
    try:
        if not form.is_valid():
            raise BaogongError(first_error(form))
        services.ticket_note(ticket_id=ticket.pk, by=request.user, note=form.cleaned_data["note"])
    except BaogongError as exc:
        form_errors(form, exc)
        return _ticket_page(request, ticket, note_form=form, status=exc.status_code)
    messages.success(request, _("The note is added to the ticket."))
    return redirect("hotlines:ticket", pk=ticket.pk)


@require_POST
@rule_required(rules.RESOLVE)
def ticket_resolve(request: HttpRequest, pk: int) -> HttpResponse:
    ticket = selectors.ticket_get(user=request.user, pk=pk)
    form = TicketResolveForm(request.POST)
    try:
        if not form.is_valid():
            raise BaogongError(first_error(form))
        services.ticket_resolve(ticket_id=ticket.pk, by=request.user, resolution=form.cleaned_data["resolution"])
    except BaogongError as exc:
        form_errors(form, exc)
        return _ticket_page(request, ticket, resolve_form=form, status=exc.status_code)
    messages.success(request, _("Ticket %(number)s is resolved.") % {"number": ticket.pk})
    return redirect("hotlines:tickets")


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


@require_GET
@rule_required(rules.PRICE_COMPLAINTS)
def price_complaints(request: HttpRequest) -> HttpResponse:
    """Products named by price complaints to the hotline (明码标价), next to their posted price and cap."""
    return render(
        request,
        "hotlines/price_complaints.html",
        {
            "rows": selectors.price_complaints(user=request.user),
            "days": 30,
            # the product's page (price history, cap) is the task force's
            "can_open_product": allows(request.user, rules.PRODUCTS),
        },
    )


@require_GET
@rule_required(rules.UNSEALING)
def unsealing_list(request: HttpRequest) -> HttpResponse:
    """Sealed places and their runs of negative days, eligible ones first, next to the hotline's
    reports that a compound qualifies but is still sealed."""
    statuses = household_selectors.unsealing_list(user=request.user)
    reports = selectors.unsealing_reports(user=request.user, compound_ids={s.compound.pk for s in statuses})
    for status in statuses:
        status.reports = reports.get(status.compound.pk) if status.building is None else None
    return render(
        request,
        "hotlines/unsealing_list.html",
        {
            "eligible": [s for s in statuses if s.eligible],
            "waiting": [s for s in statuses if not s.eligible][:3000],
            "days": household_selectors.UNSEAL_AFTER_NEGATIVE_DAYS,
        },
    )


@require_GET
@rule_required(rules.OFFLINE)
def offline(request: HttpRequest) -> HttpResponse:
    """The offline fallback: download the next three days' lists and the ledger as one archive."""
    communities = household_selectors.community_list(user=request.user).order_by("name")[:500]
    return render(
        request,
        "hotlines/offline.html",
        {
            "communities": communities,
            "days": offline_archive.OFFLINE_DAYS,
            "min_length": offline_archive.MIN_PASSWORD_LENGTH,
        },
    )


@require_POST
@rule_required(rules.OFFLINE)
def offline_download(request: HttpRequest) -> HttpResponse:
    """The encrypted archive, with the password the community chose (typed twice); a refused
    password shows the page again with the reason (400)."""
    from django.http import Http404

    community_id = request.user.community_id or id_param(request.POST, "community")
    if community_id is None:
        raise Http404(_("Choose a community."))
    try:
        password = offline_archive.check_password(
            request.POST.get("password", ""), request.POST.get("password_again", "")
        )
        archive = offline_archive.community_offline_archive(
            user=request.user, community_id=community_id, password=password
        )
    except NotFound as exc:
        raise Http404(exc.message) from None
    except BaogongError as exc:
        communities = household_selectors.community_list(user=request.user).order_by("name")[:500]
        return render(
            request,
            "hotlines/offline.html",
            {
                "communities": communities,
                "days": offline_archive.OFFLINE_DAYS,
                "error": exc.message,
                "min_length": offline_archive.MIN_PASSWORD_LENGTH,
            },
            status=exc.status_code,
        )
    response = HttpResponse(archive.content, content_type="application/zip")
    response["Content-Disposition"] = f'attachment; filename="{archive.filename}"'
    response["Cache-Control"] = "no-store"
    return response
