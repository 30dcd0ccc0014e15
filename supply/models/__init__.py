"""Suppliers (保供单位), their catalogs with posted prices (明码标价), cycles, capacity and orders."""

from decimal import Decimal

from django.conf import settings
from django.core.validators import MinValueValidator
from django.db import models
from django.db.models import F, Q
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from core.pinyin import pinyin_search_key
from households.models import District, Household


class Supplier(models.Model):
    name = models.CharField(_("name"), max_length=100, unique=True)
    contact_name = models.CharField(_("contact name"), max_length=50, blank=True)
    phone = models.CharField(_("phone number"), max_length=20, blank=True)
    districts = models.ManyToManyField(
        District, blank=True, related_name="suppliers", verbose_name=_("districts served")
    )
    is_whitelisted = models.BooleanField(_("whitelisted"), default=False)
    whitelisted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        verbose_name=_("whitelisted by"),
    )
    whitelisted_at = models.DateTimeField(_("whitelisted at"), null=True, blank=True)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)

    class Meta:
        verbose_name = _("supplier")
        verbose_name_plural = _("suppliers")
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class Category(models.TextChoices):
    VEGETABLES = "vegetables", _("Vegetables")
    MEAT_EGGS = "meat_eggs", _("Meat and eggs")
    GRAIN_OIL = "grain_oil", _("Grain and oil")
    MEDICINE = "medicine", _("Medicine")
    EPIDEMIC = "epidemic", _("Epidemic-prevention supplies")
    DAILY = "daily", _("Daily necessities")


class PriceState(models.TextChoices):
    APPROVED = "approved", _("Shown to residents")
    PENDING = "pending", _("Above the reference cap: waiting for the task force")
    REJECTED = "rejected", _("Above the reference cap: refused")


class Product(models.Model):
    supplier = models.ForeignKey(
        Supplier, on_delete=models.PROTECT, related_name="products", verbose_name=_("supplier")
    )
    name = models.CharField(_("name"), max_length=100)
    category = models.CharField(_("category"), max_length=12, choices=Category.choices)
    unit = models.CharField(pgettext_lazy("product", "unit"), max_length=10, help_text=_("e.g. 袋, 盒, 斤"))
    size = models.CharField(_("size"), max_length=30, blank=True, help_text=_("e.g. 5kg, 500g×2"))
    description = models.CharField(_("description"), max_length=300, blank=True)
    is_bundle = models.BooleanField(_("standard bundle"), default=False)
    photo = models.ImageField(_("photo"), upload_to="products/", blank=True)
    price = models.DecimalField(
        _("posted price"), max_digits=8, decimal_places=2, validators=[MinValueValidator(Decimal("0.01"))]
    )
    # A price above the reference cap is not shown to residents until the task force approves it.
    price_state = models.CharField(
        _("price state"), max_length=10, choices=PriceState.choices, default=PriceState.APPROVED
    )
    reference_cap = models.DecimalField(
        _("reference price cap"),
        max_digits=8,
        decimal_places=2,
        null=True,
        blank=True,
        help_text=_("Set by the task force. A higher price waits for its approval."),
    )
    capacity = models.PositiveIntegerField(_("capacity per cycle"), default=500)
    household_limit = models.PositiveSmallIntegerField(
        _("limit per household per cycle"), null=True, blank=True, help_text=_("Blank for no limit.")
    )
    is_active = models.BooleanField(_("on sale"), default=True)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    # The name's pinyin and initials ("jidan jd"), kept with the name, so `jidan` or `jd` finds 鸡蛋.
    search_key = models.CharField(_("pinyin"), max_length=200, blank=True, editable=False)

    class Meta:
        verbose_name = _("product")
        verbose_name_plural = _("products")
        ordering = ["category", "name", "id"]
        constraints = [
            models.UniqueConstraint(fields=["supplier", "name", "size"], name="product_unique_per_supplier"),
            models.CheckConstraint(condition=Q(price__gt=0), name="product_price_positive"),
            models.CheckConstraint(
                condition=Q(household_limit__isnull=True) | Q(household_limit__gt=0), name="product_limit_positive"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.name} {self.size}".strip()

    def save(self, *args, **kwargs):
        self.search_key = pinyin_search_key(self.name)
        update_fields = kwargs.get("update_fields")
        if update_fields is not None and "name" in update_fields:
            kwargs["update_fields"] = {*update_fields, "search_key"}
        super().save(*args, **kwargs)


class PriceChange(models.Model):
    """Every posted price a product had: who set it, when, and the task force's decision if above the cap."""

    product = models.ForeignKey(
        Product, on_delete=models.CASCADE, related_name="price_changes", verbose_name=_("product")
    )
    old_price = models.DecimalField(_("old price"), max_digits=8, decimal_places=2, null=True, blank=True)
    new_price = models.DecimalField(_("new price"), max_digits=8, decimal_places=2)
    reference_cap = models.DecimalField(_("reference cap then"), max_digits=8, decimal_places=2, null=True, blank=True)
    state = models.CharField(_("state"), max_length=10, choices=PriceState.choices)
    changed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+", verbose_name=_("changed by")
    )
    changed_at = models.DateTimeField(_("changed at"), auto_now_add=True)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        verbose_name=_("decided by"),
    )
    decided_at = models.DateTimeField(_("decided at"), null=True, blank=True)

    class Meta:
        verbose_name = _("price change")
        verbose_name_plural = _("price changes")
        ordering = ["-changed_at", "-id"]

    def __str__(self) -> str:
        return f"{self.product_id}: {self.old_price} → {self.new_price}"


class CycleStatus(models.TextChoices):
    OPEN = "open", _("Open for orders")
    CLOSING = "closing", _("Closing: packages being built")
    PACKED = "packed", _("Packed")
    COMPLETE = "complete", _("Complete")
    # Its orders, packages and money written out to files and their tables dropped (archive_cycle).
    ARCHIVED = "archived", _("Archived")


class Cycle(models.Model):
    """A city-wide 3-day window: orders until the cutoff, then three delivery days."""

    number = models.PositiveIntegerField(_("number"), unique=True)
    opens_at = models.DateTimeField(_("opens at"))
    cutoff_at = models.DateTimeField(_("ordering cutoff"))
    first_delivery_date = models.DateField(_("first delivery day"))
    status = models.CharField(_("status"), max_length=10, choices=CycleStatus.choices, default=CycleStatus.OPEN)
    closed_at = models.DateTimeField(_("closed at"), null=True, blank=True)
    baseline_at = models.DateTimeField(_("baseline and standing orders placed at"), null=True, blank=True)

    class Meta:
        verbose_name = _("cycle")
        verbose_name_plural = _("cycles")
        ordering = ["-number"]
        constraints = [
            models.UniqueConstraint(fields=["status"], condition=Q(status="open"), name="one_open_cycle"),
            models.CheckConstraint(condition=Q(cutoff_at__gt=F("opens_at")), name="cycle_cutoff_after_opening"),
        ]

    def __str__(self) -> str:
        return _("Cycle %(number)d") % {"number": self.number}


class CycleStock(models.Model):
    """A product's stock in one cycle and how much of it placed orders hold (django-oscar's stock record).

    ``capacity`` is everything the supplier provides this cycle: what residents can buy (the
    product's capacity per cycle) plus ``baseline``, the quantity held for the free baseline and
    standing orders, which come on top and are counted once. ``reserved`` is what placed orders
    hold, guaranteed ones included; ``available`` is what residents can still order.
    """

    cycle = models.ForeignKey(Cycle, on_delete=models.CASCADE, related_name="stock", verbose_name=_("cycle"))
    product = models.ForeignKey(Product, on_delete=models.CASCADE, related_name="stock", verbose_name=_("product"))
    capacity = models.PositiveIntegerField(_("capacity"))
    reserved = models.PositiveIntegerField(_("reserved"), default=0)
    baseline = models.PositiveIntegerField(_("held for baseline and standing orders"), default=0)

    class Meta:
        verbose_name = _("cycle stock")
        verbose_name_plural = _("cycle stock")
        constraints = [
            models.UniqueConstraint(fields=["cycle", "product"], name="one_stock_per_cycle_product"),
            models.CheckConstraint(condition=Q(reserved__lte=F("capacity")), name="stock_never_oversold"),
            models.CheckConstraint(condition=Q(baseline__lte=F("capacity")), name="stock_baseline_within_capacity"),
        ]

    def __str__(self) -> str:
        return f"{self.product_id} @ {self.cycle_id}"

    @property
    def available(self) -> int:
        return max(self.capacity - self.reserved, 0)

    @property
    def for_sale(self) -> int:
        """What residents can buy this cycle (the product's capacity): the one number people see."""
        return self.capacity - self.baseline


class Channel(models.TextChoices):
    WEB = "web", _("Web")
    HOTLINE = "hotline", _("Hotline")
    WORKER = "worker", _("Community worker")
    BASELINE = "baseline", _("Baseline package")


class OrderStatus(models.TextChoices):
    AWAITING_PAYMENT = "awaiting", _("Awaiting payment")
    PLACED = "placed", _("Placed")
    CANCELLED = "cancelled", _("Cancelled")
    EXPIRED = "expired", _("Not paid in time")


# The orders that hold stock and count against limits: placed ones, and online ones while their
# payment is awaited. Only placed orders are packed.
HOLDING_STOCK = (OrderStatus.AWAITING_PAYMENT, OrderStatus.PLACED)


class PaymentMethod(models.TextChoices):
    ONLINE = "online", _("Pay online")
    ON_DELIVERY = "on_delivery", _("Pay on delivery")
    FREE = "free", _("Free (baseline)")


class PaymentState(models.TextChoices):
    AWAITING = "awaiting", _("Awaiting payment")
    PAID = "paid", _("Paid")
    TO_COLLECT = "to_collect", _("To collect on delivery")
    FREE = "free", _("Free")
    TO_REFUND = "to_refund", _("Being refunded")
    REFUNDED = "refunded", _("Refunded")
    VOID = "void", _("Nothing to pay")


class WhenOut(models.TextChoices):
    """What the household wants when the supplier cannot supply an item after all."""

    DROP = "drop", _("Leave it out and give the money back")
    SUBSTITUTE = "substitute", _("Send a similar product at the same price or less")


class Order(models.Model):
    household = models.ForeignKey(
        Household, on_delete=models.PROTECT, related_name="orders", verbose_name=_("household")
    )
    cycle = models.ForeignKey(Cycle, on_delete=models.PROTECT, related_name="orders", verbose_name=_("cycle"))
    status = models.CharField(_("status"), max_length=10, choices=OrderStatus.choices, default=OrderStatus.PLACED)
    channel = models.CharField(_("channel"), max_length=10, choices=Channel.choices)
    placed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        verbose_name=_("placed by"),
    )
    note = models.CharField(_("note"), max_length=200, blank=True)
    total = models.DecimalField(_("total"), max_digits=10, decimal_places=2)
    payment_method = models.CharField(_("payment"), max_length=12, choices=PaymentMethod.choices)
    payment_state = models.CharField(_("payment state"), max_length=12, choices=PaymentState.choices)
    urgent = models.BooleanField(
        _("urgent"),
        default=False,
        help_text=_("Medicine that cannot wait: delivered the same day as an urgent package."),
    )
    standing_order = models.ForeignKey(
        "StandingOrder",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="orders",
        verbose_name=_("standing order"),
    )
    # NULL, not "": many orders have no key, and the unique constraint holds only among those that do.
    when_out = models.CharField(
        _("if an item is out"), max_length=10, choices=WhenOut.choices, default=WhenOut.DROP, db_default=WhenOut.DROP
    )
    idempotency_key = models.CharField(max_length=100, null=True, blank=True)  # noqa: DJ001
    request_hash = models.CharField(max_length=64, blank=True)
    created_at = models.DateTimeField(_("placed at"), auto_now_add=True)
    cancelled_at = models.DateTimeField(_("cancelled at"), null=True, blank=True)
    cancelled_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        verbose_name=_("cancelled by"),
    )

    class Meta:
        verbose_name = _("order")
        verbose_name_plural = _("orders")
        ordering = ["-created_at", "-id"]
        indexes = [
            models.Index(fields=["cycle", "household"], name="order_cycle_household"),
            # the beat's "order confirmed" notices look at the orders of the last hour
            models.Index(fields=["created_at"], name="order_recent"),
        ]
        constraints = [
            # every unique key holds the cycle: the table is partitioned by it on PostgreSQL
            models.UniqueConstraint(
                fields=["placed_by", "idempotency_key", "cycle"],
                condition=Q(idempotency_key__isnull=False),
                name="order_idempotency_key",
            ),
            models.CheckConstraint(condition=Q(total__gte=0), name="order_total_not_negative"),
            models.UniqueConstraint(
                fields=["cycle", "household"], condition=Q(channel="baseline"), name="one_baseline_order_per_cycle"
            ),
            models.UniqueConstraint(
                fields=["cycle", "standing_order"],
                condition=Q(standing_order__isnull=False),
                name="one_order_per_standing_order_and_cycle",
            ),
        ]

    def __str__(self) -> str:
        return _("Order %(id)s") % {"id": self.pk}

    @property
    def pay_by(self):
        """Until when an order awaiting its online payment can be paid (then it expires)."""
        import datetime

        return self.created_at + datetime.timedelta(minutes=settings.PAYMENT_EXPIRY_MINUTES)


def copied_cycle() -> models.ForeignKey:
    """The cycle of the row a row belongs to (its order, its package), copied into it: on PostgreSQL
    the table is partitioned by it, and a composite key to that row holds the two equal
    (ARCHITECTURE.md, "Partitioned by cycle"); no key of its own (that one implies it)."""
    return models.ForeignKey(
        Cycle,
        on_delete=models.DO_NOTHING,
        db_constraint=False,
        db_index=False,
        related_name="+",
        editable=False,
        verbose_name=_("cycle"),
    )


class OrderLine(models.Model):
    order = models.ForeignKey(Order, on_delete=models.CASCADE, related_name="lines", verbose_name=_("order"))
    # The order's cycle, copied: the composite key (order, cycle) holds it equal to the order's.
    cycle = copied_cycle()
    product = models.ForeignKey(Product, on_delete=models.PROTECT, related_name="+", verbose_name=_("product"))
    name = models.CharField(_("name"), max_length=140)
    unit = models.CharField(pgettext_lazy("product", "unit"), max_length=10)
    quantity = models.PositiveIntegerField(_("quantity"))
    unit_price = models.DecimalField(_("unit price"), max_digits=8, decimal_places=2)
    line_total = models.DecimalField(_("line total"), max_digits=10, decimal_places=2)

    class Meta:
        verbose_name = _("order line")
        verbose_name_plural = _("order lines")
        ordering = ["order_id", "id"]
        constraints = [
            # every unique key holds the cycle: PostgreSQL asks it of a table partitioned by it
            models.UniqueConstraint(fields=["order", "product", "cycle"], name="one_line_per_product"),
            models.CheckConstraint(condition=Q(quantity__gt=0), name="line_quantity_positive"),
        ]

    def __str__(self) -> str:
        return f"{self.name} ×{self.quantity}"


class BaselineItem(models.Model):
    """One product of a district's baseline package (vegetables, medicine, epidemic-prevention
    supplies), given free every cycle to each stay-at-home household."""

    district = models.ForeignKey(
        District, on_delete=models.CASCADE, related_name="baseline_items", verbose_name=_("district")
    )
    product = models.ForeignKey(Product, on_delete=models.PROTECT, related_name="+", verbose_name=_("product"))
    quantity = models.PositiveSmallIntegerField(_("quantity"), default=1)

    class Meta:
        verbose_name = _("baseline package item")
        verbose_name_plural = _("baseline package items")
        constraints = [
            models.UniqueConstraint(fields=["district", "product"], name="baseline_item_once_per_district"),
            models.CheckConstraint(condition=Q(quantity__gt=0), name="baseline_quantity_positive"),
        ]

    def __str__(self) -> str:
        return f"{self.product_id} ×{self.quantity}"


class StandingOrder(models.Model):
    """A ledger household's regular need (e.g. its blood-pressure medicine), ordered every cycle."""

    household = models.ForeignKey(
        Household, on_delete=models.CASCADE, related_name="standing_orders", verbose_name=_("household")
    )
    product = models.ForeignKey(Product, on_delete=models.PROTECT, related_name="+", verbose_name=_("product"))
    quantity = models.PositiveSmallIntegerField(_("quantity"), default=1)
    note = models.CharField(_("note"), max_length=200, blank=True)
    is_active = models.BooleanField(_("active"), default=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        verbose_name=_("created by"),
    )
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)

    class Meta:
        verbose_name = _("standing order")
        verbose_name_plural = _("standing orders")
        constraints = [
            models.UniqueConstraint(fields=["household", "product"], name="one_standing_order_per_product"),
            models.CheckConstraint(condition=Q(quantity__gt=0), name="standing_quantity_positive"),
        ]

    def __str__(self) -> str:
        return f"{self.product_id} ×{self.quantity}"


from supply.models.alerts import RestockAlert  # noqa: E402, F401
from supply.models.baskets import SavedBasket  # noqa: E402, F401
from supply.models.payments import (  # noqa: E402, F401  (re-exported; they refer to Order by name)
    Payment,
    PaymentNotice,
    PaymentProvider,
    PaymentStatus,
    Refund,
    RefundReason,
    RefundStatus,
)
from supply.models.shortfalls import Shortfall  # noqa: E402, F401
