"""The order path's statements: hand-written SQL, prepared once per connection on PostgreSQL (lock the
household and the open cycle, read what is orderable, insert the order and its lines, reserve capacity).
Only ``orders`` calls them; ``orderable_products`` is the read the basket shares."""

import datetime
import re
from decimal import Decimal

from django.db import connection
from django.db.models import F, Sum
from django.utils import timezone

from households.models import Household, User
from supply.models import (
    CycleStatus,
    CycleStock,
    Order,
    OrderLine,
    PriceState,
    Product,
)


def _decimal(value) -> Decimal:
    # PostgreSQL hands back a Decimal, SQLite a float or an int.
    return value if isinstance(value, Decimal) else Decimal(str(value)).quantize(Decimal("0.01"))


def _execute(cursor, name: str, sql: str, params) -> None:
    """Run one hand-written statement of the order path (written with ``%s`` placeholders).

    On PostgreSQL the statement is prepared once per database connection under ``name`` and then
    run with ``EXECUTE``: the server plans it once instead of on every order (planning the lock
    and the product read cost PostgreSQL more CPU than running them). A prepared statement lives
    as long as the connection, whatever happens to the transaction that prepared it.
    ``name`` must stand for one ``sql`` only.
    """
    if connection.vendor != "postgresql":
        cursor.execute(sql, params)
        return
    raw = connection.connection
    state: tuple[object, set[str]] | None = getattr(connection, "_supply_prepared", None)
    if state is None or state[0] is not raw:  # a new connection: nothing prepared on it yet
        state = (raw, set())
        connection._supply_prepared = state  # type: ignore[attr-defined]  # on Django's wrapper
    if name not in state[1]:
        numbers = iter(range(1, len(params) + 1))
        cursor.execute(f"PREPARE {name} AS " + re.sub("%s", lambda _match: f"${next(numbers)}", sql))
        state[1].add(name)
    cursor.execute(f"EXECUTE {name} ({', '.join(['%s'] * len(params))})", params)


# THE rule of what a household may order: on sale, at a price shown to residents (approved), from a
# whitelisted supplier serving the household's district. Hand-written (the ORM took longer to build
# this query than the database to run it); the columns are Product's, in its field order.
ORDERABLE_COLUMNS = ("id", "name", "category", "unit", "size", "price", "household_limit")
_ORDERABLE_SQL = (
    "SELECT p.id, p.name, p.category, p.unit, p.size, p.price, p.household_limit{extra}"
    " FROM supply_product p JOIN supply_supplier s ON s.id = p.supplier_id"
    " WHERE p.id {ids} AND p.is_active = %s AND p.price_state = %s AND s.is_whitelisted = %s"
    " AND EXISTS (SELECT 1 FROM supply_supplier_districts d WHERE d.supplier_id = s.id AND d.district_id = %s)"
)
# For order_place, two more columns: the units of each limited product the household already holds
# in the cycle's orders that hold stock (placed, or awaiting their online payment), and the id of the order the user placed with the same key, if any.
ALREADY_SQL = (
    ", CASE WHEN p.household_limit IS NULL THEN 0 ELSE (SELECT COALESCE(SUM(l.quantity), 0)"
    " FROM supply_orderline l JOIN supply_order o ON o.id = l.order_id"
    " WHERE l.product_id = p.id AND o.household_id = %s AND o.cycle_id = %s AND o.status IN (%s, %s)) END"
)
# The newest: the key is unique within a cycle (the unique key holds the cycle, see Order.Meta).
SAME_KEY_SQL = (
    ", (SELECT k.id FROM supply_order k WHERE k.placed_by_id {by} AND k.idempotency_key = %s"
    " ORDER BY k.id DESC LIMIT 1)"
)


def orderable_rows(*, name: str, district_id: int, product_ids, extra: str = "", extra_params=()) -> list[tuple]:
    ids = sorted(product_ids)
    if connection.vendor == "postgresql":  # one array parameter: one prepared statement for any number of products
        sql = _ORDERABLE_SQL.format(extra=extra, ids="= ANY(%s)")
        id_params = [ids]
    else:
        sql = _ORDERABLE_SQL.format(extra=extra, ids="IN (%s)" % ", ".join(["%s"] * len(ids)))
        id_params = ids
    with connection.cursor() as cursor:
        _execute(cursor, name, sql, [*extra_params, *id_params, True, PriceState.APPROVED, True, district_id])
        return cursor.fetchall()


def product_of_row(row: tuple) -> Product:
    values = list(row[: len(ORDERABLE_COLUMNS)])
    values[5] = _decimal(values[5])
    return Product.from_db(connection.alias, ORDERABLE_COLUMNS, values)


def orderable_products(*, household: Household, product_ids) -> dict[int, Product]:
    """The products among ``product_ids`` this household may order: on sale, price shown, supplier
    whitelisted and serving the household's district (only the columns an order uses are loaded)."""
    if not product_ids:
        return {}
    district_id = household.building.compound.community.office.district_id
    rows = orderable_rows(name="supply_orderable", district_id=district_id, product_ids=product_ids)
    return {row[0]: product_of_row(row) for row in rows}


# The household's district, from its row up the place tree.
_HOUSEHOLD_DISTRICT_SQL = (
    "SELECT o.district_id{extra} FROM households_household h"
    " JOIN households_building b ON b.id = h.building_id"
    " JOIN households_compound c ON c.id = b.compound_id"
    " JOIN households_community m ON m.id = c.community_id"
    " JOIN households_office o ON o.id = m.office_id{join}"
    " WHERE h.id = %s"
)
# With the open cycle and whether it takes orders at this moment. On PostgreSQL the household's row
# (not the places above it) is locked for the rest of the transaction, so its limits hold, and the
# cycle's row is share-locked: closing the cycle (an UPDATE of it) waits for the orders in flight.
_LOCK_FOR_ORDER_SQL = _HOUSEHOLD_DISTRICT_SQL.format(
    extra=", y.id, CASE WHEN y.opens_at <= %s AND y.cutoff_at > %s THEN 1 ELSE 0 END",
    join=" JOIN supply_cycle y ON y.status = %s",
)


def household_lock(household_id: int) -> int | None:
    """Row-lock the household for the rest of the transaction; its district id, or None if unknown."""
    sql = _HOUSEHOLD_DISTRICT_SQL.format(extra="", join="")
    if connection.features.has_select_for_update:
        sql += " FOR UPDATE OF h"
    with connection.cursor() as cursor:
        cursor.execute(sql, [household_id])
        row = cursor.fetchone()
    return None if row is None else row[0]


def order_lock(household_id: int, now: datetime.datetime) -> tuple[int, int, bool] | None:
    """(district id, open cycle id, whether it takes orders now) with the locks described above;
    None when the household is unknown or no cycle is open."""
    sql = _LOCK_FOR_ORDER_SQL
    if connection.features.has_select_for_update:
        sql += " FOR UPDATE OF h FOR SHARE OF y"
    moment = connection.ops.adapt_datetimefield_value(now)
    with connection.cursor() as cursor:
        _execute(cursor, "supply_order_lock", sql, [moment, moment, CycleStatus.OPEN, household_id])
        row = cursor.fetchone()
    return None if row is None else (row[0], row[1], bool(row[2]))


def order_by_key(placed_by: User | None, idempotency_key: str) -> Order | None:
    return Order.objects.filter(placed_by=placed_by, idempotency_key=idempotency_key).order_by("-pk").first()


_ORDER_COLUMNS = (
    "household_id",
    "cycle_id",
    "status",
    "channel",
    "placed_by_id",
    "note",
    "total",
    "payment_method",
    "payment_state",
    "urgent",
    "when_out",
    "idempotency_key",
    "request_hash",
    "created_at",
)
_LINE_COLUMNS = ("order_id", "cycle_id", "product_id", "name", "unit", "quantity", "unit_price", "line_total")
_INSERT_ORDER_SQL = "INSERT INTO supply_order (%s) VALUES (%s)" % (
    ", ".join(_ORDER_COLUMNS),
    ", ".join(["%s"] * len(_ORDER_COLUMNS)),
)
# With an idempotency key the unique constraint order_idempotency_key decides (no savepoint):
# nothing is written when the user's order with that key exists.
_ON_SAME_KEY = " ON CONFLICT (placed_by_id, idempotency_key, cycle_id) WHERE idempotency_key IS NOT NULL DO NOTHING"
# PostgreSQL: the order and its lines in one statement (one array per line column, so that one
# prepared statement serves any number of lines); no line is written when the key was used.
_INSERT_ORDER_AND_LINES_SQL = (
    "WITH o AS (" + _INSERT_ORDER_SQL + "{conflict} RETURNING id)"
    " INSERT INTO supply_orderline (%s) SELECT o.id, w.* FROM o, unnest(%%s::bigint[], %%s::bigint[],"
    " %%s::varchar[], %%s::varchar[], %%s::integer[], %%s::numeric[], %%s::numeric[]) AS w RETURNING order_id, id"
    % ", ".join(_LINE_COLUMNS)
)


def order_insert(order: Order, lines: list[OrderLine]) -> bool:
    """INSERT ``order`` and its ``lines``, setting their pks. With an idempotency key, False and
    nothing written when the user's order with that key exists (committed meanwhile by a
    concurrent request)."""
    order.created_at = timezone.now()
    values = [getattr(order, column) for column in _ORDER_COLUMNS]
    values[_ORDER_COLUMNS.index("created_at")] = connection.ops.adapt_datetimefield_value(order.created_at)
    conflict = _ON_SAME_KEY if order.idempotency_key is not None else ""
    name = "supply_order_insert" + ("_key" if conflict else "")
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            columns = [[getattr(line, column) for line in lines] for column in _LINE_COLUMNS[1:]]
            _execute(cursor, name, _INSERT_ORDER_AND_LINES_SQL.format(conflict=conflict), [*values, *columns])
            rows = cursor.fetchall()
            if not rows:
                return False
            order.pk, line_ids = rows[0][0], [row[1] for row in rows]
        else:
            cursor.execute(_INSERT_ORDER_SQL + conflict + " RETURNING id", values)
            row = cursor.fetchone()
            if row is None:
                return False
            order.pk = row[0]
            placeholders = ", ".join(["(%s)" % ", ".join(["%s"] * len(_LINE_COLUMNS))] * len(lines))
            cursor.execute(
                "INSERT INTO supply_orderline (%s) VALUES %s RETURNING id" % (", ".join(_LINE_COLUMNS), placeholders),
                [value for line in lines for value in (order.pk, *(getattr(line, c) for c in _LINE_COLUMNS[1:]))],
            )
            line_ids = [row[0] for row in cursor.fetchall()]
    for instance, pk in ((order, order.pk), *zip(lines, line_ids, strict=True)):
        instance.pk = pk
        instance._state.adding = False
        instance._state.db = connection.alias
    for line in lines:
        line.order = order
    return True


# The conditional reservation: it changes a stock row only while capacity is left.
_RESERVE_SQL = (
    "UPDATE supply_cyclestock SET reserved = reserved + %s"
    " WHERE cycle_id = %s AND product_id = %s AND reserved <= capacity - %s"
)
# PostgreSQL: every product of the order in one statement. The rows are locked first, in product
# order (ORDER BY … FOR UPDATE), so that concurrent orders cannot deadlock; the UPDATE then
# re-checks each row as it is after any concurrent order that committed meanwhile (READ COMMITTED).
_RESERVE_ALL_SQL = (
    "UPDATE supply_cyclestock s SET reserved = s.reserved + w.quantity"
    " FROM unnest(%s::bigint[], %s::integer[]) AS w(product_id, quantity)"
    " WHERE s.id IN (SELECT k.id FROM supply_cyclestock k WHERE k.cycle_id = %s AND k.product_id = ANY(%s::bigint[])"
    " ORDER BY k.product_id FOR UPDATE)"
    " AND s.product_id = w.product_id AND s.reserved <= s.capacity - w.quantity"
    " RETURNING s.product_id"
)


def stock_reserve(cycle_id: int, quantities: dict[int, int]) -> int | None:
    """Reserve every product's quantity in the cycle, or find the first (in product order) whose
    capacity left is too small: its id, and the caller rolls back what was reserved."""
    ids = sorted(quantities)
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            _execute(
                cursor,
                "supply_order_reserve_all",
                _RESERVE_ALL_SQL,
                [ids, [quantities[pid] for pid in ids], cycle_id, ids],
            )
            reserved = {row[0] for row in cursor.fetchall()}
            return next((pid for pid in ids if pid not in reserved), None)
        for pid in ids:  # SQLite: one writer at a time, one statement per product
            cursor.execute(_RESERVE_SQL, [quantities[pid], cycle_id, pid, quantities[pid]])
            if cursor.rowcount != 1:
                return pid
    return None


def stock_release(order_ids) -> None:
    """Give the quantities of these orders back to their cycles' capacity: one UPDATE per product,
    in product order (the order ``order_place`` locks stock rows in). The caller holds the orders
    locked and moves them out of the stock-holding states in the same transaction."""
    rows = (
        OrderLine.objects.filter(order_id__in=order_ids)
        .values_list("order__cycle_id", "product_id")
        .annotate(units=Sum("quantity"))
        .order_by("product_id", "order__cycle_id")
    )
    for cycle_id, product_id, units in rows:
        CycleStock.objects.filter(cycle_id=cycle_id, product_id=product_id).update(reserved=F("reserved") - units)
