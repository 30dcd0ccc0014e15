"""Suppliers (保供单位). Catalog, prices, cycles and orders arrive with the ordering issue."""

from django.db import models
from django.utils.translation import gettext_lazy as _


class Supplier(models.Model):
    name = models.CharField(_("name"), max_length=100, unique=True)
    contact_name = models.CharField(_("contact name"), max_length=50, blank=True)
    phone = models.CharField(_("phone number"), max_length=20, blank=True)
    is_whitelisted = models.BooleanField(_("whitelisted"), default=False)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)

    class Meta:
        verbose_name = _("supplier")
        verbose_name_plural = _("suppliers")
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name
