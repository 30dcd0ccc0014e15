"""The operator console: start a call from the caller's number, find the household, open a ticket,
finish the call; the call log."""

from django.contrib import messages
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from core.dates import moment_text
from core.edges import id_param, text_param
from core.errors import BaogongError
from core.forms import form_errors
from core.phones import phone_normalize
from core.replica import reads_from_replica
from hotlines import rules, selectors, services
from hotlines.forms import (
    CallFinishForm,
    CallStartForm,
    TicketOpenForm,
    first_error,
)
from hotlines.models import CallCategory, CallOutcome, TicketCategory
from households import services as household_services
from households.permissions import rule_required

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
            "open_calls": selectors.operator_open_calls(user=request.user),
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
                "open_calls": selectors.operator_open_calls(user=request.user),
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
            "ticket_form": _ticket_form(request, call, ticket_form),
            "finish_form": finish_form,
            "now": timezone.now(),
        },
        status=status,
    )


def _ticket_form(request: HttpRequest, call, form: TicketOpenForm | None = None) -> TicketOpenForm:
    """The ticket form of a call: products for a price complaint; for a caller not on the
    register, the communities of the operator's district to send it to."""
    form = (form or TicketOpenForm()).set_products(
        selectors.complaint_products(user=request.user, household_id=call.household_id)
    )
    if call.household_id is None:
        form.set_communities(selectors.ticket_communities(user=request.user))
    return form


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
    form = _ticket_form(request, call, TicketOpenForm(request.POST))
    if not form.is_valid():  # each field says why, once, at the field
        return _call_page(request, call, ticket_form=form, status=400)
    try:
        data = form.cleaned_data
        ticket = services.ticket_open(
            household_id=call.household_id,
            community_id=data["community"] if call.household_id is None else None,
            caller_address=data["caller_address"] if call.household_id is None else "",
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
        form_errors(form, exc)
        return _call_page(request, call, ticket_form=form, status=400)
    messages.success(
        request,
        _("Ticket %(number)s is sent to %(community)s; answer due by %(due)s.")
        % {
            "number": ticket.pk,
            "community": ticket.community.name,
            "due": moment_text(ticket.due_at),
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


@reads_from_replica
@require_GET
@rule_required(rules.CALL_LOG)
def call_log(request: HttpRequest) -> HttpResponse:
    """Every call of the hotline(s) in scope, newest first; printable."""
    printing = request.GET.get("print") == "1"
    calls = selectors.call_list(user=request.user)
    page = Paginator(calls, PRINT_LIMIT if printing else PAGE_SIZE).get_page(request.GET.get("page"))
    return render(request, "hotlines/call_log.html", {"page": page, "printing": printing, "query": request.GET})
