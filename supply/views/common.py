"""What the ordering pages share: the open cycle as the page sees it, the resident's own household,
the delivery it can expect, prices of a basket."""

import uuid
from dataclasses import dataclass

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils import timezone
from django.utils.translation import gettext as _

from core.dates import moment_text
from households.models import Household
from supply import selectors, services
from supply.basket import Basket, PricedBasket, basket_price
from supply.models import Category, Cycle

# "Only N left" from this many units down.
FEW_LEFT = 10
# Orders of earlier cycles shown under "my orders".
PAST_ORDERS = 30


# --- shared -----------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Ordering:
    """Whether orders are taken now; if not, when they will be."""

    cycle: Cycle | None
    closed_message: str = ""

    @property
    def is_open(self) -> bool:
        return self.cycle is not None


def _ordering() -> Ordering:
    cycle = selectors.open_cycle()
    if cycle is not None:
        return Ordering(cycle=cycle)
    opening = services.next_opening()
    if opening > timezone.now():
        message = _("Ordering is closed now. The next cycle opens on %(when)s.") % {"when": moment_text(opening)}
    else:
        message = _(
            "Ordering is closed now. The next cycle opens soon; if you need something urgently, call the supply hotline."
        )
    return Ordering(cycle=None, closed_message=message)


def _in_category_order(products) -> list:
    """Products grouped in the order categories are declared (vegetables first), by name within each."""
    rank = {value: index for index, value in enumerate(Category.values)}
    return sorted(products, key=lambda product: rank.get(product.category, len(rank)))


def _new_key() -> str:
    return uuid.uuid4().hex


def _receiving_point(household: Household) -> str:
    compound = household.building.compound
    return compound.receiving_point or compound.community.receiving_point


def _delivery(household: Household, cycle: Cycle | None) -> dict:
    if cycle is None:
        return {}
    return {
        "expectation": selectors.delivery_expectation(household=household, cycle=cycle),
        "receiving_point": _receiving_point(household),
    }


def _own_household(request: HttpRequest) -> Household | None:
    if not request.user.household_id:
        return None
    return selectors.household_for_ordering(user=request.user, household_id=request.user.household_id)


def _no_household(request: HttpRequest) -> HttpResponse:
    return render(request, "supply/no_household.html", status=403)


def _ordered(request: HttpRequest, household: Household, ordering: Ordering) -> dict[int, int]:
    if not ordering.is_open:
        return {}
    return selectors.household_ordered_quantities(user=request.user, household_id=household.pk, cycle=ordering.cycle)


def _priced(
    request: HttpRequest, household: Household, ordering: Ordering, basket: Basket, ordered=None
) -> PricedBasket:
    if not basket:
        return PricedBasket()
    return basket_price(
        basket,
        selectors.catalog(household=household, cycle=ordering.cycle),
        ordered=ordered if ordered is not None else _ordered(request, household, ordering),
        check=ordering.is_open,
    )
