"""Handovers: the chain of custody (deliveries.handovers)."""

from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from deliveries.models.packages import Consignment, Package, PackageStatus

# --- handovers: the chain of custody (deliveries.handovers) ----------------------------------------


class HandoverKind(models.TextChoices):
    RECEIVED = "received", _("Received")
    OUT_FOR_DELIVERY = "out", _("Out for delivery")
    DELIVERED = "delivered", _("Delivered")
    EXCEPTION = "exception", _("Not delivered")
    UNDONE = "undone", _("Undone (recorded by mistake)")


class ExceptionReason(models.TextChoices):
    NOT_HOME = "not_home", _("Not at home")
    REFUSED = "refused", _("Refused at the door")
    DAMAGED = "damaged", _("Damaged")
    ITEM_MISSING = "item_missing", _("Item missing")
    NOT_PAID = "not_paid", _("Not paid (cash on delivery)")


# A refused package has its final outcome; the others come again on the next delivery day.
FINAL_REASONS = (ExceptionReason.REFUSED,)
# Statuses with which a package is still on its way (not delivered, no final outcome).
OPEN_STATUSES = (
    PackageStatus.PACKED,
    PackageStatus.DISPATCHED,
    PackageStatus.AT_OFFICE,
    PackageStatus.AT_COMMUNITY,
    PackageStatus.AT_COMPOUND,
)


class HandoverEvent(models.Model):
    """One step of the chain of custody: a consignment received at a hop, or a package out for
    delivery, delivered or not delivered at the door. Who, when, where and what happened.

    Append-only: rows are never changed (a database trigger refuses UPDATE, and on PostgreSQL
    DELETE too). The partial unique constraints make each step happen once: one receipt per
    consignment, one delivery per package, one exception and one "out for delivery" per package
    and delivery day.
    """

    package = models.ForeignKey(
        Package, null=True, blank=True, on_delete=models.PROTECT, related_name="events", verbose_name=_("package")
    )
    consignment = models.ForeignKey(
        Consignment,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="events",
        verbose_name=_("consignment"),
    )
    kind = models.CharField(_("event"), max_length=10, choices=HandoverKind.choices)
    outcome = models.CharField(_("outcome"), max_length=12, choices=ExceptionReason.choices, blank=True)
    # The delivery day the event belongs to (the package's or consignment's day at that moment).
    delivery_date = models.DateField(_("delivery day"))
    # For an exception that re-queues the package: its new delivery day.
    requeued_to = models.DateField(_("comes again on"), null=True, blank=True)
    packages_received = models.PositiveIntegerField(_("packages received"), null=True, blank=True)
    items_received = models.PositiveIntegerField(_("items received"), null=True, blank=True)
    by = models.ForeignKey("households.User", on_delete=models.PROTECT, related_name="+", verbose_name=_("by"))
    at = models.DateTimeField(_("at"))
    place = models.CharField(_("where (the person's place)"), max_length=200, blank=True)
    location = models.CharField(_("location note"), max_length=200, blank=True)
    note = models.TextField(_("note"), blank=True)
    # A door outcome recorded although the custody rules would refuse it (the package not yet at
    # the community, or its day still ahead): the reason the staff member gave.
    override = models.CharField(_("override reason"), max_length=200, blank=True)
    # Door outcomes: the package's status and attempt before it, so an undo restores exactly that.
    status_before = models.CharField(_("status before"), max_length=12, blank=True)
    attempt = models.PositiveSmallIntegerField(_("door attempt"), default=0)
    # Cash on delivery taken at the door with a delivered package (its amount to collect).
    cash_collected = models.DecimalField(_("cash collected"), max_digits=10, decimal_places=2, null=True, blank=True)
    undoes = models.OneToOneField(
        "self", null=True, blank=True, on_delete=models.PROTECT, related_name="undone_by", verbose_name=_("undoes")
    )

    class Meta:
        verbose_name = _("handover event")
        verbose_name_plural = _("handover events")
        ordering = ["at", "id"]
        constraints = [
            models.CheckConstraint(
                condition=(
                    Q(
                        package__isnull=False,
                        consignment__isnull=True,
                        kind__in=["out", "delivered", "exception", "undone"],
                    )
                    | Q(package__isnull=True, consignment__isnull=False, kind="received")
                ),
                name="handover_of_package_or_consignment",
            ),
            models.CheckConstraint(
                condition=(Q(kind="exception") & ~Q(outcome="")) | (~Q(kind="exception") & Q(outcome="")),
                name="handover_exception_has_reason",
            ),
            models.CheckConstraint(
                condition=Q(kind="received", packages_received__isnull=False, items_received__isnull=False)
                | (~Q(kind="received") & Q(packages_received__isnull=True, items_received__isnull=True)),
                name="handover_receipt_has_counts",
            ),
            models.CheckConstraint(
                condition=Q(requeued_to__isnull=True) | Q(kind="exception", requeued_to__gt=models.F("delivery_date")),
                name="handover_requeue_later",
            ),
            models.UniqueConstraint(
                fields=["consignment"], condition=Q(kind="received"), name="one_receipt_per_consignment"
            ),
            models.CheckConstraint(
                condition=Q(kind="undone", undoes__isnull=False) | (~Q(kind="undone") & Q(undoes__isnull=True)),
                name="handover_undo_names_its_event",
            ),
            models.UniqueConstraint(
                fields=["package", "attempt"], condition=Q(kind="delivered"), name="one_delivery_per_package_attempt"
            ),
            models.UniqueConstraint(
                fields=["package", "delivery_date", "attempt"],
                condition=Q(kind="exception"),
                name="one_exception_per_package_day_attempt",
            ),
            models.UniqueConstraint(
                fields=["package", "delivery_date"], condition=Q(kind="out"), name="one_out_per_package_day"
            ),
        ]
        indexes = [models.Index(fields=["package", "at"], name="handover_package_at")]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} {self.at:%Y-%m-%d %H:%M}"


class CashHandover(models.Model):
    """The cash one person collected at the doors on one delivery day, handed over to the community
    and confirmed there: the amount confirmed is the sum of that person's deliveries of the day at
    the moment of confirming."""

    community = models.ForeignKey(
        "households.Community", on_delete=models.PROTECT, related_name="+", verbose_name=_("community")
    )
    collector = models.ForeignKey(
        "households.User", on_delete=models.PROTECT, related_name="+", verbose_name=_("collected by")
    )
    day = models.DateField(_("delivery day"))
    doors = models.PositiveIntegerField(_("doors with cash"))
    amount = models.DecimalField(_("amount"), max_digits=12, decimal_places=2)
    confirmed_by = models.ForeignKey(
        "households.User", on_delete=models.PROTECT, related_name="+", verbose_name=_("confirmed by")
    )
    confirmed_at = models.DateTimeField(_("confirmed at"))

    class Meta:
        verbose_name = _("cash handover")
        verbose_name_plural = _("cash handovers")
        constraints = [models.UniqueConstraint(fields=["collector", "day"], name="one_cash_handover_per_day")]

    def __str__(self) -> str:
        return f"{self.collector} {self.day} ¥{self.amount}"
