"""After an order is placed: cancelling it (refunding what was paid), and telling residents their
orders are confirmed."""

import datetime

from django.db import transaction
from django.db.models import Sum
from django.utils import timezone
from django.utils.translation import gettext as _

from core.errors import Conflict, NotFound
from households.models import User
from supply.models import HOLDING_STOCK, Channel, Order, OrderLine, OrderStatus, PaymentState
from supply.services.cycles import _open_cycle_share_locked
from supply.services.order_sql import stock_release
from supply.services.orders import (
    PlacedOrder,
    _check_products,
    _lock_open_cycle,
    _new_order,
    _order_request,
    _read_orderable,
    _reserve_or_refuse,
)
from supply.services.payments import payments_close, refund_for_order


def _holding_order_locked(order_id: int) -> Order:
    """The order, locked, while it still holds stock (placed, or awaiting its payment) and is the
    household's own to cancel or change: not the free baseline package the community arranges."""
    order = Order.objects.select_for_update().filter(pk=order_id).first()
    if order is None:
        raise NotFound(_("Unknown order."))
    if order.status not in HOLDING_STOCK:
        raise Conflict(_("This order has already been cancelled."))
    if order.channel == Channel.BASELINE:
        raise Conflict(_("This order is made by the community and cannot be changed here."))
    return order


@transaction.atomic
def order_cancel(*, order_id: int, by: User | None, now: datetime.datetime | None = None) -> Order:
    """Cancel an order before its cycle's cutoff and give its quantities back to capacity.

    Guarantees: capacity is released exactly once (the order row is locked and must still hold
    stock: placed, or awaiting its payment); the free baseline package is not the household's to
    cancel; after the cutoff nothing changes and the message says so. An order paid online is refunded in full through its provider (a Refund, sent after the
    commit; its state is on the order); an unpaid one closes its open payments, so a payment made
    after all is refunded when it arrives.
    """
    now = now or timezone.now()
    order = _holding_order_locked(order_id)
    cycle = _open_cycle_share_locked(now)
    if cycle is None or cycle.pk != order.cycle_id:
        raise Conflict(
            _(
                "The ordering cutoff has passed: this order can no longer be cancelled. Call the supply hotline if there is a problem."
            )
        )
    stock_release([order.pk])
    order.status = OrderStatus.CANCELLED
    order.cancelled_at, order.cancelled_by = now, by
    if order.payment_state == PaymentState.PAID:
        refund_for_order(order=order, reason="cancelled")
        order.payment_state = PaymentState.TO_REFUND
    else:
        payments_close(order_ids=[order.pk])
        order.payment_state = PaymentState.VOID
    order.save(update_fields=["status", "cancelled_at", "cancelled_by", "payment_state"])
    return order


@transaction.atomic
def order_change(
    *, order_id: int, lines, by: User | None, when_out: str | None = None, now: datetime.datetime | None = None
) -> Order:
    """Change the quantities of an order before its cycle's cutoff (a line at 0 goes), in place:
    the same order, its lines replaced, its total and its stock reserved again.

    Guarantees: all or nothing, in one transaction holding the household's lock: the order's own
    quantities are given back first and the new ones checked as a new order is (on sale, limits
    counting the household's other orders, capacity), so a refusal changes nothing. Not for an
    order paid online (cancel it: the payment is refunded), a baseline, standing or urgent order,
    or after the cutoff. An order awaiting its online payment closes its open payment: the new
    amount is paid instead.
    """
    now = now or timezone.now()
    order = _holding_order_locked(order_id)
    if order.payment_state == PaymentState.PAID:
        raise Conflict(
            _("An order paid online cannot be changed: cancel it (the payment is refunded) and order again.")
        )
    if order.standing_order_id or order.urgent:
        raise Conflict(_("This order is made by the community and cannot be changed here."))
    request = _order_request(
        household_id=order.household_id,
        lines=lines,
        placed_by=by,
        channel=order.channel,
        payment_method=order.payment_method,
        note=order.note,
        idempotency_key=None,
        urgent=False,
        when_out=when_out or order.when_out,
    )
    locked = _lock_open_cycle(request, now)
    if isinstance(locked, PlacedOrder) or locked[1] != order.cycle_id:
        raise Conflict(_("The ordering cutoff has passed: this order can no longer be changed."))
    district_id, cycle_id = locked
    held_as = order.status
    # Out of the household's count and the stock while the new quantities are checked.
    Order.objects.filter(pk=order.pk).update(status=OrderStatus.CANCELLED)
    stock_release([order.pk])
    read = _read_orderable(request, district_id=district_id, cycle_id=cycle_id)
    assert not isinstance(read, PlacedOrder)  # no key: never a replay
    products, already = read
    _check_products(request, products, already)
    draft, new_lines = _new_order(request, products, cycle_id)
    OrderLine.objects.filter(order=order).delete()
    for line in new_lines:
        line.order = order
    OrderLine.objects.bulk_create(new_lines)
    _reserve_or_refuse(cycle_id, request.quantities, products)
    order.status, order.total, order.when_out = held_as, draft.total, draft.when_out
    order.request_hash = draft.request_hash
    if held_as == OrderStatus.AWAITING_PAYMENT:
        payments_close(order_ids=[order.pk])
    order.save(update_fields=["status", "total", "when_out", "request_hash"])
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
