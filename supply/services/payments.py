"""Online payment of orders, and refunds, through the configured gateway (supply/payments).

The order's state follows the provider, never the other way round:

- an online order is placed ``awaiting`` payment: it holds its stock and counts against limits,
  but is never packed;
- it becomes ``placed`` and ``paid`` only when a verified notification, or a query of the
  provider, says its payment is paid; a notification is recorded by its id, so a duplicate or a
  replay changes nothing;
- an order still unpaid after ``PAYMENT_EXPIRY_MINUTES`` (or when its cycle closes) expires: its
  stock goes back on sale and its payments are closed; money that arrives after all is refunded;
- a refund is a row first (in the transaction that decided it) and is sent to the provider after
  the commit, and again by the beat until the provider says how it ended.

Locks are always taken order first, then payment, as ``order_cancel`` does.
"""

from __future__ import annotations

import datetime
import logging
import secrets
from dataclasses import dataclass
from decimal import Decimal

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import Sum
from django.utils import timezone
from django.utils.translation import gettext as _

from core.errors import BaogongError, Conflict, NotFound
from core.queue import enqueue
from supply.models import (
    Order,
    OrderLine,
    OrderStatus,
    Payment,
    PaymentMethod,
    PaymentNotice,
    PaymentState,
    PaymentStatus,
    Refund,
    RefundReason,
    RefundStatus,
)
from supply.payments.gateways import FakeGateway, GatewayError, NoticeRefused, Trade, gateway
from supply.services.order_sql import stock_release

logger = logging.getLogger(__name__)

REFUND_MAX_ATTEMPTS = 8


def _expiry() -> datetime.timedelta:
    return datetime.timedelta(minutes=settings.PAYMENT_EXPIRY_MINUTES)


def payment_start(*, order: Order, return_url: str, now: datetime.datetime | None = None) -> Payment:
    """Where to pay an order awaiting its payment: the open payment of the configured provider, or
    a new trade opened with it (its number ``BG<order>-<random>`` is ours, unique for ever).

    Guarantees: only an order still awaiting payment, and not yet expired, gets one; a provider
    that cannot be reached leaves nothing opened and says so (409)."""
    now = now or timezone.now()
    if order.status != OrderStatus.AWAITING_PAYMENT:
        raise Conflict(_("This order is not waiting for a payment."))
    if order.created_at + _expiry() <= now:
        raise Conflict(_("The time to pay this order has run out; it will be cancelled."))
    provider = gateway()
    payment = (
        Payment.objects.filter(order=order, provider=provider.provider, status=PaymentStatus.PENDING)
        .exclude(checkout_url="")
        .first()
    )
    if payment is not None:
        return payment
    payment = Payment.objects.create(
        order=order,
        provider=provider.provider,
        out_trade_no=f"BG{order.pk}-{secrets.token_hex(6)}",
        amount=order.total,
    )
    try:
        payment.checkout_url = provider.checkout(
            out_trade_no=payment.out_trade_no,
            amount=payment.amount,
            description=_("Baogong order %(number)s") % {"number": order.pk},
            return_url=return_url,
        )
    except GatewayError as exc:
        logger.warning("payment %s not opened: %s", payment.out_trade_no, exc)
        payment.status = PaymentStatus.CLOSED
        payment.save(update_fields=["status"])
        raise Conflict(_("The payment service cannot be reached just now. Please try again in a minute.")) from exc
    payment.save(update_fields=["checkout_url"])
    return payment


def payment_at_fake_cashier(*, order: Order) -> Order:
    """Pay an awaiting order at the demo's cashier, as a resident tapping "pay" there would (the
    demo's seeded orders, and tests): the cashier's signed notification goes through
    ``payment_notified`` like any other. Only while PAYMENT_GATEWAY is "fake"."""
    if settings.PAYMENT_GATEWAY != "fake":
        raise Conflict("the fake cashier is off")
    payment = payment_start(order=order, return_url="")
    fake = gateway("fake")
    assert isinstance(fake, FakeGateway)
    notice = fake.pay(payment.out_trade_no)
    assert notice is not None
    payment_notified(provider="fake", headers=notice[0], body=notice[1])
    return Order.objects.get(pk=order.pk)


@dataclass(frozen=True)
class NoticeOutcome:
    ok: bool  # whether to acknowledge (the provider stops sending it)
    what: str  # "paid", "duplicate", "ignored" or "refused"


def payment_notified(*, provider: str, headers, body: bytes, now: datetime.datetime | None = None) -> NoticeOutcome:
    """A provider's notification, as it arrived. Refused (not acknowledged, nothing changes) when
    its signature, timestamp or content do not verify; acknowledged and ignored when seen before
    (by its id) or when it is not about a payment of ours; otherwise the payment is confirmed."""
    try:
        trade = gateway(provider).verify_notice(headers, body)
    except (NoticeRefused, GatewayError) as exc:
        logger.warning("%s notification refused: %s", provider, exc)
        return NoticeOutcome(ok=False, what="refused")
    try:
        with transaction.atomic():
            PaymentNotice.objects.create(provider=provider, notice_id=trade.notice_id, out_trade_no=trade.out_trade_no)
            what = _confirm(trade, provider=provider, now=now or timezone.now())
    except IntegrityError:
        return NoticeOutcome(ok=True, what="duplicate")
    return NoticeOutcome(ok=True, what=what)


def _confirm(trade: Trade, *, provider: str, now: datetime.datetime) -> str:
    """A payment the provider says is paid: mark it, and place its order (or refund the money if
    the order no longer wants it). Runs inside the caller's transaction."""
    if not trade.paid:
        return "ignored"
    order_id = (
        Payment.objects.filter(out_trade_no=trade.out_trade_no, provider=provider)
        .values_list("order_id", flat=True)
        .first()
    )
    if order_id is None:
        logger.error("%s says %s is paid, and no such payment is ours", provider, trade.out_trade_no)
        return "ignored"
    order = Order.objects.select_for_update().get(pk=order_id)
    payment = Payment.objects.select_for_update().get(out_trade_no=trade.out_trade_no)
    if payment.status == PaymentStatus.PAID:
        return "duplicate"
    if trade.amount is not None and trade.amount != payment.amount:
        logger.error("%s says %s is paid %s, not %s", provider, payment.out_trade_no, trade.amount, payment.amount)
        return "ignored"
    payment.status, payment.paid_at = PaymentStatus.PAID, now
    payment.transaction_id = trade.transaction_id or payment.out_trade_no
    payment.save(update_fields=["status", "paid_at", "transaction_id"])
    if order.status == OrderStatus.AWAITING_PAYMENT:
        order.status, order.payment_state = OrderStatus.PLACED, PaymentState.PAID
        order.save(update_fields=["status", "payment_state"])
        Payment.objects.filter(order=order, status=PaymentStatus.PENDING).update(status=PaymentStatus.CLOSED)
        if order.urgent:
            order_pk = order.pk
            transaction.on_commit(lambda: enqueue("deliveries.tasks.urgent_package_task", order_pk))
        return "paid"
    # The order expired, was cancelled, or was paid already by another payment: give it back.
    reason = RefundReason.PAID_TWICE if order.payment_state == PaymentState.PAID else RefundReason.LATE_PAYMENT
    _refund_create(payment=payment, amount=payment.amount, reason=reason)
    if order.payment_state != PaymentState.PAID:
        order.payment_state = PaymentState.TO_REFUND
        order.save(update_fields=["payment_state"])
    return "refunded"


def payment_check(*, order_id: int, now: datetime.datetime | None = None) -> Order:
    """Ask the provider about the order's open payments (the resident's "I have paid", and the
    expiry sweep): one it says is paid is confirmed as a notification would. Provider errors
    leave everything as it was."""
    now = now or timezone.now()
    for payment in Payment.objects.filter(order_id=order_id, status=PaymentStatus.PENDING):
        try:
            trade = gateway(payment.provider).query(payment.out_trade_no)
        except GatewayError as exc:
            logger.warning("could not ask about payment %s: %s", payment.out_trade_no, exc)
            continue
        if trade.paid:
            with transaction.atomic():
                _confirm(trade, provider=payment.provider, now=now)
    return Order.objects.get(pk=order_id)


def payments_close(*, order_ids) -> int:
    """Close the open payments of orders that no longer take one (in the caller's transaction)."""
    return Payment.objects.filter(order_id__in=order_ids, status=PaymentStatus.PENDING).update(
        status=PaymentStatus.CLOSED
    )


def _expire_locked(orders) -> int:
    """Expire those of ``orders`` still awaiting payment: locked, stock released, payments closed
    (in the caller's transaction). Returns how many."""
    ids = list(
        orders.select_for_update()
        .filter(status=OrderStatus.AWAITING_PAYMENT)
        .order_by("pk")
        .values_list("pk", flat=True)
    )
    if not ids:
        return 0
    stock_release(ids)
    payments_close(order_ids=ids)
    return Order.objects.filter(pk__in=ids).update(status=OrderStatus.EXPIRED, payment_state=PaymentState.VOID)


def payments_expire(*, now: datetime.datetime | None = None, batch: int = 200) -> int:
    """For the beat: orders awaiting payment past PAYMENT_EXPIRY_MINUTES. Each is first asked
    about (a payment whose notification was lost is confirmed, not expired); the rest expire, their
    stock going back on sale. When the provider cannot be reached, an order waits until three
    times the expiry, then expires anyway (a payment arriving later is refunded). Returns how many
    expired."""
    now = now or timezone.now()
    due = list(
        Order.objects.filter(status=OrderStatus.AWAITING_PAYMENT, created_at__lte=now - _expiry())
        .order_by("created_at")
        .values_list("pk", "created_at")[:batch]
    )
    expired = 0
    for order_id, created_at in due:
        pending = Payment.objects.filter(order_id=order_id, status=PaymentStatus.PENDING)
        reached = True
        for payment in pending:
            try:
                trade = gateway(payment.provider).query(payment.out_trade_no)
            except GatewayError:
                reached = False
                continue
            if trade.paid:
                with transaction.atomic():
                    _confirm(trade, provider=payment.provider, now=now)
        if reached or created_at <= now - 3 * _expiry():
            with transaction.atomic():
                expired += _expire_locked(Order.objects.filter(pk=order_id))
    return expired


def cycle_unpaid_expire(*, cycle_id: int) -> int:
    """At the cutoff: every order of the cycle still awaiting payment expires (set-based, in the
    caller's transaction), so none can be packed; a payment arriving later is refunded."""
    return _expire_locked(Order.objects.filter(cycle_id=cycle_id))


# --- refunds -----------------------------------------------------------------------------------


def _refund_create(*, payment: Payment, amount: Decimal, reason: str, line: OrderLine | None = None) -> Refund:
    """A refund row for ``payment`` (locked by the caller), sent after the commit. Never more than
    was paid: refunds of a payment add up to its amount at most."""
    refunded = payment.refunds.exclude(status=RefundStatus.FAILED).aggregate(total=Sum("amount"))["total"] or 0
    if refunded + amount > payment.amount:
        raise Conflict(_("This would refund more than was paid."))
    refund = Refund.objects.create(
        payment=payment,
        order_id=payment.order_id,
        line=line,
        out_refund_no=f"{payment.out_trade_no}-R{secrets.token_hex(4)}",
        amount=amount,
        reason=reason,
        note=line.name if line else "",
    )
    transaction.on_commit(lambda: enqueue("supply.tasks.refunds_send_task"))
    return refund


def refund_for_order(*, order: Order, reason: str) -> Refund | None:
    """Refund what is left of an order's online payment (the order is locked by the caller)."""
    payment = Payment.objects.select_for_update().filter(order=order, status=PaymentStatus.PAID).first()
    if payment is None:
        return None
    refunded = payment.refunds.exclude(status=RefundStatus.FAILED).aggregate(total=Sum("amount"))["total"] or 0
    if payment.amount - refunded <= 0:
        return None
    return _refund_create(payment=payment, amount=payment.amount - refunded, reason=reason)


@transaction.atomic
def order_line_refund(*, line_id: int, by) -> Refund:
    """A line that could not be supplied, of an order paid online: its amount goes back to the
    resident through the provider. Guarantees: once per line (a database constraint), only for a
    paid order still placed, never more than was paid."""
    line = OrderLine.objects.filter(pk=line_id).first()
    if line is None:
        raise NotFound(_("Unknown order line."))
    order = Order.objects.select_for_update().get(pk=line.order_id)
    if order.status != OrderStatus.PLACED or order.payment_method != PaymentMethod.ONLINE:
        raise Conflict(_("Only a line of an order paid online and still placed is refunded this way."))
    if Refund.objects.filter(line=line).exists():
        raise Conflict(_("This line has already been refunded."))
    payment = Payment.objects.select_for_update().filter(order=order, status=PaymentStatus.PAID).first()
    if payment is None:
        raise Conflict(_("This order has no payment to refund from."))
    if line.line_total <= 0:
        raise BaogongError(_("There is nothing to refund for this line."))
    return _refund_create(payment=payment, amount=line.line_total, reason=RefundReason.NOT_SUPPLIED, line=line)


def refunds_send(*, limit: int = 100, now: datetime.datetime | None = None) -> int:
    """Send pending refunds to their providers, and record how each ended. The refund number is
    ours, so sending one again asks about the same refund. After REFUND_MAX_ATTEMPTS tries a
    refund the provider still has not settled is marked failed, for a person to look at. An order
    whose money has all gone back is marked refunded. Returns how many were settled."""
    now = now or timezone.now()
    settled = 0
    pending = Refund.objects.filter(status=RefundStatus.PENDING).select_related("payment").order_by("pk")[:limit]
    for refund in pending:
        result = gateway(refund.payment.provider).refund(
            out_trade_no=refund.payment.out_trade_no,
            out_refund_no=refund.out_refund_no,
            amount=refund.amount,
            total=refund.payment.amount,
            reason=refund.get_reason_display(),
        )
        status = result.status
        if status == RefundStatus.PENDING and refund.attempts + 1 >= REFUND_MAX_ATTEMPTS:
            status = RefundStatus.FAILED
        with transaction.atomic():
            Order.objects.select_for_update().filter(pk=refund.order_id).first()
            changed = Refund.objects.filter(pk=refund.pk, status=RefundStatus.PENDING).update(
                status=status,
                provider_refund_id=result.provider_refund_id or refund.provider_refund_id,
                error=result.error,
                attempts=refund.attempts + 1,
                completed_at=now if status != RefundStatus.PENDING else None,
            )
            if changed and status == RefundStatus.SUCCEEDED:
                settled += 1
                _order_refunded_if_all_back(refund.order_id)
            elif changed and status == RefundStatus.FAILED:
                settled += 1
                logger.error("refund %s failed: %s", refund.out_refund_no, result.error)
    return settled


def _order_refunded_if_all_back(order_id: int) -> None:
    """A cancelled or expired order whose paid money has all been refunded is ``refunded``."""
    paid = Payment.objects.filter(order_id=order_id, status=PaymentStatus.PAID).aggregate(total=Sum("amount"))["total"]
    back = Refund.objects.filter(order_id=order_id, status=RefundStatus.SUCCEEDED).aggregate(total=Sum("amount"))[
        "total"
    ]
    if paid is None or back is None or back < paid:
        return
    Order.objects.filter(pk=order_id, payment_state=PaymentState.TO_REFUND).exclude(
        status__in=[OrderStatus.PLACED, OrderStatus.AWAITING_PAYMENT]
    ).update(payment_state=PaymentState.REFUNDED)
