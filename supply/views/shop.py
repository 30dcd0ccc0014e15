"""The resident's shop and basket: browse by category, add, change, review and confirm."""

from dataclasses import dataclass
from decimal import Decimal

from django.conf import settings
from django.contrib import messages
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST
from django_ratelimit.decorators import ratelimit

from core.edges import id_param, redirect_back, text_param
from core.errors import BaogongError, Conflict
from households.models import Household
from households.permissions import rule_required
from supply import rules, selectors, services
from supply.basket import Basket
from supply.forms import BasketLineForm, OrderDetailsForm
from supply.models import Category, Channel, OrderStatus, Product
from supply.views.common import (
    FEW_LEFT,
    Ordering,
    _delivery,
    _in_category_order,
    _new_key,
    _no_household,
    _ordered,
    _ordering,
    _own_household,
    _priced,
)

# --- the resident's shop ----------------------------------------------------------------------------


@dataclass(frozen=True)
class ShopItem:
    product: Product
    in_basket: int
    ordered: int
    alerted: bool = False  # sold out, and the household asked to be told when it is back

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
    basket = Basket(request.session, request.user)
    ordered = _ordered(request, household, ordering)
    products = _in_category_order(
        selectors.catalog(household=household, cycle=ordering.cycle, category=category, search=search)
    )
    sold_out = [p.pk for p in products if p.available <= 0]
    alerted = (
        selectors.restock_alerts(household_id=household.pk, cycle=ordering.cycle, product_ids=sold_out)
        if ordering.is_open and sold_out
        else set()
    )
    items = [
        ShopItem(
            product=product,
            in_basket=basket.quantity(product.pk),
            ordered=ordered.get(product.pk, 0),
            alerted=product.pk in alerted,
        )
        for product in products
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
    request: HttpRequest,
    household: Household,
    ordering: Ordering,
    basket: Basket,
    *,
    ok: bool,
    text: str,
    product=None,
    ordered: dict[int, int] | None = None,
):
    """After a change to the basket: htmx gets the new basket bar and the message; a plain form a redirect."""
    if request.htmx:
        ordered = ordered if ordered is not None else _ordered(request, household, ordering)
        # The card's buy form comes back too: with the product in the basket it is a stepper
        # showing the basket's quantity, so tapping again sets it rather than adding once more.
        item = (
            ShopItem(
                product=product,
                in_basket=basket.quantity(product.pk),
                ordered=ordered.get(product.pk, 0),
            )
            if product is not None
            else None
        )
        return render(
            request,
            "supply/partials/basket_changed.html",
            {
                "priced": _priced(request, household, ordering, basket, ordered),
                "ok": ok,
                "text": text,
                "product": product,
                "quantity": basket.quantity(product.pk) if product else 0,
                "item": item,
                "ordering": ordering,
                "few_left": FEW_LEFT,
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
    basket = Basket(request.session, request.user)
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
        ordered = _ordered(request, household, ordering)  # once: the check and the htmx answer use it
        # The card's stepper sets the quantity in the basket; a plain add adds to it.
        put = basket.set if request.POST.get("set") == "1" else basket.add
        quantity = put(product, form.cleaned_data["quantity"], already_ordered=ordered.get(product.pk, 0))
    except BaogongError as exc:
        return _basket_response(request, household, ordering, basket, ok=False, text=exc.message)
    text = _("%(name)s: the basket now holds %(quantity)d %(unit)s.") % {
        "name": product,
        "quantity": quantity,
        "unit": product.unit,
    }
    return _basket_response(request, household, ordering, basket, ok=True, text=text, product=product, ordered=ordered)


@require_POST
@rule_required(rules.ORDER_OWN)
def basket_update(request: HttpRequest) -> HttpResponse:
    """Change a line's quantity, or remove it (``remove`` in the POST)."""
    household = _own_household(request)
    if household is None:
        return _no_household(request)
    basket = Basket(request.session, request.user)
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


def _price_changes(seen: str, priced) -> list[str]:
    """Each line whose price is not the one the page showed: "鸡蛋 30枚 ¥28.00 → ¥29.50"."""
    shown: dict[int, Decimal] = {}
    for pair in (seen or "").split():
        product_id, _colon, price = pair.partition(":")
        try:
            shown[int(product_id)] = Decimal(price)
        except (ValueError, ArithmeticError):
            return []
    return [
        f"{line.product} ¥{shown[line.product.pk]:.2f} → ¥{line.product.price:.2f}"
        for line in priced.lines
        if line.product.pk in shown and shown[line.product.pk] != line.product.price
    ]


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
    seen = " ".join(f"{line.product.pk}:{line.product.price}" for line in priced.lines)
    if form.is_bound:
        form.data = form.data.copy()
        form.data["expected_total"] = str(priced.total)
        form.data["seen_prices"] = seen
    else:
        form.initial["expected_total"] = priced.total
        form.initial["seen_prices"] = seen
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
    return _basket_page(request, household, _ordering(), Basket(request.session, request.user), form)


@ratelimit(key="user", rate=settings.ORDER_RATE, method="POST")
@require_POST
@rule_required(rules.ORDER_OWN)
def basket_confirm(request: HttpRequest) -> HttpResponse:
    household = _own_household(request)
    if household is None:
        return _no_household(request)
    ordering = _ordering()
    basket = Basket(request.session, request.user)
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
        changes = _price_changes(form.cleaned_data["seen_prices"], priced)
        form = OrderDetailsForm(initial=form.cleaned_data)
        if changes:
            messages.warning(
                request,
                _(
                    "A price changed since you opened this page: %(changes)s. Check the new total ¥%(total)s, then confirm again."
                )
                % {"changes": "；".join(changes), "total": priced.total},
            )
        else:
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
            when_out=form.cleaned_data["when_out"] or None,
            idempotency_key=key,
        )
    except BaogongError as exc:
        form.add_error(None, exc.message)
        return _basket_page(request, household, ordering, basket, form, status=exc.status_code)
    basket.clear()
    if placed.created and placed.order.status == OrderStatus.AWAITING_PAYMENT:
        messages.info(
            request,
            _("Order %(number)s is held for you: pay within %(minutes)d minutes to confirm it.")
            % {"number": placed.order.pk, "minutes": settings.PAYMENT_EXPIRY_MINUTES},
        )
    elif placed.created:
        messages.success(request, _("Thank you: order %(number)s is placed.") % {"number": placed.order.pk})
    else:
        messages.info(request, _("This order was already placed; here it is."))
    return redirect("supply:order_detail", pk=placed.order.pk)


@require_POST
@rule_required(rules.ORDER_OWN)
def restock_alert(request: HttpRequest, pk: int) -> HttpResponse:
    """到货提醒: be told (in the app and by SMS) when a sold-out product is back this cycle; or not."""
    household = _own_household(request)
    if household is None:
        return _no_household(request)
    ordering = _ordering()
    product = selectors.catalog(household=household, cycle=ordering.cycle).filter(pk=pk).first()
    if product is None:
        raise Http404(_("This product cannot be ordered (not on sale, or not sold in your district)."))
    on = request.POST.get("on") != "0"
    if services.restock_alert_set(household_id=household.pk, product_id=product.pk, on=on):
        messages.success(request, _("We will tell you when “%(name)s” is back this cycle.") % {"name": product})
    elif on:
        messages.error(request, ordering.closed_message)
    else:
        messages.info(request, _("No alert for “%(name)s” any more.") % {"name": product})
    return redirect_back(request, "supply:shop")
