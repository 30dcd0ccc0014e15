"""Suppliers on the whitelist and posted prices (明码标价): caps, approval, history."""

from decimal import Decimal, InvalidOperation

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from core.errors import BaogongError, Conflict
from households.models import User
from supply.models import (
    Cycle,
    CycleStatus,
    CycleStock,
    PriceChange,
    PriceState,
    Product,
    Supplier,
)

# --- suppliers and posted prices ----------------------------------------------------------------


@transaction.atomic
def supplier_whitelist(*, supplier_id: int, whitelisted: bool, by: User) -> Supplier:
    """Put a supplier on (or take it off) the task force's whitelist; only whitelisted suppliers sell."""
    supplier = Supplier.objects.select_for_update().get(pk=supplier_id)
    supplier.is_whitelisted = whitelisted
    supplier.whitelisted_by = by if whitelisted else None
    supplier.whitelisted_at = timezone.now() if whitelisted else None
    supplier.save(update_fields=["is_whitelisted", "whitelisted_by", "whitelisted_at"])
    return supplier


def _money(value, field: str = "price") -> Decimal:
    try:
        amount = Decimal(str(value)).quantize(Decimal("0.01"))
    except (InvalidOperation, ValueError, TypeError):
        raise BaogongError(_("Enter a price like 12.50."), errors={field: [_("Enter a price like 12.50.")]}) from None
    if not Decimal("0.01") <= amount <= Decimal("99999.99"):
        raise BaogongError(_("A price must be between 0.01 and 99999.99."), errors={field: [_("Out of range.")]})
    return amount


def _price_state(price: Decimal, cap: Decimal | None) -> str:
    return PriceState.PENDING if cap is not None and price > cap else PriceState.APPROVED


@transaction.atomic
def product_create(
    *,
    supplier_id: int,
    by: User | None,
    name: str,
    category: str,
    unit: str,
    price,
    size: str = "",
    description: str = "",
    is_bundle: bool = False,
    capacity: int = 500,
    household_limit: int | None = None,
) -> Product:
    """Add a product to a supplier's catalog with its first posted price (recorded in the price history).

    The product gets capacity in the open cycle at once, so it can be ordered right away.
    """
    amount = _money(price)
    if Product.objects.filter(supplier_id=supplier_id, name=name.strip(), size=size.strip()).exists():
        raise BaogongError(
            _("You already have a product “%(name)s” of this size.") % {"name": name.strip()},
            errors={"name": [_("You already have a product with this name and size.")]},
        )
    product = Product.objects.create(
        supplier_id=supplier_id,
        name=name.strip(),
        category=category,
        unit=unit.strip(),
        size=size.strip(),
        description=description.strip(),
        is_bundle=is_bundle,
        price=amount,
        capacity=capacity,
        household_limit=household_limit,
    )
    PriceChange.objects.create(
        product=product, old_price=None, new_price=amount, state=PriceState.APPROVED, changed_by=by
    )
    cycle = Cycle.objects.filter(status=CycleStatus.OPEN).first()
    if cycle is not None:
        CycleStock.objects.get_or_create(cycle=cycle, product=product, defaults={"capacity": capacity})
    return product


@transaction.atomic
def product_price_set(*, product_id: int, price, by: User | None) -> Product:
    """Post a new price. Orders already placed keep the price of their lines.

    Guarantees: the change is kept with who and when; a price above the product's reference cap
    is not shown to residents (the product leaves the catalog) until the task force approves it.
    """
    amount = _money(price)
    product = Product.objects.select_for_update().get(pk=product_id)
    if amount == product.price and product.price_state == PriceState.APPROVED:
        return product
    state = _price_state(amount, product.reference_cap)
    PriceChange.objects.create(
        product=product,
        old_price=product.price,
        new_price=amount,
        reference_cap=product.reference_cap,
        state=state,
        changed_by=by,
    )
    product.price, product.price_state = amount, state
    product.save(update_fields=["price", "price_state"])
    return product


@transaction.atomic
def product_reference_cap_set(*, product_id: int, cap, by: User | None) -> Product:
    """Set (or clear, with ``None``) a product's reference cap; the current price is judged against it again."""
    amount = None if cap in (None, "") else _money(cap, field="reference_cap")
    product = Product.objects.select_for_update().get(pk=product_id)
    product.reference_cap = amount
    state = _price_state(product.price, amount)
    if state != product.price_state:
        PriceChange.objects.create(
            product=product,
            old_price=product.price,
            new_price=product.price,
            reference_cap=amount,
            state=state,
            changed_by=by,
        )
        product.price_state = state
    product.save(update_fields=["reference_cap", "price_state"])
    return product


@transaction.atomic
def price_change_decide(*, price_change_id: int, approve: bool, by: User) -> PriceChange:
    """The task force approves (the price is shown) or refuses (it stays hidden) a price above its cap.

    Only the product's latest pending change can be decided; a decided change stays as it is.
    """
    change = PriceChange.objects.select_for_update().select_related("product").get(pk=price_change_id)
    product = Product.objects.select_for_update().get(pk=change.product_id)
    latest = product.price_changes.order_by("-changed_at", "-id").first()
    if change.state != PriceState.PENDING or latest is None or latest.pk != change.pk:
        raise Conflict(_("This price change has already been decided or replaced by a newer one."))
    change.state = PriceState.APPROVED if approve else PriceState.REJECTED
    change.decided_by, change.decided_at = by, timezone.now()
    change.save(update_fields=["state", "decided_by", "decided_at"])
    product.price_state = change.state
    product.save(update_fields=["price_state"])
    return change
