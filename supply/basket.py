"""A resident's basket: ``{product id: quantity}``, kept with the account (``SavedBasket``: the
same on every phone, and after signing in again) and in the session, and nothing else.

Prices are never kept here. Every page prices the basket again from the catalog (the household's
posted prices of this moment), and ``services.order_place`` reads them once more under lock, so
a price edited into the session can change nothing.
"""

from collections.abc import Iterator
from dataclasses import dataclass, field
from decimal import Decimal

from django.utils.translation import gettext as _

from core.errors import BaogongError, Conflict
from supply.models import Product, SavedBasket
from supply.services import MAX_LINES, MAX_QUANTITY

SESSION_KEY = "supply_basket"


def quantity_message() -> str:
    return _("The quantity must be a whole number from 1 to %(max)d.") % {"max": MAX_QUANTITY}


class Basket:
    """The quantities a resident has put aside, validated on the way in and on the way out."""

    def __init__(self, session, user=None):
        """The basket of this session; for a signed-in user the one kept with the account (one
        query), the same on every phone."""
        self.session = session
        self.user_id = user.pk if user is not None and user.is_authenticated else None
        raw = session.get(SESSION_KEY)
        if self.user_id is not None:  # the account's basket is the truth (emptied elsewhere: empty)
            raw = SavedBasket.objects.filter(user_id=self.user_id).values_list("items", flat=True).first()
        self._items = self._clean(raw)

    @staticmethod
    def _clean(raw) -> dict[int, int]:
        """Whatever is in the session, keep only well-formed lines (an old or tampered cookie must not break a page)."""
        items: dict[int, int] = {}
        if not isinstance(raw, dict):
            return items
        for key, quantity in raw.items():
            if len(items) >= MAX_LINES:
                break
            if (
                not (str(key).isascii() and str(key).isdigit())
                or isinstance(quantity, bool)
                or not isinstance(quantity, int)
            ):
                continue
            if int(key) > 0 and 1 <= quantity <= MAX_QUANTITY:
                items[int(key)] = quantity
        return items

    def save(self) -> None:
        """Keep the basket (the session and, signed in, the account's copy: one write)."""
        self._save()

    def _save(self) -> None:
        items = {str(pid): quantity for pid, quantity in self._items.items()}
        self.session[SESSION_KEY] = items
        self.session.modified = True
        if self.user_id is not None:
            SavedBasket.objects.update_or_create(user_id=self.user_id, defaults={"items": items})

    def __len__(self) -> int:
        return len(self._items)

    def __bool__(self) -> bool:
        return bool(self._items)

    def __iter__(self) -> Iterator[tuple[int, int]]:
        return iter(list(self._items.items()))

    def __contains__(self, product_id: int) -> bool:
        return product_id in self._items

    @property
    def product_ids(self) -> list[int]:
        return list(self._items)

    @property
    def units(self) -> int:
        return sum(self._items.values())

    def quantity(self, product_id: int) -> int:
        return self._items.get(product_id, 0)

    def add(self, product: Product, quantity: int, *, already_ordered: int = 0, save: bool = True) -> int:
        """Add ``quantity`` of a catalog product (annotated with ``available``); return the new quantity.

        Refuses, with a message the resident can act on, what ``order_place`` would refuse anyway:
        a bad quantity, more than is left this cycle, more than the household limit allows.
        """
        return self.set(product, self.quantity(product.pk) + quantity, already_ordered=already_ordered, save=save)

    def set(self, product: Product, quantity: int, *, already_ordered: int = 0, save: bool = True) -> int:
        """Replace the quantity of a product in the basket (same checks as :meth:`add`). With
        ``save=False`` the caller saves once after several lines (:meth:`save`)."""
        if isinstance(quantity, bool) or not isinstance(quantity, int) or not 1 <= quantity <= MAX_QUANTITY:
            raise BaogongError(quantity_message(), errors={"quantity": [quantity_message()]})
        if product.pk not in self._items and len(self._items) >= MAX_LINES:
            raise BaogongError(_("A basket can hold at most %(n)d different products.") % {"n": MAX_LINES})
        problem = line_problem(product, quantity, already_ordered=already_ordered)
        if problem:
            raise Conflict(problem, errors={"quantity": [problem]})
        self._items[product.pk] = quantity
        if save:
            self._save()
        return quantity

    def remove(self, product_id: int) -> None:
        if self._items.pop(product_id, None) is not None:
            self._save()

    def clear(self) -> None:
        self._items = {}
        self.session.pop(SESSION_KEY, None)
        self.session.modified = True
        if self.user_id is not None:
            SavedBasket.objects.filter(user_id=self.user_id).delete()

    def order_lines(self) -> list[dict[str, int]]:
        """The basket in the shape ``services.order_place`` takes."""
        return [{"product": pid, "quantity": quantity} for pid, quantity in sorted(self._items.items())]


def line_problem(product: Product, quantity: int, *, already_ordered: int = 0) -> str:
    """Why ``quantity`` of this catalog product cannot be ordered now, or "" if it can.

    ``product.available`` is the capacity left in the open cycle; ``already_ordered`` what the
    household holds in placed orders of that cycle (it counts against the household limit).
    """
    available = getattr(product, "available", 0)
    if available <= 0:
        return _("“%(name)s” is sold out for this cycle.") % {"name": product}
    if quantity > available:
        return _("Only %(left)d of “%(name)s” are left for this cycle.") % {"left": available, "name": product}
    limit = product.household_limit
    if limit and already_ordered + quantity > limit:
        return _("“%(name)s” is limited to %(limit)d per household in each cycle; you can add %(left)d more.") % {
            "name": product,
            "limit": limit,
            "left": max(limit - already_ordered, 0),
        }
    return ""


@dataclass(frozen=True)
class PricedLine:
    product: Product
    quantity: int
    problem: str = ""

    @property
    def line_total(self) -> Decimal:
        return self.product.price * self.quantity


@dataclass(frozen=True)
class PricedBasket:
    lines: list[PricedLine] = field(default_factory=list)
    # Products in the basket the household can no longer order (off sale, price above the cap, …).
    gone: list[int] = field(default_factory=list)

    @property
    def total(self) -> Decimal:
        return sum((line.line_total for line in self.lines), Decimal("0.00"))

    @property
    def units(self) -> int:
        return sum(line.quantity for line in self.lines)

    @property
    def has_problems(self) -> bool:
        return any(line.problem for line in self.lines)


def basket_price(
    basket: Basket, products, *, ordered: dict[int, int] | None = None, check: bool = True
) -> PricedBasket:
    """Price the basket at today's posted prices from ``products`` (a catalog queryset).

    ``check`` adds each line's problem (sold out, too few left, household limit) for an open cycle.
    """
    if not basket:
        return PricedBasket()
    ordered = ordered or {}
    found = {product.pk: product for product in products.filter(pk__in=basket.product_ids)}
    lines = [
        PricedLine(
            product=found[pid],
            quantity=quantity,
            problem=line_problem(found[pid], quantity, already_ordered=ordered.get(pid, 0)) if check else "",
        )
        for pid, quantity in basket
        if pid in found
    ]
    lines.sort(key=lambda line: (line.product.category, line.product.name, line.product.pk))
    return PricedBasket(lines=lines, gone=[pid for pid, _quantity in basket if pid not in found])
