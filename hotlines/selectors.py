"""Reads for the hotline console, tickets and the care ledger, always narrowed by :mod:`households.access`."""

import datetime
import re
import unicodedata
from dataclasses import dataclass

from django.db.models import Case, Count, Exists, IntegerField, Max, OuterRef, Q, QuerySet, Subquery, Value, When
from django.db.models.functions import Coalesce
from django.shortcuts import get_object_or_404
from django.utils import timezone

from core.phones import InvalidPhone, phone_normalize
from hotlines.models import Call, CheckIn, CheckInCadence, Ticket, TicketEvent, TicketLevel, TicketStatus
from households import selectors as household_selectors
from households.access import restrict
from households.models import Community, District, Household, HouseholdPhone, Role, User
from households.permissions import role_of
from supply import packages
from supply import selectors as supply_selectors
from supply.models import Channel, Cycle, Order, OrderStatus, StandingOrder

RECENT_CALLS = 5
CHECKINS_SHOWN = 30

# Ledger households whose default check-in is daily; the others are checked on once per cycle.
DAILY_CARE_FLAGS = ("elderly_alone", "dialysis")
CYCLE_DAYS = 3


def ledger_q(prefix: str = "") -> Q:
    """A household on the care ledger (台账): a special-care flag, another care need, or an assigned worker."""
    q = Q(**{f"{prefix}care_note": ""}, _negated=True) | Q(**{f"{prefix}assigned_worker__isnull": False})
    for flag in Household.CARE_FLAGS:
        q |= Q(**{f"{prefix}{flag}": True})
    return q


# --- calls and the console ------------------------------------------------------------------------


# A look-up by the last digits matches at most this many phone rows (4 digits: about 1 in 10,000).
SUFFIX_MATCHES = 500


def _phone_household_ids(search: str) -> list[int] | None:
    """The households listing a typed phone number (full, or its last 4 to 10 digits), or None
    when ``search`` is not a number.

    Why not the household list's ``EXISTS`` filter: with stale planner statistics PostgreSQL
    walks every household of the district and probes the phone index once per household (80 ms
    at 250,000 households); starting from the phone index is a few rows whatever the statistics.
    """
    text = unicodedata.normalize("NFKC", search).strip()
    digits = re.sub(r"[\s\-()+]", "", text)
    if not digits.isdigit():
        return None
    try:
        number = phone_normalize(text)
    except InvalidPhone:
        number = None
    if number:
        phones = HouseholdPhone.objects.filter(number=number)
    elif 4 <= len(digits) <= 10:
        phones = HouseholdPhone.objects.filter(number__endswith=digits)
    else:
        return None
    return list(phones.values_list("household_id", flat=True)[:SUFFIX_MATCHES])


def caller_households(*, user: User, phone: str) -> QuerySet[Household]:
    """The households in the user's scope that list this phone number (E.164, or any typed form)."""
    return household_lookup(user=user, search=phone)


def household_lookup(*, user: User, search: str) -> QuerySet[Household]:
    """What the operator types: a phone number (or its last digits), a name, or an address with
    pinyin initials (``fcl 3 502``); the household list's look-up, in the user's scope."""
    ids = _phone_household_ids(search)
    if ids is None:
        return household_selectors.household_list(user=user, search=search)
    return household_selectors.household_list(user=user).filter(pk__in=ids)


def call_get(*, user: User, pk: int) -> Call:
    return get_object_or_404(restrict(Call.objects.select_related("district", "operator"), user), pk=pk)


def operator_open_calls(*, user: User) -> list[Call]:
    """The operator's calls still in progress, newest first, each to come back to by its caller's
    number (an operator with two open calls picks the right one; stale ones close by themselves)."""
    if not user.is_authenticated:
        return []
    return list(
        Call.objects.filter(operator=user, ended_at__isnull=True)
        .select_related("household__building__compound")
        .order_by("-started_at", "-id")[:10]
    )


def call_list(*, user: User, operator_id: int | None = None, household_id: int | None = None) -> QuerySet[Call]:
    qs = restrict(Call.objects.select_related("operator", "household__building__compound", "district"), user)
    if operator_id is not None:
        qs = qs.filter(operator_id=operator_id)
    if household_id is not None:
        qs = qs.filter(household_id=household_id)
    return qs.order_by("-started_at", "-id")


@dataclass(frozen=True)
class HouseholdPanel:
    """Everything the operator sees at once about the caller's household."""

    household: Household
    cycle: Cycle | None
    orders: list[Order]
    open_tickets: list[Ticket]
    recent_calls: list[Call]
    delivery: object | None  # supply.selectors.DeliveryExpectation

    @property
    def placed_orders(self) -> list[Order]:
        return [order for order in self.orders if order.status == OrderStatus.PLACED]


def household_panel(*, user: User, household_id: int) -> HouseholdPanel:
    """The household (404 if not in scope), this cycle's orders with their packages and what of
    them was not supplied, open tickets and recent calls: a fixed number of queries whatever the
    household's history."""
    household = household_selectors.household_get(user=user, pk=household_id)
    cycle = supply_selectors.open_cycle() or supply_selectors.latest_cycle()
    orders = (
        packages.attach(
            supply_selectors.order_list(user=user, household_id=household.pk, cycle_id=cycle.pk).prefetch_related(
                "shortfalls"
            )
        )
        if cycle
        else []
    )
    tickets = list(ticket_list(user=user, household_id=household.pk, status=TicketStatus.OPEN))
    calls = list(call_list(user=user, household_id=household.pk)[:RECENT_CALLS])
    delivery = supply_selectors.delivery_expectation(household=household, cycle=cycle) if cycle else None
    return HouseholdPanel(
        household=household, cycle=cycle, orders=orders, open_tickets=tickets, recent_calls=calls, delivery=delivery
    )


# --- tickets --------------------------------------------------------------------------------------


def ticket_list(
    *,
    user: User,
    status: str | None = TicketStatus.OPEN,
    household_id: int | None = None,
    min_level: int | None = None,
) -> QuerySet[Ticket]:
    """Tickets the user may see, most urgent first (priority, then the nearest deadline)."""
    qs = restrict(Ticket.objects.select_related("household__building__compound", "community", "opened_by"), user)
    if status:
        qs = qs.filter(status=status)
    if household_id is not None:
        qs = qs.filter(household_id=household_id)
    if min_level is not None:
        qs = qs.filter(level__gte=min_level)
    return qs.order_by("-priority", "due_at", "id")


# Whose queue a role's default view is: the worker acts at community level, the office on what
# was escalated to it, the task force on what reached it.
QUEUE_LEVEL: dict[str, int] = {
    Role.WORKER: TicketLevel.COMMUNITY,
    Role.OFFICE: TicketLevel.OFFICE,
    Role.TASKFORCE: TicketLevel.TASKFORCE,
}


def ticket_queue(*, user: User, everything: bool = False) -> QuerySet[Ticket]:
    """The open tickets the user should act on: at or above the level of the role (unless ``everything``)."""
    role = role_of(user)
    level = None if everything or role is None else QUEUE_LEVEL.get(role)
    return ticket_list(user=user, min_level=level)


def ticket_get(*, user: User, pk: int) -> Ticket:
    return get_object_or_404(
        restrict(
            Ticket.objects.select_related(
                "household__building__compound__community", "community", "opened_by", "resolved_by", "call"
            ),
            user,
        ),
        pk=pk,
    )


def ticket_events(*, user: User, ticket: Ticket) -> QuerySet[TicketEvent]:
    return restrict(TicketEvent.objects.filter(ticket=ticket).select_related("by"), user).order_by("at", "id")


# --- the care ledger ------------------------------------------------------------------------------


def _cadence_days() -> Coalesce:
    default = Case(
        *[When(**{flag: True}, then=Value(1)) for flag in DAILY_CARE_FLAGS],
        default=Value(CYCLE_DAYS),
        output_field=IntegerField(),
    )
    chosen = CheckInCadence.objects.filter(household=OuterRef("pk")).values("every_days")[:1]
    return Coalesce(Subquery(chosen, output_field=IntegerField()), default)


def current_cycle() -> Cycle | None:
    """ "This cycle" for the ledger: the one open for orders, else the latest."""
    return supply_selectors.open_cycle() or supply_selectors.latest_cycle()


def _cycle_start(cycle: Cycle | None, now: datetime.datetime) -> datetime.datetime:
    return cycle.opens_at if cycle else now - datetime.timedelta(days=CYCLE_DAYS)


def _chosen_orders(cycle: Cycle | None):
    """Orders someone chose this cycle (web, hotline, worker): the automatic baseline and standing
    orders do not show that anyone is in touch with the household."""
    if cycle is None:
        return Order.objects.none()
    return Order.objects.filter(
        household=OuterRef("pk"), cycle=cycle, status=OrderStatus.PLACED, standing_order__isnull=True
    ).exclude(channel=Channel.BASELINE)


def ledger_households(*, user: User, worker_id: int | None = None, cycle: Cycle | None = None) -> QuerySet[Household]:
    """Ledger households in scope (optionally of one assigned worker), with ``last_checkin_at``,
    ``cadence_days`` and ``ordered_this_cycle`` (an order someone chose in ``cycle``) annotated.
    One query for the rows, one for their phones."""
    qs = household_selectors.household_list(user=user).filter(ledger_q())
    if worker_id is not None:
        qs = qs.filter(assigned_worker_id=worker_id)
    last = (
        CheckIn.objects.filter(household=OuterRef("pk"))
        .order_by()
        .values("household")
        .annotate(at=Max("at"))
        .values("at")
    )
    qs = qs.annotate(
        last_checkin_at=Subquery(last[:1]),
        cadence_days=_cadence_days(),
        ordered_this_cycle=Exists(_chosen_orders(cycle)),
    )
    return qs


def ledger_alerts(
    *, user: User, worker_id: int | None = None, now: datetime.datetime | None = None
) -> tuple[Cycle | None, QuerySet[Household]]:
    """Ledger households nobody has been in touch with: neither an order someone chose this cycle
    nor a check-in since the cycle opened; and those whose package came back from the door (an
    open missed-delivery ticket, ``missed_ticket`` annotated). Returns the cycle and the rows."""
    now = now or timezone.now()
    cycle = current_cycle()
    since = _cycle_start(cycle, now)
    missed = Ticket.objects.filter(household=OuterRef("pk"), category="missed", status=TicketStatus.OPEN)
    qs = (
        ledger_households(user=user, worker_id=worker_id, cycle=cycle)
        .annotate(missed_ticket=Subquery(missed.order_by("-id").values("summary")[:1]))
        .filter(
            Q(ordered_this_cycle=False) & ~Exists(CheckIn.objects.filter(household=OuterRef("pk"), at__gte=since))
            | Q(missed_ticket__isnull=False)
        )
    )
    return cycle, qs


def checkin_list(*, user: User, household_id: int) -> QuerySet[CheckIn]:
    return restrict(CheckIn.objects.filter(household_id=household_id).select_related("worker"), user)


def cadence_of(*, user: User, household: Household) -> int:
    chosen = (
        restrict(CheckInCadence.objects.filter(household=household), user).values_list("every_days", flat=True).first()
    )
    if chosen:
        return chosen
    return 1 if any(getattr(household, flag) for flag in DAILY_CARE_FLAGS) else CYCLE_DAYS


def standing_orders(*, user: User, household_id: int) -> QuerySet[StandingOrder]:
    return restrict(
        StandingOrder.objects.filter(household_id=household_id).select_related("product__supplier", "created_by"),
        user,
        household="household",
        community="household__building__compound__community",
    ).order_by("-is_active", "id")


def ledger_household_get(*, user: User, pk: int) -> Household:
    """A ledger household in scope, or 404."""
    return get_object_or_404(household_selectors.household_list(user=user).filter(ledger_q()), pk=pk)


def complaint_products(*, user: User, household_id: int | None) -> QuerySet:
    """The products a price complaint may name: those sold in the household's district, or, for a
    caller not on the register, in the districts the operator serves."""
    from supply.models import Product

    if household_id is None:
        districts = list(restrict(District.objects.all(), user).values_list("pk", flat=True))
    else:
        districts = list(
            household_lookup(user=user, search="")
            .filter(pk=household_id)
            .values_list("building__compound__community__office__district_id", flat=True)[:1]
        )
    if not districts:
        return Product.objects.none()
    return (
        Product.objects.filter(
            is_active=True, pk__in=Product.objects.filter(supplier__districts__in=districts).values("pk")
        )
        .select_related("supplier")
        .order_by("category", "name", "pk")
    )


@dataclass
class ProductComplaints:
    product: object
    open: int
    total: int
    latest_at: datetime.datetime


def price_complaints(*, user: User, days: int = 30, now: datetime.datetime | None = None) -> list[ProductComplaints]:
    """Products named by price complaints of the last ``days`` days, from households in the user's
    scope, most complained about first, with the product's posted price and reference cap.
    Two queries whatever the number of complaints."""
    from supply.models import Product

    since = (now or timezone.now()) - datetime.timedelta(days=days)
    counts = (
        restrict(Ticket.objects.filter(product__isnull=False, created_at__gte=since), user)
        .values("product_id")
        .annotate(total=Count("pk"), open=Count("pk", filter=Q(status=TicketStatus.OPEN)), latest_at=Max("created_at"))
        .order_by("-total", "-latest_at")
    )
    rows = list(counts[:200])
    products = Product.objects.select_related("supplier").in_bulk([r["product_id"] for r in rows])
    return [
        ProductComplaints(product=products[r["product_id"]], open=r["open"], total=r["total"], latest_at=r["latest_at"])
        for r in rows
    ]


def unsealing_reports(
    *, user: User, compound_ids, days: int = 14, now: datetime.datetime | None = None
) -> dict[int, dict]:
    """Per compound: hotline reports (tickets) of the last ``days`` days that it qualifies for
    unsealing, {"open": n, "total": n} — one query."""
    since = (now or timezone.now()) - datetime.timedelta(days=days)
    rows = (
        restrict(
            Ticket.objects.filter(
                category="unsealing", created_at__gte=since, household__building__compound_id__in=list(compound_ids)
            ),
            user,
        )
        .values("household__building__compound_id")
        .annotate(total=Count("pk"), open=Count("pk", filter=Q(status=TicketStatus.OPEN)))
    )
    return {r["household__building__compound_id"]: {"open": r["open"], "total": r["total"]} for r in rows}


def ticket_communities(*, user: User) -> QuerySet[Community]:
    """The communities a ticket for a caller not on the register can go to: the operator's district."""
    return restrict(Community.objects.select_related("office"), user).order_by("office__name", "name")
