"""Writes for suppliers, posted prices, cycles and orders.

Every service raises :class:`core.errors.BaogongError` (or a subclass carrying its HTTP
status) with a message a person can act on, and leaves the database unchanged when it does.
"""

import datetime
import hashlib
import json
import re
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation

from django.db import IntegrityError, connection, transaction
from django.db.models import F, Sum
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.translation import gettext as _

from core.errors import BaogongError, Conflict, NotFound
from core.queue import enqueue
from households.models import Household, User
from supply.models import (
    Category,
    Channel,
    Cycle,
    CycleStatus,
    CycleStock,
    Order,
    OrderLine,
    OrderStatus,
    PaymentMethod,
    PaymentState,
    PriceChange,
    PriceState,
    Product,
    StandingOrder,
    Supplier,
)

CYCLE_DAYS = 3
ORDERING_HOURS = 36
MAX_QUANTITY = 99
MAX_LINES = 60
MAX_NOTE = 200


# --- suppliers and posted prices ----------------------------------------------------------------


@transaction.atomic
def supplier_whitelist(*, supplier_id: int, whitelisted: bool, by: User) -> Supplier:
    """Put a supplier on (or take it off) the task force's whitelist; only whitelisted suppliers sell."""
    supplier = Supplier.objects.select_for_update().get(pk=supplier_id)
    supplier.is_whitelisted = whitelisted
    supplier.whitelisted_by = by if whitelisted else None
    supplier.whitelisted_at = timezone.now() if whitelisted else None
    supplier.save(update_fields=["is_whitelisted", "whitelisted_by", "whitelisted_at"])
    return supplier


def _money(value, field: str = "price") -> Decimal:
    try:
        amount = Decimal(str(value)).quantize(Decimal("0.01"))
    except (InvalidOperation, ValueError, TypeError):
        raise BaogongError(_("Enter a price like 12.50."), errors={field: [_("Enter a price like 12.50.")]}) from None
    if not Decimal("0.01") <= amount <= Decimal("99999.99"):
        raise BaogongError(_("A price must be between 0.01 and 99999.99."), errors={field: [_("Out of range.")]})
    return amount


def _price_state(price: Decimal, cap: Decimal | None) -> str:
    return PriceState.PENDING if cap is not None and price > cap else PriceState.APPROVED


@transaction.atomic
def product_create(
    *,
    supplier_id: int,
    by: User | None,
    name: str,
    category: str,
    unit: str,
    price,
    size: str = "",
    description: str = "",
    is_bundle: bool = False,
    capacity: int = 500,
    household_limit: int | None = None,
) -> Product:
    """Add a product to a supplier's catalog with its first posted price (recorded in the price history).

    The product gets capacity in the open cycle at once, so it can be ordered right away.
    """
    amount = _money(price)
    if Product.objects.filter(supplier_id=supplier_id, name=name.strip(), size=size.strip()).exists():
        raise BaogongError(
            _("You already have a product “%(name)s” of this size.") % {"name": name.strip()},
            errors={"name": [_("You already have a product with this name and size.")]},
        )
    product = Product.objects.create(
        supplier_id=supplier_id,
        name=name.strip(),
        category=category,
        unit=unit.strip(),
        size=size.strip(),
        description=description.strip(),
        is_bundle=is_bundle,
        price=amount,
        capacity=capacity,
        household_limit=household_limit,
    )
    PriceChange.objects.create(
        product=product, old_price=None, new_price=amount, state=PriceState.APPROVED, changed_by=by
    )
    cycle = Cycle.objects.filter(status=CycleStatus.OPEN).first()
    if cycle is not None:
        CycleStock.objects.get_or_create(cycle=cycle, product=product, defaults={"capacity": capacity})
    return product


@transaction.atomic
def product_price_set(*, product_id: int, price, by: User | None) -> Product:
    """Post a new price. Orders already placed keep the price of their lines.

    Guarantees: the change is kept with who and when; a price above the product's reference cap
    is not shown to residents (the product leaves the catalog) until the task force approves it.
    """
    amount = _money(price)
    product = Product.objects.select_for_update().get(pk=product_id)
    if amount == product.price and product.price_state == PriceState.APPROVED:
        return product
    state = _price_state(amount, product.reference_cap)
    PriceChange.objects.create(
        product=product,
        old_price=product.price,
        new_price=amount,
        reference_cap=product.reference_cap,
        state=state,
        changed_by=by,
    )
    product.price, product.price_state = amount, state
    product.save(update_fields=["price", "price_state"])
    return product


@transaction.atomic
def product_reference_cap_set(*, product_id: int, cap, by: User | None) -> Product:
    """Set (or clear, with ``None``) a product's reference cap; the current price is judged against it again."""
    amount = None if cap in (None, "") else _money(cap, field="reference_cap")
    product = Product.objects.select_for_update().get(pk=product_id)
    product.reference_cap = amount
    state = _price_state(product.price, amount)
    if state != product.price_state:
        PriceChange.objects.create(
            product=product,
            old_price=product.price,
            new_price=product.price,
            reference_cap=amount,
            state=state,
            changed_by=by,
        )
        product.price_state = state
    product.save(update_fields=["reference_cap", "price_state"])
    return product


@transaction.atomic
def price_change_decide(*, price_change_id: int, approve: bool, by: User) -> PriceChange:
    """The task force approves (the price is shown) or refuses (it stays hidden) a price above its cap.

    Only the product's latest pending change can be decided; a decided change stays as it is.
    """
    change = PriceChange.objects.select_for_update().select_related("product").get(pk=price_change_id)
    product = Product.objects.select_for_update().get(pk=change.product_id)
    latest = product.price_changes.order_by("-changed_at", "-id").first()
    if change.state != PriceState.PENDING or latest is None or latest.pk != change.pk:
        raise Conflict(_("This price change has already been decided or replaced by a newer one."))
    change.state = PriceState.APPROVED if approve else PriceState.REJECTED
    change.decided_by, change.decided_at = by, timezone.now()
    change.save(update_fields=["state", "decided_by", "decided_at"])
    product.price_state = change.state
    product.save(update_fields=["price_state"])
    return change


# --- cycles ----------------------------------------------------------------------------------------


def _cycle_window(opens_at: datetime.datetime) -> tuple[datetime.datetime, datetime.date]:
    cutoff_at = opens_at + datetime.timedelta(hours=ORDERING_HOURS)
    first_delivery = timezone.localtime(cutoff_at).date() + datetime.timedelta(days=1)
    return cutoff_at, first_delivery


# --- a cycle's status: every transition here (supply owns Cycle; deliveries calls these) ---------

# Which status each transition goes from (the only one that permits it) and to.
_CYCLE_STEPS = {
    "close": (CycleStatus.OPEN, CycleStatus.CLOSING),
    "pack": (CycleStatus.CLOSING, CycleStatus.PACKED),
    "complete": (CycleStatus.PACKED, CycleStatus.COMPLETE),
    "reopen": (CycleStatus.COMPLETE, CycleStatus.PACKED),
}


def cycle_step(*, cycle: Cycle, step: str, now: datetime.datetime | None = None) -> bool:
    """Move a cycle one step: close (open → closing, stamping ``closed_at``), pack (closing →
    packed), complete (packed → complete) or reopen (complete → packed, when a delivery was undone).

    Guarantees: only from the status that permits the step (otherwise nothing changes and False);
    the caller holds the cycle row locked (``select_for_update``) in its transaction, so two callers
    cannot both move it; ``cycle`` is updated in place. Returns whether the cycle moved.
    """
    source, target = _CYCLE_STEPS[step]
    if cycle.status != source:
        return False
    cycle.status = target
    fields = ["status"]
    if step == "close":
        cycle.closed_at = now or timezone.now()
        fields.append("closed_at")
    cycle.save(update_fields=fields)
    return True


@transaction.atomic
def cycle_open(*, opens_at: datetime.datetime | None = None) -> Cycle:
    """Open the next city-wide cycle and give every product on sale its capacity in it.

    Idempotent: if a cycle is already open, that cycle is returned and nothing changes. The
    stock rows are written in one ``INSERT … SELECT``-shaped bulk statement.
    """
    current = Cycle.objects.select_for_update().filter(status=CycleStatus.OPEN).first()
    if current is not None:
        return current
    opens_at = opens_at or timezone.now()
    last = Cycle.objects.order_by("-number").first()
    cutoff_at, first_delivery = _cycle_window(opens_at)
    try:
        with transaction.atomic():
            cycle = Cycle.objects.create(
                number=(last.number + 1) if last else 1,
                opens_at=opens_at,
                cutoff_at=cutoff_at,
                first_delivery_date=first_delivery,
            )
    except IntegrityError:  # another process opened it at the same moment
        return Cycle.objects.get(status=CycleStatus.OPEN)
    CycleStock.objects.bulk_create(
        [
            CycleStock(cycle=cycle, product_id=product_id, capacity=capacity)
            for product_id, capacity in Product.objects.filter(is_active=True).values_list("id", "capacity")
        ],
        batch_size=2000,
        ignore_conflicts=True,
    )
    cycle_baseline_orders(cycle_id=cycle.pk)
    return cycle


_HOUSEHOLD_DISTRICT = """
    JOIN households_building b ON b.id = h.building_id
    JOIN households_compound c ON c.id = b.compound_id
    JOIN households_community m ON m.id = c.community_id
    JOIN households_office f ON f.id = m.office_id
"""


@transaction.atomic
def cycle_baseline_orders(*, cycle_id: int) -> int:
    """Place this cycle's baseline and standing orders, once, in a few set-based statements.

    - every household whose effective level is "stay at home" and that has not declined it gets
      one free baseline order with its district's baseline items (:func:`baseline_orders_place`);
    - every active standing order of a household (regular medicine of a ledger household) becomes
      an order (pay on delivery) with that product.
    These supplies are guaranteed and come on top of what residents can order: each product's
    stock holds them in ``baseline`` (capacity and reserved grow by the same amount, so what
    residents can order does not change). Guarantees: runs once per cycle (a second call does
    nothing); unique constraints forbid a second baseline order per household or standing order.
    """
    cycle = Cycle.objects.select_for_update().get(pk=cycle_id)
    if cycle.baseline_at is not None:
        return 0
    now = timezone.now()
    baseline = len(baseline_orders_place(cycle_id=cycle.pk, now=now))
    with connection.cursor() as cursor:
        cursor.execute(
            """
            INSERT INTO supply_order (household_id, cycle_id, status, channel, note, total, payment_method,
                                      payment_state, request_hash, created_at, urgent, standing_order_id, placed_by_id)
            SELECT s.household_id, %s, %s, %s, s.note, p.price * s.quantity, %s, %s, '', %s, %s, s.id, s.created_by_id
            FROM supply_standingorder s JOIN supply_product p ON p.id = s.product_id
            WHERE s.is_active = %s AND p.is_active = %s AND p.price_state = %s
            ON CONFLICT DO NOTHING
            """,
            [
                cycle.pk,
                OrderStatus.PLACED,
                Channel.WORKER,
                PaymentMethod.ON_DELIVERY,
                PaymentState.TO_COLLECT,
                now,
                False,
                True,
                True,
                PriceState.APPROVED,
            ],
        )
        standing = cursor.rowcount
        cursor.execute(
            """
            INSERT INTO supply_orderline (order_id, product_id, name, unit, quantity, unit_price, line_total)
            SELECT o.id, s.product_id, TRIM(p.name || ' ' || p.size), p.unit, s.quantity, p.price, p.price * s.quantity
            FROM supply_order o
            JOIN supply_standingorder s ON s.id = o.standing_order_id
            JOIN supply_product p ON p.id = s.product_id
            WHERE o.cycle_id = %s AND NOT EXISTS (SELECT 1 FROM supply_orderline l WHERE l.order_id = o.id)
            """,
            [cycle.pk],
        )
    _stock_hold(
        cycle_id=cycle.pk, lines=OrderLine.objects.filter(order__cycle=cycle, order__standing_order__isnull=False)
    )
    cycle.baseline_at = now
    cycle.save(update_fields=["baseline_at"])
    return baseline + standing


def baseline_orders_place(
    *,
    cycle_id: int,
    compound_id: int | None = None,
    now: datetime.datetime | None = None,
) -> list[int]:
    """Give every stay-at-home household (of one compound, or of the city) that has none yet its
    free baseline order in a cycle; returns the new orders' ids.

    Guarantees: set-based (three statements and the stock rows); idempotent (a household with a
    baseline order in the cycle, or that declined it, gets nothing; the database forbids a second
    one); the stock of each product holds exactly what the new orders take, on top of what
    residents can buy. Call inside a transaction.
    """
    now = now or timezone.now()
    where_compound = "AND c.id = %s" if compound_id is not None else ""
    with connection.cursor() as cursor:
        cursor.execute(
            f"""
            SELECT h.id FROM households_household h {_HOUSEHOLD_DISTRICT}
            WHERE h.baseline_opt_out = %s AND (b.lockdown_level = 2 OR c.lockdown_level = 2) {where_compound}
              AND EXISTS (SELECT 1 FROM supply_baselineitem i WHERE i.district_id = f.district_id)
              AND NOT EXISTS (SELECT 1 FROM supply_order o WHERE o.household_id = h.id AND o.cycle_id = %s
                              AND o.channel = %s)
            """,
            [False, *([compound_id] if compound_id is not None else []), cycle_id, Channel.BASELINE],
        )
        households = [row[0] for row in cursor.fetchall()]
    if not households:
        return []
    Order.objects.bulk_create(
        [
            Order(
                household_id=h,
                cycle_id=cycle_id,
                status=OrderStatus.PLACED,
                channel=Channel.BASELINE,
                note="",
                total=0,
                payment_method=PaymentMethod.FREE,
                payment_state=PaymentState.FREE,
                request_hash="",
                created_at=now,
                urgent=False,
            )
            for h in households
        ],
        batch_size=2000,
        ignore_conflicts=True,
    )
    order_ids = list(
        Order.objects.filter(
            cycle_id=cycle_id, channel=Channel.BASELINE, household_id__in=households, lines__isnull=True
        ).values_list("pk", flat=True)
    )
    with connection.cursor() as cursor:
        for start in range(0, len(order_ids), 5000):
            chunk = order_ids[start : start + 5000]
            cursor.execute(
                f"""
                INSERT INTO supply_orderline (order_id, product_id, name, unit, quantity, unit_price, line_total)
                SELECT o.id, i.product_id, TRIM(p.name || ' ' || p.size), p.unit, i.quantity, 0, 0
                FROM supply_order o
                JOIN households_household h ON h.id = o.household_id {_HOUSEHOLD_DISTRICT}
                JOIN supply_baselineitem i ON i.district_id = f.district_id
                JOIN supply_product p ON p.id = i.product_id
                WHERE o.id IN ({", ".join(["%s"] * len(chunk))})
                """,
                chunk,
            )
    _stock_hold(cycle_id=cycle_id, lines=OrderLine.objects.filter(order_id__in=order_ids))
    return order_ids


def _stock_hold(*, cycle_id: int, lines) -> None:
    """Hold what guaranteed orders take: each product's capacity, reserved and baseline grow by
    its quantity in ``lines`` (what residents can buy does not change)."""
    needed = lines.values_list("product_id").annotate(total=Sum("quantity")).order_by("product_id")
    for product_id, quantity in needed:
        stock, _created = CycleStock.objects.select_for_update().get_or_create(
            cycle_id=cycle_id, product_id=product_id, defaults={"capacity": 0}
        )
        CycleStock.objects.filter(pk=stock.pk).update(
            capacity=F("capacity") + quantity,
            reserved=F("reserved") + quantity,
            baseline=F("baseline") + quantity,
        )


def next_opening(*, now: datetime.datetime | None = None) -> datetime.datetime:
    """When ordering opens next: the latest cycle's opening plus three days (or now if none)."""
    now = now or timezone.now()
    last = Cycle.objects.order_by("-number").only("opens_at").first()
    if last is None:
        return now
    # Never in the past: an overdue cycle opens as soon as the schedule runs.
    return max(last.opens_at + datetime.timedelta(days=CYCLE_DAYS), now)


def cycle_open_due(*, now: datetime.datetime | None = None) -> Cycle | None:
    """For the beat schedule: open the next cycle once its time has come and no cycle is open."""
    now = now or timezone.now()
    if Cycle.objects.filter(status=CycleStatus.OPEN).exists():
        return None
    if Cycle.objects.exists() and next_opening(now=now) > now:
        return None
    return cycle_open(opens_at=now)


def _closed_message(now: datetime.datetime) -> str:
    opening = timezone.localtime(next_opening(now=now))
    return _("Ordering for this cycle has closed. The next cycle opens on %(when)s.") % {
        "when": date_format(opening, "DATETIME_FORMAT")
    }


def _open_cycle_share_locked(now: datetime.datetime) -> Cycle | None:
    """The cycle taking orders now, or None. On PostgreSQL the row is share-locked: closing the
    cycle (an UPDATE of that row) waits for the orders and cancellations in flight to commit."""
    if connection.vendor == "postgresql":
        cycle = next(
            iter(Cycle.objects.raw("SELECT * FROM supply_cycle WHERE status = %s FOR SHARE", [CycleStatus.OPEN])), None
        )
    else:
        cycle = Cycle.objects.filter(status=CycleStatus.OPEN).first()
    if cycle is None or now >= cycle.cutoff_at or now < cycle.opens_at:
        return None
    return cycle


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
    body = {"household": household_id, "lines": sorted(lines.items()), "note": note, "payment": payment_method}
    if urgent:
        body["urgent"] = True
    body = json.dumps(body, sort_keys=True)
    return hashlib.sha256(body.encode()).hexdigest()


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
    state = getattr(connection, "_supply_prepared", None)
    if state is None or state[0] is not raw:  # a new connection: nothing prepared on it yet
        state = (raw, set())
        connection._supply_prepared = state
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
        extra_params += [placed_by.pk, idempotency_key]
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


# --- catalog upkeep by supplier staff --------------------------------------------------------------

PHOTO_MAX_BYTES = 2 * 1024 * 1024
MAX_CAPACITY = 1_000_000


class _Unchanged:
    def __repr__(self) -> str:
        return "UNCHANGED"


UNCHANGED = _Unchanged()  # an argument left out of product_update keeps the product's value


def _text(value, *, field: str, label: str, max_length: int, required: bool) -> str:
    value = str(value or "").strip()
    if required and not value:
        message = _("Enter the %(field)s.") % {"field": label}
        raise BaogongError(message, errors={field: [message]})
    if len(value) > max_length:
        message = _("The %(field)s is too long (at most %(n)d characters).") % {"field": label, "n": max_length}
        raise BaogongError(message, errors={field: [message]})
    return value


def _whole_number(value, *, field: str, low: int, high: int) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
        message = _("Enter a whole number from %(low)d to %(high)d.") % {"low": low, "high": high}
        raise BaogongError(message, errors={field: [message]})
    return value


# Complexity 25: one field-by-field check of a partial update (each field optional); to be split
# with the supply services package (issue 15).
@transaction.atomic
def product_update(  # noqa: C901
    *,
    product_id: int,
    by: User | None,
    name=UNCHANGED,
    category=UNCHANGED,
    unit=UNCHANGED,
    size=UNCHANGED,
    description=UNCHANGED,
    is_bundle=UNCHANGED,
    capacity=UNCHANGED,
    household_limit=UNCHANGED,
    is_active=UNCHANGED,
    photo=UNCHANGED,
) -> Product:
    """Change a product's details (never its price: that is :func:`product_price_set`, which keeps the history).

    Arguments left out keep their value; ``household_limit=None`` removes the limit and
    ``photo=None`` removes the photo. Guarantees:
    - a capacity change also changes the product's capacity in the open cycle, atomically and
      never below what placed orders have reserved there (refused with the reserved amount);
    - a product put back on sale during an open cycle gets its capacity in that cycle;
    - a photo is at most 2 MB; a name and size already used by the supplier is refused;
    - on any refusal nothing changes. Orders already placed keep their lines as they were.
    """
    product = Product.objects.select_for_update().filter(pk=product_id).first()
    if product is None:
        raise NotFound(_("Unknown product."))
    changed: list[str] = []

    def put(field_name: str, value) -> None:
        if getattr(product, field_name) != value:
            setattr(product, field_name, value)
            changed.append(field_name)

    if name is not UNCHANGED:
        put("name", _text(name, field="name", label=_("name"), max_length=100, required=True))
    if unit is not UNCHANGED:
        put("unit", _text(unit, field="unit", label=_("unit"), max_length=10, required=True))
    if size is not UNCHANGED:
        put("size", _text(size, field="size", label=_("size"), max_length=30, required=False))
    if description is not UNCHANGED:
        put(
            "description",
            _text(description, field="description", label=_("description"), max_length=300, required=False),
        )
    if category is not UNCHANGED:
        if category not in Category.values:
            raise BaogongError(_("Choose a category."), errors={"category": [_("Choose a category.")]})
        put("category", category)
    if is_bundle is not UNCHANGED:
        put("is_bundle", bool(is_bundle))
    if is_active is not UNCHANGED:
        put("is_active", bool(is_active))
    if household_limit is not UNCHANGED:
        put(
            "household_limit",
            None
            if household_limit is None
            else _whole_number(household_limit, field="household_limit", low=1, high=MAX_QUANTITY),
        )
    if capacity is not UNCHANGED:
        put("capacity", _whole_number(capacity, field="capacity", low=0, high=MAX_CAPACITY))

    if ("name" in changed or "size" in changed) and Product.objects.filter(
        supplier_id=product.supplier_id, name=product.name, size=product.size
    ).exclude(pk=product.pk).exists():
        message = _("You already have a product “%(name)s” of this size.") % {"name": product}
        raise BaogongError(message, errors={"name": [message]})

    cycle = Cycle.objects.filter(status=CycleStatus.OPEN).first()
    if cycle is not None:
        stock = CycleStock.objects.select_for_update().filter(cycle=cycle, product=product).first()
        if stock is None and product.is_active:
            CycleStock.objects.create(cycle=cycle, product=product, capacity=product.capacity)
        elif stock is not None and "capacity" in changed:
            # The capacity is what residents can buy; the stock holds the baseline on top of it.
            # Conditional UPDATE, like order_place's reservation: it cannot undercut an order in flight.
            total = product.capacity + stock.baseline
            if not CycleStock.objects.filter(pk=stock.pk, reserved__lte=total).update(capacity=total):
                message = _(
                    "Residents' orders in this cycle already hold %(ordered)d of this product: the capacity cannot "
                    "be lower than that."
                ) % {"ordered": stock.reserved - stock.baseline}
                raise BaogongError(message, errors={"capacity": [message]})

    if photo is not UNCHANGED:
        if photo is None:
            if product.photo:
                product.photo = ""
                changed.append("photo")
        else:
            if photo.size > PHOTO_MAX_BYTES:
                message = _("The photo is too large (at most 2 MB).")
                raise BaogongError(message, errors={"photo": [message]})
            product.photo = photo
            changed.append("photo")

    if changed:
        try:
            with transaction.atomic():
                product.save(update_fields=changed)
        except IntegrityError:  # the same name and size saved at the same moment by a colleague
            message = _("You already have a product “%(name)s” of this size.") % {"name": product}
            raise BaogongError(message, errors={"name": [message]}) from None
    return product


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
    from django.db.models import CharField, Exists, OuterRef, Sum, Value
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


# --- standing orders (regular needs of ledger households, ordered at every cycle opening) -------


@transaction.atomic
def standing_order_save(*, household_id: int, product_id: int, quantity, note: str = "", by: User) -> StandingOrder:
    """Add (or change the quantity of) a regular need of a ledger household, ordered at every cycle opening.

    Guarantees: only a product the household can order (on sale, price shown, sold in its district);
    one standing order per household and product; quantity 1 to 99.
    """
    try:
        quantity = int(quantity)
    except (TypeError, ValueError):
        quantity = 0
    if not 1 <= quantity <= MAX_QUANTITY:
        message = _("Enter a quantity from 1 to %(n)d.") % {"n": MAX_QUANTITY}
        raise BaogongError(message, errors={"quantity": [message]})
    if note is not None and not isinstance(note, str):
        raise BaogongError(_("The note must be text."), errors={"note": [_("Must be text.")]})
    note = (note or "").strip()
    if len(note) > 200:
        message = _("The note is too long (at most %(n)d characters).") % {"n": 200}
        raise BaogongError(message, errors={"note": [message]})
    household = (
        Household.objects.select_related("building__compound__community__office").filter(pk=household_id).first()
    )
    if household is None:
        raise NotFound(_("Unknown household."))
    if product_id not in orderable_products(household=household, product_ids=[product_id]):
        message = _("This product cannot be ordered for this household (not on sale, or not sold in its district).")
        raise BaogongError(message, errors={"product": [message]})
    standing, _created = StandingOrder.objects.update_or_create(
        household_id=household_id,
        product_id=product_id,
        defaults={"quantity": quantity, "note": note, "is_active": True, "created_by": by},
    )
    return standing


@transaction.atomic
def standing_order_stop(*, standing_order_id: int, by: User) -> StandingOrder:
    """Stop a standing order from the next cycle on (orders already placed stay)."""
    standing = StandingOrder.objects.select_for_update().filter(pk=standing_order_id).first()
    if standing is None:
        raise NotFound(_("Unknown standing order."))
    standing.is_active = False
    standing.save(update_fields=["is_active"])
    return standing
