"""Printed lists (deliveries.printing): the kept files and the lists that failed to draw."""

from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from households.models import Community, Compound, Office
from supply.models import Cycle, Supplier

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
