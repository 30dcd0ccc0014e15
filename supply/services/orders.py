"""Orders: placing one (the hot path: one short transaction of prepared statements), cancelling,
and telling residents their order is confirmed."""

import datetime
import hashlib
import json
from dataclasses import dataclass
from decimal import Decimal

from django.db import IntegrityError, transaction
from django.db.models import F
from django.utils import timezone
from django.utils.translation import gettext as _

from core.errors import BaogongError, Conflict, NotFound
from core.queue import enqueue
from households.models import User
from supply.models import (
    HOLDING_STOCK,
    Category,
    Channel,
    CycleStock,
    Order,
    OrderLine,
    OrderStatus,
    PaymentMethod,
    PaymentState,
    Product,
    WhenOut,
)
from supply.services.cycles import _closed_message
from supply.services.limits import MAX_LINES, MAX_NOTE, MAX_QUANTITY
from supply.services.order_sql import (
    ALREADY_SQL,
    ORDERABLE_COLUMNS,
    SAME_KEY_SQL,
    household_lock,
    order_by_key,
    order_insert,
    order_lock,
    orderable_rows,
    product_of_row,
    stock_reserve,
)

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
    *,
    household_id: int,
    lines: dict[int, int],
    note: str,
    payment_method: str,
    urgent: bool = False,
    when_out: str = WhenOut.DROP,
) -> str:
    body: dict[str, object] = {
        "household": household_id,
        "lines": sorted(lines.items()),
        "note": note,
        "payment": payment_method,
    }
    if urgent:
        body["urgent"] = True
    if when_out != WhenOut.DROP:
        body["when_out"] = when_out
    return hashlib.sha256(json.dumps(body, sort_keys=True).encode()).hexdigest()


def _payment(channel: str, method: str | None) -> tuple[str, str]:
    if channel == Channel.BASELINE:
        return PaymentMethod.FREE, PaymentState.FREE
    method = method or PaymentMethod.ON_DELIVERY
    if method == PaymentMethod.ONLINE and channel in (Channel.HOTLINE, Channel.WORKER):
        # the household called because it cannot order online: it could not pay there either,
        # and an unpaid order expires unpacked
        message = _("An order taken on a household's behalf is paid at the door, not online.")
        raise BaogongError(message, errors={"payment_method": [message]})
    if method == PaymentMethod.ONLINE:
        # never "paid" before the provider says so (supply/payments)
        return method, PaymentState.AWAITING
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


@dataclass(frozen=True)
class _OrderRequest:
    """What was asked for, checked before anything is locked or read."""

    household_id: int
    quantities: dict[int, int]  # {product id: quantity}, duplicates added up
    placed_by: User | None
    channel: str
    payment_method: str
    payment_state: str
    note: str
    idempotency_key: str | None
    urgent: bool
    when_out: str
    fingerprint: str


def _order_request(
    *, household_id, lines, placed_by, channel, payment_method, note, idempotency_key, urgent, when_out=None
) -> _OrderRequest:
    """Step 1: the request on its own (lines, note, channel, payment, key); refuses before any query."""
    quantities = _clean_lines(lines)
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
    when_out = when_out or WhenOut.DROP
    if when_out not in WhenOut.values:
        message = _("Choose what to do if an item is out: substitute it or leave it out.")
        raise BaogongError(message, errors={"when_out": [message]})
    if idempotency_key is not None:
        idempotency_key = idempotency_key.strip()
        if not 1 <= len(idempotency_key) <= 100:
            raise BaogongError(
                _("The Idempotency-Key must have 1 to 100 characters."), errors={"idempotency_key": [_("Invalid key.")]}
            )
    fingerprint = request_fingerprint(
        household_id=household_id, lines=quantities, note=note, payment_method=method, urgent=urgent, when_out=when_out
    )
    return _OrderRequest(
        household_id=household_id,
        quantities=quantities,
        placed_by=placed_by,
        channel=channel,
        payment_method=method,
        payment_state=payment_state,
        note=note,
        idempotency_key=idempotency_key or None,
        urgent=urgent,
        when_out=when_out,
        fingerprint=fingerprint,
    )


def _replay_of(request: _OrderRequest) -> PlacedOrder | None:
    """The order placed with this request's key, if any (the newest: a key is unique within a cycle);
    refused if it was a different request."""
    if not request.idempotency_key:
        return None
    existing = order_by_key(request.placed_by, request.idempotency_key)
    return None if existing is None else _replay(existing, request.fingerprint)


def _lock_open_cycle(request: _OrderRequest, now: datetime.datetime) -> tuple[int, int] | PlacedOrder:
    """Step 2: lock the household and share-lock the open cycle: (district id, cycle id).

    When no order can be placed, tells why in the order the checks always had: the household, then a
    retry of an order placed before the cutoff (answered with that order), then the cycle."""
    locked = order_lock(request.household_id, now)
    if locked is not None and locked[2]:
        return locked[0], locked[1]
    if locked is None and household_lock(request.household_id) is None:
        raise NotFound(_("Unknown household."))
    replay = _replay_of(request)
    if replay is not None:
        return replay
    raise Conflict(_closed_message(now))


def _read_orderable(
    request: _OrderRequest, *, district_id: int, cycle_id: int
) -> tuple[dict[int, Product], dict[int, int]] | PlacedOrder:
    """Step 3: the products as sold now in the district, how many of each the household already
    ordered this cycle, and whether the key was used before, in one statement.

    Read after the lock: a concurrent order of this household (a retry with the same key
    included) has committed by now and is seen here."""
    key, placed_by = request.idempotency_key, request.placed_by
    name, extra = "supply_order_read", ALREADY_SQL
    extra_params: list = [request.household_id, cycle_id, *HOLDING_STOCK]
    if key and placed_by is None:
        name, extra = "supply_order_read_key_nobody", extra + SAME_KEY_SQL.format(by="IS NULL")
        extra_params += [key]
    elif key:
        name, extra = "supply_order_read_key", extra + SAME_KEY_SQL.format(by="= %s")
        extra_params += [placed_by.pk if placed_by else None, key]
    rows = orderable_rows(
        name=name, district_id=district_id, product_ids=request.quantities, extra=extra, extra_params=extra_params
    )
    if key and (not rows or rows[0][-1] is not None):
        # The key was used before (or nothing is orderable, and the key may be a retry of an
        # order placed while it was): the first order, if the request is the same.
        replay = _replay_of(request)
        if replay is not None:
            return replay
    products = {row[0]: product_of_row(row) for row in rows}
    already = {row[0]: row[len(ORDERABLE_COLUMNS)] for row in rows}
    return products, already


def _check_products(request: _OrderRequest, products: dict[int, Product], already: dict[int, int]) -> None:
    """Step 4: every product orderable, medicine only in the urgent lane, the per-household limits."""
    quantities = request.quantities
    unknown = [pid for pid in quantities if pid not in products]
    if request.urgent and not unknown and any(products[pid].category != Category.MEDICINE for pid in quantities):
        raise BaogongError(
            _("The urgent lane is for medicine only; order the other products in a normal order."),
            errors={"urgent": [_("Medicine only.")]},
        )
    if unknown:
        raise BaogongError(
            _("Some products cannot be ordered (unknown, not on sale, or not sold in your district)."),
            errors={"lines": [_("Product %(id)d cannot be ordered.") % {"id": pid} for pid in unknown]},
        )
    for pid in sorted(quantities):
        limit = products[pid].household_limit
        if limit and already[pid] + quantities[pid] > limit:
            left = max(limit - already[pid], 0)
            raise Conflict(
                _("“%(name)s” is limited to %(limit)d per household in each cycle; you can add %(left)d more.")
                % {"name": products[pid], "limit": limit, "left": left},
                errors={"lines": [_("Limit per household reached.")]},
            )


def _new_order(request: _OrderRequest, products: dict[int, Product], cycle_id: int) -> tuple[Order, list[OrderLine]]:
    """Step 5: the order and its lines at the prices read in step 3 (not yet written)."""
    quantities = request.quantities
    total = sum((products[pid].price * quantity for pid, quantity in quantities.items()), Decimal("0.00"))
    order = Order(
        household_id=request.household_id,
        cycle_id=cycle_id,
        channel=request.channel,
        placed_by=request.placed_by,
        note=request.note,
        total=total,
        urgent=request.urgent,
        when_out=request.when_out,
        payment_method=request.payment_method,
        payment_state=request.payment_state if total else PaymentState.VOID,
        status=OrderStatus.AWAITING_PAYMENT
        if request.payment_state == PaymentState.AWAITING and total
        else OrderStatus.PLACED,
        idempotency_key=request.idempotency_key,
        request_hash=request.fingerprint,
    )
    lines = [
        OrderLine(
            cycle_id=cycle_id,
            product_id=pid,
            name=str(products[pid]),
            unit=products[pid].unit,
            quantity=quantity,
            unit_price=products[pid].price,
            line_total=products[pid].price * quantity,
        )
        for pid, quantity in sorted(quantities.items())
    ]
    return order, lines


def _write_order(request: _OrderRequest, order: Order, lines: list[OrderLine]) -> PlacedOrder | None:
    """Step 6: insert the order and its lines; a replay if the key won a race elsewhere, else None."""
    try:
        inserted = order_insert(order, lines)
    except IntegrityError:
        # Another constraint. order_place's own atomic block rolls back to where it began.
        raise _key_used_elsewhere() from None
    if inserted:
        return None
    # The same key was used at the same moment for another household's order (for the same
    # household the lock serialised the requests and the look-up found it). Nothing written.
    replay = _replay_of(request)
    if replay is None:
        raise _key_used_elsewhere()
    return replay


def _reserve_or_refuse(cycle_id: int, quantities: dict[int, int], products: dict[int, Product]) -> None:
    """Step 7: reserve capacity for every line, or refuse with what is left of the first one short."""
    short = stock_reserve(cycle_id, quantities)
    if short is not None:
        _sold_out(cycle_id, short, products)


def _sold_out(cycle_id: int, short: int, products: dict[int, Product]):
    """Refuse for the first product short of capacity, saying what is left of it."""
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


def _locked_and_checked(request: _OrderRequest, now: datetime.datetime) -> tuple[int, dict[int, Product]] | PlacedOrder:
    """Steps 2 to 4: lock the household and the open cycle, read what is orderable, check the
    request against it; (cycle id, products), or the order a retry of the same key placed."""
    locked = _lock_open_cycle(request, now)
    if isinstance(locked, PlacedOrder):
        return locked
    district_id, cycle_id = locked
    read = _read_orderable(request, district_id=district_id, cycle_id=cycle_id)
    if isinstance(read, PlacedOrder):
        return read
    products, already = read
    _check_products(request, products, already)
    return cycle_id, products


@transaction.atomic
def order_check(
    *,
    household_id: int,
    lines,
    placed_by: User | None,
    channel: str,
    payment_method: str | None = None,
    note: str = "",
    urgent: bool = False,
    when_out: str | None = None,
    now: datetime.datetime | None = None,
) -> None:
    """Refuse now what ``order_place`` would refuse, writing nothing: the read-back of a phone
    order checks the cutoff, the products, the household's limits and the capacity left before the
    caller is asked to agree. Capacity can still run out between this and the order (the order
    itself decides, under its locks)."""
    now = now or timezone.now()
    request = _order_request(
        household_id=household_id,
        lines=lines,
        placed_by=placed_by,
        channel=channel,
        payment_method=payment_method,
        note=note,
        idempotency_key=None,
        urgent=urgent,
        when_out=when_out,
    )
    checked = _locked_and_checked(request, now)
    if isinstance(checked, PlacedOrder):
        return
    cycle_id, products = checked
    left = dict(
        CycleStock.objects.filter(cycle_id=cycle_id, product_id__in=request.quantities).values_list(
            "product_id", F("capacity") - F("reserved")
        )
    )
    for product_id in sorted(request.quantities):
        if request.quantities[product_id] > left.get(product_id, 0):
            _sold_out(cycle_id, product_id, products)


@transaction.atomic
def order_place(
    *,
    household_id: int,
    lines,
    placed_by: User | None,
    channel: str,
    payment_method: str | None = None,
    note: str = "",
    idempotency_key: str | None = None,
    urgent: bool = False,
    when_out: str | None = None,
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
    request = _order_request(
        household_id=household_id,
        lines=lines,
        placed_by=placed_by,
        channel=channel,
        payment_method=payment_method,
        note=note,
        idempotency_key=idempotency_key,
        urgent=urgent,
        when_out=when_out,
    )
    checked = _locked_and_checked(request, now)
    if isinstance(checked, PlacedOrder):
        return checked
    cycle_id, products = checked
    # The order and its lines first, the stock rows last, just before COMMIT: the most contended
    # rows stay locked for the shortest time. Any refusal rolls the whole transaction back.
    order, order_lines = _new_order(request, products, cycle_id)
    replay = _write_order(request, order, order_lines)
    if replay is not None:
        return replay
    _reserve_or_refuse(cycle_id, request.quantities, products)
    if request.urgent:
        # The deliveries app builds the urgent package (it depends on supply, not the reverse:
        # the task is looked up by name). A beat sweep catches it too if this message is lost.
        order_id = order.pk
        transaction.on_commit(lambda: enqueue("deliveries.tasks.urgent_package_task", order_id))
    return PlacedOrder(order=order, created=True, lines=tuple(order_lines))
