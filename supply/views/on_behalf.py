"""Orders on a household's behalf by a hotline operator or a community worker: entry, read-back,
confirmation."""

from django.conf import settings
from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST
from django_ratelimit.decorators import ratelimit

from core.edges import id_param
from core.errors import BaogongError
from households import services as household_services
from households.models import Household
from households.permissions import rule_required
from supply import rules, selectors, services
from supply.forms import PAYMENT_CHOICES, OnBehalfOrderForm
from supply.models import Channel, OrderStatus, WhenOut
from supply.rules import channel_of
from supply.views.common import FEW_LEFT, Ordering, _delivery, _in_category_order, _new_key, _ordered, _ordering

# --- orders on a household's behalf -----------------------------------------------------------------


def _call_id(request: HttpRequest) -> int | None:
    """The hotline call this order is taken on (the call page links here with ``?call=``): kept
    through the read-back, so "back to this call" returns to it. The call page checks it is the
    operator's own."""
    return id_param(request.POST if request.method == "POST" else request.GET, "call")


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
        "call_id": _call_id(request),
        **_delivery(household, ordering.cycle),
    }


def _on_behalf_form(request: HttpRequest, household: Household, ordering: Ordering, data=None) -> OnBehalfOrderForm:
    products = _in_category_order(selectors.catalog(household=household, cycle=ordering.cycle))
    return OnBehalfOrderForm(
        data, products=products, initial={"idempotency_key": _new_key(), "payment_method": "on_delivery"}
    )


def _order_of(request: HttpRequest, household: Household, form: OnBehalfOrderForm) -> dict:
    """The order an on-behalf form asks for, as the services take it (checked, then placed)."""
    return {
        "household_id": household.pk,
        "lines": form.order_lines(),
        "placed_by": request.user,
        "channel": channel_of(request.user),
        "payment_method": form.cleaned_data["payment_method"],
        "note": form.cleaned_data["note"],
        "urgent": form.cleaned_data["urgent"],
        "when_out": form.cleaned_data["when_out"] or None,
    }


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
            "when_out_label": WhenOut(form.cleaned_data["when_out"] or WhenOut.DROP).label,
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
            try:  # limits and capacity before the caller is asked to agree, not after
                services.order_check(**_order_of(request, household, form))
            except BaogongError as exc:
                form.add_error(None, exc.message)
                return _on_behalf_entry(request, household, ordering, form, status=exc.status_code)
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
            **_order_of(request, household, form), idempotency_key=form.cleaned_data["idempotency_key"]
        )
    except BaogongError as exc:
        form.add_error(None, exc.message)
        return _on_behalf_entry(request, household, ordering, form, status=exc.status_code)
    if placed.created:
        messages.success(request, _("Order %(number)s is placed.") % {"number": placed.order.pk})
    else:
        messages.info(request, _("This order was already placed; here it is."))
    call_id = _call_id(request)
    return redirect(reverse("supply:order_placed", args=[placed.order.pk]) + (f"?call={call_id}" if call_id else ""))


@require_GET
@rule_required(rules.ORDER_ON_BEHALF)
def order_placed(request: HttpRequest, pk: int) -> HttpResponse:
    order = selectors.order_get(user=request.user, pk=pk)
    household = selectors.household_for_ordering(user=request.user, household_id=order.household_id)
    return render(
        request,
        "supply/order_placed.html",
        {"order": order, "household": household, "call_id": _call_id(request), **_delivery(household, order.cycle)},
    )
