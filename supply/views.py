"""Ordering pages: a resident's shop, basket and orders; orders placed on a household's behalf by
hotline operators (district) and community workers (community).

Views check the role, call a selector or a service, render. Prices never come from the session or
a form: pages price from the catalog, and ``services.order_place`` fixes the posted price.
"""

import uuid
from dataclasses import dataclass

from django.conf import settings
from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST
from django_ratelimit.decorators import ratelimit

from core.edges import id_param, redirect_back, text_param
from core.errors import BaogongError, Conflict
from households import services as household_services
from households.models import Household
from households.permissions import rule_required
from supply import rules, selectors, services
from supply.basket import Basket, PricedBasket, basket_price
from supply.forms import PAYMENT_CHOICES, BasketLineForm, OnBehalfOrderForm, OrderDetailsForm
from supply.models import Category, Channel, Cycle, Order, OrderStatus, Product
from supply.rules import channel_of

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
        message = _("Ordering is closed now. The next cycle opens on %(when)s.") % {
            "when": date_format(timezone.localtime(opening), "DATETIME_FORMAT")
        }
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


# --- the resident's shop ----------------------------------------------------------------------------


@dataclass(frozen=True)
class ShopItem:
    product: Product
    in_basket: int
    ordered: int

    @property
    def limit_left(self) -> int | None:
        limit = self.product.household_limit
        return None if not limit else max(limit - self.ordered - self.in_basket, 0)

    @property
    def max_add(self) -> int:
        """The most the add box offers: what is left, the household limit, the basket's 99."""
        most = min(self.product.available, services.MAX_QUANTITY) - self.in_basket
        if self.limit_left is not None:
            most = min(most, self.limit_left)
        return max(most, 0)


@require_GET
@rule_required(rules.ORDER_OWN)
def shop(request: HttpRequest) -> HttpResponse:
    household = _own_household(request)
    if household is None:
        return _no_household(request)
    ordering = _ordering()
    category = request.GET.get("category", "")
    if category not in Category.values:
        category = ""
    search = text_param(request.GET, "q")[:50]
    basket = Basket(request.session)
    ordered = _ordered(request, household, ordering)
    items = [
        ShopItem(product=product, in_basket=basket.quantity(product.pk), ordered=ordered.get(product.pk, 0))
        for product in _in_category_order(
            selectors.catalog(household=household, cycle=ordering.cycle, category=category, search=search)
        )
    ]
    return render(
        request,
        "supply/shop.html",
        {
            "household": household,
            "ordering": ordering,
            "items": items,
            "categories": Category.choices,
            "category": category,
            "search": search,
            "priced": _priced(request, household, ordering, basket, ordered),
            "few_left": FEW_LEFT,
            **_delivery(household, ordering.cycle),
        },
    )


@require_GET
@rule_required(rules.ORDER_OWN)
def cycle_status(request: HttpRequest) -> HttpResponse:
    """The current cycle's cutoff and delivery day, for the resident's home page (loaded by htmx)."""
    household = _own_household(request)
    if household is None:
        return HttpResponse("")
    ordering = _ordering()
    return render(
        request, "supply/partials/cycle_status.html", {"ordering": ordering, **_delivery(household, ordering.cycle)}
    )


def _basket_response(
    request: HttpRequest, household: Household, ordering: Ordering, basket: Basket, *, ok: bool, text: str, product=None
):
    """After a change to the basket: htmx gets the new basket bar and the message; a plain form a redirect."""
    if request.htmx:
        return render(
            request,
            "supply/partials/basket_changed.html",
            {
                "priced": _priced(request, household, ordering, basket),
                "ok": ok,
                "text": text,
                "product": product,
                "quantity": basket.quantity(product.pk) if product else 0,
            },
        )
    (messages.success if ok else messages.error)(request, text)
    return redirect_back(request, "supply:shop")


@require_POST
@rule_required(rules.ORDER_OWN)
def basket_add(request: HttpRequest) -> HttpResponse:
    household = _own_household(request)
    if household is None:
        return _no_household(request)
    ordering = _ordering()
    basket = Basket(request.session)
    form = BasketLineForm(request.POST)
    try:
        if not form.is_valid():
            raise BaogongError(form.first_error())
        if not ordering.is_open:
            raise Conflict(ordering.closed_message)
        product = (
            selectors.catalog(household=household, cycle=ordering.cycle).filter(pk=form.cleaned_data["product"]).first()
        )
        if product is None:
            raise BaogongError(_("This product cannot be ordered (not on sale, or not sold in your district)."))
        ordered = _ordered(request, household, ordering).get(product.pk, 0)
        quantity = basket.add(product, form.cleaned_data["quantity"], already_ordered=ordered)
    except BaogongError as exc:
        return _basket_response(request, household, ordering, basket, ok=False, text=exc.message)
    text = _("Added: %(name)s. The basket now holds %(quantity)d %(unit)s.") % {
        "name": product,
        "quantity": quantity,
        "unit": product.unit,
    }
    return _basket_response(request, household, ordering, basket, ok=True, text=text, product=product)


@require_POST
@rule_required(rules.ORDER_OWN)
def basket_update(request: HttpRequest) -> HttpResponse:
    """Change a line's quantity, or remove it (``remove`` in the POST)."""
    household = _own_household(request)
    if household is None:
        return _no_household(request)
    basket = Basket(request.session)
    if "remove" in request.POST:
        product_id = id_param(request.POST, "product")
        if product_id is not None:
            basket.remove(product_id)
            messages.success(request, _("Removed from the basket."))
        return redirect("supply:basket")
    ordering = _ordering()
    form = BasketLineForm(request.POST)
    try:
        if not form.is_valid():
            raise BaogongError(form.first_error())
        product_id = form.cleaned_data["product"]
        if product_id not in basket:
            raise BaogongError(_("This product is not in your basket any more."))
        product = selectors.catalog(household=household, cycle=ordering.cycle).filter(pk=product_id).first()
        if product is None:
            raise BaogongError(_("This product cannot be ordered (not on sale, or not sold in your district)."))
        if not ordering.is_open:
            raise Conflict(ordering.closed_message)
        ordered = _ordered(request, household, ordering).get(product_id, 0)
        basket.set(product, form.cleaned_data["quantity"], already_ordered=ordered)
    except BaogongError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, _("The quantity was changed."))
    return redirect("supply:basket")


def _basket_page(
    request: HttpRequest, household: Household, ordering: Ordering, basket: Basket, form, status: int = 200
):
    priced = _priced(request, household, ordering, basket)
    if priced.gone:
        for product_id in priced.gone:
            basket.remove(product_id)
        messages.warning(
            request, _("Some products are no longer sold to your household and were taken out of the basket.")
        )
    # The hidden total is always the one on this page: a confirm compares it with the prices of then.
    if form.is_bound:
        form.data = form.data.copy()
        form.data["expected_total"] = str(priced.total)
    else:
        form.initial["expected_total"] = priced.total
    return render(
        request,
        "supply/basket.html",
        {
            "household": household,
            "ordering": ordering,
            "priced": priced,
            "form": form,
            **_delivery(household, ordering.cycle),
        },
        status=status,
    )


@require_GET
@rule_required(rules.ORDER_OWN)
def basket(request: HttpRequest) -> HttpResponse:
    household = _own_household(request)
    if household is None:
        return _no_household(request)
    # The key is made when the page is shown: submitting this page twice places one order.
    form = OrderDetailsForm(initial={"idempotency_key": _new_key()})
    return _basket_page(request, household, _ordering(), Basket(request.session), form)


@ratelimit(key="user", rate=settings.ORDER_RATE, method="POST")
@require_POST
@rule_required(rules.ORDER_OWN)
def basket_confirm(request: HttpRequest) -> HttpResponse:
    household = _own_household(request)
    if household is None:
        return _no_household(request)
    ordering = _ordering()
    basket = Basket(request.session)
    form = OrderDetailsForm(request.POST)
    if not form.is_valid():
        return _basket_page(request, household, ordering, basket, form, status=400)
    key = form.cleaned_data["idempotency_key"]
    if not basket:
        # The first of two submits emptied the basket: show the order it placed.
        earlier = selectors.order_by_idempotency_key(user=request.user, key=key)
        if earlier is not None:
            messages.info(request, _("This order was already placed; here it is."))
            return redirect("supply:order_detail", pk=earlier.pk)
        messages.error(request, _("Your basket is empty."))
        return redirect("supply:shop")
    priced = _priced(request, household, ordering, basket)
    expected = form.cleaned_data["expected_total"]
    if ordering.is_open and expected is not None and priced.total != expected and not priced.gone:
        form = OrderDetailsForm(initial=form.cleaned_data)
        messages.warning(
            request,
            _(
                "A posted price or your basket changed since you opened this page. Check the new total, then confirm again."
            ),
        )
        return _basket_page(request, household, ordering, basket, form, status=409)
    try:
        placed = services.order_place(
            household_id=household.pk,
            lines=basket.order_lines(),
            placed_by=request.user,
            channel=Channel.WEB,
            payment_method=form.cleaned_data["payment_method"],
            note=form.cleaned_data["note"],
            idempotency_key=key,
        )
    except BaogongError as exc:
        form.add_error(None, exc.message)
        return _basket_page(request, household, ordering, basket, form, status=exc.status_code)
    basket.clear()
    if placed.created:
        messages.success(request, _("Thank you: order %(number)s is placed.") % {"number": placed.order.pk})
    else:
        messages.info(request, _("This order was already placed; here it is."))
    return redirect("supply:order_detail", pk=placed.order.pk)


# --- the resident's orders --------------------------------------------------------------------------


@dataclass(frozen=True)
class OrderRow:
    order: Order
    can_cancel: bool


def _rows(orders, ordering: Ordering) -> list[OrderRow]:
    return [
        OrderRow(
            order=order,
            can_cancel=ordering.is_open and order.cycle_id == ordering.cycle.pk and order.status == OrderStatus.PLACED,
        )
        for order in orders
    ]


@require_GET
@rule_required(rules.ORDER_OWN)
def order_list(request: HttpRequest) -> HttpResponse:
    household = _own_household(request)
    if household is None:
        return _no_household(request)
    ordering = _ordering()
    current = ordering.cycle or selectors.latest_cycle()
    orders = list(selectors.order_list(user=request.user, household_id=household.pk)[: PAST_ORDERS + 20])
    this_cycle = [order for order in orders if current is not None and order.cycle_id == current.pk]
    earlier = [order for order in orders if current is None or order.cycle_id != current.pk][:PAST_ORDERS]
    return render(
        request,
        "supply/order_list.html",
        {
            "household": household,
            "ordering": ordering,
            "current": current,
            "this_cycle": _rows(this_cycle, ordering),
            "earlier": _rows(earlier, ordering),
            **_delivery(household, current),
        },
    )


@require_GET
@rule_required(rules.ORDER_OWN)
def order_detail(request: HttpRequest, pk: int) -> HttpResponse:
    order = selectors.order_get(user=request.user, pk=pk)
    household = selectors.household_for_ordering(user=request.user, household_id=order.household_id)
    ordering = _ordering()
    return render(
        request,
        "supply/order_detail.html",
        {
            "row": _rows([order], ordering)[0],
            "order": order,
            "household": household,
            "ordering": ordering,
            **_delivery(household, order.cycle),
        },
    )


@require_POST
@rule_required(rules.ORDER_OWN)
def order_cancel(request: HttpRequest, pk: int) -> HttpResponse:
    order = selectors.order_get(user=request.user, pk=pk)
    try:
        services.order_cancel(order_id=order.pk, by=request.user)
    except BaogongError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, _("Order %(number)s is cancelled.") % {"number": order.pk})
    return redirect_back(request, "supply:order_list")


# --- orders on a household's behalf -----------------------------------------------------------------


def _on_behalf_context(request: HttpRequest, household: Household, ordering: Ordering) -> dict:
    shown = ordering.cycle or selectors.latest_cycle()
    existing = (
        list(selectors.order_list(user=request.user, household_id=household.pk, cycle_id=shown.pk)) if shown else []
    )
    return {
        "household": household,
        "phones": list(household.phones.order_by("-is_primary", "id")),
        "ordering": ordering,
        "shown_cycle": shown,
        "existing": existing,
        "existing_placed": [order for order in existing if order.status == OrderStatus.PLACED],
        "channel_label": Channel(channel_of(request.user)).label,
        "few_left": FEW_LEFT,
        **_delivery(household, ordering.cycle),
    }


def _on_behalf_form(request: HttpRequest, household: Household, ordering: Ordering, data=None) -> OnBehalfOrderForm:
    products = _in_category_order(selectors.catalog(household=household, cycle=ordering.cycle))
    return OnBehalfOrderForm(
        data, products=products, initial={"idempotency_key": _new_key(), "payment_method": "on_delivery"}
    )


def _on_behalf_entry(request, household, ordering, form, status=200) -> HttpResponse:
    context = _on_behalf_context(request, household, ordering)
    ordered = _ordered(request, household, ordering)
    context["rows"] = [(product, field, ordered.get(product.pk, 0)) for product, field in form.product_rows()]
    return render(request, "supply/order_new.html", {**context, "form": form}, status=status)


def _read_back(request, household, ordering, form, status=200) -> HttpResponse:
    by_id = {product.pk: product for product in form.products}
    lines = [(by_id[pid], quantity, by_id[pid].price * quantity) for pid, quantity in form.quantities().items()]
    return render(
        request,
        "supply/order_readback.html",
        {
            **_on_behalf_context(request, household, ordering),
            "form": form,
            "lines": lines,
            "total": form.total(),
            "payment_label": dict(PAYMENT_CHOICES)[form.cleaned_data["payment_method"]],
        },
        status=status,
    )


@rule_required(rules.ORDER_ON_BEHALF)
def order_new(request: HttpRequest, household_id: int) -> HttpResponse:
    """GET: the household, its orders of the cycle, the catalog. POST: the read-back page."""
    household = selectors.household_for_ordering(user=request.user, household_id=household_id)
    if request.method == "GET":
        household_services.household_view_record(user=request.user, household_id=household.pk, where="order_on_behalf")
    ordering = _ordering()
    form = _on_behalf_form(request, household, ordering, request.POST if request.method == "POST" else None)
    if request.method == "POST":
        if not ordering.is_open:
            form.add_error(None, ordering.closed_message)
        elif form.is_valid():
            return _read_back(request, household, ordering, form)
        return _on_behalf_entry(request, household, ordering, form, status=400)
    return _on_behalf_entry(request, household, ordering, form)


@ratelimit(key="user", rate=settings.ORDER_RATE, method="POST")
@require_POST
@rule_required(rules.ORDER_ON_BEHALF)
def order_new_confirm(request: HttpRequest, household_id: int) -> HttpResponse:
    household = selectors.household_for_ordering(user=request.user, household_id=household_id)
    ordering = _ordering()
    form = _on_behalf_form(request, household, ordering, request.POST)
    if request.POST.get("action") == "edit":
        form.is_valid()  # shows the entered quantities again, with any problem marked
        return _on_behalf_entry(request, household, ordering, form)
    if not form.is_valid():
        return _on_behalf_entry(request, household, ordering, form, status=400)
    expected = form.cleaned_data["expected_total"]
    if expected is not None and form.total() != expected:
        messages.warning(
            request,
            _("A posted price changed since the read-back. Read the new total to the caller, then confirm again."),
        )
        return _read_back(request, household, ordering, form, status=409)
    try:
        placed = services.order_place(
            household_id=household.pk,
            lines=form.order_lines(),
            placed_by=request.user,
            channel=channel_of(request.user),
            payment_method=form.cleaned_data["payment_method"],
            note=form.cleaned_data["note"],
            idempotency_key=form.cleaned_data["idempotency_key"],
            urgent=form.cleaned_data["urgent"],
        )
    except BaogongError as exc:
        form.add_error(None, exc.message)
        return _on_behalf_entry(request, household, ordering, form, status=exc.status_code)
    if placed.created:
        messages.success(request, _("Order %(number)s is placed.") % {"number": placed.order.pk})
    else:
        messages.info(request, _("This order was already placed; here it is."))
    return redirect("supply:order_placed", pk=placed.order.pk)


@require_GET
@rule_required(rules.ORDER_ON_BEHALF)
def order_placed(request: HttpRequest, pk: int) -> HttpResponse:
    order = selectors.order_get(user=request.user, pk=pk)
    household = selectors.household_for_ordering(user=request.user, household_id=order.household_id)
    return render(
        request,
        "supply/order_placed.html",
        {"order": order, "household": household, **_delivery(household, order.cycle)},
    )
