"""Orders: placing one (the hot path: one short transaction of prepared statements), cancelling,
and telling residents their order is confirmed."""

import datetime
import hashlib
import json
import re
from dataclasses import dataclass
from decimal import Decimal

from django.db import IntegrityError, connection, transaction
from django.db.models import F, Sum
from django.utils import timezone
from django.utils.translation import gettext as _

from core.errors import BaogongError, Conflict, NotFound
from core.queue import enqueue
from households.models import Household, User
from supply.models import (
    Category,
    Channel,
    CycleStatus,
    CycleStock,
    Order,
    OrderLine,
    OrderStatus,
    PaymentMethod,
    PaymentState,
    PriceState,
    Product,
)
from supply.services.cycles import _closed_message, _open_cycle_share_locked
from supply.services.limits import MAX_LINES, MAX_NOTE, MAX_QUANTITY

# --- orders ----------------------------------------------------------------------------------------


@dataclass(frozen=True)
class PlacedOrder:
    order: Order
    created: bool
    # The lines written, in product order, when ``created`` (so a caller can show the new order
    # without reading it back); empty for a replay.
    lines: tuple[OrderLine, ...] = ()


def _clean_lines(lines) -> dict[int, int]:
    """{product id: quantity} from ``[{"product": id, "quantity": n}, …]``; duplicates are added up."""
    if not isinstance(lines, list) or not lines:
        raise BaogongError(_("The order has no items."), errors={"lines": [_("Add at least one product.")]})
    if len(lines) > MAX_LINES:
        raise BaogongError(
            _("An order can have at most %(n)d different products.") % {"n": MAX_LINES},
            errors={"lines": [_("Too many lines.")]},
        )
    merged: dict[int, int] = {}
    errors: dict[str, list[str]] = {}
    for index, line in enumerate(lines):
        product = line.get("product") if isinstance(line, dict) else None
        quantity = line.get("quantity") if isinstance(line, dict) else None
        if isinstance(product, bool) or not isinstance(product, int) or not 0 < product < 2**63:
            errors[f"lines.{index}.product"] = [_("Choose a product.")]
            continue
        if isinstance(quantity, bool) or not isinstance(quantity, int) or not 1 <= quantity <= MAX_QUANTITY:
            errors[f"lines.{index}.quantity"] = [
                _("The quantity must be a whole number from 1 to %(max)d.") % {"max": MAX_QUANTITY}
            ]
            continue
        merged[product] = merged.get(product, 0) + quantity
    if not errors:
        for quantity in merged.values():
            if quantity > MAX_QUANTITY:
                errors["lines"] = [_("The quantity must be a whole number from 1 to %(max)d.") % {"max": MAX_QUANTITY}]
    if errors:
        raise BaogongError(next(iter(errors.values()))[0], errors=errors)
    return merged


def request_fingerprint(
    *, household_id: int, lines: dict[int, int], note: str, payment_method: str, urgent: bool = False
) -> str:
    body: dict[str, object] = {
        "household": household_id,
        "lines": sorted(lines.items()),
        "note": note,
        "payment": payment_method,
    }
    if urgent:
        body["urgent"] = True
    return hashlib.sha256(json.dumps(body, sort_keys=True).encode()).hexdigest()


def _payment(channel: str, method: str | None) -> tuple[str, str]:
    if channel == Channel.BASELINE:
        return PaymentMethod.FREE, PaymentState.FREE
    method = method or PaymentMethod.ON_DELIVERY
    if method == PaymentMethod.ONLINE:
        return method, PaymentState.PAID
    if method == PaymentMethod.ON_DELIVERY:
        return method, PaymentState.TO_COLLECT
    raise BaogongError(_("Choose how to pay."), errors={"payment_method": [_("Choose how to pay.")]})


def _key_used_elsewhere() -> BaogongError:
    return BaogongError(
        _("This Idempotency-Key was already used for a different order. Use a new key for a new order."),
        errors={"idempotency_key": [_("Already used for a different order.")]},
    )


def _replay(existing: Order, fingerprint: str) -> PlacedOrder:
    if existing.request_hash != fingerprint:
        raise _key_used_elsewhere()
    return PlacedOrder(order=existing, created=False)


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
_ORDERABLE_COLUMNS = ("id", "name", "category", "unit", "size", "price", "household_limit")
_ORDERABLE_SQL = (
    "SELECT p.id, p.name, p.category, p.unit, p.size, p.price, p.household_limit{extra}"
    " FROM supply_product p JOIN supply_supplier s ON s.id = p.supplier_id"
    " WHERE p.id {ids} AND p.is_active = %s AND p.price_state = %s AND s.is_whitelisted = %s"
    " AND EXISTS (SELECT 1 FROM supply_supplier_districts d WHERE d.supplier_id = s.id AND d.district_id = %s)"
)
# For order_place, two more columns: the units of each limited product the household already holds
# in placed orders of the cycle, and the id of the order the user placed with the same key, if any.
_ALREADY_SQL = (
    ", CASE WHEN p.household_limit IS NULL THEN 0 ELSE (SELECT COALESCE(SUM(l.quantity), 0)"
    " FROM supply_orderline l JOIN supply_order o ON o.id = l.order_id"
    " WHERE l.product_id = p.id AND o.household_id = %s AND o.cycle_id = %s AND o.status = %s) END"
)
_SAME_KEY_SQL = ", (SELECT k.id FROM supply_order k WHERE k.placed_by_id {by} AND k.idempotency_key = %s)"


def _orderable_rows(*, name: str, district_id: int, product_ids, extra: str = "", extra_params=()) -> list[tuple]:
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


def _product_of(row: tuple) -> Product:
    values = list(row[: len(_ORDERABLE_COLUMNS)])
    values[5] = _decimal(values[5])
    return Product.from_db(connection.alias, _ORDERABLE_COLUMNS, values)


def orderable_products(*, household: Household, product_ids) -> dict[int, Product]:
    """The products among ``product_ids`` this household may order: on sale, price shown, supplier
    whitelisted and serving the household's district (only the columns an order uses are loaded)."""
    if not product_ids:
        return {}
    district_id = household.building.compound.community.office.district_id
    rows = _orderable_rows(name="supply_orderable", district_id=district_id, product_ids=product_ids)
    return {row[0]: _product_of(row) for row in rows}


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


def _lock_household(household_id: int) -> int | None:
    """Row-lock the household for the rest of the transaction; its district id, or None if unknown."""
    sql = _HOUSEHOLD_DISTRICT_SQL.format(extra="", join="")
    if connection.features.has_select_for_update:
        sql += " FOR UPDATE OF h"
    with connection.cursor() as cursor:
        cursor.execute(sql, [household_id])
        row = cursor.fetchone()
    return None if row is None else row[0]


def _lock_for_order(household_id: int, now: datetime.datetime) -> tuple[int, int, bool] | None:
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


def _existing_order(placed_by: User | None, idempotency_key: str) -> Order | None:
    return Order.objects.filter(placed_by=placed_by, idempotency_key=idempotency_key).first()


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
    "idempotency_key",
    "request_hash",
    "created_at",
)
_LINE_COLUMNS = ("order_id", "product_id", "name", "unit", "quantity", "unit_price", "line_total")
_INSERT_ORDER_SQL = "INSERT INTO supply_order (%s) VALUES (%s)" % (
    ", ".join(_ORDER_COLUMNS),
    ", ".join(["%s"] * len(_ORDER_COLUMNS)),
)
# With an idempotency key the unique constraint order_idempotency_key decides (no savepoint):
# nothing is written when the user's order with that key exists.
_ON_SAME_KEY = " ON CONFLICT (placed_by_id, idempotency_key) WHERE idempotency_key IS NOT NULL DO NOTHING"
# PostgreSQL: the order and its lines in one statement (one array per line column, so that one
# prepared statement serves any number of lines); no line is written when the key was used.
_INSERT_ORDER_AND_LINES_SQL = (
    "WITH o AS (" + _INSERT_ORDER_SQL + "{conflict} RETURNING id)"
    " INSERT INTO supply_orderline (%s) SELECT o.id, w.* FROM o, unnest(%%s::bigint[], %%s::varchar[], %%s::varchar[],"
    " %%s::integer[], %%s::numeric[], %%s::numeric[]) AS w RETURNING order_id, id" % ", ".join(_LINE_COLUMNS)
)


def _insert_order(order: Order, lines: list[OrderLine]) -> bool:
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


def _reserve(cycle_id: int, quantities: dict[int, int]) -> int | None:
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


# Complexity 24: one short transaction of prepared statements on the hot path (bench/order_rush.py);
# splitting it into named steps waits for a before/after benchmark (issue 15).
@transaction.atomic
def order_place(  # noqa: C901
    *,
    household_id: int,
    lines,
    placed_by: User | None,
    channel: str,
    payment_method: str | None = None,
    note: str = "",
    idempotency_key: str | None = None,
    urgent: bool = False,
    now: datetime.datetime | None = None,
) -> PlacedOrder:
    """Place an order for a household in the open cycle, at the posted prices of this moment.

    Guarantees, under any concurrency:
    - capacity is reserved atomically (conditional ``UPDATE`` of each product's stock row, rows
      locked in product order so concurrent orders cannot deadlock): accepted quantities never
      exceed it;
    - the household's row is locked for the whole order, so its per-household limits hold;
    - the same ``idempotency_key`` from the same user returns the first order (``created`` is
      False); the same key with a different request is refused;
    - prices, products and limits are read in this transaction, after the household's lock (no
      cache): the line's price is the posted price of this moment;
    - nothing is accepted after the cutoff, and on any refusal nothing is written;
    - an ``urgent`` order (medicine only, placed by a hotline operator or a community worker)
      becomes a same-day urgent package as soon as it commits, without waiting for the cutoff.

    The usual order costs a handful of hand-written statements, prepared once per connection on
    PostgreSQL: lock (household and cycle), read (products, limits, same key), insert the order,
    insert its lines, reserve (all products in one statement; one per product on SQLite).
    """
    now = now or timezone.now()
    merged = _clean_lines(lines)
    if note is not None and not isinstance(note, str):
        raise BaogongError(_("The note must be text."), errors={"note": [_("The note must be text.")]})
    note = (note or "").strip()
    if len(note) > MAX_NOTE:
        raise BaogongError(
            _("The note is too long (at most %(n)d characters).") % {"n": MAX_NOTE}, errors={"note": [_("Too long.")]}
        )
    if channel not in Channel.values:
        raise BaogongError(_("Unknown order channel."))
    if urgent and channel not in (Channel.HOTLINE, Channel.WORKER):
        raise BaogongError(
            _("Only a hotline operator or a community worker can flag an order urgent."),
            errors={"urgent": [_("Not allowed.")]},
        )
    method, payment_state = _payment(channel, payment_method)
    if idempotency_key is not None:
        idempotency_key = idempotency_key.strip()
        if not 1 <= len(idempotency_key) <= 100:
            raise BaogongError(
                _("The Idempotency-Key must have 1 to 100 characters."), errors={"idempotency_key": [_("Invalid key.")]}
            )
    fingerprint = request_fingerprint(
        household_id=household_id, lines=merged, note=note, payment_method=method, urgent=urgent
    )

    locked = _lock_for_order(household_id, now)
    if locked is None or not locked[2]:
        # No order can be placed. Tell why, in the order the checks always had: the household,
        # then a retry of an order placed before the cutoff (answered with that order), then the cycle.
        if locked is None and _lock_household(household_id) is None:
            raise NotFound(_("Unknown household."))
        if idempotency_key:
            existing = _existing_order(placed_by, idempotency_key)
            if existing is not None:
                return _replay(existing, fingerprint)
        raise Conflict(_closed_message(now))
    district_id, cycle_id, _taking_orders = locked

    # Read after the lock: a concurrent order of this household (a retry with the same key
    # included) has committed by now and is seen here.
    name, extra, extra_params = "supply_order_read", _ALREADY_SQL, [household_id, cycle_id, OrderStatus.PLACED]
    if idempotency_key and placed_by is None:
        name, extra = "supply_order_read_key_nobody", extra + _SAME_KEY_SQL.format(by="IS NULL")
        extra_params += [idempotency_key]
    elif idempotency_key:
        name, extra = "supply_order_read_key", extra + _SAME_KEY_SQL.format(by="= %s")
        extra_params += [placed_by.pk if placed_by else None, idempotency_key]
    rows = _orderable_rows(
        name=name, district_id=district_id, product_ids=merged, extra=extra, extra_params=extra_params
    )
    if idempotency_key and (not rows or rows[0][-1] is not None):
        # The key was used before (or nothing is orderable, and the key may be a retry of an
        # order placed while it was): the first order, if the request is the same.
        existing = _existing_order(placed_by, idempotency_key)
        if existing is not None:
            return _replay(existing, fingerprint)
    products = {row[0]: _product_of(row) for row in rows}
    already = {row[0]: row[len(_ORDERABLE_COLUMNS)] for row in rows}

    unknown = [pid for pid in merged if pid not in products]
    if urgent and not unknown and any(products[pid].category != Category.MEDICINE for pid in merged):
        raise BaogongError(
            _("The urgent lane is for medicine only; order the other products in a normal order."),
            errors={"urgent": [_("Medicine only.")]},
        )
    if unknown:
        raise BaogongError(
            _("Some products cannot be ordered (unknown, not on sale, or not sold in your district)."),
            errors={"lines": [_("Product %(id)d cannot be ordered.") % {"id": pid} for pid in unknown]},
        )
    for pid in sorted(merged):
        limit = products[pid].household_limit
        if limit and already[pid] + merged[pid] > limit:
            left = max(limit - already[pid], 0)
            raise Conflict(
                _("“%(name)s” is limited to %(limit)d per household in each cycle; you can add %(left)d more.")
                % {"name": products[pid], "limit": limit, "left": left},
                errors={"lines": [_("Limit per household reached.")]},
            )

    # The order and its lines first, the stock rows last, just before COMMIT: the most contended
    # rows stay locked for the shortest time. Any refusal below rolls the whole transaction back.
    total = sum((products[pid].price * quantity for pid, quantity in merged.items()), Decimal("0.00"))
    order = Order(
        household_id=household_id,
        cycle_id=cycle_id,
        channel=channel,
        placed_by=placed_by,
        note=note,
        total=total,
        urgent=urgent,
        payment_method=method,
        payment_state=payment_state,
        idempotency_key=idempotency_key or None,
        request_hash=fingerprint,
    )
    order_lines = [
        OrderLine(
            product_id=pid,
            name=str(products[pid]),
            unit=products[pid].unit,
            quantity=quantity,
            unit_price=products[pid].price,
            line_total=products[pid].price * quantity,
        )
        for pid, quantity in sorted(merged.items())
    ]
    try:
        inserted = _insert_order(order, order_lines)
    except IntegrityError:
        # Another constraint. order_place's own atomic block rolls back to where it began.
        raise _key_used_elsewhere() from None
    if not inserted:
        # The same key was used at the same moment for another household's order (for the same
        # household the lock above serialised the requests and the look-up found it). Nothing written.
        assert idempotency_key  # only a key can collide: the insert without one always goes in
        existing = _existing_order(placed_by, idempotency_key)
        if existing is None:
            raise _key_used_elsewhere()
        return _replay(existing, fingerprint)

    short = _reserve(cycle_id, merged)
    if short is not None:
        available = (
            CycleStock.objects.filter(cycle_id=cycle_id, product_id=short).values_list("capacity", "reserved").first()
        )
        left = max(available[0] - available[1], 0) if available else 0
        message = (
            _("“%(name)s” is sold out for this cycle.") % {"name": products[short]}
            if left == 0
            else _("Only %(left)d of “%(name)s” are left for this cycle.") % {"left": left, "name": products[short]}
        )
        raise Conflict(message, errors={"lines": [message]})
    if urgent:
        # The deliveries app builds the urgent package (it depends on supply, not the reverse:
        # the task is looked up by name). A beat sweep catches it too if this message is lost.
        order_id = order.pk
        transaction.on_commit(lambda: enqueue("deliveries.tasks.urgent_package_task", order_id))
    return PlacedOrder(order=order, created=True, lines=tuple(order_lines))


@transaction.atomic
def order_cancel(*, order_id: int, by: User | None, now: datetime.datetime | None = None) -> Order:
    """Cancel an order before its cycle's cutoff and give its quantities back to capacity.

    Guarantees: capacity is released exactly once (the order row is locked and must still be
    placed); after the cutoff nothing changes and the message says so.
    """
    now = now or timezone.now()
    order = Order.objects.select_for_update().filter(pk=order_id).first()
    if order is None:
        raise NotFound(_("Unknown order."))
    if order.status != OrderStatus.PLACED:
        raise Conflict(_("This order has already been cancelled."))
    cycle = _open_cycle_share_locked(now)
    if cycle is None or cycle.pk != order.cycle_id:
        raise Conflict(
            _(
                "The ordering cutoff has passed: this order can no longer be cancelled. Call the supply hotline if there is a problem."
            )
        )
    for product_id, quantity in order.lines.order_by("product_id").values_list("product_id", "quantity"):
        CycleStock.objects.filter(cycle_id=order.cycle_id, product_id=product_id).update(
            reserved=F("reserved") - quantity
        )
    order.status = OrderStatus.CANCELLED
    order.cancelled_at, order.cancelled_by = now, by
    order.payment_state = PaymentState.TO_REFUND if order.payment_state == PaymentState.PAID else PaymentState.VOID
    if order.payment_method == PaymentMethod.FREE:
        order.payment_state = PaymentState.FREE
    order.save(update_fields=["status", "cancelled_at", "cancelled_by", "payment_state"])
    return order


def orders_confirmed_notify(
    *, within: datetime.timedelta = datetime.timedelta(hours=1), now: datetime.datetime | None = None
) -> int:
    """For the beat schedule: tell each household that its orders of the last hour are confirmed
    (what, how many items, the total), in the app and by SMS.

    Guarantees: at most once per order (households' notifications are unique per event, and the
    orders already told about are left out); baseline orders, which nobody placed, are not told;
    set-based: one query for the orders, batched inserts. Kept out of ``order_place`` so the
    morning rush does not pay for it. Returns how many orders were told about.
    """
    from django.db.models import CharField, Exists, OuterRef, Value
    from django.db.models.functions import Cast, Concat

    from households.models import Notification, NotificationKind
    from households.services import Tell, notifications_create

    now = now or timezone.now()
    told = Notification.objects.filter(
        kind=NotificationKind.ORDER_CONFIRMED,
        household_id=OuterRef("household_id"),
        key=Concat(Value("order:"), Cast(OuterRef("pk"), CharField())),
    )
    orders = (
        Order.objects.filter(created_at__gte=now - within, created_at__lte=now, status=OrderStatus.PLACED)
        .exclude(channel=Channel.BASELINE)
        .annotate(told=Exists(told), items=Sum("lines__quantity"))
        .filter(told=False)
        .values_list("pk", "household_id", "total", "items")
        .order_by("pk")[:5000]
    )
    tells = [
        Tell(
            household_id=household_id,
            key=f"order:{pk}",
            params={"order": pk, "items": items or 0, "total": f"{total:.2f}"},
        )
        for pk, household_id, total, items in orders
    ]
    with transaction.atomic():
        notifications_create(kind=NotificationKind.ORDER_CONFIRMED, tells=tells, now=now)
    return len(tells)
