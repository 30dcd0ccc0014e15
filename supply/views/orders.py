"""The resident's orders: the list, one order, cancelling."""

from dataclasses import dataclass

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from django.views.decorators.http import require_GET, require_POST

from core.edges import int_param, redirect_back
from core.errors import BaogongError
from households.permissions import rule_required
from supply import packages, rules, selectors, services
from supply.basket import Basket
from supply.models import HOLDING_STOCK, Channel, Order
from supply.views.common import PAST_ORDERS, Ordering, _delivery, _no_household, _ordered, _ordering, _own_household

# --- the resident's orders --------------------------------------------------------------------------


@dataclass(frozen=True)
class OrderRow:
    order: Order
    can_cancel: bool


def _rows(orders, ordering: Ordering) -> list[OrderRow]:
    """Each order with whether it may be cancelled, and its package once packed (``order.package``,
    one query for all: the card shows the package's status, the truth after packing)."""
    return [
        OrderRow(
            order=order,
            # the free baseline package is the community's to arrange, not the resident's to cancel
            can_cancel=ordering.is_open
            and order.cycle_id == ordering.cycle.pk
            and order.status in HOLDING_STOCK
            and order.channel != Channel.BASELINE,
        )
        for order in packages.attach(orders)
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
            "refunds": order.refunds.all(),
            "shortfalls": order.shortfalls.all(),
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


@require_POST
@rule_required(rules.ORDER_OWN)
def order_repeat(request: HttpRequest, pk: int) -> HttpResponse:
    """再来一单: an earlier order's products go into the basket again, at today's prices, as far
    as each is still on sale, left and within the household's limit; the message says what could
    not be put back. Nothing is ordered until the resident confirms the basket."""
    order = selectors.order_get(user=request.user, pk=pk)
    household = _own_household(request)
    if household is None or household.pk != order.household_id:
        return _no_household(request)
    ordering = _ordering()
    if not ordering.is_open:
        messages.error(request, ordering.closed_message)
        return redirect("supply:order_detail", pk=order.pk)
    catalog = {p.pk: p for p in selectors.catalog(household=household, cycle=ordering.cycle)}
    ordered = _ordered(request, household, ordering)
    basket = Basket(request.session, request.user)
    added, missed = 0, []
    for line in order.lines.all():
        product = catalog.get(line.product_id)
        try:
            if product is None:
                raise BaogongError(_("not on sale now"))
            basket.add(product, line.quantity, already_ordered=ordered.get(product.pk, 0), save=False)
            added += 1
        except BaogongError as exc:
            missed.append(f"{line.name}（{exc.message}）")
    if added:
        basket.save()  # one write for all the lines
    if added:
        messages.success(
            request,
            ngettext(
                "%(n)d product of order %(number)s is in the basket again, at today's price.",
                "%(n)d products of order %(number)s are in the basket again, at today's prices.",
                added,
            )
            % {"n": added, "number": order.pk},
        )
    if missed:
        messages.warning(request, _("Could not be put back: %(items)s") % {"items": "；".join(missed)})
    return redirect("supply:basket")


@require_POST
@rule_required(rules.ORDER_OWN)
def order_change(request: HttpRequest, pk: int) -> HttpResponse:
    """Change the quantities of one's order before the cutoff (0 takes a line out): in place, all
    or nothing, at today's prices (services.order_change)."""
    order = selectors.order_get(user=request.user, pk=pk)
    lines = []
    for product_id in order.lines.values_list("product_id", flat=True):
        quantity = int_param(request.POST, f"qty_{product_id}", minimum=0, maximum=services.MAX_QUANTITY)
        if quantity:
            lines.append({"product": product_id, "quantity": quantity})
    try:
        if not lines:
            raise BaogongError(_("To take every item out, cancel the order instead."))
        changed = services.order_change(order_id=order.pk, lines=lines, by=request.user)
    except BaogongError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(
            request,
            _("Order %(number)s is changed: now ¥%(total)s, at today's prices.")
            % {"number": changed.pk, "total": changed.total},
        )
    return redirect("supply:order_detail", pk=order.pk)
