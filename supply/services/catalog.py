"""Catalog upkeep by supplier staff: a product's details, capacity and limits."""

from collections.abc import Callable
from typing import Any

from django.db import IntegrityError, transaction
from django.utils.translation import gettext as _

from core.errors import BaogongError, NotFound
from households.models import User
from supply.models import (
    Category,
    Cycle,
    CycleStatus,
    CycleStock,
    Product,
)
from supply.services.limits import MAX_QUANTITY

# --- catalog upkeep by supplier staff --------------------------------------------------------------

PHOTO_MAX_BYTES = 2 * 1024 * 1024
MAX_CAPACITY = 1_000_000


class _Unchanged:
    def __repr__(self) -> str:
        return "UNCHANGED"


UNCHANGED = _Unchanged()  # an argument left out of product_update keeps the product's value


def _text(value, *, field: str, label: str, max_length: int, required: bool) -> str:
    value = str(value or "").strip()
    if required and not value:
        message = _("Enter the %(field)s.") % {"field": label}
        raise BaogongError(message, errors={field: [message]})
    if len(value) > max_length:
        message = _("The %(field)s is too long (at most %(n)d characters).") % {"field": label, "n": max_length}
        raise BaogongError(message, errors={field: [message]})
    return value


def _whole_number(value, *, field: str, low: int, high: int) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
        message = _("Enter a whole number from %(low)d to %(high)d.") % {"low": low, "high": high}
        raise BaogongError(message, errors={field: [message]})
    return value


def _category(value) -> str:
    if value not in Category.values:
        raise BaogongError(_("Choose a category."), errors={"category": [_("Choose a category.")]})
    return value


def _household_limit(value) -> int | None:
    return None if value is None else _whole_number(value, field="household_limit", low=1, high=MAX_QUANTITY)


# How each field of a partial update is checked, in the order its errors are reported.
_PRODUCT_FIELDS: dict[str, Callable[[Any], Any]] = {
    "name": lambda v: _text(v, field="name", label=_("name"), max_length=100, required=True),
    "unit": lambda v: _text(v, field="unit", label=_("unit"), max_length=10, required=True),
    "size": lambda v: _text(v, field="size", label=_("size"), max_length=30, required=False),
    "description": lambda v: _text(v, field="description", label=_("description"), max_length=300, required=False),
    "category": _category,
    "is_bundle": bool,
    "is_active": bool,
    "household_limit": _household_limit,
    "capacity": lambda v: _whole_number(v, field="capacity", low=0, high=MAX_CAPACITY),
}


def _same_name_refused(product: Product) -> BaogongError:
    message = _("You already have a product “%(name)s” of this size.") % {"name": product}
    return BaogongError(message, errors={"name": [message]})


def _open_cycle_stock_follow(product: Product, changed: list[str]) -> None:
    """The open cycle's stock row follows the product: created when it is on sale and has none, its
    capacity changed with the product's, never below what residents' orders hold there."""
    cycle = Cycle.objects.filter(status=CycleStatus.OPEN).first()
    if cycle is None:
        return
    stock = CycleStock.objects.select_for_update().filter(cycle=cycle, product=product).first()
    if stock is None and product.is_active:
        CycleStock.objects.create(cycle=cycle, product=product, capacity=product.capacity)
    elif stock is not None and "capacity" in changed:
        # The capacity is what residents can buy; the stock holds the baseline on top of it.
        # Conditional UPDATE, like order_place's reservation: it cannot undercut an order in flight.
        total = product.capacity + stock.baseline
        if not CycleStock.objects.filter(pk=stock.pk, reserved__lte=total).update(capacity=total):
            message = _(
                "Residents' orders in this cycle already hold %(ordered)d of this product: the capacity cannot "
                "be lower than that."
            ) % {"ordered": stock.reserved - stock.baseline}
            raise BaogongError(message, errors={"capacity": [message]})


def _photo_put(product: Product, photo, changed: list[str]) -> None:
    """A new photo (at most 2 MB), or ``None`` to remove it."""
    if photo is None:
        if product.photo:
            product.photo = ""
            changed.append("photo")
        return
    if photo.size > PHOTO_MAX_BYTES:
        message = _("The photo is too large (at most 2 MB).")
        raise BaogongError(message, errors={"photo": [message]})
    product.photo = photo
    changed.append("photo")


@transaction.atomic
def product_update(
    *,
    product_id: int,
    by: User | None,
    name=UNCHANGED,
    category=UNCHANGED,
    unit=UNCHANGED,
    size=UNCHANGED,
    description=UNCHANGED,
    is_bundle=UNCHANGED,
    capacity=UNCHANGED,
    household_limit=UNCHANGED,
    is_active=UNCHANGED,
    photo=UNCHANGED,
) -> Product:
    """Change a product's details (never its price: that is :func:`product_price_set`, which keeps the history).

    Arguments left out keep their value; ``household_limit=None`` removes the limit and
    ``photo=None`` removes the photo. Guarantees:
    - a capacity change also changes the product's capacity in the open cycle, atomically and
      never below what placed orders have reserved there (refused with the reserved amount);
    - a product put back on sale during an open cycle gets its capacity in that cycle;
    - a photo is at most 2 MB; a name and size already used by the supplier is refused;
    - on any refusal nothing changes. Orders already placed keep their lines as they were.
    """
    product = Product.objects.select_for_update().filter(pk=product_id).first()
    if product is None:
        raise NotFound(_("Unknown product."))
    given = {
        "name": name,
        "unit": unit,
        "size": size,
        "description": description,
        "category": category,
        "is_bundle": is_bundle,
        "is_active": is_active,
        "household_limit": household_limit,
        "capacity": capacity,
    }
    changed: list[str] = []
    for field_name, clean in _PRODUCT_FIELDS.items():
        if given[field_name] is UNCHANGED:
            continue
        value = clean(given[field_name])
        if getattr(product, field_name) != value:
            setattr(product, field_name, value)
            changed.append(field_name)
    if ("name" in changed or "size" in changed) and Product.objects.filter(
        supplier_id=product.supplier_id, name=product.name, size=product.size
    ).exclude(pk=product.pk).exists():
        raise _same_name_refused(product)
    _open_cycle_stock_follow(product, changed)
    if photo is not UNCHANGED:
        _photo_put(product, photo, changed)
    if changed:
        try:
            with transaction.atomic():
                product.save(update_fields=changed)
        except IntegrityError:  # the same name and size saved at the same moment by a colleague
            raise _same_name_refused(product) from None
    return product
