"""One community's build: its orders folded into one package per household, in address order,
with pick-up slots and the route legs, in one transaction, set-based."""

import datetime
import time
from collections import defaultdict
from dataclasses import dataclass, field
from decimal import Decimal

from django.conf import settings
from django.db import connection, transaction
from django.db.models import F
from django.utils import timezone
from django.utils.translation import gettext as _

from core.errors import Conflict, NotFound
from deliveries.models import (
    BuildStatus,
    CommunityBuild,
    Consignment,
    Hop,
    Package,
    PackageOrder,
    PickupSlot,
    package_code,
)
from deliveries.services import building_sql
from deliveries.services.route import RouteCounts
from deliveries.volunteers.rounds import rounds_after_build
from households.models import Community, DeliveryMode, Household, delivery_mode_for
from supply.models import Cycle, CycleStatus, OrderLine, OrderStatus, PaymentState

# Pick-up at the receiving point (错时领取): half-hour slots from 08:00, so many packages each.


# Pick-up at the receiving point (错时领取): half-hour slots from 08:00, so many packages each.
SLOT_MINUTES = 30
SLOT_CAPACITY = 40
FIRST_SLOT = datetime.time(8, 0)

# --- one community's build -------------------------------------------------------------------------


@dataclass
class _Draft:
    """One household's package while it is being built: what it holds and where it goes."""

    household_id: int
    building_id: int
    compound_id: int
    sort: tuple
    level: int
    delivery_day: int
    order_ids: list = field(default_factory=list)
    item_count: int = 0
    item_summary: str = ""
    total: Decimal = Decimal("0.00")
    to_collect: Decimal = Decimal("0.00")
    supplier_items: dict = field(default_factory=dict)  # supplier id -> items
    # set by _plan():
    code: str = ""
    mode: str = ""
    delivery_date: datetime.date = datetime.date.min  # set by _plan
    pickup_slot: PickupSlot | None = None


def _district_prefix(code: str) -> str:
    return (code[:2] or "XX").upper()


def item_summary(items: dict) -> str:
    """大白菜 约2kg ×3颗、鸡蛋 30枚 ×1盒: what the package holds, in one line for lists and labels."""
    return "、".join(f"{name} ×{quantity}{unit}" for name, (quantity, unit) in items.items())


def community_build(*, cycle_id: int, community_id: int, now: datetime.datetime | None = None) -> CommunityBuild:
    """Build one community's packages for a closing cycle, in one transaction.

    Guarantees: every placed order of the community's households ends up in exactly one package,
    one package per household (urgent packages aside), none empty; codes are
    district-community-compound-sequence, numbered compound → building → unit → floor → room;
    pick-up compounds get slots assigned building by building, never overfull; the route legs of
    the community are written with the packages. If anything fails, nothing of the community is
    written; a build already done is returned unchanged. No build row: NotFound; the cycle not
    closing: Conflict.
    """
    now = now or timezone.now()
    with transaction.atomic():
        # Lock the build row alone: locking the joined cycle row too would make every
        # community's build wait for the others (measured: two workers no faster than one).
        build = (
            CommunityBuild.objects.select_for_update(of=("self",))
            .select_related("cycle", "community__office__district")
            .filter(cycle_id=cycle_id, community_id=community_id)
            .first()
        )
        if build is None:
            raise NotFound(_("This community has nothing to build in this cycle."))
        if build.status == BuildStatus.DONE:
            return build
        cycle = build.cycle
        if cycle.status != CycleStatus.CLOSING:
            raise Conflict(_("This cycle is not closing; its packages cannot be built now."))
        community = build.community
        if _writes_in_sql():
            written = _write_in_sql(cycle=cycle, community=community, now=now)
        else:
            drafts = _drafts(cycle=cycle, community_id=community_id)
            _plan(cycle=cycle, community=community, drafts=drafts)
            links = _write_packages(cycle=cycle, community=community, drafts=drafts, now=now)
            written = route_counts(drafts, links=links)
        Consignment.objects.bulk_create(_route(cycle=cycle, community=community, counts=written))
        # Volunteers' rounds: each delivery day's doors divided among the community's teams, if any.
        rounds_after_build(community_id=community_id, days=written.door_days)
        if settings.DELIVERIES_BUILD_PAUSE:
            time.sleep(settings.DELIVERIES_BUILD_PAUSE)  # crash tests kill the worker here
        build.status = BuildStatus.DONE
        build.packages = written.packages
        build.orders = written.links
        build.attempts = F("attempts") + 1
        build.built_at = now
        build.save(update_fields=["status", "packages", "orders", "attempts", "built_at"])
    build.refresh_from_db(fields=["attempts"])
    return build


def _drafts(*, cycle: Cycle, community_id: int) -> list[_Draft]:
    """The community's households with placed, not yet packed orders, their lines folded in,
    in address order (compound → building → unit → floor → room, then household id)."""
    drafts = _drafts_folded_in_python(cycle=cycle, community_id=community_id)
    drafts.sort(key=lambda d: d.sort)  # stable: ties stay in household id order
    return drafts


def _drafts_folded_in_python(*, cycle: Cycle, community_id: int) -> list[_Draft]:
    households = {
        row["id"]: row
        for row in Household.objects.filter(
            building__compound__community_id=community_id, orders__cycle=cycle, orders__status=OrderStatus.PLACED
        )
        .distinct()
        .values(
            "id",
            "building_id",
            "building__compound_id",
            "building__compound__code",
            "building__sort_key",
            "building__number",
            "unit",
            "floor",
            "room",
            "building__lockdown_level",
            "building__compound__lockdown_level",
            "building__compound__delivery_day",
        )
    }
    lines = (
        OrderLine.objects.filter(
            order__cycle=cycle,
            order__status=OrderStatus.PLACED,
            order__household_id__in=list(households),
            order__package_link__isnull=True,
        )
        .values_list(
            "order_id",
            "order__household_id",
            "order__payment_state",
            "product__supplier_id",
            "name",
            "unit",
            "quantity",
            "line_total",
        )
        .order_by("order__household_id", "order_id", "id")
    )
    drafts: dict[int, _Draft] = {}
    items: dict[int, dict] = defaultdict(dict)
    for order_id, household_id, payment_state, supplier_id, name, unit, quantity, line_total in lines.iterator(
        chunk_size=5000
    ):
        draft = drafts.get(household_id)
        if draft is None:
            h = households[household_id]
            draft = drafts[household_id] = _Draft(
                household_id=household_id,
                building_id=h["building_id"],
                compound_id=h["building__compound_id"],
                sort=(
                    h["building__compound__code"],
                    h["building__sort_key"],
                    h["building__number"],
                    h["unit"],
                    h["floor"],
                    h["room"],
                ),
                level=max(h["building__lockdown_level"], h["building__compound__lockdown_level"]),
                delivery_day=h["building__compound__delivery_day"],
            )
        if not draft.order_ids or draft.order_ids[-1] != order_id:
            draft.order_ids.append(order_id)
        entry = items[household_id].setdefault(name, [0, unit])
        entry[0] += quantity
        draft.item_count += quantity
        draft.total += line_total
        if payment_state == PaymentState.TO_COLLECT:
            draft.to_collect += line_total
        draft.supplier_items[supplier_id] = draft.supplier_items.get(supplier_id, 0) + quantity
    for household_id, draft in drafts.items():
        draft.item_summary = item_summary(items[household_id])
    return list(drafts.values())


def _writes_in_sql() -> bool:
    """PostgreSQL folds, numbers and writes the packages itself (faster than Python writing the rows
    PostgreSQL had folded: BENCHMARKS.md, "A whole city")."""
    return connection.vendor == "postgresql"


def _write_in_sql(*, cycle: Cycle, community: Community, now: datetime.datetime) -> RouteCounts:
    """PostgreSQL: the pick-up slots handed out first, then the packages and links in one statement."""
    params = building_sql.community_params(cycle=cycle, community_id=community.pk)
    slotted = building_sql.pickup_households(cycle=cycle, params=params)
    _assign_pickup_slots(cycle=cycle, packages=slotted)
    return building_sql.packages_write(
        cycle=cycle, community=community, code_prefix=_code_prefix(community), slotted=slotted, now=now, params=params
    )


def _code_prefix(community: Community) -> str:
    """The part of a package's code within its cycle before the compound: ``ZH-1-``."""
    return f"{_district_prefix(community.office.district.code)}-{community.pk}-"


def _plan(*, cycle: Cycle, community: Community, drafts: list[_Draft]) -> None:
    """Give each draft (in address order) its code, mode, delivery date and pick-up slot."""
    prefix = _code_prefix(community)
    sequence: dict[int, int] = defaultdict(int)
    for draft in drafts:
        sequence[draft.compound_id] += 1
        draft.code = package_code(cycle.number, f"{prefix}{draft.compound_id}-{sequence[draft.compound_id]:03d}")
        draft.mode = delivery_mode_for(draft.level)
        draft.delivery_date = cycle.first_delivery_date + datetime.timedelta(days=draft.delivery_day)
    _assign_pickup_slots(cycle=cycle, packages=drafts)


def _write_packages(*, cycle: Cycle, community: Community, drafts: list[_Draft], now: datetime.datetime) -> int:
    """Write the drafts as packages with their order links; returns how many orders were linked.
    (Elsewhere than PostgreSQL; there ``building_sql`` writes them.)"""
    packages = [
        Package(
            cycle=cycle,
            household_id=d.household_id,
            community=community,
            compound_id=d.compound_id,
            building_id=d.building_id,
            code=d.code,
            mode=d.mode,
            delivery_date=d.delivery_date,
            dispatch_date=d.delivery_date,
            pickup_slot=d.pickup_slot,
            orders_count=len(d.order_ids),
            item_count=d.item_count,
            item_summary=d.item_summary,
            total=d.total,
            to_collect=d.to_collect,
        )
        for d in drafts
    ]
    Package.objects.bulk_create(packages, batch_size=2000)
    links = [
        PackageOrder(package=package, order_id=order_id, cycle_id=package.cycle_id)
        for package, draft in zip(packages, drafts, strict=True)
        for order_id in draft.order_ids
    ]
    PackageOrder.objects.bulk_create(links, batch_size=5000)
    return len(links)


def _assign_pickup_slots(*, cycle: Cycle, packages: list) -> None:
    """Give pick-up packages (or drafts) a slot, building by building, so neighbours come together.

    A building that no longer fits in the current slot starts the next one; a building larger
    than a slot fills consecutive slots. No slot gets more than its capacity. The slots are saved.
    """
    by_compound: dict[tuple, list] = defaultdict(list)
    for package in packages:
        if package.mode == DeliveryMode.PICKUP:
            by_compound[(package.compound_id, package.delivery_date)].append(package)
    all_slots: list[PickupSlot] = []
    for (compound_id, date), group in by_compound.items():
        buildings: dict[int, list] = defaultdict(list)
        for package in group:  # already in address order
            buildings[package.building_id].append(package)
        slots: list[PickupSlot] = []

        def new_slot(date=date, compound_id=compound_id, slots=slots) -> PickupSlot:
            start = datetime.datetime.combine(date, FIRST_SLOT) + datetime.timedelta(minutes=SLOT_MINUTES * len(slots))
            slot = PickupSlot(
                cycle=cycle,
                compound_id=compound_id,
                date=date,
                starts_at=start.time(),
                ends_at=(start + datetime.timedelta(minutes=SLOT_MINUTES)).time(),
                capacity=SLOT_CAPACITY,
                assigned=0,
            )
            slots.append(slot)
            return slot

        slot = new_slot()
        for members in buildings.values():
            if slot.assigned and slot.assigned + len(members) > slot.capacity:
                slot = new_slot()
            for package in members:
                if slot.assigned >= slot.capacity:
                    slot = new_slot()
                slot.assigned += 1
                package.pickup_slot = slot
        all_slots.extend(slots)
    PickupSlot.objects.bulk_create(all_slots)  # saved before the packages that point at them


def route_counts(drafts: list[_Draft], *, links: int) -> RouteCounts:
    """The route counts of drafts written in Python (PostgreSQL counts its own: ``building_sql``)."""
    counts = RouteCounts(packages=len(drafts), links=links)
    for draft in drafts:
        day = draft.delivery_date
        counts.add(counts.to_community, day, 1, draft.item_count)
        counts.add(counts.to_compound, (draft.compound_id, day), 1, draft.item_count)
        for supplier_id, items in draft.supplier_items.items():
            counts.add(counts.from_supplier, (supplier_id, day), 1, items)
        if draft.mode == DeliveryMode.DOOR:
            counts.door_days.add(day)
    return counts


def _route(*, cycle: Cycle, community: Community, counts: RouteCounts) -> list[Consignment]:
    """The legs this community's packages travel: supplier → office (this community's share),
    office → community, community → compound; package and item counts per delivery day."""
    office_id = community.office_id
    to_community, to_compound, from_supplier = counts.to_community, counts.to_compound, counts.from_supplier
    common = {"cycle": cycle, "office_id": office_id, "built_by": community}
    legs = [
        Consignment(
            hop=Hop.SUPPLIER_OFFICE, supplier_id=supplier_id, delivery_date=day, package_count=p, item_count=i, **common
        )
        for (supplier_id, day), (p, i) in sorted(from_supplier.items())
    ]
    legs += [
        Consignment(
            hop=Hop.OFFICE_COMMUNITY, community=community, delivery_date=day, package_count=p, item_count=i, **common
        )
        for day, (p, i) in sorted(to_community.items())
    ]
    legs += [
        Consignment(
            hop=Hop.COMMUNITY_COMPOUND,
            community=community,
            compound_id=compound_id,
            delivery_date=day,
            package_count=p,
            item_count=i,
            **common,
        )
        for (compound_id, day), (p, i) in sorted(to_compound.items())
    ]
    return legs
