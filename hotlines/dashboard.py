"""Hotlines' part of the dashboards (see households.dashboard): open and overdue tickets, and the
care ledger — ledger households, and those nobody has been in touch with this cycle (the count of
the alert list, :func:`hotlines.selectors.ledger_alerts`, per child place).

Registered by ``HotlinesConfig.ready()``.
"""

from django.db.models import Count, Q
from django.utils.translation import gettext_lazy

from core.dashboard import Column, Provider, ProviderResult, register_provider
from hotlines import selectors
from hotlines.models import Ticket, TicketLevel, TicketStatus
from households.dashboard import DashboardQuery, place_paths

TICKET_PATHS = place_paths(compound="household__building__compound", community="community")
HOUSEHOLD_PATHS = place_paths(compound="building__compound")


def _merge(into: dict, more: dict) -> None:
    for child, figures in more.items():
        into.setdefault(child, {}).update(figures)


def _hotlines(query: DashboardQuery) -> ProviderResult:
    """Tickets are live figures (open now, overdue now); the ledger's are about the cycle the
    alert list is about (the one open for orders, else the latest), whatever cycle is shown."""
    tickets = query.by_child(Ticket.objects.filter(status=TicketStatus.OPEN), TICKET_PATHS).annotate(
        tickets_open=Count("id"),
        tickets_overdue=Count("id", filter=Q(due_at__lte=query.now)),
        tickets_escalated=Count("id", filter=Q(level__gt=TicketLevel.COMMUNITY)),
    )
    by_child = query.group(tickets, TICKET_PATHS)
    cycle, alerts = selectors.ledger_alerts(user=query.user, now=query.now)
    alerts = alerts.prefetch_related(None)
    ledger = selectors.ledger_households(user=query.user, cycle=cycle).prefetch_related(None)
    _merge(
        by_child,
        query.group(query.by_child(ledger, HOUSEHOLD_PATHS).annotate(ledger_households=Count("id")), HOUSEHOLD_PATHS),
    )
    _merge(
        by_child,
        query.group(query.by_child(alerts, HOUSEHOLD_PATHS).annotate(ledger_no_contact=Count("id")), HOUSEHOLD_PATHS),
    )
    return ProviderResult(by_child=by_child)


GROUP = gettext_lazy("Hotline tickets and the care ledger")


def register() -> None:
    register_provider(
        Provider(
            name="hotlines",
            compute=_hotlines,
            columns=(
                Column("tickets_open", gettext_lazy("Open tickets"), GROUP),
                Column("tickets_overdue", gettext_lazy("Overdue tickets"), GROUP),
                Column("tickets_escalated", gettext_lazy("Escalated above the community"), GROUP),
                Column("ledger_households", gettext_lazy("Ledger households"), GROUP),
                Column("ledger_no_contact", gettext_lazy("Ledger households without contact this cycle"), GROUP),
            ),
        )
    )
