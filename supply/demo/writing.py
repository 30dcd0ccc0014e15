"""The demo catalog written through the services a supplier and the task force use: missing products
only, the open cycle, the baseline items and a few orders."""

import random
import time
from collections import Counter

from django.conf import settings
from django.db import transaction
from django.db.models import Count
from django.utils import timezone
from django.utils.translation import gettext as _

from core.errors import BaogongError
from core.phones import phone_normalize
from households.models import District, Household, User
from supply import services
from supply.demo.plan import (
    BASELINE,
    CATALOG,
    DEMO_ORDERS,
    SCARCE,
    SUPPLIER_DISTRICTS,
    SUPPLIERS,
    DemoCatalogResult,
    demo_capacity,
)
from supply.models import (
    BaselineItem,
    Cycle,
    CycleStatus,
    CycleStock,
    Order,
    OrderStatus,
    PriceState,
    Product,
    Supplier,
)
from supply.services import payments


def demo_suppliers_seed() -> tuple[list[Supplier], int]:
    """The demo's whitelisted suppliers (made if missing, never changed); returns them, first the
    one the ``supplier`` demo account works for, and how many were made now."""
    suppliers, made = [], 0
    for name, contact, landline in SUPPLIERS:
        supplier, was_created = Supplier.objects.get_or_create(
            name=name,
            defaults={"contact_name": contact, "phone": phone_normalize(landline), "is_whitelisted": True},
        )
        suppliers.append(supplier)
        made += was_created
    return suppliers, made


# The demo's suppliers (by name), with the districts each one serves. The
# supermarket (which runs its own drugstore counters) covers the whole city, so every household
# can order from every category; the other two serve two districts each, as 保供 units did.

# --- writing -----------------------------------------------------------------------------------


@transaction.atomic
def demo_catalog_seed(*, seed: int) -> DemoCatalogResult:
    """Give the demo suppliers a priced catalog, open a cycle and place a few demo orders.

    Needs the demo city (:func:`households.demo.demo_city_seed`): its suppliers and accounts.

    Guarantees:
    - idempotent: a second run inserts nothing and updates nothing in any table (products are
      found by supplier, name and size; the demo orders carry fixed ``Idempotency-Key`` values
      per cycle, so ``order_place`` returns the first ones);
    - deterministic: the same city and ``seed`` give the same catalog, capacities, caps and
      demo orders for the same households (natural keys, not ids);
    - the three suppliers are whitelisted by the task force account (``whitelisted_at`` recorded)
      and serve their districts; every district can order from every category;
    - about fifty products across every category at 2022 Zhengzhou prices; capacity per cycle
      scales with the number of households; reference caps on some medicine and epidemic-
      prevention products, and exactly one price above its cap waiting for the task force;
    - a cycle is open (the open one, or a new one via ``cycle_open``) with stock for every product
      on sale; the demo orders (the ``resident`` account's household among them) leave one
      product nearly sold out in a small city. Demo orders that cannot be placed (the open cycle
      is past its cutoff, the product sold out by demo users) are skipped and reported;
    - everything is one transaction: an error leaves the database as it was.
    """
    started = time.monotonic()
    accounts = {
        u.username: u
        for u in User.objects.filter(username__in=("resident", "worker", "operator", "supplier", "taskforce"))
    }
    suppliers = {s.name: s for s in Supplier.objects.filter(name__in=SUPPLIER_DISTRICTS)}
    if len(suppliers) < len(SUPPLIER_DISTRICTS) or len(accounts) < 5:
        raise BaogongError(_("Seed the demo city first: its suppliers and accounts are missing."))
    taskforce = accounts["taskforce"]

    whitelisted = 0
    districts = dict(District.objects.values_list("code", "pk"))
    for name, codes in SUPPLIER_DISTRICTS.items():
        supplier = suppliers[name]
        if not supplier.is_whitelisted or supplier.whitelisted_at is None:
            suppliers[name] = services.supplier_whitelist(supplier_id=supplier.pk, whitelisted=True, by=taskforce)
            whitelisted += 1
        served = set(supplier.districts.values_list("pk", flat=True))
        missing = [districts[code] for code in codes if code in districts and districts[code] not in served]
        if missing:
            supplier.districts.add(*missing)

    # Capacity follows the city's size; the same city always gives the same figure.
    households = Household.objects.count()
    products, products_created = _products_create_missing(suppliers, households=households, accounts=accounts)

    _baseline_items_create_missing(products, districts=districts.values())

    cycle = Cycle.objects.filter(status=CycleStatus.OPEN).first()
    cycle_created = cycle is None
    if cycle is None:
        cycle = services.cycle_open()  # places the baseline orders of stay-at-home households

    orders_created, skipped = _orders_place(cycle, products, accounts=accounts, seed=seed)

    ours = Product.objects.filter(supplier__in=suppliers.values())
    scarce = (
        CycleStock.objects.filter(cycle=cycle, product=products.get(SCARCE)).values_list("capacity", "reserved").first()
    )
    return DemoCatalogResult(
        suppliers=len(suppliers),
        suppliers_whitelisted=whitelisted,
        products=ours.count(),
        products_created=products_created,
        by_category=dict(ours.values_list("category").annotate(n=Count("id")).order_by("category")),
        reference_caps=ours.filter(reference_cap__isnull=False).count(),
        pending_prices=[
            (str(p), p.price, p.reference_cap)
            for p in ours.filter(price_state=PriceState.PENDING).order_by("name", "id")
        ],
        cycle_number=cycle.number,
        cycle_cutoff=cycle.cutoff_at,
        cycle_first_delivery=cycle.first_delivery_date,
        cycle_created=cycle_created,
        stock_rows=CycleStock.objects.filter(cycle=cycle).count(),
        orders=Order.objects.filter(cycle=cycle, idempotency_key__startswith=_key_prefix(cycle)).count(),
        orders_created=orders_created,
        orders_skipped=skipped,
        scarce=(f"{SCARCE[1]} {SCARCE[2]}", max(scarce[0] - scarce[1], 0), scarce[0]) if scarce else None,
        seconds=time.monotonic() - started,
    )


# The districts' baseline package (物资包 for stay-at-home households, every 3 days): vegetables,
# medicine and epidemic-prevention supplies.


def _baseline_items_create_missing(products: dict, *, districts) -> int:
    """Every district's baseline package, once (a re-run inserts nothing)."""
    items = [
        BaselineItem(district_id=district_id, product=products[(supplier, name, size)], quantity=quantity)
        for district_id in districts
        for supplier, name, size, quantity in BASELINE
        if (supplier, name, size) in products
    ]
    before = BaselineItem.objects.count()
    BaselineItem.objects.bulk_create(items, ignore_conflicts=True)
    return BaselineItem.objects.count() - before


def _products_create_missing(
    suppliers: dict[str, Supplier], *, households: int, accounts: dict[str, User]
) -> tuple[dict[tuple[str, str, str], Product], int]:
    """The catalog by natural key, creating the missing products with their price history.

    A new product gets its first price from the supplier (the supplier account for its own
    supplier), then the task force's reference cap, then the supplier's later price if any: so
    the price history reads as it would have happened.
    """
    by_id = {s.pk: name for name, s in suppliers.items()}
    existing = {
        (by_id[p.supplier_id], p.name, p.size): p for p in Product.objects.filter(supplier__in=suppliers.values())
    }
    supplier_user = accounts["supplier"]
    taskforce = accounts["taskforce"]
    created = 0
    for item in CATALOG:
        if item.key in existing:
            continue
        supplier = suppliers[item.supplier]
        by = supplier_user if supplier_user.supplier_id == supplier.pk else None
        product = services.product_create(
            supplier_id=supplier.pk,
            by=by,
            name=item.name,
            category=item.category,
            unit=item.unit,
            price=item.price,
            size=item.size,
            description=item.description,
            is_bundle=item.is_bundle,
            capacity=demo_capacity(item, households),
            household_limit=item.household_limit,
        )
        if item.reference_cap is not None:
            product = services.product_reference_cap_set(product_id=product.pk, cap=item.reference_cap, by=taskforce)
        if item.raised_to is not None:
            product = services.product_price_set(product_id=product.pk, price=item.raised_to, by=by)
        existing[item.key] = product
        created += 1
    return existing, created


def _key_prefix(cycle: Cycle) -> str:
    return f"seed-demo-c{cycle.number}-"


def _household_choices(accounts: dict[str, User], *, seed: int) -> dict[str, list[int]]:
    """Households for the demo orders, chosen by natural key (not id) so any database picks the same.

    ``resident``: the resident account's; ``ledger``: a lonely elderly household of the worker's
    ledger; ``chronic`` and ``care``: households with care flags in the operator's district, drawn
    with ``seed``.
    """
    rng = random.Random(seed)
    natural = ("building__compound__community__code", "building__compound__code", "building__sort_key", "unit", "room")
    resident = accounts["resident"].household_id
    ledger = list(
        Household.objects.filter(assigned_worker=accounts["worker"], elderly_alone=True)
        .exclude(pk=resident)
        .order_by(*natural)
        .values_list("pk", flat=True)[:1]
    )
    taken = {resident, *ledger}
    in_district = Household.objects.filter(
        building__compound__community__office__district=accounts["operator"].district_id
    )
    chronic = [
        pk
        for pk in in_district.filter(chronic_medicine=True).order_by(*natural).values_list("pk", flat=True)[:40]
        if pk not in taken
    ]
    chronic = rng.sample(chronic, min(1, len(chronic)))
    taken.update(chronic)
    care = [
        pk
        for pk in in_district.filter(elderly_alone=True).order_by(*natural).values_list("pk", flat=True)[:40]
        if pk not in taken
    ]
    care = rng.sample(care, min(2, len(care)))
    return {"resident": [resident] if resident else [], "ledger": ledger, "chronic": chronic, "care": care}


def _orders_place(cycle: Cycle, products: dict, *, accounts: dict[str, User], seed: int) -> tuple[int, list[str]]:
    """Place the demo orders that are missing in ``cycle``; return how many were created and why any were skipped."""
    if timezone.now() >= cycle.cutoff_at:
        return 0, [f"cycle {cycle.number} is past its cutoff: no demo orders placed"]
    choices = _household_choices(accounts, seed=seed)
    used: Counter[str] = Counter()
    created, skipped = 0, []
    for label, username, channel, payment, chooser, note, lines in DEMO_ORDERS:
        pool = choices[chooser]
        if used[chooser] >= len(pool):
            skipped.append(f"{label}: no household to order for")
            continue
        household_id = pool[used[chooser]]
        used[chooser] += 1
        try:
            placed = services.order_place(
                household_id=household_id,
                lines=[{"product": products[(s, n, z)].pk, "quantity": q} for s, n, z, q in lines],
                placed_by=accounts[username],
                channel=channel,
                payment_method=payment,
                note=note,
                idempotency_key=_key_prefix(cycle) + label,
            )
        except BaogongError as exc:  # the demo has been used: sold out, limit reached, price changed…
            skipped.append(f"{label}: {exc.message}")
            continue
        created += placed.created
        if (
            placed.created
            and placed.order.status == OrderStatus.AWAITING_PAYMENT
            and settings.PAYMENT_GATEWAY == "fake"
        ):
            payments.payment_at_fake_cashier(order=placed.order)  # the resident paid at the demo's cashier
    return created, skipped
