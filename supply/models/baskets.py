"""A resident's basket kept with the account, so it is the same on every phone and after signing in
again (the session holds the working copy)."""

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _


class SavedBasket(models.Model):
    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+", verbose_name=_("user")
    )
    items = models.JSONField(_("products and quantities"), default=dict)
    updated_at = models.DateTimeField(_("changed at"), auto_now=True)

    class Meta:
        verbose_name = _("saved basket")
        verbose_name_plural = _("saved baskets")

    def __str__(self) -> str:
        return f"{self.user_id}: {len(self.items)}"
