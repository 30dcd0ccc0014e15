"""Packages (物资包), pick-up slots, the four-level route (consignments) and the build of each community's packages."""

from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from households.models import Building, Community, Compound, DeliveryMode, Household, Office
from supply.models import Cycle, Order, Supplier, copied_cycle


class BuildStatus(models.TextChoices):
    PENDING = "pending", _("Waiting")
    DONE = "done", _("Done")


class CommunityBuild(models.Model):
    """One community's packages for one cycle: built in one transaction, exactly once.

    The packaging is driven by these rows, not by queue messages: a lost or repeated task is
    harmless, because a pending row is simply built again and a done row is left alone.
    """

    cycle = models.ForeignKey(Cycle, on_delete=models.CASCADE, related_name="builds", verbose_name=_("cycle"))
    community = models.ForeignKey(Community, on_delete=models.CASCADE, related_name="+", verbose_name=_("community"))
    status = models.CharField(_("status"), max_length=10, choices=BuildStatus.choices, default=BuildStatus.PENDING)
    packages = models.PositiveIntegerField(_("packages"), default=0)
    orders = models.PositiveIntegerField(_("orders"), default=0)
    attempts = models.PositiveSmallIntegerField(_("attempts"), default=0)
    queued_at = models.DateTimeField(_("queued at"), null=True, blank=True)
    built_at = models.DateTimeField(_("built at"), null=True, blank=True)

    class Meta:
        verbose_name = _("community build")
        verbose_name_plural = _("community builds")
        constraints = [models.UniqueConstraint(fields=["cycle", "community"], name="one_build_per_cycle_community")]

    def __str__(self) -> str:
        return f"{self.cycle_id}/{self.community_id}: {self.get_status_display()}"


class PickupSlot(models.Model):
    """A time window at a compound's receiving point on its delivery day (错时领取)."""

    cycle = models.ForeignKey(Cycle, on_delete=models.CASCADE, related_name="pickup_slots", verbose_name=_("cycle"))
    compound = models.ForeignKey(
        Compound, on_delete=models.CASCADE, related_name="pickup_slots", verbose_name=_("compound")
    )
    date = models.DateField(_("date"))
    starts_at = models.TimeField(_("starts at"))
    ends_at = models.TimeField(_("ends at"))
    capacity = models.PositiveIntegerField(_("households per slot"))
    assigned = models.PositiveIntegerField(_("households assigned"), default=0)

    class Meta:
        verbose_name = _("pick-up slot")
        verbose_name_plural = _("pick-up slots")
        ordering = ["date", "starts_at"]
        constraints = [
            models.UniqueConstraint(fields=["cycle", "compound", "date", "starts_at"], name="one_slot_per_time"),
            models.CheckConstraint(condition=Q(assigned__lte=models.F("capacity")), name="slot_never_overfull"),
        ]

    def __str__(self) -> str:
        return f"{self.date:%m-%d} {self.starts_at:%H:%M}–{self.ends_at:%H:%M}"


# A cycle delivers on three days from its first delivery date.
CYCLE_DELIVERY_DAYS = 3


def package_code(cycle_number: int, local: str) -> str:
    """A package's code, unique for ever: the cycle's number, then the code within the cycle
    (district-community-compound-sequence, or the lane's ``U-``/``B-`` code): ``12-ZH-1-1-001``."""
    return f"{cycle_number}-{local}"


class PackageStatus(models.TextChoices):
    PACKED = "packed", _("Packed")
    DISPATCHED = "dispatched", _("Left the supplier")
    AT_OFFICE = "at_office", _("At the office")
    AT_COMMUNITY = "at_community", _("At the community")
    AT_COMPOUND = "at_compound", _("At the compound")
    DELIVERED = "delivered", _("Delivered")
    EXCEPTION = "exception", _("Not delivered")


class Package(models.Model):
    """Everything one household receives in one cycle (or one urgent delivery)."""

    cycle = models.ForeignKey(Cycle, on_delete=models.PROTECT, related_name="packages", verbose_name=_("cycle"))
    household = models.ForeignKey(
        Household, on_delete=models.PROTECT, related_name="packages", verbose_name=_("household")
    )
    community = models.ForeignKey(Community, on_delete=models.PROTECT, related_name="+", verbose_name=_("community"))
    compound = models.ForeignKey(Compound, on_delete=models.PROTECT, related_name="+", verbose_name=_("compound"))
    building = models.ForeignKey(Building, on_delete=models.PROTECT, related_name="+", verbose_name=_("building"))
    code = models.CharField(_("code"), max_length=40)
    urgent = models.BooleanField(_("urgent"), default=False)
    mode = models.CharField(_("delivery mode"), max_length=10, choices=DeliveryMode.choices)
    delivery_date = models.DateField(_("delivery date"))
    # The day the goods travel from the supplier through the office to the community: set when
    # the package is built and never changed. A package re-queued at the door moves to another
    # delivery day at the community; the supplier's and the office's paper keep it on this day.
    dispatch_date = models.DateField(_("dispatch date"))
    pickup_slot = models.ForeignKey(
        PickupSlot,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="packages",
        verbose_name=_("pick-up slot"),
    )
    status = models.CharField(_("status"), max_length=12, choices=PackageStatus.choices, default=PackageStatus.PACKED)
    orders_count = models.PositiveSmallIntegerField(_("orders"))
    item_count = models.PositiveIntegerField(_("items"))
    item_summary = models.TextField(_("items"))
    total = models.DecimalField(_("total"), max_digits=10, decimal_places=2)
    to_collect = models.DecimalField(_("to collect on delivery"), max_digits=10, decimal_places=2)
    built_at = models.DateTimeField(_("packed at"), auto_now_add=True)
    recomputed_at = models.DateTimeField(_("recomputed at"), null=True, blank=True)
    # Raised by each undone door outcome, so the same package may be delivered (or missed) again.
    attempt = models.PositiveSmallIntegerField(_("door attempt"), default=0)

    class Meta:
        verbose_name = _("package")
        verbose_name_plural = _("packages")
        ordering = ["cycle_id", "code"]
        constraints = [
            models.UniqueConstraint(
                fields=["cycle", "household"], condition=Q(urgent=False), name="one_package_per_cycle_household"
            ),
            # Unique for ever: the code starts with its cycle's number (unique) and a dash, and
            # what follows never starts with a digit, so two cycles never share a code; the cycle
            # is in the key because the table is partitioned by it on PostgreSQL.
            models.UniqueConstraint(fields=["code", "cycle"], name="package_code_unique"),
            models.CheckConstraint(condition=Q(item_count__gt=0), name="package_not_empty"),
        ]
        indexes = [models.Index(fields=["community", "delivery_date"], name="package_community_day")]

    def __str__(self) -> str:
        return self.code


class PackageOrder(models.Model):
    """Which package an order went into: every order is in exactly one package."""

    package = models.ForeignKey(
        Package, on_delete=models.CASCADE, related_name="order_links", verbose_name=_("package")
    )
    order = models.OneToOneField(Order, on_delete=models.PROTECT, related_name="package_link", verbose_name=_("order"))
    # The package's (and the order's) cycle: the keys (package, cycle) and (order, cycle) hold it.
    cycle = copied_cycle()

    class Meta:
        verbose_name = _("package order")
        verbose_name_plural = _("package orders")

    def __str__(self) -> str:
        return f"{self.package_id} ← {self.order_id}"


class Hop(models.TextChoices):
    SUPPLIER_OFFICE = "supplier_office", _("Supplier → office")
    OFFICE_COMMUNITY = "office_community", _("Office → community")
    COMMUNITY_COMPOUND = "community_compound", _("Community → compound")


class Consignment(models.Model):
    """What crosses one hop of the route for one delivery day: package and item counts."""

    cycle = models.ForeignKey(Cycle, on_delete=models.CASCADE, related_name="consignments", verbose_name=_("cycle"))
    hop = models.CharField(_("hop"), max_length=20, choices=Hop.choices)
    delivery_date = models.DateField(_("delivery date"))
    supplier = models.ForeignKey(
        Supplier, null=True, blank=True, on_delete=models.PROTECT, related_name="+", verbose_name=_("supplier")
    )
    office = models.ForeignKey(Office, on_delete=models.PROTECT, related_name="+", verbose_name=_("office"))
    community = models.ForeignKey(
        Community, null=True, blank=True, on_delete=models.PROTECT, related_name="+", verbose_name=_("community")
    )
    compound = models.ForeignKey(
        Compound, null=True, blank=True, on_delete=models.PROTECT, related_name="+", verbose_name=_("compound")
    )
    # The community whose build wrote this row (supplier → office legs are shared by an office's
    # communities, so each community writes its own share and the lists add them up).
    built_by = models.ForeignKey(Community, on_delete=models.CASCADE, related_name="+", verbose_name=_("built by"))
    package_count = models.PositiveIntegerField(_("packages"))
    item_count = models.PositiveIntegerField(_("items"))
    received_at = models.DateTimeField(_("received at"), null=True, blank=True)
    # Urgent-lane packages (urgent medicine, baseline packages of households sealed after the
    # close) travel in supplement consignments of their own; the ones built at the close never change.
    supplement = models.BooleanField(_("supplement"), default=False)

    class Meta:
        verbose_name = _("consignment")
        verbose_name_plural = _("consignments")
        ordering = ["cycle_id", "delivery_date", "hop", "id"]

    def __str__(self) -> str:
        return f"{self.get_hop_display()} {self.delivery_date:%Y-%m-%d}"
