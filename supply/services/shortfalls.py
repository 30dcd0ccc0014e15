"""A supplier short of a product after residents ordered it: their orders are cut, the newest
first, and each household gets what it asked for when an item is out (a similar product, or the
item left out and its money back)."""

import datetime
from collections import defaultdict
from dataclasses import dataclass
from decimal import Decimal

from django.db import transaction
from django.db.models import F, Sum
from django.utils import timezone
from django.utils.translation import gettext as _

from core.errors import BaogongError, Conflict, NotFound
from households.models import User
from households.services import Tell, notifications_create
from supply.models import (
    HOLDING_STOCK,
    Channel,
    Cycle,
    CycleStatus,
    CycleStock,
    Order,
    OrderLine,
    OrderStatus,
    Payment,
    PaymentState,
    PaymentStatus,
    Product,
    RefundReason,
    Shortfall,
    WhenOut,
)
from supply.services.catalog import MAX_CAPACITY, _whole_number
from supply.services.payments import _refund_create, payments_close

ZERO = Decimal("0.00")


@dataclass(frozen=True)
class ShortfallOutcome:
    """What recording a shortfall did, for the supplier's message."""

    product: str
    units: int  # units taken out of residents' orders
    orders: int  # orders cut
    substituted: int  # of those units, sent as a similar product
    given_back: Decimal  # money no longer due or refunded
    cancelled: int  # orders left with nothing, so cancelled
    left: int = 0  # what residents can still order of it in this cycle


@dataclass
class _Cut:
    line: OrderLine
    quantity: int
    substitute: Product | None = None
    substitute_price: Decimal = ZERO


def _open_cycle_locked() -> Cycle:
    """The open cycle, locked: no order is placed, changed or cancelled until the shortfall commits
    (they share-lock this row), and the close waits for it."""
    cycle = Cycle.objects.select_for_update().filter(status=CycleStatus.OPEN).first()
    if cycle is None:
        raise Conflict(
            _(
                "No cycle is taking orders: once packages are built, record what is missing at the handover "
                "and refund the line from the order."
            )
        )
    return cycle


def _cuts(product: Product, cycle: Cycle, units: int) -> list[_Cut]:
    """The lines to cut, ``units`` in all: residents' orders, the newest first (an early order
    keeps its goods); never the free baseline package. Their orders are locked (in id order)."""
    lines = (
        OrderLine.objects.filter(product=product, order__cycle=cycle, order__status__in=HOLDING_STOCK)
        .exclude(order__channel=Channel.BASELINE)
        .order_by("-order__created_at", "-order_id")
    )
    cuts: list[_Cut] = []
    left = units
    for line in lines.iterator(chunk_size=500):
        if left == 0:
            break
        take = min(line.quantity, left)
        cuts.append(_Cut(line=line, quantity=take))
        left -= take
    if left:
        message = _("The free baseline packages alone hold more than that: at least %(n)d must be supplied.") % {
            "n": units - left
        }
        raise BaogongError(message, errors={"available": [message]})
    list(Order.objects.select_for_update().filter(pk__in=[c.line.order_id for c in cuts]).order_by("pk"))
    return cuts


def _choose_substitutes(
    product: Product, cycle: Cycle, cuts: list[_Cut], orders: dict[int, Order]
) -> tuple[dict[int, int], dict[tuple[int, int], OrderLine]]:
    """For each cut of an order asking for a substitute: the same supplier's product of the same
    category, on sale, with capacity left in the cycle, costing no more per unit (the dearest such,
    so the closest), within the household's limit. Locks the candidates' stock rows (product
    order); returns {product id: units taken} for their reservation, and the cut orders' own
    lines of the candidates."""
    wanting = [c for c in cuts if orders[c.line.order_id].when_out == WhenOut.SUBSTITUTE]
    if not wanting:
        return {}, {}
    candidates = {
        p.pk: p
        for p in Product.objects.filter(supplier_id=product.supplier_id, category=product.category, is_active=True)
        .exclude(pk=product.pk)
        .order_by("-price", "pk")
    }
    left = {
        stock.product_id: stock.capacity - stock.reserved
        for stock in CycleStock.objects.select_for_update()
        .filter(cycle=cycle, product_id__in=candidates)
        .order_by("product_id")
    }
    households = {orders[c.line.order_id].household_id for c in wanting}
    held: dict[tuple[int, int], int] = defaultdict(int)
    for household_id, product_id, units in (
        OrderLine.objects.filter(
            order__cycle=cycle,
            order__status__in=HOLDING_STOCK,
            order__household_id__in=households,
            product_id__in=candidates,
        )
        .values_list("order__household_id", "product_id")
        .annotate(units=Sum("quantity"))
    ):
        held[household_id, product_id] = units
    own = {
        (line.order_id, line.product_id): line
        for line in OrderLine.objects.filter(order_id__in={c.line.order_id for c in wanting}, product_id__in=candidates)
    }
    taken: dict[int, int] = defaultdict(int)
    for cut in wanting:
        household_id = orders[cut.line.order_id].household_id
        for candidate in candidates.values():  # dearest first
            already = own.get((cut.line.order_id, candidate.pk))
            price = already.unit_price if already else candidate.price
            limit = candidate.household_limit
            if (
                price <= cut.line.unit_price
                and left.get(candidate.pk, 0) >= cut.quantity
                and (not limit or held[household_id, candidate.pk] + cut.quantity <= limit)
            ):
                cut.substitute, cut.substitute_price = candidate, price
                left[candidate.pk] -= cut.quantity
                held[household_id, candidate.pk] += cut.quantity
                taken[candidate.pk] += cut.quantity
                break
    return taken, own


def _apply_to_lines(cuts: list[_Cut], own: dict[tuple[int, int], OrderLine]) -> None:
    """Take the cut units off their lines (a line at 0 goes) and add the substitutes (to the
    order's own line of that product when it has one, ``own``, at that line's price). Set-based:
    one DELETE, one UPDATE of the shortened lines, one of the grown ones, one INSERT."""
    gone, shortened, grown, new = [], [], [], []
    for cut in cuts:
        line = cut.line
        if cut.quantity == line.quantity:
            gone.append(line.pk)
        else:
            line.quantity -= cut.quantity
            line.line_total = line.unit_price * line.quantity
            shortened.append(line)
        if cut.substitute is None:
            continue
        kept = own.get((line.order_id, cut.substitute.pk))
        if kept is not None:
            kept.quantity += cut.quantity
            kept.line_total = kept.unit_price * kept.quantity
            grown.append(kept)
        else:
            new.append(
                OrderLine(
                    order_id=line.order_id,
                    cycle_id=line.cycle_id,
                    product=cut.substitute,
                    name=str(cut.substitute),
                    unit=cut.substitute.unit,
                    quantity=cut.quantity,
                    unit_price=cut.substitute_price,
                    line_total=cut.substitute_price * cut.quantity,
                )
            )
    OrderLine.objects.filter(pk__in=gone).delete()
    OrderLine.objects.bulk_update(shortened + grown, ["quantity", "line_total"], batch_size=1000)
    OrderLine.objects.bulk_create(new, batch_size=1000)


def _settle(
    cuts: list[_Cut], orders: dict[int, Order], *, by: User | None, now: datetime.datetime
) -> tuple[list[Shortfall], int]:
    """Each cut order's total from its lines, what it no longer pays refunded (one refund per order)
    or taken off, an order left with nothing cancelled; the Shortfall rows. Returns (rows, cancelled)."""
    totals = dict(
        OrderLine.objects.filter(order_id__in=orders).values_list("order_id").annotate(total=Sum("line_total"))
    )
    payments = {
        payment.order_id: payment
        for payment in Payment.objects.select_for_update().filter(order_id__in=orders, status=PaymentStatus.PAID)
    }
    rows: list[Shortfall] = []
    by_order: dict[int, list[Shortfall]] = defaultdict(list)
    for cut in cuts:
        line = cut.line
        row = Shortfall(
            order_id=line.order_id,
            product_id=line.product_id,
            name=line.name,
            unit=line.unit,
            quantity=cut.quantity,
            amount=line.unit_price * cut.quantity,
            substitute=cut.substitute,
            substitute_name=str(cut.substitute) if cut.substitute else "",
            substitute_amount=cut.substitute_price * cut.quantity,
            recorded_by=by,
            recorded_at=now,
        )
        rows.append(row)
        by_order[line.order_id].append(row)
    cancelled, to_close = 0, []
    for order_id, order in orders.items():
        given_back = sum((row.given_back for row in by_order[order_id]), ZERO)
        order.total = totals.get(order_id, ZERO)
        if order_id not in totals:
            order.status, order.cancelled_at, order.cancelled_by = OrderStatus.CANCELLED, now, by
            cancelled += 1
        if order.payment_state == PaymentState.PAID and given_back > 0:
            refund = _refund_create(payment=payments[order_id], amount=given_back, reason=RefundReason.NOT_SUPPLIED)
            for row in by_order[order_id]:
                row.refund = refund
            if order.status == OrderStatus.CANCELLED:
                order.payment_state = PaymentState.TO_REFUND
        elif order.status == OrderStatus.CANCELLED or order.payment_state == PaymentState.AWAITING:
            # an open payment was for the old amount: closed, the new amount is paid instead
            to_close.append(order_id)
            if order.status == OrderStatus.CANCELLED:
                order.payment_state = PaymentState.VOID
    payments_close(order_ids=to_close)
    Order.objects.bulk_update(
        list(orders.values()), ["total", "status", "cancelled_at", "cancelled_by", "payment_state"], batch_size=1000
    )
    Shortfall.objects.bulk_create(rows)
    return rows, cancelled


def _tell(rows: list[Shortfall], orders: dict[int, Order], now: datetime.datetime) -> None:
    """One message per cut order: what is not coming, what comes instead, the money back."""
    tells = []
    by_order: dict[int, list[Shortfall]] = defaultdict(list)
    for row in rows:
        by_order[row.order_id].append(row)
    for order_id, cut in by_order.items():
        row = cut[0]
        tells.append(
            Tell(
                household_id=orders[order_id].household_id,
                key=f"shortfall:{row.pk}",
                params={
                    "order": order_id,
                    "product": row.name,
                    "quantity": sum(r.quantity for r in cut),
                    "unit": row.unit,
                    "substitute": row.substitute_name,
                    "given_back": f"{sum((r.given_back for r in cut), ZERO):.2f}",
                    "refunded": any(r.refund_id for r in cut),  # paid online; otherwise less to pay at the door
                },
            )
        )
    notifications_create(kind="shortfall", tells=tells, now=now)


@transaction.atomic
def stock_shortfall_record(
    *, product_id: int, available, by: User | None, now: datetime.datetime | None = None
) -> ShortfallOutcome:
    """The supplier can supply only ``available`` of a product in the open cycle, fewer than
    residents ordered.

    Guarantees:
    - only before packing: the open cycle is locked, so no order is placed, changed or cancelled
      meanwhile and the close waits; afterwards the message says to record it at the handover;
    - the cycle's capacity of the product becomes ``available`` (nothing more can be ordered);
    - cuts come from residents' orders, the newest first, never from the free baseline packages
      (refused if those alone hold more);
    - a household that asked for a substitute gets, for its cut units, the same supplier's
      product of the same category on sale with capacity left, costing no more per unit, within
      its limit (the dearest such); otherwise the units are left out;
    - money adds up: each order's total is its lines; what it no longer pays is refunded (one
      refund per order, never more than was paid) or simply not collected, and kept on a
      Shortfall row per cut; an open payment for the old amount is closed; an order left with
      nothing is cancelled;
    - every household cut is told once, in the app and by SMS.
    Stock rows are locked after the orders, as expiries and cancellations lock them.
    """
    now = now or timezone.now()
    available = _whole_number(available, field="available", low=0, high=MAX_CAPACITY)
    product = Product.objects.filter(pk=product_id).first()
    if product is None:
        raise NotFound(_("Unknown product."))
    cycle = _open_cycle_locked()
    for _attempt in range(3):
        stock = CycleStock.objects.filter(cycle=cycle, product=product).first()
        held = stock.reserved if stock else 0
        if stock is None or held <= available:
            CycleStock.objects.filter(cycle=cycle, product=product).update(capacity=available)
            return ShortfallOutcome(str(product), 0, 0, 0, ZERO, 0, left=max(available - held, 0))
        cuts = _cuts(product, cycle, held - available)
        orders = {o.pk: o for o in Order.objects.filter(pk__in={c.line.order_id for c in cuts})}
        locked = CycleStock.objects.select_for_update().filter(pk=stock.pk).values_list("reserved", flat=True)
        # only an unpaid order expiring can have moved meanwhile (the cycle's lock holds the rest)
        if locked[0] == held and all(o.status in HOLDING_STOCK for o in orders.values()):
            break
    else:  # pragma: no cover - three expiries in a row under this very product
        raise Conflict(_("The orders changed while this was recorded. Try again."))
    taken, own = _choose_substitutes(product, cycle, cuts, orders)
    _apply_to_lines(cuts, own)
    for substitute_id, units in sorted(taken.items()):
        CycleStock.objects.filter(cycle=cycle, product_id=substitute_id).update(reserved=F("reserved") + units)
    CycleStock.objects.filter(pk=stock.pk).update(reserved=F("reserved") - (held - available), capacity=available)
    rows, cancelled = _settle(cuts, orders, by=by, now=now)
    _tell(rows, orders, now)
    return ShortfallOutcome(
        product=str(product),
        units=held - available,
        orders=len(orders),
        substituted=sum(c.quantity for c in cuts if c.substitute),
        given_back=sum((row.given_back for row in rows), ZERO),
        cancelled=cancelled,
    )
