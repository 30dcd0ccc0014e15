"""A resident's "tell me when it is back" on a sold-out product, for one cycle."""

from django.db import models
from django.utils.translation import gettext_lazy as _


class RestockAlert(models.Model):
    household = models.ForeignKey(
        "households.Household", on_delete=models.CASCADE, related_name="+", verbose_name=_("household")
    )
    product = models.ForeignKey("supply.Product", on_delete=models.CASCADE, related_name="+", verbose_name=_("product"))
    cycle = models.ForeignKey("supply.Cycle", on_delete=models.CASCADE, related_name="+", verbose_name=_("cycle"))
    created_at = models.DateTimeField(_("asked at"), auto_now_add=True)
    notified_at = models.DateTimeField(_("told at"), null=True, blank=True)

    class Meta:
        verbose_name = _("restock alert")
        verbose_name_plural = _("restock alerts")
        constraints = [
            models.UniqueConstraint(fields=["household", "product", "cycle"], name="one_restock_alert"),
        ]
        indexes = [models.Index(fields=["cycle", "notified_at"], name="restock_alert_waiting")]

    def __str__(self) -> str:
        return f"{self.household_id}:{self.product_id}"
