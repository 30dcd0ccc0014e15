"""Online payments and refunds, as the payment provider confirmed them.

An online order is ``awaiting`` payment until a verified notification (or a query of the provider)
says its :class:`Payment` is paid. Each :class:`Refund` records what was sent back through the same
provider and how it ended. :class:`PaymentNotice` keeps the id of every verified notification, so a
replayed one changes nothing.
"""

from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _


class PaymentProvider(models.TextChoices):
    FAKE = "fake", _("Demo payment (no real money)")
    WECHAT = "wechat", _("WeChat Pay")
    ALIPAY = "alipay", _("Alipay")


class PaymentStatus(models.TextChoices):
    PENDING = "pending", _("Waiting for the payment")
    PAID = "paid", _("Paid")
    CLOSED = "closed", _("Closed unpaid")


class Payment(models.Model):
    """One attempt to pay an order online (the provider's trade, by our ``out_trade_no``)."""

    order = models.ForeignKey(
        "supply.Order", on_delete=models.CASCADE, related_name="payments", verbose_name=_("order")
    )
    provider = models.CharField(_("provider"), max_length=10, choices=PaymentProvider.choices)
    out_trade_no = models.CharField(_("trade number"), max_length=32, unique=True)
    amount = models.DecimalField(_("amount"), max_digits=10, decimal_places=2)
    status = models.CharField(_("status"), max_length=10, choices=PaymentStatus.choices, default=PaymentStatus.PENDING)
    transaction_id = models.CharField(_("provider's transaction"), max_length=64, blank=True)
    checkout_url = models.CharField(_("where to pay"), max_length=2000, blank=True)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    paid_at = models.DateTimeField(_("paid at"), null=True, blank=True)

    class Meta:
        verbose_name = _("payment")
        verbose_name_plural = _("payments")
        ordering = ["-created_at", "-id"]
        constraints = [
            models.CheckConstraint(condition=Q(amount__gt=0), name="payment_amount_positive"),
            models.CheckConstraint(
                condition=~Q(status="paid") | (Q(paid_at__isnull=False) & ~Q(transaction_id="")),
                name="payment_paid_has_transaction",
            ),
        ]

    def __str__(self) -> str:
        return self.out_trade_no


class RefundReason(models.TextChoices):
    CANCELLED = "cancelled", _("Order cancelled")
    NOT_SUPPLIED = "not_supplied", _("Item could not be supplied")
    LATE_PAYMENT = "late_payment", _("Paid after the order had expired")
    PAID_TWICE = "paid_twice", _("Paid twice")


class RefundStatus(models.TextChoices):
    PENDING = "pending", _("Being refunded")
    SUCCEEDED = "succeeded", _("Refunded")
    FAILED = "failed", _("Refund failed")


class Refund(models.Model):
    """Money sent back through the provider of a paid :class:`Payment` (``out_refund_no`` is ours,
    so sending it again asks the provider about the same refund rather than making a second)."""

    payment = models.ForeignKey(Payment, on_delete=models.CASCADE, related_name="refunds", verbose_name=_("payment"))
    order = models.ForeignKey("supply.Order", on_delete=models.CASCADE, related_name="refunds", verbose_name=_("order"))
    line = models.ForeignKey(
        "supply.OrderLine",
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="refunds",
        verbose_name=_("line not supplied"),
    )
    out_refund_no = models.CharField(_("refund number"), max_length=64, unique=True)
    amount = models.DecimalField(_("amount"), max_digits=10, decimal_places=2)
    reason = models.CharField(_("reason"), max_length=14, choices=RefundReason.choices)
    note = models.CharField(_("note"), max_length=200, blank=True)
    status = models.CharField(_("status"), max_length=10, choices=RefundStatus.choices, default=RefundStatus.PENDING)
    provider_refund_id = models.CharField(_("provider's refund"), max_length=64, blank=True)
    error = models.CharField(_("error"), max_length=300, blank=True)
    attempts = models.PositiveSmallIntegerField(_("attempts"), default=0)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    completed_at = models.DateTimeField(_("completed at"), null=True, blank=True)

    class Meta:
        verbose_name = _("refund")
        verbose_name_plural = _("refunds")
        ordering = ["created_at", "id"]
        constraints = [
            models.CheckConstraint(condition=Q(amount__gt=0), name="refund_amount_positive"),
            models.UniqueConstraint(fields=["line"], condition=Q(line__isnull=False), name="refund_once_per_line"),
        ]
        indexes = [models.Index(fields=["status"], name="refund_status")]

    def __str__(self) -> str:
        return self.out_refund_no


class PaymentNotice(models.Model):
    """A verified notification from a provider, by the provider's id for it: a replay is a no-op."""

    provider = models.CharField(_("provider"), max_length=10, choices=PaymentProvider.choices)
    notice_id = models.CharField(_("notification"), max_length=100)
    out_trade_no = models.CharField(_("trade number"), max_length=32)
    received_at = models.DateTimeField(_("received at"), auto_now_add=True)

    class Meta:
        verbose_name = _("payment notification")
        verbose_name_plural = _("payment notifications")
        constraints = [models.UniqueConstraint(fields=["provider", "notice_id"], name="payment_notice_once")]

    def __str__(self) -> str:
        return f"{self.provider}:{self.notice_id}"
