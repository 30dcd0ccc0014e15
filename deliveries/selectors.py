"""Reads of packages and their builds, narrowed by :mod:`households.access`."""

import datetime
from dataclasses import dataclass
from typing import Any

from django.db.models import (
    Case,
    Count,
    Exists,
    IntegerField,
    OuterRef,
    Prefetch,
    Q,
    QuerySet,
    Subquery,
    Value,
    When,
)
from django.utils import timezone

from deliveries import rules
from deliveries.models import (
    CYCLE_DELIVERY_DAYS,
    OPEN_STATUSES,
    BuildStatus,
    CommunityBuild,
    Consignment,
    ExceptionReason,
    HandoverEvent,
    HandoverKind,
    Hop,
    Package,
    PackageOrder,
    PackageStatus,
)
from households.access import restrict
from households.models import User
from households.permissions import allows
from supply.models import Cycle, CycleStatus, Order, OrderLine, OrderStatus


@dataclass(frozen=True)
class CycleProgress:
    cycle: Cycle
    orders: int
    builds_done: int
    builds_pending: int
    packages: int
    door: int
    pickup: int
    urgent: int


def cycle_list(*, user: User) -> QuerySet[Cycle]:
    return restrict(Cycle.objects.all(), user).order_by("-number")


def cycle_progress(*, user: User, cycle: Cycle) -> CycleProgress:
    """Orders, builds and packages of a cycle within the user's scope (four aggregate queries)."""
    orders = restrict(Order.objects.filter(cycle=cycle, status=OrderStatus.PLACED), user).count()
    builds = restrict(CommunityBuild.objects.filter(cycle=cycle), user).aggregate(
        done=Count("id", filter=Q(status=BuildStatus.DONE)), pending=Count("id", filter=Q(status=BuildStatus.PENDING))
    )
    packages = restrict(Package.objects.filter(cycle=cycle), user).aggregate(
        total=Count("id"),
        door=Count("id", filter=Q(mode="door")),
        pickup=Count("id", filter=Q(mode="pickup")),
        urgent=Count("id", filter=Q(urgent=True)),
    )
    return CycleProgress(
        cycle=cycle,
        orders=orders,
        builds_done=builds["done"],
        builds_pending=builds["pending"],
        packages=packages["total"],
        door=packages["door"],
        pickup=packages["pickup"],
        urgent=packages["urgent"],
    )


# --- handovers: rounds, receipts, history, reconciliation ------------------------------------------


def consignments_to_receive(*, user: User, day: datetime.date | None, hops: tuple[str, ...]) -> QuerySet[Consignment]:
    """The consignments of one delivery day (any day for ``None``) the user may confirm (``hops``
    by role), with their receipt, if any, prefetched (two queries whatever the number of rows)."""
    receipts = HandoverEvent.objects.filter(kind=HandoverKind.RECEIVED).select_related("by")
    on_day = {} if day is None else {"delivery_date": day}
    return (
        restrict(Consignment.objects.filter(hop__in=hops, **on_day), user)
        .select_related("cycle", "supplier", "office", "community", "compound", "built_by")
        .prefetch_related(Prefetch("events", queryset=receipts, to_attr="receipts"))
        # In the route's order: supplier → office, office → community, community → compound.
        .annotate(
            hop_order=Case(
                When(hop=Hop.SUPPLIER_OFFICE, then=Value(0)),
                When(hop=Hop.OFFICE_COMMUNITY, then=Value(1)),
                default=Value(2),
                output_field=IntegerField(),
            )
        )
        .order_by("hop_order", "office__name", "built_by__name", "compound__name", "supplier__name", "id")
    )


def on_day(day: datetime.date) -> Q:
    """Packages due on ``day``, or not delivered on ``day`` (re-queued since: they stay on that day's round)."""
    missed = HandoverEvent.objects.filter(package_id=OuterRef("pk"), kind=HandoverKind.EXCEPTION, delivery_date=day)
    return Q(delivery_date=day) | Q(Exists(missed))


def round_compounds(*, user: User, day: datetime.date) -> list[dict]:
    """The compounds with packages on a delivery day, in scope, with counts by status (one query)."""
    rows = (
        restrict(Package.objects.filter(on_day(day)), user)
        .values(
            "cycle_id",
            "cycle__number",
            "community_id",
            "community__name",
            "compound_id",
            "compound__name",
            "compound__code",
        )
        .annotate(
            total=Count("id"),
            delivered=Count("id", filter=Q(status=PackageStatus.DELIVERED)),
            out=Count("id", filter=Q(status=PackageStatus.AT_COMPOUND, delivery_date=day)),
            waiting=Count("id", filter=Q(status=PackageStatus.AT_COMMUNITY, delivery_date=day)),
            not_arrived=Count(
                "id",
                filter=Q(
                    status__in=[PackageStatus.PACKED, PackageStatus.DISPATCHED, PackageStatus.AT_OFFICE],
                    delivery_date=day,
                ),
            ),
            missed=Count("id", filter=Q(status=PackageStatus.EXCEPTION) | ~Q(delivery_date=day)),
        )
        .order_by()
    )
    from core.edges import natural_key

    return sorted(
        rows, key=lambda r: (r["community__name"], natural_key(r["compound__code"]), r["compound_id"], r["cycle_id"])
    )


def next_round_day(*, user: User, after: datetime.date) -> datetime.date | None:
    """The next day after ``after`` on which packages in the user's scope are due (one query)."""
    return (
        restrict(Package.objects.filter(delivery_date__gt=after, status__in=OPEN_STATUSES), user)
        .order_by("delivery_date")
        .values_list("delivery_date", flat=True)
        .first()
    )


def door_outcomes_mark(packages: list[Any], *, user: User, now: datetime.datetime) -> None:
    """Give each package what its door buttons need (one query for any number of packages):
    ``arrived`` (the custody rule allows a door outcome today), and ``undo_event`` (the id of its
    latest outcome when ``user`` recorded it and may still undo it, else ``None``)."""
    from deliveries.handovers import AT_THE_COMMUNITY, UNDO_MINUTES

    latest: dict[int, tuple] = {}
    rows = (
        HandoverEvent.objects.filter(
            package__in=[p.pk for p in packages],
            kind__in=[HandoverKind.DELIVERED, HandoverKind.EXCEPTION],
            undone_by__isnull=True,
            at__gte=now - datetime.timedelta(minutes=UNDO_MINUTES),
        )
        .values_list("package_id", "pk", "by_id", "attempt")
        .order_by("package_id", "at", "pk")
    )
    for package_id, pk, by_id, attempt in rows:
        latest[package_id] = (pk, by_id, attempt)
    today = timezone.localdate(now)
    for p in packages:
        pk, by_id, attempt = latest.get(p.pk, (None, None, None))
        p.undo_event = pk if by_id == user.pk and attempt == p.attempt else None
        p.arrived = p.status in AT_THE_COMMUNITY and p.dispatch_date <= today


def round_packages(
    *,
    user: User,
    day: datetime.date,
    compound_id: int | None,
    package_id: int | None = None,
    building_id: int | None = None,
    now: datetime.datetime | None = None,
) -> list[Package]:
    """One compound's packages of a delivery day for the worker at the doors (every compound in
    scope when ``compound_id`` is None: a volunteer's team round), or just one of them
    (``package_id``), in address order, each with its exception of that day, its delivery time,
    its phone numbers and what its door buttons need (three queries)."""
    from core.edges import natural_key
    from households.models import HouseholdPhone

    events = HandoverEvent.objects.filter(package_id=OuterRef("pk"), attempt=OuterRef("attempt"))
    query = restrict(Package.objects.filter(on_day(day)), user)
    if compound_id is not None:
        query = query.filter(compound_id=compound_id)
    if building_id is not None:
        query = query.filter(building_id=building_id)
    if package_id is not None:
        query = query.filter(pk=package_id)
    packages: list[Any] = list(
        query.select_related("household__building__compound", "building", "cycle", "pickup_slot")
        .prefetch_related(Prefetch("household__phones", queryset=HouseholdPhone.objects.order_by("-is_primary", "id")))
        .annotate(
            missed_reason=Subquery(events.filter(kind=HandoverKind.EXCEPTION, delivery_date=day).values("outcome")[:1]),
            delivered_at=Subquery(events.filter(kind=HandoverKind.DELIVERED).values("at")[:1]),
        )
    )
    for p in packages:
        p.missed_label = ExceptionReason(p.missed_reason).label if p.missed_reason else ""
        p.phone_numbers = [phone.number for phone in p.household.phones.all()]
    door_outcomes_mark(packages, user=user, now=now or timezone.now())
    packages.sort(
        key=lambda p: (
            p.building.sort_key,
            natural_key(p.building.number),
            natural_key(p.household.unit),
            p.household.floor,
            natural_key(p.household.room),
            p.code,
        )
    )
    return packages


def package_history(*, packages: list[Package]) -> dict[int, list[dict]]:
    """What happened to each package, oldest first: its own events and the receipts of the
    consignments it travelled in (two queries for any number of packages).

    The route legs of a package are those of the day it was dispatched, in its lane (a re-queued
    package stays at its community; an urgent-lane one travels in supplement legs): supplier →
    office legs of the suppliers it holds goods of, its community's office → community leg and its
    compound's leg.
    """
    if not packages:
        return {}
    own = list(
        HandoverEvent.objects.filter(package__in=[p.pk for p in packages]).select_related("by").order_by("at", "id")
    )
    legs = Q(pk__in=[])
    for p in packages:
        suppliers = OrderLine.objects.filter(order__package_link__package_id=p.pk).values("product__supplier_id")
        legs |= Q(cycle_id=p.cycle_id, delivery_date=p.dispatch_date, supplement=p.urgent) & (
            Q(hop=Hop.SUPPLIER_OFFICE, built_by_id=p.community_id, supplier_id__in=suppliers)
            | Q(hop=Hop.OFFICE_COMMUNITY, community_id=p.community_id)
            | Q(hop=Hop.COMMUNITY_COMPOUND, compound_id=p.compound_id)
        )
    receipts: list[Any] = list(
        HandoverEvent.objects.filter(kind=HandoverKind.RECEIVED, consignment__in=Consignment.objects.filter(legs))
        .select_related("by", "consignment")
        .order_by("at", "id")
    )
    history: dict[int, list[dict]] = {p.pk: [] for p in packages}
    for p in packages:
        for event in receipts:
            c = event.consignment
            if (c.cycle_id, c.delivery_date, c.supplement) != (p.cycle_id, p.dispatch_date, p.urgent):
                continue
            if (
                (c.hop == Hop.SUPPLIER_OFFICE and c.built_by_id == p.community_id)
                or (c.hop == Hop.OFFICE_COMMUNITY and c.community_id == p.community_id)
                or (c.hop == Hop.COMMUNITY_COMPOUND and c.compound_id == p.compound_id)
            ):
                history[p.pk].append(_event_row(event))
    for event in own:
        if event.package_id is not None:
            history[event.package_id].append(_event_row(event))
    for rows in history.values():
        rows.sort(key=lambda r: (r["at"], r["order"]))
    return history


def _event_row(event: HandoverEvent) -> dict:
    from django.utils.translation import gettext as _

    if event.kind == HandoverKind.RECEIVED and event.consignment is not None:
        arrived: dict[str, str] = {
            Hop.SUPPLIER_OFFICE: _("Arrived at the office"),
            Hop.OFFICE_COMMUNITY: _("Arrived at the community"),
            Hop.COMMUNITY_COMPOUND: _("Arrived at the compound"),
        }
        what = arrived[event.consignment.hop]
        order = 0
    else:
        what = event.get_kind_display()
        order = 1
    return {
        "at": event.at,
        "order": order,
        "kind": event.kind,
        "what": what,
        "reason": event.get_outcome_display() if event.outcome else "",
        "requeued_to": event.requeued_to,
        "by": event.by.display_name if event.by_id else "",
        "place": event.place,
        "location": event.location,
        "note": event.note,
        "delivery_date": event.delivery_date,
    }


def resident_packages(*, user: User, cycle_id: int | None = None, limit: int = 3) -> list[Package]:
    """The household's latest packages (or those of one cycle), each with ``history`` (three queries)."""
    if not allows(user, rules.MY_PACKAGES) or not user.household_id:
        return []
    query = restrict(Package.objects.filter(household_id=user.household_id), user).select_related(
        "cycle", "pickup_slot"
    )
    if cycle_id is not None:
        query = query.filter(cycle_id=cycle_id)
    packages: list[Any] = list(query.order_by("-cycle__number", "-urgent", "-id")[:limit])
    history = package_history(packages=packages)
    for package in packages:
        package.history = history[package.pk]
    return packages


def packages_get_for_staff(*, user: User, code: str, cycle: int | None = None) -> list[Package]:
    """The scan page's packages (see printing.selectors.packages_for_scan): one, with its ``history``;
    several when a code without its cycle matches packages of several cycles; none."""
    from deliveries.printing import selectors as printing

    packages = printing.packages_for_scan(user=user, code=code, cycle=cycle)
    if len(packages) == 1:
        packages[0].history = package_history(packages=packages)[packages[0].pk]  # type: ignore[attr-defined]
    return packages


@dataclass(frozen=True)
class OpenRow:
    community_id: int
    community: str
    total: int
    delivered: int
    refused: int
    open: int


def reconciliation(*, user: User, cycle: Cycle) -> list[OpenRow]:
    """Per community in scope: packages of the cycle, delivered, with a final outcome, still open (one query)."""
    rows = (
        restrict(Package.objects.filter(cycle=cycle), user)
        .values("community_id", "community__name")
        .annotate(
            total=Count("id"),
            delivered=Count("id", filter=Q(status=PackageStatus.DELIVERED)),
            refused=Count("id", filter=Q(status=PackageStatus.EXCEPTION)),
            open=Count("id", filter=Q(status__in=OPEN_STATUSES)),
        )
        .order_by("-open", "community__name")
    )
    return [
        OpenRow(
            community_id=r["community_id"],
            community=r["community__name"],
            total=r["total"],
            delivered=r["delivered"],
            refused=r["refused"],
            open=r["open"],
        )
        for r in rows
    ]


def open_packages(*, user: User, cycle: Cycle, community_id: int) -> QuerySet[Package]:
    """The packages of a community still open in a cycle (drill-down of the reconciliation)."""
    return (
        restrict(Package.objects.filter(cycle=cycle, community_id=community_id, status__in=OPEN_STATUSES), user)
        .select_related("household__building__compound")
        .order_by("delivery_date", "code")
    )


@dataclass(frozen=True)
class CoverageRow:
    household_id: int
    address: str
    contact: str
    state: str  # "covered", "declined" or "waiting"
    package_code: str
    delivery_date: datetime.date | None
    package_status: str


def current_delivery_cycles(*, today: datetime.date) -> list[Cycle]:
    """The cycles whose households are still being fed, oldest first: the packed or closing ones
    whose three delivery days are not over, and the open one (ordering)."""
    return list(
        Cycle.objects.filter(
            Q(status=CycleStatus.OPEN)
            | Q(
                status__in=[CycleStatus.CLOSING, CycleStatus.PACKED],
                first_delivery_date__gte=today - datetime.timedelta(days=CYCLE_DELIVERY_DAYS - 1),
            )
        ).order_by("number")
    )


def change_coverage(*, user: User, change_id: int) -> tuple[object, Cycle | None, list[CoverageRow]] | None:
    """Who a lockdown change to stay-at-home covered, in the first cycle still being fed: each
    household of its place now at home, with its baseline order's package (covered), or declined,
    or still waiting. None when the change is not in the user's scope (four queries)."""
    from households.models import Household, LockdownChange, LockdownLevel

    change = restrict(LockdownChange.objects.select_related("compound", "building"), user).filter(pk=change_id).first()
    if change is None:
        return None
    cycles = current_delivery_cycles(today=timezone.localdate())
    if change.to_level != LockdownLevel.STAY_AT_HOME or not cycles:
        return change, None, []
    cycle = cycles[0]
    at_home = Q(building__lockdown_level=LockdownLevel.STAY_AT_HOME) | Q(
        building__compound__lockdown_level=LockdownLevel.STAY_AT_HOME
    )
    place = Q(building_id=change.building_id) if change.building_id else Q(building__compound_id=change.compound_id)
    households = list(
        Household.objects.filter(place, at_home)
        .select_related("building__compound")
        .order_by("building__sort_key", "building__number", "unit", "floor", "room", "pk")
    )
    links = dict(
        Order.objects.filter(cycle=cycle, channel="baseline", household__in=[h.pk for h in households]).values_list(
            "household_id", "package_link__package_id"
        )
    )
    found = {p.pk: p for p in Package.objects.filter(pk__in=[pk for pk in links.values() if pk])}
    rows = []
    for h in households:
        package_id = links.get(h.pk)
        package = found.get(package_id) if package_id else None
        state = "covered" if h.pk in links else ("declined" if h.baseline_opt_out else "waiting")
        rows.append(
            CoverageRow(
                household_id=h.pk,
                address=h.address,
                contact=h.contact_name,
                state=state,
                package_code=package.code if package else "",
                delivery_date=package.delivery_date if package else None,
                package_status=package.get_status_display() if package else "",
            )
        )
    return change, cycle, rows


def package_views_of_orders(order_ids: list[int]) -> dict:
    """For supply.packages: each order's package as supply shows it (one query)."""
    from supply.packages import PackageView

    links = PackageOrder.objects.filter(order_id__in=order_ids).select_related("package__pickup_slot")
    return {
        link.order_id: PackageView(
            code=link.package.code,
            status=link.package.status,
            status_label=str(link.package.get_status_display()),
            delivery_date=link.package.delivery_date,
            mode=link.package.mode,
            mode_label=str(link.package.get_mode_display()),
            pickup_slot=str(link.package.pickup_slot) if link.package.pickup_slot else None,
        )
        for link in links
    }
