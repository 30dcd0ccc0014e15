"""Tickets: the queue, a ticket's page, notes and resolving."""

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
    TicketNoteForm,
    TicketResolveForm,
    first_error,
)
from hotlines.models import TicketStatus
from hotlines.views.console import PAGE_SIZE, PRINT_LIMIT
from households.permissions import allows, rule_required

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
