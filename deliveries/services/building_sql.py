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
from households.models import Community, DeliveryMode, LockdownLevel
from supply.models import Cycle, OrderStatus, PaymentState

# The community's households with placed orders not yet in a package, and their address order:
# compound → building → unit → floor → room, then household id (as Python sorts the drafts; text
# compared by code point, which is what COLLATE "C" does with UTF-8).
_HOUSEHOLDS_SQL = """
SELECT h.id AS household_id, h.building_id, b.compound_id, c.delivery_day,
       GREATEST(b.lockdown_level, c.lockdown_level) AS level,
       row_number() OVER (PARTITION BY b.compound_id ORDER BY c.code COLLATE "C", b.sort_key,
           b.number COLLATE "C", h.unit COLLATE "C", h.floor, h.room COLLATE "C", h.id) AS seq
FROM households_household h
JOIN households_building b ON b.id = h.building_id
JOIN households_compound c ON c.id = b.compound_id
WHERE c.community_id = %(community)s
  AND EXISTS (SELECT 1 FROM supply_order o WHERE o.household_id = h.id AND o.cycle_id = %(cycle)s
              AND o.status = %(placed)s
              AND NOT EXISTS (SELECT 1 FROM deliveries_packageorder po WHERE po.order_id = o.id))
"""

_PICKUP_HOUSEHOLDS_SQL = f"""
SELECT household_id, building_id, compound_id, delivery_day FROM ({_HOUSEHOLDS_SQL}) x
WHERE level <> %(stay_at_home)s
ORDER BY compound_id, seq
"""

# Per household: its orders, item count, total, amount to collect and the item summary (quantities
# summed per product name, in the order the names first appear, unit of the first line, exactly as
# building.item_summary() writes it); then the package, numbered in address order per compound,
# with its slot; then its order links. Returns what the route legs need.
_WRITE_SQL = f"""
WITH households AS ({_HOUSEHOLDS_SQL}),
lines AS (
    SELECT o.household_id, o.id AS order_id, l.id AS line_id, o.payment_state, l.product_id, l.name, l.unit,
           l.quantity, l.line_total,
           sum(l.quantity) OVER w AS name_quantity,
           row_number() OVER (w ORDER BY o.id, l.id) = 1 AS first_of_name
    FROM households h
    JOIN supply_order o ON o.household_id = h.household_id
    JOIN supply_orderline l ON l.order_id = o.id
    WHERE o.cycle_id = %(cycle)s AND o.status = %(placed)s
      AND NOT EXISTS (SELECT 1 FROM deliveries_packageorder po WHERE po.order_id = o.id)
    WINDOW w AS (PARTITION BY o.household_id, l.name COLLATE "C")
),
folded AS (
    SELECT household_id, array_agg(DISTINCT order_id ORDER BY order_id) AS order_ids,
           sum(quantity) AS item_count, sum(line_total) AS total,
           coalesce(sum(line_total) FILTER (WHERE payment_state = %(to_collect)s), 0) AS to_collect,
           string_agg(name || ' ×' || name_quantity || unit, '、' ORDER BY order_id, line_id)
               FILTER (WHERE first_of_name) AS item_summary
    FROM lines GROUP BY household_id
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
           cardinality(f.order_ids), f.item_count, f.item_summary, f.total, f.to_collect
    FROM households h
    JOIN folded f USING (household_id)
    LEFT JOIN slots s USING (household_id)
    ORDER BY h.compound_id, h.seq
    RETURNING id, household_id, compound_id, delivery_date, mode, item_count, orders_count
),
links AS (
    INSERT INTO deliveries_packageorder (package_id, order_id)
    SELECT p.id, unnest(f.order_ids) FROM packages p JOIN folded f USING (household_id)
),
-- what each package holds of each supplier's products (the supplier → office legs)
supplier_items AS (
    SELECT x.household_id, array_agg(x.supplier_id ORDER BY x.supplier_id) AS suppliers,
           array_agg(x.items ORDER BY x.supplier_id) AS items
    FROM (SELECT l.household_id, pr.supplier_id, sum(l.quantity) AS items
          FROM lines l JOIN supply_product pr ON pr.id = l.product_id
          GROUP BY l.household_id, pr.supplier_id) x
    GROUP BY x.household_id
)
SELECT p.household_id, p.compound_id, p.delivery_date, p.mode, p.item_count, p.orders_count, s.suppliers, s.items
FROM packages p JOIN supplier_items s USING (household_id)
"""


def _params(*, cycle: Cycle, community_id: int) -> dict:
    return {
        "cycle": cycle.pk,
        "community": community_id,
        "placed": OrderStatus.PLACED,
        "stay_at_home": LockdownLevel.STAY_AT_HOME,
    }


def pickup_households(*, cycle: Cycle, community_id: int) -> list[SimpleNamespace]:
    """The community's households whose package will be collected at the receiving point, in
    address order, shaped for ``_assign_pickup_slots`` (mode, compound, building, delivery date)."""
    with connection.cursor() as cursor:
        cursor.execute(_PICKUP_HOUSEHOLDS_SQL, _params(cycle=cycle, community_id=community_id))
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
    *, cycle: Cycle, community: Community, code_prefix: str, slotted: list, now: datetime.datetime
) -> tuple[list[SimpleNamespace], int]:
    """Write the community's packages and their order links in one statement; return each package's
    route figures (compound, delivery date, mode, items, items per supplier) and the links written.

    ``slotted`` are the pick-up households with their (saved) slots; ``code_prefix`` is the part of
    the code before the compound (``12-ZH-1-``)."""
    params = _params(cycle=cycle, community_id=community.pk) | {
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
    with connection.cursor() as cursor:
        cursor.execute(_WRITE_SQL, params)
        drafts = [
            SimpleNamespace(
                household_id=household_id,
                compound_id=compound_id,
                delivery_date=day,
                mode=mode,
                item_count=item_count,
                orders=orders,
                supplier_items=dict(zip(suppliers, items, strict=True)),
            )
            for household_id, compound_id, day, mode, item_count, orders, suppliers, items in cursor.fetchall()
        ]
    return drafts, sum(d.orders for d in drafts)
