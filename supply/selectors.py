"""Reads of catalogs, cycles and orders, narrowed by :mod:`households.access`."""

import datetime
from dataclasses import dataclass

from django.db.models import Count, F, OuterRef, Prefetch, Q, QuerySet, Subquery, Value
from django.db.models.functions import Coalesce, Greatest
from django.shortcuts import get_object_or_404
from django.utils import timezone

from households.access import restrict, scope_of
from households.models import DeliveryMode, Household, Role, User, delivery_mode_for
from households.permissions import role_of
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


def catalog(*, household: Household, cycle: Cycle | None, category: str = "", search: str = "") -> QuerySet[Product]:
    """What this household can order: products on sale at an approved posted price, from whitelisted
    suppliers serving its district, with ``available`` (capacity left in the cycle) annotated.

    ``household`` must come with ``building__compound__community__office`` loaded.
    """
    district_id = household.building.compound.community.office.district_id
    qs = (
        Product.objects.filter(
            is_active=True,
            price_state=PriceState.APPROVED,
            supplier__is_whitelisted=True,
            supplier__districts=district_id,
        )
        .select_related("supplier")
        .order_by("category", "name", "id")
    )
    if category:
        qs = qs.filter(category=category)
    search = search.strip()
    if search:
        matches = Q(name__contains=search) | Q(description__contains=search) | Q(supplier__name__contains=search)
        latin = search.lower().replace(" ", "")
        if latin.isascii() and latin.isalpha():  # pinyin or its initials: jidan, jd
            matches |= Q(search_key__contains=latin)
        qs = qs.filter(matches)
    if cycle is None:
        return qs.annotate(available=Value(0))
    left = (
        CycleStock.objects.filter(cycle=cycle, product=OuterRef("pk"))
        .annotate(left=Greatest(F("capacity") - F("reserved"), Value(0)))
        .values("left")[:1]
    )
    return qs.annotate(available=Coalesce(Subquery(left), Value(0)))


def household_for_ordering(*, user: User, household_id: int) -> Household:
    """A household the user may order for (own household, or one in the staff member's scope), or 404."""
    return get_object_or_404(
        restrict(Household.objects.select_related("building__compound__community__office__district"), user),
        pk=household_id,
    )


def household_id_for_ordering(*, user: User, household_id: int) -> int:
    """Like :func:`household_for_ordering`, for a caller that needs only the id.

    A resident ordering for the own household costs no query: in :mod:`households.access` a
    resident's scope is exactly the household the account is linked to (computing the whole scope,
    with the places above it, took a quarter of an order request's CPU). Anything else is decided
    by the scope: staff need one narrow query, and a resident naming another household gets 404.
    ``tests/supply/test_services.py`` holds this to what ``access.restrict`` answers, for every role.
    """
    if (
        user.is_active
        and role_of(user) == Role.RESIDENT
        and user.household_id is not None
        and household_id == user.household_id
    ):
        return household_id
    scope = scope_of(user)
    if scope.level == "household" and scope.household_id == household_id:
        return household_id
    return get_object_or_404(restrict(Household.objects.only("pk"), user), pk=household_id).pk


def _orders(user: User) -> QuerySet[Order]:
    # An order's package comes through supply.packages (deliveries registers the reader).
    return (
        restrict(Order.objects.all(), user)
        .select_related("cycle", "placed_by")
        .prefetch_related(Prefetch("lines", queryset=OrderLine.objects.order_by("id")))
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
        return str(DeliveryMode(self.mode).label)


def delivery_expectation(*, household: Household, cycle: Cycle) -> DeliveryExpectation:
    """When and how this cycle's package should reach the household, by today's lockdown level.

    ``household`` must come with ``building__compound`` loaded.
    """
    compound = household.building.compound
    return DeliveryExpectation(
        date=cycle.first_delivery_date + datetime.timedelta(days=compound.delivery_day),
        mode=delivery_mode_for(household.effective_level),
    )


def pending_price_changes(*, user: User) -> QuerySet[PriceChange]:
    return restrict(
        PriceChange.objects.filter(state=PriceState.PENDING).select_related("product__supplier", "changed_by"), user
    ).order_by("changed_at", "id")


def price_history(*, user: User, product_id: int) -> QuerySet[PriceChange]:
    return restrict(PriceChange.objects.filter(product_id=product_id).select_related("changed_by", "decided_by"), user)


def supplier_list(*, user: User) -> QuerySet[Supplier]:
    return restrict(Supplier.objects.prefetch_related("districts"), user)


# --- catalog pages (supplier staff and task force) ------------------------------------------------


def stock_cycle() -> Cycle | None:
    """The cycle whose stock suppliers watch: the one with status open, before or after its cutoff."""
    return Cycle.objects.filter(status=CycleStatus.OPEN).first()


def catalog_products(
    *,
    user: User,
    cycle: Cycle | None = None,
    supplier_id: int | None = None,
    category: str = "",
    price_state: str = "",
    search: str = "",
) -> QuerySet[Product]:
    """Products the user may see (supplier staff: their own), with ``stock_capacity`` (what
    residents can buy), ``stock_reserved`` (what residents' orders hold), ``stock_available``
    and ``stock_baseline`` (held on top for the free baseline and standing orders) in ``cycle``
    annotated (None without a stock row). One query whatever the number of products."""
    qs = restrict(Product.objects.select_related("supplier"), user)
    if supplier_id is not None:
        qs = qs.filter(supplier_id=supplier_id)
    if category:
        qs = qs.filter(category=category)
    if price_state:
        qs = qs.filter(price_state=price_state)
    search = search.strip()
    if search:
        qs = qs.filter(Q(name__contains=search) | Q(supplier__name__contains=search))
    if cycle is not None:
        stock = CycleStock.objects.filter(cycle=cycle, product=OuterRef("pk"))
        qs = qs.annotate(
            stock_capacity=Subquery(stock.annotate(sale=F("capacity") - F("baseline")).values("sale")[:1]),
            stock_reserved=Subquery(stock.annotate(ordered=F("reserved") - F("baseline")).values("ordered")[:1]),
            stock_baseline=Subquery(stock.values("baseline")[:1]),
            stock_available=Subquery(
                stock.annotate(left=Greatest(F("capacity") - F("reserved"), Value(0))).values("left")[:1]
            ),
        )
    return qs.order_by("category", "name", "id")


def catalog_product_get(*, user: User, pk: int, cycle: Cycle | None = None) -> Product:
    """One product the user may see, or 404 (supplier staff never reach another supplier's);
    with ``cycle``, annotated like :func:`catalog_products`."""
    return get_object_or_404(catalog_products(user=user, cycle=cycle), pk=pk)


def price_queue(*, user: User) -> QuerySet[PriceChange]:
    """Prices waiting for the task force: each product's latest change, still pending, oldest first.

    A pending change replaced by a newer price is no longer in the queue (the newer one is).
    """
    latest = PriceChange.objects.filter(product=OuterRef("product")).order_by("-changed_at", "-id").values("pk")[:1]
    return restrict(
        PriceChange.objects.filter(state=PriceState.PENDING, product__price_state=PriceState.PENDING)
        .annotate(latest_id=Subquery(latest))
        .filter(pk=F("latest_id"))
        .select_related("product__supplier", "changed_by"),
        user,
    ).order_by("changed_at", "id")


def price_change_get(*, user: User, pk: int) -> PriceChange:
    return get_object_or_404(restrict(PriceChange.objects.select_related("product"), user), pk=pk)


def supplier_overview(*, user: User, district_id: int | None = None) -> QuerySet[Supplier]:
    """Suppliers the user may see with the districts they serve and ``products_on_sale`` counted."""
    qs = restrict(
        Supplier.objects.select_related("whitelisted_by")
        .prefetch_related("districts")
        .annotate(products_on_sale=Count("products", filter=Q(products__is_active=True))),
        user,
    )
    if district_id is not None:
        qs = qs.filter(districts=district_id)
    return qs.order_by("name")


def supplier_get(*, user: User, pk: int) -> Supplier:
    return get_object_or_404(restrict(Supplier.objects.all(), user), pk=pk)


def household_ordered_quantities(*, user: User, household_id: int, cycle: Cycle) -> dict[int, int]:
    """{product id: units} the household holds in placed orders of ``cycle`` (what counts against limits)."""
    from django.db.models import Sum

    from supply.models import HOLDING_STOCK

    return dict(
        restrict(
            OrderLine.objects.filter(
                order__household_id=household_id, order__cycle=cycle, order__status__in=HOLDING_STOCK
            ),
            user,
        )
        .values_list("product_id")
        .annotate(units=Sum("quantity"))
        .order_by()
    )


def order_by_idempotency_key(*, user: User, key: str) -> Order | None:
    """The order this user already placed with ``key`` (a resubmitted form), or None."""
    return _orders(user).filter(placed_by=user, idempotency_key=key).first()


def refundable_lines(*, user: User, order_ids) -> QuerySet[OrderLine]:
    """The lines of these orders the user may refund as not supplied: orders paid online and still
    placed, within the user's scope; each with ``refunded`` (already sent back)."""
    from django.db.models import Exists

    from supply.models import PaymentMethod, PaymentState, Refund

    return (
        restrict(OrderLine.objects.filter(order_id__in=order_ids), user)
        .filter(
            order__status="placed",
            order__payment_method=PaymentMethod.ONLINE,
            order__payment_state=PaymentState.PAID,
        )
        .annotate(refunded=Exists(Refund.objects.filter(line_id=OuterRef("pk"))))
        .order_by("order_id", "pk")
    )


def restock_alerts(*, household_id: int, cycle: Cycle, product_ids) -> set[int]:
    """Which of these products the household asked to be told about when back (one query)."""
    from supply.models import RestockAlert

    return set(
        RestockAlert.objects.filter(
            household_id=household_id, cycle=cycle, product_id__in=product_ids, notified_at__isnull=True
        ).values_list("product_id", flat=True)
    )
