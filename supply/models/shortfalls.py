"""Units a supplier could not supply after all, found before the cycle was packed."""

from django.conf import settings
from django.db import models
from django.db.models import F, Q
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy


class Shortfall(models.Model):
    """Units of one order line taken out because the supplier had fewer than were ordered
    (``stock_shortfall_record``): replaced by ``substitute`` when the household asked for that and
    one could be found, else left out. ``given_back`` is what the household no longer pays: taken
    off an unpaid order, or refunded (``refund``) from a paid one."""

    order = models.ForeignKey("supply.Order", on_delete=models.PROTECT, related_name="shortfalls")
    product = models.ForeignKey("supply.Product", on_delete=models.PROTECT, related_name="+", verbose_name=_("product"))
    name = models.CharField(_("name"), max_length=140)
    unit = models.CharField(pgettext_lazy("product", "unit"), max_length=10)
    quantity = models.PositiveIntegerField(_("quantity not supplied"))
    amount = models.DecimalField(_("amount"), max_digits=10, decimal_places=2)
    substitute = models.ForeignKey(
        "supply.Product",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name=_("sent instead"),
    )
    substitute_name = models.CharField(_("sent instead"), max_length=140, blank=True)
    substitute_amount = models.DecimalField(_("amount sent instead"), max_digits=10, decimal_places=2, default=0)
    refund = models.ForeignKey(
        "supply.Refund", null=True, blank=True, on_delete=models.PROTECT, related_name="+", verbose_name=_("refund")
    )
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        verbose_name=_("recorded by"),
    )
    recorded_at = models.DateTimeField(_("recorded at"))

    class Meta:
        verbose_name = _("item not supplied")
        verbose_name_plural = _("items not supplied")
        ordering = ["order_id", "id"]
        constraints = [
            models.CheckConstraint(condition=Q(quantity__gt=0), name="shortfall_quantity_positive"),
            models.CheckConstraint(
                condition=Q(substitute_amount__gte=0, substitute_amount__lte=F("amount")),
                name="shortfall_substitute_costs_no_more",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.name} ×{self.quantity}"

    @property
    def given_back(self):
        return self.amount - self.substitute_amount
