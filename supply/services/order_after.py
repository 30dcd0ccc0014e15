"""After an order is placed: cancelling it (refunding what was paid), and telling residents their
orders are confirmed."""

import datetime

from django.db import transaction
from django.db.models import Sum
from django.utils import timezone
from django.utils.translation import gettext as _

from core.errors import Conflict, NotFound
from households.models import User
from supply.models import HOLDING_STOCK, Channel, Order, OrderStatus, PaymentMethod, PaymentState
from supply.services.cycles import _open_cycle_share_locked
from supply.services.order_sql import stock_release
from supply.services.payments import payments_close, refund_for_order


@transaction.atomic
def order_cancel(*, order_id: int, by: User | None, now: datetime.datetime | None = None) -> Order:
    """Cancel an order before its cycle's cutoff and give its quantities back to capacity.

    Guarantees: capacity is released exactly once (the order row is locked and must still hold
    stock: placed, or awaiting its payment); after the cutoff nothing changes and the message says
    so. An order paid online is refunded in full through its provider (a Refund, sent after the
    commit; its state is on the order); an unpaid one closes its open payments, so a payment made
    after all is refunded when it arrives.
    """
    now = now or timezone.now()
    order = Order.objects.select_for_update().filter(pk=order_id).first()
    if order is None:
        raise NotFound(_("Unknown order."))
    if order.status not in HOLDING_STOCK:
        raise Conflict(_("This order has already been cancelled."))
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
    elif order.payment_method == PaymentMethod.FREE:
        order.payment_state = PaymentState.FREE
    else:
        payments_close(order_ids=[order.pk])
        order.payment_state = PaymentState.VOID
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
