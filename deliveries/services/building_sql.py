"""One community's packages written by PostgreSQL itself: the lines folded, numbered and inserted
with their order links in one statement, nothing per package passing through Python.

Python only hands out the pick-up slots first (a greedy walk over the pick-up households, building
by building: see ``building._assign_pickup_slots``) and reads back what the route legs need.
Elsewhere (SQLite) ``building`` folds the lines in Python; both write the same packages (tests
compare them field by field).
"""

import datetime
from types import SimpleNamespace

from django.db import connection

from deliveries.models import PackageStatus, package_code
from deliveries.services.route import RouteCounts
from households.models import Building, Community, DeliveryMode, LockdownLevel
from supply.models import Cycle, OrderStatus, PaymentState

# Address order: compound → building → unit → floor → room, then household id (as Python sorts the
# drafts; text by code point, which is what COLLATE "C" does with UTF-8).
_ADDRESS_ORDER = """c.code COLLATE "C", b.sort_key, b.number COLLATE "C", h.unit COLLATE "C", h.floor,
    h.room COLLATE "C", h.id"""

# The community's pick-up households with placed orders not yet in a package, in address order
# (as the packages are numbered below). Pick-up is every level but stay-at-home, as
# households.models.delivery_mode_for says (the packages' CASE below says it again).
_PICKUP_HOUSEHOLDS_SQL = f"""
SELECT h.id, h.building_id, b.compound_id, c.delivery_day
FROM households_household h
JOIN households_building b ON b.id = h.building_id
JOIN households_compound c ON c.id = b.compound_id
WHERE h.building_id = ANY(%(buildings)s)
  AND GREATEST(b.lockdown_level, c.lockdown_level) <> %(stay_at_home)s
  AND EXISTS (SELECT 1 FROM supply_order o WHERE o.household_id = h.id AND o.cycle_id = %(cycle)s
              AND o.status = %(placed)s
              AND NOT EXISTS (SELECT 1 FROM deliveries_packageorder po
                              WHERE po.order_id = o.id AND po.cycle_id = %(cycle)s))
ORDER BY b.compound_id, {_ADDRESS_ORDER}
"""

# Per household: its orders, item count, total, amount to collect and the item summary (quantities
# summed per product name, in the order the names first appear, unit of the first line, exactly as
# building.item_summary() writes it); then the package, numbered in address order per compound,
# with its slot; then its order links. Returns the route counts, not the packages: a row per
# (compound, day, mode) and per (supplier, day).
_WRITE_SQL = f"""
WITH orders AS (
    SELECT o.id, o.household_id, o.payment_state
    FROM households_household h
    JOIN supply_order o ON o.household_id = h.id AND o.cycle_id = %(cycle)s AND o.status = %(placed)s
    WHERE h.building_id = ANY(%(buildings)s)
      AND NOT EXISTS (SELECT 1 FROM deliveries_packageorder po WHERE po.order_id = o.id AND po.cycle_id = %(cycle)s)
),
lines AS (
    SELECT o.household_id, o.id AS order_id, l.id AS line_id, o.payment_state, l.product_id, l.name, l.unit,
           l.quantity, l.line_total,
           sum(l.quantity) OVER w AS name_quantity,
           row_number() OVER (w ORDER BY o.id, l.id) = 1 AS first_of_name
    FROM orders o
    JOIN supply_orderline l ON l.order_id = o.id AND l.cycle_id = %(cycle)s
    WINDOW w AS (PARTITION BY o.household_id, l.name COLLATE "C")
),
folded AS MATERIALIZED (  -- once: never re-run as the inner side of a join
    SELECT household_id, array_agg(DISTINCT order_id ORDER BY order_id) AS order_ids,
           sum(quantity) AS item_count, sum(line_total) AS total,
           coalesce(sum(line_total) FILTER (WHERE payment_state = %(to_collect)s), 0) AS to_collect,
           string_agg(name || ' ×' || name_quantity || unit, '、' ORDER BY order_id, line_id)
               FILTER (WHERE first_of_name) AS item_summary
    FROM lines GROUP BY household_id
),
-- numbered in address order within each compound
households AS (
    SELECT f.*, h.building_id, b.compound_id, c.delivery_day, GREATEST(b.lockdown_level, c.lockdown_level) AS level,
           row_number() OVER (PARTITION BY b.compound_id ORDER BY {_ADDRESS_ORDER}) AS seq
    FROM folded f
    JOIN households_household h ON h.id = f.household_id
    JOIN households_building b ON b.id = h.building_id
    JOIN households_compound c ON c.id = b.compound_id
),
slots AS (
    SELECT * FROM unnest(%(slot_households)s::bigint[], %(slot_ids)s::bigint[]) AS s(household_id, slot_id)
),
packages AS (
    INSERT INTO deliveries_package (cycle_id, community_id, urgent, status, built_at, attempt, household_id,
        compound_id, building_id, code, mode, delivery_date, dispatch_date, pickup_slot_id, orders_count,
        item_count, item_summary, total, to_collect)
    SELECT %(cycle)s, %(community)s, false, %(packed)s, %(now)s, 0, h.household_id, h.compound_id, h.building_id,
           %(code_prefix)s || h.compound_id || '-' || lpad(h.seq::text, greatest(3, length(h.seq::text)), '0'),
           CASE WHEN h.level = %(stay_at_home)s THEN %(door)s ELSE %(pickup)s END,
           %(first_day)s::date + h.delivery_day, %(first_day)s::date + h.delivery_day, s.slot_id,
           cardinality(h.order_ids), h.item_count, h.item_summary, h.total, h.to_collect
    FROM households h
    LEFT JOIN slots s USING (household_id)
    ORDER BY h.compound_id, h.seq
    RETURNING id, household_id, compound_id, delivery_date, mode, item_count, orders_count
),
links AS (
    INSERT INTO deliveries_packageorder (package_id, order_id, cycle_id)
    SELECT p.id, o.id, %(cycle)s FROM packages p JOIN orders o USING (household_id)
)
SELECT 'compound', compound_id, delivery_date, mode, count(*), sum(item_count), sum(orders_count)
FROM packages GROUP BY compound_id, delivery_date, mode
UNION ALL
SELECT 'supplier', pr.supplier_id, p.delivery_date, NULL, count(DISTINCT p.household_id), sum(l.quantity), 0
FROM lines l JOIN supply_product pr ON pr.id = l.product_id JOIN packages p USING (household_id)
GROUP BY pr.supplier_id, p.delivery_date
"""


def community_params(*, cycle: Cycle, community_id: int) -> dict:
    """The statements' parameters. The community's buildings go in as ids: joined
    from the community instead, a big city's planner may scan every building (measured at 4 M
    households: 0.66 s a community, the rows marked by the packages' foreign-key checks)."""
    buildings = Building.objects.filter(compound__community_id=community_id).values_list("pk", flat=True)
    return {
        "cycle": cycle.pk,
        "community": community_id,
        "buildings": list(buildings),
        "placed": OrderStatus.PLACED,
        "stay_at_home": LockdownLevel.STAY_AT_HOME,
    }


def pickup_households(*, cycle: Cycle, params: dict) -> list[SimpleNamespace]:
    """The community's households whose package will be collected at the receiving point, in
    address order, shaped for ``_assign_pickup_slots`` (mode, compound, building, delivery date)."""
    with connection.cursor() as cursor:
        cursor.execute(_PICKUP_HOUSEHOLDS_SQL, params)
        rows = cursor.fetchall()
    return [
        SimpleNamespace(
            household_id=household_id,
            building_id=building_id,
            compound_id=compound_id,
            delivery_date=cycle.first_delivery_date + datetime.timedelta(days=day),
            mode=DeliveryMode.PICKUP,
            pickup_slot=None,
        )
        for household_id, building_id, compound_id, day in rows
    ]


def packages_write(
    *, cycle: Cycle, community: Community, code_prefix: str, slotted: list, now: datetime.datetime, params: dict
) -> RouteCounts:
    """Write the community's packages and their order links in one statement; return its route
    counts. ``slotted`` are the pick-up households with their (saved) slots; ``code_prefix`` is the
    part of the code before the compound (``ZH-1-``); ``params`` are :func:`community_params`."""
    params = params | {
        "to_collect": PaymentState.TO_COLLECT,
        "slot_households": [h.household_id for h in slotted],
        "slot_ids": [h.pickup_slot.pk for h in slotted],
        "packed": PackageStatus.PACKED,
        "now": now,
        "code_prefix": package_code(cycle.number, code_prefix),
        "door": DeliveryMode.DOOR,
        "pickup": DeliveryMode.PICKUP,
        "first_day": cycle.first_delivery_date,
    }
    counts = RouteCounts()
    with connection.cursor() as cursor:
        cursor.execute(_WRITE_SQL, params)
        for kind, place_id, day, mode, packages, items, links in cursor.fetchall():
            if kind == "supplier":
                counts.add(counts.from_supplier, (place_id, day), packages, items)
                continue
            counts.add(counts.to_community, day, packages, items)
            counts.add(counts.to_compound, (place_id, day), packages, items)
            counts.packages += packages
            counts.links += links
            if mode == DeliveryMode.DOOR:
                counts.door_days.add(day)
    return counts
