"""After the close: packages following a lockdown change, the urgent lane (urgent medicine, baseline
packages of households sealed since) in supplement consignments."""

import datetime
from collections import defaultdict
from collections.abc import Callable
from decimal import Decimal
from functools import partial

from django.conf import settings
from django.db import transaction
from django.db.models import F
from django.utils import timezone

from core.queue import enqueue
from deliveries.models import (
    BuildStatus,
    CommunityBuild,
    Consignment,
    Hop,
    Package,
    PackageOrder,
    PackageStatus,
    PickupSlot,
    package_code,
)
from deliveries.services.building import _assign_pickup_slots, _district_prefix, item_summary
from households.models import Compound, DeliveryMode, delivery_mode_for
from supply.models import CycleStatus, Order, OrderLine, OrderStatus, PaymentState

# Pick-up at the receiving point (错时领取): half-hour slots from 08:00, so many packages each.


@transaction.atomic
def compound_packages_recompute(*, compound_id: int, now: datetime.datetime | None = None) -> int:
    """After a lockdown change, the compound's packages still to be delivered follow the new level.

    Each package's mode is derived again from its building's effective level; the compound's
    pick-up slots of each delivery day are assigned again building by building (never overfull),
    door packages lose their slot. Packages whose mode or slot changed get ``recomputed_at``, so
    printed lists made before are known to be out of date. Returns how many packages changed.
    Idempotent: with nothing changed, nothing is written.
    """
    now = now or timezone.now()
    packages = list(
        Package.objects.select_for_update()
        .filter(
            compound_id=compound_id,
            urgent=False,
            delivery_date__gte=timezone.localdate(now),
            status__in=[
                PackageStatus.PACKED,
                PackageStatus.DISPATCHED,
                PackageStatus.AT_OFFICE,
                PackageStatus.AT_COMMUNITY,
                PackageStatus.AT_COMPOUND,
            ],
        )
        .select_related("building__compound", "household", "cycle")
        .order_by("code")
    )
    if not packages:
        return 0
    before = {p.pk: (p.mode, p.pickup_slot_id) for p in packages}
    modes = {
        p.pk: delivery_mode_for(max(p.building.lockdown_level, p.building.compound.lockdown_level)) for p in packages
    }
    if all(modes[p.pk] == p.mode and (p.mode == DeliveryMode.DOOR) == (p.pickup_slot_id is None) for p in packages):
        return 0
    for package in packages:
        package.mode = modes[package.pk]
        package.pickup_slot = None
    days = {(p.cycle_id, p.delivery_date) for p in packages}
    PickupSlot.objects.filter(compound_id=compound_id, date__in=[d for _c, d in days]).delete()
    by_cycle: dict[int, list[Package]] = defaultdict(list)
    for package in packages:
        by_cycle[package.cycle_id].append(package)
    for group in by_cycle.values():
        _assign_pickup_slots(cycle=group[0].cycle, packages=group)
    changed = [p for p in packages if before[p.pk] != (p.mode, p.pickup_slot_id)]
    for package in changed:
        package.recomputed_at = now
    Package.objects.bulk_update(packages, ["mode", "pickup_slot"])
    Package.objects.bulk_update(changed, ["recomputed_at"])
    if settings.DELIVERIES_PRINT_ON_PACK:
        # The community's printed lists are drawn again at once (the beat's stale_lists_refresh
        # would find them too, a little later; drawing twice changes nothing).
        for cycle_id, community_id in {(p.cycle_id, p.community_id) for p in changed}:
            transaction.on_commit(
                partial(enqueue, "deliveries.tasks.community_lists_print_task", cycle_id, community_id, background=True)
            )
    return len(changed)


@transaction.atomic
def urgent_package_build(*, order_id: int, now: datetime.datetime | None = None) -> Package | None:
    """Make an urgent order a same-day package of its own, at once (medicine that cannot wait).

    Guarantees: idempotent (an order already in a package is left alone); a cancelled or
    non-urgent order gets nothing; the package is delivered today, door to door or at the
    receiving point as the household's lockdown level says, and travels in today's supplement
    consignments (counted at every hop like any package, never on the close's frozen lists).
    """
    now = now or timezone.now()
    order = (
        Order.objects.select_for_update(of=("self",))
        .filter(pk=order_id, urgent=True, status=OrderStatus.PLACED)
        .first()
    )
    if order is None or PackageOrder.objects.filter(order=order).exists():
        return None
    built = supplement_packages_build(
        order_ids=[order.pk],
        day=timezone.localdate(now),
        code=lambda o, prefix: f"U-{prefix}-{o.pk}",
    )
    return built[0] if built else None


def _supplement_lists_draw(legs: dict) -> None:
    """After the commit, draw again the paper the new urgent-lane packages are on: the
    communities' lists, the offices' supplement manifests, the suppliers' supplement pick lists."""
    units = set()
    for hop, cycle_id, office_id, community_id, supplier_id, _compound_id in legs:
        units.add(("deliveries.tasks.community_lists_print_task", cycle_id, community_id))
        units.add(("deliveries.tasks.office_lists_print_task", cycle_id, office_id))
        if hop == Hop.SUPPLIER_OFFICE:
            units.add(("deliveries.tasks.supplier_lists_print_task", cycle_id, supplier_id))
    for task, cycle_id, place_id in sorted(units):
        transaction.on_commit(partial(enqueue, task, cycle_id, place_id, background=True))


def supplement_packages_build(
    *, order_ids: list[int], day: datetime.date, code: Callable[[Order, str], str]
) -> list[Package]:
    """One urgent-lane package per order, due on ``day``, with its supplement route legs.

    For orders that came after their community's build (urgent medicine; baseline orders of
    households sealed after the close). ``code(order, district_prefix)`` names each package. The
    legs are supplement consignments: counts are added to the day's open supplement leg of each
    hop (made if missing, or if the open one was already received), so the frozen lists of the
    close never change and every hop still counts what it carries; the lists these packages are on
    are drawn again after the commit. Call inside a transaction.
    """
    orders = list(
        Order.objects.filter(pk__in=order_ids, status=OrderStatus.PLACED, package_link__isnull=True)
        .select_related("cycle", "household__building__compound__community__office__district")
        .order_by("pk")
    )
    lines = defaultdict(list)
    for order_id, supplier_id, name, unit, quantity in (
        OrderLine.objects.filter(order__in=orders)
        .values_list("order_id", "product__supplier_id", "name", "unit", "quantity")
        .order_by("order_id", "id")
    ):
        lines[order_id].append((supplier_id, name, unit, quantity))
    packages: list[Package] = []
    packed_orders: list[Order] = []
    legs: dict[tuple, list[int]] = defaultdict(lambda: [0, 0])
    for order in orders:
        household = order.household
        building = household.building
        compound = building.compound
        community = compound.community
        items: dict = {}
        item_count = 0
        supplier_items: dict[int, int] = defaultdict(int)
        for supplier_id, name, unit, quantity in lines[order.pk]:
            entry = items.setdefault(name, [0, unit])
            entry[0] += quantity
            item_count += quantity
            supplier_items[supplier_id] += quantity
        if not item_count:
            continue
        package = Package(
            cycle_id=order.cycle_id,
            household=household,
            community=community,
            compound=compound,
            building=building,
            code=package_code(
                order.cycle.number, code(order, f"{_district_prefix(community.office.district.code)}-{community.pk}")
            ),
            urgent=True,
            mode=delivery_mode_for(household.effective_level),
            delivery_date=day,
            dispatch_date=day,
            orders_count=1,
            item_count=item_count,
            item_summary=item_summary(items),
            total=order.total,
            to_collect=order.total if order.payment_state == PaymentState.TO_COLLECT else Decimal("0.00"),
        )
        packages.append(package)
        packed_orders.append(order)
        common = (order.cycle_id, community.office_id, community.pk)
        for supplier_id, quantity in supplier_items.items():
            counts = legs[(Hop.SUPPLIER_OFFICE, *common, supplier_id, None)]
            counts[0] += 1
            counts[1] += quantity
        for key in ((Hop.OFFICE_COMMUNITY, *common, None, None), (Hop.COMMUNITY_COMPOUND, *common, None, compound.pk)):
            legs[key][0] += 1
            legs[key][1] += item_count
    # Two statements for any number of households (a whole compound sealed at once).
    Package.objects.bulk_create(packages, batch_size=2000)
    PackageOrder.objects.bulk_create(
        [PackageOrder(package=p, order=o, cycle_id=p.cycle_id) for p, o in zip(packages, packed_orders, strict=True)],
        batch_size=2000,
    )
    if settings.DELIVERIES_PRINT_ON_PACK:
        _supplement_lists_draw(legs)
    for (hop, cycle_id, office_id, community_id, supplier_id, compound_id), (count, item_total) in legs.items():
        where = {
            "cycle_id": cycle_id,
            "hop": hop,
            "delivery_date": day,
            "supplement": True,
            "built_by_id": community_id,
            "supplier_id": supplier_id,
            "compound_id": compound_id,
            "received_at__isnull": True,
        }
        if not Consignment.objects.filter(**where).update(
            package_count=F("package_count") + count,
            item_count=F("item_count") + item_total,
        ):
            Consignment.objects.create(
                cycle_id=cycle_id,
                hop=hop,
                delivery_date=day,
                supplement=True,
                built_by_id=community_id,
                office_id=office_id,
                community_id=None if hop == Hop.SUPPLIER_OFFICE else community_id,
                supplier_id=supplier_id,
                compound_id=compound_id,
                package_count=count,
                item_count=item_total,
            )
    return packages


def sealed_households_feed(*, compound_id: int, now: datetime.datetime | None = None) -> int:
    """After a compound (or one of its buildings) went to stay-at-home: every household there that
    must be fed this cycle gets its free baseline package.

    Guarantees: in the open cycle, each gets its baseline order (packed at the close like any
    order); in a cycle already closed whose deliveries are not over, each gets its baseline order
    as an urgent-lane package due on its compound's delivery day, or tomorrow if that has passed
    (routed in supplement consignments, on the supplier's supplement list and the community's
    paper, whose lists are drawn again; each household is told its package's day). A community
    whose build is still running gets the orders in that build instead. Idempotent: a household with a baseline order in the cycle gets
    nothing more. Returns how many households were given an order.
    """
    from supply.services import baseline_orders_place

    now = now or timezone.now()
    today = timezone.localdate(now)
    compound = Compound.objects.select_related("community").get(pk=compound_id)
    placed = 0
    from deliveries.selectors import current_delivery_cycles

    for cycle in current_delivery_cycles(today=today):
        with transaction.atomic():
            build = (
                CommunityBuild.objects.select_for_update()
                .filter(cycle=cycle, community_id=compound.community_id)
                .first()
            )
            order_ids = baseline_orders_place(cycle_id=cycle.pk, compound_id=compound_id, now=now)
            placed += len(order_ids)
            if not order_ids or cycle.status == CycleStatus.OPEN or (build and build.status == BuildStatus.PENDING):
                continue
            day = max(
                today + datetime.timedelta(days=1),
                cycle.first_delivery_date + datetime.timedelta(days=compound.delivery_day),
            )
            built = supplement_packages_build(
                order_ids=order_ids,
                day=day,
                code=lambda o, prefix: f"B-{prefix}-{o.pk}",
            )
            if built:  # the households are told their package's day, like at the close (each once)
                transaction.on_commit(
                    partial(
                        enqueue,
                        "deliveries.tasks.community_packages_notify_task",
                        cycle.pk,
                        compound.community_id,
                        background=True,
                    )
                )
    return placed


def urgent_packages_sweep() -> int:
    """For the beat schedule: build the urgent packages whose message was lost."""
    pending = Order.objects.filter(urgent=True, status=OrderStatus.PLACED, package_link__isnull=True).values_list(
        "pk", flat=True
    )
    return sum(1 for order_id in list(pending[:500]) if urgent_package_build(order_id=order_id))
