"""Catalog pages: supplier staff keep their products and posted prices (明码标价); the task force
sets reference caps, decides prices above them and keeps the supplier whitelist.

Views check the role, call a selector or a service, render. Which rows a user sees is decided by
households.access (through the selectors): supplier staff reach only their own products (404).
"""

from django.contrib import messages
from django.core.paginator import Paginator
from django.db import IntegrityError, transaction
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import translation
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from core.edges import id_param, redirect_back, text_param
from core.errors import BaogongError
from core.forms import form_errors
from households.permissions import allows, rule_required
from supply import rules, selectors, services
from supply.catalog_forms import (
    PriceDecisionForm,
    PriceForm,
    ProductCreateForm,
    ProductUpdateForm,
    ReferenceCapForm,
    ShortfallForm,
    WhitelistForm,
)
from supply.models import Category, PriceState

PAGE_SIZE = 100

# Who keeps a catalog: supplier staff (their own). Administrators may correct a product too; the
# price history then names them.
# Task force decisions: reference caps, prices above them, the whitelist.
# Design decision: a district task force (user.district_id set) may act on any supplier and any
# product, like the city task force. Suppliers often serve several districts and caps are per
# product, not per district; the page shows which districts each supplier serves.
# Who may look at all products with their prices and caps (read-only unless task force).


def _page(request: HttpRequest, queryset):
    return Paginator(queryset, PAGE_SIZE).get_page(request.GET.get("page"))


# --- supplier staff ----------------------------------------------------------------------------------


@rule_required(rules.CATALOG_HOME)
def catalog_home(request: HttpRequest) -> HttpResponse:
    """Supplier staff: their own catalog with this cycle's stock. Others go to the products overview."""
    if not allows(request.user, rules.CATALOG_OWN):
        return redirect("catalog:products")
    cycle = selectors.stock_cycle()
    category = request.GET.get("category", "")
    products = selectors.catalog_products(
        user=request.user,
        cycle=cycle,
        supplier_id=request.user.supplier_id,
        category=category if category in Category.values else "",
        search=text_param(request.GET, "q"),
    )
    return render(
        request,
        "supply/catalog/product_list.html",
        {
            "page": _page(request, products),
            "cycle": cycle,
            "supplier": selectors.supplier_get(user=request.user, pk=request.user.supplier_id),
            "categories": Category.choices,
            "query": request.GET,
        },
    )


@rule_required(rules.CATALOG_OWN)
def product_create(request: HttpRequest) -> HttpResponse:
    form = ProductCreateForm(request.POST or None, request.FILES or None)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            with transaction.atomic():
                product = services.product_create(
                    supplier_id=request.user.supplier_id,
                    by=request.user,
                    name=data["name"],
                    category=data["category"],
                    unit=data["unit"],
                    size=data["size"],
                    description=data["description"],
                    is_bundle=data["is_bundle"],
                    price=data["price"],
                    capacity=data["capacity"],
                    household_limit=data["household_limit"],
                )
                if data["photo"]:
                    services.product_update(product_id=product.pk, by=request.user, photo=data["photo"])
        except IntegrityError:  # product_create leaves the unique (supplier, name, size) to the database
            form.add_error("name", _("You already have a product with this name and size."))
        except BaogongError as exc:
            form_errors(form, exc)
        else:
            messages.success(request, _("“%(name)s” was added to your catalog.") % {"name": product})
            return redirect("catalog:product_detail", pk=product.pk)
    return render(request, "supply/catalog/product_create.html", {"form": form})


def _details_initial(product) -> dict:
    """The form's starting values, so that only what the user changed reaches product_update."""
    fields = (
        "name",
        "category",
        "size",
        "unit",
        "description",
        "is_bundle",
        "capacity",
        "household_limit",
        "is_active",
        "photo",
    )
    return {name: getattr(product, name) for name in fields}


def _detail(
    request: HttpRequest, pk: int, *, details_form=None, price_form=None, shortfall_form=None, status: int = 200
) -> HttpResponse:
    cycle = selectors.stock_cycle()
    product = selectors.catalog_product_get(user=request.user, pk=pk, cycle=cycle)
    can_edit = allows(request.user, rules.CATALOG_KEEP)
    if details_form is None:
        details_form = ProductUpdateForm(initial=_details_initial(product))
    return render(
        request,
        "supply/catalog/product_detail.html",
        {
            "product": product,
            "can_edit": can_edit,
            "details_form": details_form,
            "price_form": price_form if price_form is not None else PriceForm(initial={"price": product.price}),
            "shortfall_form": shortfall_form or ShortfallForm(),
            "history": selectors.price_history(user=request.user, product_id=product.pk).order_by("-changed_at", "-id")[
                :200
            ],
            "cycle": cycle,
        },
        status=status,
    )


@rule_required(rules.CATALOG_VIEW)
def product_detail(request: HttpRequest, pk: int) -> HttpResponse:
    return _detail(request, pk)


@require_POST
@rule_required(rules.CATALOG_KEEP)
def product_edit(request: HttpRequest, pk: int) -> HttpResponse:
    product = selectors.catalog_product_get(user=request.user, pk=pk)
    form = ProductUpdateForm(request.POST, request.FILES, initial=_details_initial(product))
    if form.is_valid():
        try:
            product = services.product_update(product_id=product.pk, by=request.user, **form.changes())
        except BaogongError as exc:
            form_errors(form, exc)
        else:
            messages.success(request, _("The product details were saved."))
            return redirect("catalog:product_detail", pk=product.pk)
    return _detail(request, product.pk, details_form=form, status=400)


@require_POST
@rule_required(rules.CATALOG_KEEP)
def product_price(request: HttpRequest, pk: int) -> HttpResponse:
    product = selectors.catalog_product_get(user=request.user, pk=pk)
    form = PriceForm(request.POST)
    if form.is_valid():
        before = (product.price, product.price_state)
        try:
            product = services.product_price_set(
                product_id=product.pk, price=form.cleaned_data["price"], by=request.user
            )
        except BaogongError as exc:
            form_errors(form, exc)
        else:
            if (product.price, product.price_state) == before:
                messages.info(request, _("The price is unchanged."))
            elif product.price_state == PriceState.PENDING:
                messages.warning(
                    request,
                    _(
                        "¥%(price)s is above the reference cap of ¥%(cap)s. Residents do not see this product until "
                        "the task force approves the price. Orders already placed keep their price."
                    )
                    % {"price": product.price, "cap": product.reference_cap},
                )
            else:
                messages.success(
                    request,
                    _(
                        "The new price ¥%(price)s is posted and shown to residents. Orders already placed keep their price."
                    )
                    % {"price": product.price},
                )
            return redirect("catalog:product_detail", pk=product.pk)
    return _detail(request, product.pk, price_form=form, status=400)


def _shortfall_message(outcome: services.ShortfallOutcome) -> str:
    """What recording a shortfall did, in the supplier's words; a count of nothing is left out."""
    if not outcome.units:
        if outcome.left:
            return _("Enough for every order: no order changes; %(n)d more can be ordered in this cycle.") % {
                "n": outcome.left
            }
        return _("Enough for every order: no order changes; nothing more can be ordered.")
    parts = [
        _("%(units)d of “%(name)s” were taken out of %(orders)d orders.")
        % {"units": outcome.units, "name": outcome.product, "orders": outcome.orders}
    ]
    if outcome.substituted:
        parts.append(_("%(n)d were sent as a similar product.") % {"n": outcome.substituted})
    if outcome.given_back:
        parts.append(_("¥%(money)s is refunded or no longer to pay.") % {"money": outcome.given_back})
    if outcome.cancelled:
        parts.append(_("%(n)d orders were left with nothing and cancelled.") % {"n": outcome.cancelled})
    parts.append(_("The households are told."))
    return "".join(parts) if translation.get_language().startswith("zh") else " ".join(parts)


@require_POST
@rule_required(rules.CATALOG_KEEP)
def product_shortfall(request: HttpRequest, pk: int) -> HttpResponse:
    """The supplier has fewer than residents ordered in the open cycle (see stock_shortfall_record)."""
    product = selectors.catalog_product_get(user=request.user, pk=pk)
    form = ShortfallForm(request.POST)
    if form.is_valid():
        try:
            outcome = services.stock_shortfall_record(
                product_id=product.pk, available=form.cleaned_data["available"], by=request.user
            )
        except BaogongError as exc:
            if "available" not in exc.errors:  # e.g. the cycle closed meanwhile: the card is gone
                messages.error(request, exc.message)
                return redirect("catalog:product_detail", pk=product.pk)
            form_errors(form, exc)
        else:
            messages.success(request, _shortfall_message(outcome))
            return redirect("catalog:product_detail", pk=product.pk)
    return _detail(request, product.pk, shortfall_form=form, status=400)


# --- task force: prices, caps, whitelist -------------------------------------------------------------


@rule_required(rules.TASK_FORCE)
def price_queue(request: HttpRequest) -> HttpResponse:
    changes = selectors.price_queue(user=request.user)
    return render(request, "supply/catalog/price_queue.html", {"page": _page(request, changes), "query": request.GET})


@require_POST
@rule_required(rules.TASK_FORCE)
def price_decide(request: HttpRequest, pk: int) -> HttpResponse:
    change = selectors.price_change_get(user=request.user, pk=pk)
    form = PriceDecisionForm(request.POST)
    if not form.is_valid():
        messages.error(request, _("Choose approve or refuse."))
        return redirect_back(request, "catalog:price_queue")
    approve = form.cleaned_data["decision"] == "approve"
    try:
        services.price_change_decide(price_change_id=change.pk, approve=approve, by=request.user)
    except BaogongError as exc:
        messages.error(request, exc.message)
    else:
        template = (
            _("Approved: “%(name)s” at ¥%(price)s is shown to residents.")
            if approve
            else _("Refused: “%(name)s” stays hidden from residents until the supplier posts a price within the cap.")
        )
        messages.success(request, template % {"name": change.product, "price": change.new_price})
    return redirect_back(request, "catalog:price_queue")


@rule_required(rules.PRICE_WATCH)
def product_overview(request: HttpRequest) -> HttpResponse:
    category = request.GET.get("category", "")
    state = request.GET.get("state", "")
    products = selectors.catalog_products(
        user=request.user,
        category=category if category in Category.values else "",
        price_state=state if state in PriceState.values else "",
        supplier_id=id_param(request.GET, "supplier"),
        search=text_param(request.GET, "q"),
    )
    return render(
        request,
        "supply/catalog/product_overview.html",
        {
            "page": _page(request, products),
            "can_set_cap": allows(request.user, rules.TASK_FORCE),
            "categories": Category.choices,
            "states": PriceState.choices,
            "suppliers": selectors.supplier_list(user=request.user).order_by("name"),
            "query": request.GET,
        },
    )


@require_POST
@rule_required(rules.TASK_FORCE)
def product_cap(request: HttpRequest, pk: int) -> HttpResponse:
    product = selectors.catalog_product_get(user=request.user, pk=pk)
    form = ReferenceCapForm(request.POST)
    if not form.is_valid():
        messages.error(
            request,
            _("“%(name)s”: %(error)s Nothing was changed.")
            % {"name": product, "error": form.errors["reference_cap"][0]},
        )
        return redirect_back(request, "catalog:products")
    try:
        product = services.product_reference_cap_set(
            product_id=product.pk, cap=form.cleaned_data["reference_cap"], by=request.user
        )
    except BaogongError as exc:
        messages.error(request, exc.message)
    else:
        if product.reference_cap is None:
            messages.success(request, _("“%(name)s” has no reference cap now.") % {"name": product})
        elif product.price_state == PriceState.PENDING:
            messages.warning(
                request,
                _("“%(name)s”: cap set to ¥%(cap)s. Its price ¥%(price)s is above it and now waits for your decision.")
                % {"name": product, "cap": product.reference_cap, "price": product.price},
            )
        else:
            messages.success(
                request, _("“%(name)s”: cap set to ¥%(cap)s.") % {"name": product, "cap": product.reference_cap}
            )
    return redirect_back(request, "catalog:products")


@rule_required(rules.TASK_FORCE)
def supplier_overview(request: HttpRequest) -> HttpResponse:
    mine = request.GET.get("mine") == "1" and request.user.district_id
    suppliers = selectors.supplier_overview(user=request.user, district_id=request.user.district_id if mine else None)
    return render(
        request,
        "supply/catalog/supplier_list.html",
        {"suppliers": suppliers, "query": request.GET, "has_district": bool(request.user.district_id)},
    )


@require_POST
@rule_required(rules.TASK_FORCE)
def supplier_whitelist(request: HttpRequest, pk: int) -> HttpResponse:
    supplier = selectors.supplier_get(user=request.user, pk=pk)
    form = WhitelistForm(request.POST)
    if not form.is_valid():
        messages.error(request, _("Choose whether the supplier is on the whitelist."))
        return redirect_back(request, "catalog:suppliers")
    try:
        supplier = services.supplier_whitelist(
            supplier_id=supplier.pk, whitelisted=form.cleaned_data["whitelisted"], by=request.user
        )
    except BaogongError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(
            request,
            (
                _("%(name)s is on the whitelist: residents of the districts it serves see its products.")
                if supplier.is_whitelisted
                else _(
                    "%(name)s is off the whitelist: residents no longer see its products. Orders already placed stand."
                )
            )
            % {"name": supplier.name},
        )
    return redirect_back(request, "catalog:suppliers")
