"""Admin pages of the supply app, scoped like the pages (households.admin.ScopedAdmin).

What has a service is changed through it: posted prices and caps (the catalog pages keep the
history), the whitelist (who and when), product details (capacity follows into the open cycle),
orders (capacity and payment). History, stock and orders are read-only here.
"""

from django import forms
from django.contrib import admin, messages
from django.urls import reverse
from django.utils.html import format_html
from django.utils.translation import gettext_lazy as _

from core.errors import BaogongError
from households.admin import ScopedAdmin, ScopedInline
from supply import rules, services
from supply.models import Cycle, CycleStatus, CycleStock, Order, OrderLine, PriceChange, Product, Supplier

# Supplier staff have no admin unless an administrator makes them staff; then they see their own rows.


class ReadOnlyAdmin(ScopedAdmin):
    """History and bookkeeping: looked at here, written only by services."""

    def has_add_permission(self, request, obj=None) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False


@admin.register(Supplier)
class SupplierAdmin(ScopedAdmin):
    list_display = ("name", "contact_name", "phone", "is_whitelisted", "whitelisted_by", "whitelisted_at")
    list_filter = ("is_whitelisted", "districts")
    list_select_related = ("whitelisted_by",)
    search_fields = ("name",)
    filter_horizontal = ("districts",)
    # The whitelist keeps who and when: it changes on the task force's suppliers page (supplier_whitelist).
    readonly_fields = ("whitelist", "whitelisted_by", "whitelisted_at")
    exclude = ("is_whitelisted",)
    view_rule = rules.ADMIN_LOOK
    edit_rule = rules.ADMIN_EDIT_CYCLES

    @admin.display(description=_("whitelisted"))
    def whitelist(self, obj):
        state = _("yes") if obj.is_whitelisted else _("no")
        return format_html(
            '{} · <a href="{}">{}</a>', state, reverse("catalog:suppliers"), _("change on the suppliers page")
        )


class ProductAdminForm(forms.ModelForm):
    class Meta:
        model = Product
        fields = (
            "name",
            "category",
            "unit",
            "size",
            "description",
            "is_bundle",
            "photo",
            "capacity",
            "household_limit",
            "is_active",
        )

    def clean_photo(self):
        photo = self.cleaned_data.get("photo")
        if photo and getattr(photo, "size", 0) > services.PHOTO_MAX_BYTES:
            raise forms.ValidationError(_("The photo is too large (at most 2 MB)."))
        return photo

    def clean_capacity(self):
        # product_update refuses this too (and under concurrency); checking here puts the message on the field.
        capacity = self.cleaned_data["capacity"]
        reserved = (
            CycleStock.objects.filter(cycle__status=CycleStatus.OPEN, product_id=self.instance.pk)
            .values_list("reserved", flat=True)
            .first()
        )
        if reserved is not None and capacity < reserved:
            raise forms.ValidationError(
                _(
                    "Orders in this cycle already hold %(reserved)d of this product: the capacity cannot be lower than that."
                )
                % {"reserved": reserved}
            )
        return capacity


@admin.register(Product)
class ProductAdmin(ScopedAdmin):
    form = ProductAdminForm
    list_display = (
        "name",
        "size",
        "unit",
        "supplier",
        "category",
        "price",
        "price_state",
        "reference_cap",
        "capacity",
        "is_active",
    )
    list_filter = ("category", "price_state", "is_active", "supplier")
    list_select_related = ("supplier",)
    search_fields = ("name", "supplier__name")
    # Prices and caps go through product_price_set / product_reference_cap_set, which keep the history.
    readonly_fields = ("supplier", "price_link", "price_state", "reference_cap", "created_at")
    fields = (
        "supplier",
        "name",
        "category",
        "unit",
        "size",
        "description",
        "is_bundle",
        "photo",
        "price_link",
        "price_state",
        "reference_cap",
        "capacity",
        "household_limit",
        "is_active",
        "created_at",
    )
    view_rule = rules.ADMIN_LOOK  # edited by administrators only; supplier staff keep their catalog on /catalog/

    @admin.display(description=_("posted price"))
    def price_link(self, obj):
        if obj.pk is None:
            return "—"
        return format_html(
            '¥{} · <a href="{}">{}</a>',
            obj.price,
            reverse("catalog:product_detail", args=[obj.pk]),
            _("post a new price or see the history on the catalog page"),
        )

    def has_add_permission(self, request, obj=None) -> bool:
        return False  # supplier staff add products on /catalog/new/, with the first price recorded

    def has_delete_permission(self, request, obj=None) -> bool:
        return False  # ordered products are kept; take a product off sale instead

    def save_model(self, request, obj, form, change):
        changes = {name: form.cleaned_data[name] for name in form.changed_data if name in form.cleaned_data}
        if changes.get("photo") is False:
            changes["photo"] = None
        try:
            services.product_update(product_id=obj.pk, by=request.user, **changes)
        except BaogongError as exc:
            # A refusal the form could not foresee (an order reserved capacity meanwhile): nothing changed.
            self.message_user(request, exc.message, level=messages.ERROR)
        obj.refresh_from_db()


@admin.register(PriceChange)
class PriceChangeAdmin(ReadOnlyAdmin):
    list_display = (
        "changed_at",
        "product",
        "old_price",
        "new_price",
        "reference_cap",
        "state",
        "changed_by",
        "decided_by",
    )
    list_filter = ("state",)
    list_select_related = ("product", "changed_by", "decided_by")
    search_fields = ("product__name", "product__supplier__name")
    date_hierarchy = "changed_at"
    view_rule = rules.ADMIN_LOOK


@admin.register(Cycle)
class CycleAdmin(ReadOnlyAdmin):
    """Cycles open and close through the cycle services (beat schedule, ``open_cycle``); here they are looked at."""

    list_display = ("number", "status", "opens_at", "cutoff_at", "first_delivery_date", "closed_at")
    list_filter = ("status",)
    view_rule = rules.ADMIN_LOOK

    # A cycle is city-wide: every staff role sees every cycle (Cycle has no scope registration).
    def get_queryset(self, request):
        return admin.ModelAdmin.get_queryset(self, request)

    def _in_scope(self, request, obj) -> bool:
        return True


@admin.register(CycleStock)
class CycleStockAdmin(ReadOnlyAdmin):
    list_display = ("cycle", "product", "product_supplier", "capacity", "reserved", "available")
    list_filter = ("cycle__status",)
    list_select_related = ("cycle", "product__supplier")
    search_fields = ("product__name", "product__supplier__name")
    view_rule = rules.ADMIN_LOOK

    @admin.display(description=_("supplier"), ordering="product__supplier__name")
    def product_supplier(self, obj):
        return obj.product.supplier

    @admin.display(description=_("available"))
    def available(self, obj):
        return obj.available


class OrderLineInline(ScopedInline):
    model = OrderLine
    fields = ("name", "unit", "quantity", "unit_price", "line_total")
    readonly_fields = fields
    can_delete = False

    def has_add_permission(self, request, obj=None) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False


@admin.register(Order)
class OrderAdmin(ReadOnlyAdmin):
    """Orders change only through the order services (capacity, limits, payment state)."""

    list_display = (
        "id",
        "household",
        "cycle",
        "status",
        "channel",
        "total",
        "payment_method",
        "payment_state",
        "created_at",
    )
    list_filter = ("status", "channel", "payment_state", "cycle")
    list_select_related = ("household__building__compound", "cycle")
    search_fields = ("=id", "household__contact_name", "household__building__compound__name")
    date_hierarchy = "created_at"
    inlines = [OrderLineInline]
    view_rule = rules.ADMIN_LOOK_ORDERS  # no household data for supplier staff
