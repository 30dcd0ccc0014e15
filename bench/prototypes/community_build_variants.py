"""Candidate community_build changes, measured WITHOUT editing deliveries/services.py.

Kept as the measured starting point for making the packaging meet its target (BENCHMARKS.md,
"packaging"): v1_lock is applied in deliveries/services.py; v2_fast is PostgreSQL-only and needs a
portable fallback before it can replace the Python drafting. Not imported by the application.
Run: PYTHONPATH=bench/prototypes PACKPROF_VARIANT=v2_fast .venv/bin/python bench/packaging.py \
     --reuse --runs 3 --celery-app packprof_app

v1_lock: the original, but the build row is locked alone (select_for_update(of=("self",))), not the
         cycle, community, office and district rows joined by select_related.
v2_fast: v1_lock + the community's orders folded per household in ONE SQL query (GROUP BY,
         string_agg for the item summary), light tuples instead of model instances, packages and
         package orders written with INSERT … SELECT FROM unnest(arrays) RETURNING id.
"""
import datetime
import time
from collections import defaultdict
from types import SimpleNamespace

from django.conf import settings
from django.db import connection, transaction
from django.db.models import F
from django.utils import timezone
from django.utils.translation import gettext as _

from deliveries import services as s
from deliveries.models import BuildStatus, CommunityBuild, Consignment, PackageStatus, PickupSlot
from households.errors import Conflict
from households.models import DeliveryMode, delivery_mode_for
from supply.models import Product, CycleStatus, OrderStatus, PaymentState


def community_build_v2_fast(*, cycle_id, community_id, now=None):
    now = now or timezone.now()
    with transaction.atomic():
        build = (
            CommunityBuild.objects.select_for_update(of=("self",))
            .select_related("cycle", "community__office__district")
            .get(cycle_id=cycle_id, community_id=community_id)
        )
        if build.status == BuildStatus.DONE:
            return build
        cycle = build.cycle
        if cycle.status != CycleStatus.CLOSING:
            raise Conflict(_("This cycle is not closing; its packages cannot be built now."))
        community = build.community
        supplier_of = dict(Product.objects.values_list("pk", "supplier_id"))
        with connection.cursor() as cursor:
            cursor.execute(DRAFTS_SQL, {"community": community_id, "cycle": cycle.pk, "placed": OrderStatus.PLACED,
                                        "to_collect": PaymentState.TO_COLLECT})
            rows = cursor.fetchall()
        # address order: compound → building → unit → floor → room (ties by household id, as before)
        rows.sort(key=lambda r: (r[3], r[4], r[5], r[6], r[7], r[8]))
        prefix = f"{s._district_prefix(community.office.district.code)}-{community.pk}"
        sequence = defaultdict(int)
        packages, drafts = [], []
        for (household_id, building_id, compound_id, _code, _sk, _num, _unit, _floor, _room, level, day, order_ids,
             item_count, total, to_collect, summary, product_ids, line_quantities) in rows:
            sequence[compound_id] += 1
            packages.append(SimpleNamespace(
                household_id=household_id, building_id=building_id, compound_id=compound_id,
                code=f"{prefix}-{compound_id}-{sequence[compound_id]:03d}", mode=delivery_mode_for(level),
                delivery_date=cycle.first_delivery_date + datetime.timedelta(days=day), pickup_slot=None,
                order_ids=sorted(order_ids), item_count=item_count, item_summary=summary, total=total,
                to_collect=to_collect,
            ))
            supplier_items = {}
            for product_id, quantity in zip(product_ids, line_quantities):
                supplier_id = supplier_of[product_id]
                supplier_items[supplier_id] = supplier_items.get(supplier_id, 0) + quantity
            drafts.append(SimpleNamespace(supplier_items=supplier_items))
        slots = _slots(cycle, packages)
        PickupSlot.objects.bulk_create(slots)
        with connection.cursor() as cursor:
            cursor.execute(INSERT_PACKAGES_SQL, {
                "cycle": cycle.pk, "community": community.pk, "status": PackageStatus.PACKED, "built_at": timezone.now(),
                "household": [p.household_id for p in packages], "compound": [p.compound_id for p in packages],
                "building": [p.building_id for p in packages], "code": [p.code for p in packages],
                "mode": [p.mode for p in packages], "date": [p.delivery_date for p in packages],
                "slot": [p.pickup_slot.pk if p.pickup_slot else None for p in packages],
                "orders": [len(p.order_ids) for p in packages], "items": [p.item_count for p in packages],
                "summary": [p.item_summary for p in packages], "total": [p.total for p in packages],
                "to_collect": [p.to_collect for p in packages],
            })
            ids = dict((household_id, pk) for pk, household_id in cursor.fetchall())
            package_ids, order_ids = [], []
            for p in packages:
                for order_id in p.order_ids:
                    package_ids.append(ids[p.household_id])
                    order_ids.append(order_id)
            cursor.execute(
                "INSERT INTO deliveries_packageorder (package_id, order_id) SELECT * FROM unnest(%s::bigint[], %s::bigint[])",
                [package_ids, order_ids],
            )
        Consignment.objects.bulk_create(s._route(cycle=cycle, community=community, packages=packages, drafts=drafts))
        if settings.DELIVERIES_BUILD_PAUSE:
            time.sleep(settings.DELIVERIES_BUILD_PAUSE)
        build.status = BuildStatus.DONE
        build.packages = len(packages)
        build.orders = len(order_ids)
        build.attempts = F("attempts") + 1
        build.built_at = now
        build.save(update_fields=["status", "packages", "orders", "attempts", "built_at"])
    build.refresh_from_db(fields=["attempts"])
    return build


def _slots(cycle, packages):
    """services._assign_pickup_slots, on light objects, returning the slots instead of saving them."""
    by_compound = defaultdict(list)
    for package in packages:
        if package.mode == DeliveryMode.PICKUP:
            by_compound[(package.compound_id, package.delivery_date)].append(package)
    all_slots = []
    for (compound_id, date), group in by_compound.items():
        buildings = defaultdict(list)
        for package in group:
            buildings[package.building_id].append(package)
        slots = []

        def new_slot():
            start = datetime.datetime.combine(date, s.FIRST_SLOT) + datetime.timedelta(minutes=s.SLOT_MINUTES * len(slots))
            slot = PickupSlot(
                cycle=cycle, compound_id=compound_id, date=date, starts_at=start.time(),
                ends_at=(start + datetime.timedelta(minutes=s.SLOT_MINUTES)).time(), capacity=s.SLOT_CAPACITY, assigned=0,
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
    return all_slots


VARIANTS = {"v1_lock": s.community_build, "v2_fast": community_build_v2_fast}  # v1_lock is the applied code
