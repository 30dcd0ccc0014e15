"""Packages (物资包), pick-up slots, the four-level route and the build of each community's packages."""

from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from households.models import Building, Community, Compound, DeliveryMode, Household, Office
from supply.models import Cycle, Order, Supplier


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
            models.UniqueConstraint(fields=["cycle", "code"], name="package_code_unique_in_cycle"),
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


# --- printed lists (deliveries.printing) -----------------------------------------------------------


class ListKind(models.TextChoices):
    PICK_LIST = "pick", _("Pick list")
    SUPPLEMENT = "supplement", _("Supplement pick list")
    MANIFEST = "manifest", _("Dispatch manifest")
    SUPPLEMENT_MANIFEST = "supp_manifest", _("Supplement dispatch manifest")
    RECEIVING = "receiving", _("Receiving list")
    DOOR_LIST = "doors", _("Door list")
    PICKUP_NOTICE = "pickup", _("Pick-up notice")
    LABELS = "labels", _("Label sheet")


def _print_upload_to(instance: "PrintDocument", filename: str) -> str:
    return f"print/cycle-{instance.cycle_id}/{instance.kind}/{filename}"


class PrintDocument(models.Model):
    """One generated printable list (PDF and XLSX) for one place and delivery day of a cycle.

    A list is generated again only when its data changed (``fingerprint``); the old row then gets
    ``superseded_at`` and stays as the record of what was printed before. Exactly one row per
    place, kind and day is current (not superseded), which the database enforces.
    """

    cycle = models.ForeignKey(Cycle, on_delete=models.CASCADE, related_name="print_documents", verbose_name=_("cycle"))
    kind = models.CharField(_("list"), max_length=20, choices=ListKind.choices)
    delivery_date = models.DateField(_("delivery date"))
    # The place the list is for: a supplier within a district (pick list), an office (manifest),
    # a community (receiving list, door list, labels) or a compound (pick-up notice). The places
    # above it are filled in too, so households.access can narrow lists like everything else.
    district = models.ForeignKey(
        "households.District", on_delete=models.CASCADE, related_name="+", verbose_name=_("district")
    )
    supplier = models.ForeignKey(
        Supplier, null=True, blank=True, on_delete=models.CASCADE, related_name="+", verbose_name=_("supplier")
    )
    office = models.ForeignKey(
        Office, null=True, blank=True, on_delete=models.CASCADE, related_name="+", verbose_name=_("office")
    )
    community = models.ForeignKey(
        Community, null=True, blank=True, on_delete=models.CASCADE, related_name="+", verbose_name=_("community")
    )
    compound = models.ForeignKey(
        Compound, null=True, blank=True, on_delete=models.CASCADE, related_name="+", verbose_name=_("compound")
    )
    place_key = models.CharField(_("place"), max_length=40)
    title = models.CharField(_("title"), max_length=200)
    rows = models.PositiveIntegerField(_("rows"), default=0)
    fingerprint = models.CharField(_("data fingerprint"), max_length=64)
    pdf = models.FileField(_("PDF"), upload_to=_print_upload_to, max_length=255)
    xlsx = models.FileField(_("spreadsheet"), upload_to=_print_upload_to, max_length=255)
    generated_at = models.DateTimeField(_("generated at"))
    confirmed_at = models.DateTimeField(_("last found current at"))
    superseded_at = models.DateTimeField(_("superseded at"), null=True, blank=True)

    class Meta:
        verbose_name = _("printed list")
        verbose_name_plural = _("printed lists")
        ordering = ["cycle_id", "delivery_date", "kind", "place_key", "-generated_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["cycle", "kind", "place_key", "delivery_date"],
                condition=Q(superseded_at__isnull=True),
                name="one_current_list_per_place_day",
            ),
        ]
        indexes = [models.Index(fields=["cycle", "community", "kind"], name="print_cycle_community")]

    def __str__(self) -> str:
        return self.title


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


class PrintFailure(models.Model):
    """A list that could not be drawn, with the reason: shown on the printed-lists page until a
    later attempt draws it (then the row is deleted). One failing list never stops the others."""

    cycle = models.ForeignKey(Cycle, on_delete=models.CASCADE, related_name="+", verbose_name=_("cycle"))
    kind = models.CharField(_("list"), max_length=20, choices=ListKind.choices)
    delivery_date = models.DateField(_("delivery date"))
    place_key = models.CharField(_("place"), max_length=40)
    district = models.ForeignKey(
        "households.District", on_delete=models.CASCADE, related_name="+", verbose_name=_("district")
    )
    supplier = models.ForeignKey(Supplier, null=True, blank=True, on_delete=models.CASCADE, related_name="+")
    office = models.ForeignKey(Office, null=True, blank=True, on_delete=models.CASCADE, related_name="+")
    community = models.ForeignKey(Community, null=True, blank=True, on_delete=models.CASCADE, related_name="+")
    compound = models.ForeignKey(Compound, null=True, blank=True, on_delete=models.CASCADE, related_name="+")
    error = models.CharField(_("reason"), max_length=300)
    failed_at = models.DateTimeField(_("failed at"))

    class Meta:
        verbose_name = _("list that could not be drawn")
        verbose_name_plural = _("lists that could not be drawn")
        constraints = [
            models.UniqueConstraint(
                fields=["cycle", "kind", "place_key", "delivery_date"], name="one_failure_per_list"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} {self.place_key} {self.delivery_date:%Y-%m-%d}"
