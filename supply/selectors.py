"""Reads of catalogs, cycles and orders, narrowed by :mod:`households.access`."""

import datetime
from dataclasses import dataclass

from django.db.models import F, OuterRef, Prefetch, Q, QuerySet, Subquery, Value
from django.db.models.functions import Coalesce, Greatest
from django.shortcuts import get_object_or_404
from django.utils import timezone

from households.access import restrict
from households.models import DeliveryMode, Household, User, delivery_mode_for
from supply.models import Cycle, CycleStatus, CycleStock, Order, OrderLine, PriceChange, PriceState, Product, Supplier


def open_cycle(*, now: datetime.datetime | None = None) -> Cycle | None:
    """The cycle taking orders now, or None (none open, or its cutoff has passed)."""
    now = now or timezone.now()
    cycle = Cycle.objects.filter(status=CycleStatus.OPEN).first()
    if cycle is None or not cycle.opens_at <= now < cycle.cutoff_at:
        return None
    return cycle


def latest_cycle() -> Cycle | None:
    return Cycle.objects.order_by("-number").first()


def catalog(
    *, household: Household, cycle: Cycle | None, category: str = "", search: str = ""
) -> QuerySet[Product]:
    """What this household can order: products on sale at an approved posted price, from whitelisted
    suppliers serving its district, with ``available`` (capacity left in the cycle) annotated.

    ``household`` must come with ``building__compound__community__office`` loaded.
    """
    district_id = household.building.compound.community.office.district_id
    qs = (
        Product.objects.filter(
            is_active=True, price_state=PriceState.APPROVED, supplier__is_whitelisted=True,
            supplier__districts=district_id,
        )
        .select_related("supplier")
        .order_by("category", "name", "id")
    )
    if category:
        qs = qs.filter(category=category)
    search = search.strip()
    if search:
        qs = qs.filter(Q(name__contains=search) | Q(description__contains=search) | Q(supplier__name__contains=search))
    if cycle is None:
        return qs.annotate(available=Value(0))
    left = CycleStock.objects.filter(cycle=cycle, product=OuterRef("pk")).annotate(
        left=Greatest(F("capacity") - F("reserved"), Value(0))
    ).values("left")[:1]
    return qs.annotate(available=Coalesce(Subquery(left), Value(0)))


def household_for_ordering(*, user: User, household_id: int) -> Household:
    """A household the user may order for (own household, or one in the staff member's scope), or 404."""
    return get_object_or_404(
        restrict(Household.objects.select_related("building__compound__community__office__district"), user),
        pk=household_id,
    )


def _orders(user: User) -> QuerySet[Order]:
    return restrict(Order.objects.all(), user).select_related("cycle", "placed_by").prefetch_related(
        Prefetch("lines", queryset=OrderLine.objects.order_by("id"))
    )


def order_list(*, user: User, household_id: int | None = None, cycle_id: int | None = None) -> QuerySet[Order]:
    """Orders the user may see, newest first; a resident's are their household's."""
    qs = _orders(user)
    if household_id is not None:
        qs = qs.filter(household_id=household_id)
    if cycle_id is not None:
        qs = qs.filter(cycle_id=cycle_id)
    return qs.order_by("-created_at", "-id")


def order_get(*, user: User, pk: int) -> Order:
    """One order the user may see, or 404 (never another household's)."""
    return get_object_or_404(_orders(user), pk=pk)


@dataclass(frozen=True)
class DeliveryExpectation:
    date: datetime.date
    mode: str

    @property
    def mode_label(self) -> str:
        return DeliveryMode(self.mode).label


def delivery_expectation(*, household: Household, cycle: Cycle) -> DeliveryExpectation:
    """When and how this cycle's package should reach the household, by today's lockdown level.

    ``household`` must come with ``building__compound`` loaded.
    """
    compound = household.building.compound
    return DeliveryExpectation(
        date=cycle.first_delivery_date + datetime.timedelta(days=compound.delivery_day),
        mode=delivery_mode_for(household.effective_level),
    )


def supplier_products(*, user: User, supplier_id: int | None = None) -> QuerySet[Product]:
    qs = restrict(Product.objects.select_related("supplier"), user)
    if supplier_id is not None:
        qs = qs.filter(supplier_id=supplier_id)
    return qs.order_by("category", "name", "id")


def pending_price_changes(*, user: User) -> QuerySet[PriceChange]:
    return restrict(
        PriceChange.objects.filter(state=PriceState.PENDING).select_related("product__supplier", "changed_by"), user
    ).order_by("changed_at", "id")


def price_history(*, user: User, product_id: int) -> QuerySet[PriceChange]:
    return restrict(PriceChange.objects.filter(product_id=product_id).select_related("changed_by", "decided_by"), user)


def supplier_list(*, user: User) -> QuerySet[Supplier]:
    return restrict(Supplier.objects.prefetch_related("districts"), user)
