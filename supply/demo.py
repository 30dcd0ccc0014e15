"""The demo catalog for ``seed_demo``: the three demo suppliers' priced catalogs, an open cycle, a few orders.

:func:`demo_suppliers_seed` runs first (the ``supplier`` demo account works for the first one),
the catalog after :func:`households.demo.demo_city_seed` (which creates the city and the accounts). Products are found by their natural key (supplier, name, size) and only the
missing ones are created, through the same services a supplier and the task force use, so the
price history and the cycle's stock are written the usual way. Existing rows are never updated.
"""

import datetime
import random
import time
from collections import Counter
from dataclasses import dataclass
from decimal import Decimal
from math import ceil

from django.db import transaction
from django.db.models import Count
from django.utils import timezone
from django.utils.translation import gettext as _

from core.errors import BaogongError
from core.phones import phone_normalize
from households.models import District, Household, User
from supply import services
from supply.models import (
    BaselineItem,
    Category,
    Channel,
    Cycle,
    CycleStatus,
    CycleStock,
    Order,
    PaymentMethod,
    PriceState,
    Product,
    Supplier,
)

# --- the plan ------------------------------------------------------------------------------------

# The demo's suppliers (保供单位): name, contact and landline.
SUPPLIERS = (
    ("郑州丹尼斯生鲜超市", "赵经理", "0371-67891230"),
    ("世纪联华中原保供中心", "孙经理", "0371-68675210"),
    ("河南大参林保供药房", "王药师", "0371-63387766"),
)


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
DENNIS, LIANHUA, DASHENLIN = "郑州丹尼斯生鲜超市", "世纪联华中原保供中心", "河南大参林保供药房"
SUPPLIER_DISTRICTS = {
    DENNIS: ("zhongyuan", "erqi", "gaoxin"),
    LIANHUA: ("zhongyuan", "erqi"),
    DASHENLIN: ("zhongyuan", "gaoxin"),
}


@dataclass(frozen=True)
class DemoProduct:
    """One catalog row. Capacity per cycle is about ``share`` units per household of the city
    (rounded up to tens, at least ``minimum``), so a 250,000-household city does not sell out
    at once and the 2,000-household demo still shows scarcity."""

    supplier: str
    category: str
    name: str
    size: str
    unit: str
    price: str
    share: float
    minimum: int = 20
    household_limit: int | None = None
    is_bundle: bool = False
    description: str = ""
    reference_cap: str | None = None  # set by the task force (明码标价 monitoring)
    raised_to: str | None = None  # a later price posted by the supplier (above the cap: pending)

    @property
    def key(self) -> tuple[str, str, str]:
        return (self.supplier, self.name, self.size)


V, M, G, D, E, N = (
    Category.VEGETABLES,
    Category.MEAT_EGGS,
    Category.GRAIN_OIL,
    Category.MEDICINE,
    Category.EPIDEMIC,
    Category.DAILY,
)
# Retail prices of Zhengzhou in November 2022, in yuan.
CATALOG: tuple[DemoProduct, ...] = (
    # 丹尼斯: fresh food for the whole city, small packs of staples, a drugstore counter.
    DemoProduct(
        DENNIS,
        V,
        "蔬菜包",
        "5kg",
        "份",
        "49.90",
        0.30,
        is_bundle=True,
        description="标准保供蔬菜包：大白菜、土豆、白萝卜、胡萝卜、西红柿、黄瓜、青椒、洋葱，品种随到货调整",
    ),
    DemoProduct(DENNIS, V, "大白菜", "约2kg", "颗", "6.80", 0.25),
    DemoProduct(DENNIS, V, "土豆", "2.5kg", "袋", "12.50", 0.20),
    DemoProduct(DENNIS, V, "西红柿", "1kg", "袋", "9.80", 0.20),
    DemoProduct(DENNIS, V, "黄瓜", "1kg", "袋", "8.60", 0.15),
    DemoProduct(DENNIS, V, "青椒", "500g", "袋", "4.90", 0.15),
    DemoProduct(DENNIS, V, "胡萝卜", "1kg", "袋", "5.80", 0.15),
    DemoProduct(DENNIS, V, "白萝卜", "约1.5kg", "根", "4.50", 0.10),
    DemoProduct(DENNIS, V, "洋葱", "1kg", "袋", "5.60", 0.10),
    DemoProduct(DENNIS, M, "鸡蛋", "30枚", "盒", "26.80", 0.30, household_limit=2),
    DemoProduct(DENNIS, M, "猪肉（前腿肉）", "500g", "袋", "16.80", 0.20),
    DemoProduct(DENNIS, M, "五花肉", "500g", "袋", "18.80", 0.10),
    DemoProduct(DENNIS, M, "鸡腿", "1kg", "袋", "22.80", 0.15),
    DemoProduct(DENNIS, M, "牛肉", "500g", "袋", "42.00", 0.05),
    DemoProduct(DENNIS, G, "大米", "5kg", "袋", "31.90", 0.10),
    DemoProduct(DENNIS, G, "面粉", "2.5kg", "袋", "14.50", 0.10),
    DemoProduct(DENNIS, G, "挂面", "1kg", "包", "8.90", 0.20),
    DemoProduct(DENNIS, G, "三全猪肉白菜水饺", "1kg", "袋", "19.90", 0.15),
    DemoProduct(
        DENNIS,
        D,
        "布洛芬缓释胶囊",
        "0.3g×20粒",
        "盒",
        "19.80",
        0.03,
        reference_cap="24.00",
        description="丹尼斯大药房供货，非处方药",
    ),
    DemoProduct(DENNIS, D, "板蓝根颗粒", "10g×20袋", "盒", "16.50", 0.05, description="丹尼斯大药房供货，非处方药"),
    DemoProduct(DENNIS, E, "医用外科口罩", "50只", "盒", "19.90", 0.10, reference_cap="25.00"),
    DemoProduct(DENNIS, E, "N95口罩", "10只", "盒", "35.00", 0.05, reference_cap="39.90", raised_to="45.00"),
    DemoProduct(DENNIS, E, "84消毒液", "1L", "瓶", "9.90", 0.10),
    DemoProduct(DENNIS, E, "酒精喷雾（75%）", "500ml", "瓶", "15.80", 0.10, reference_cap="19.90"),
    DemoProduct(DENNIS, N, "卫生纸", "10卷", "提", "19.90", 0.15),
    DemoProduct(DENNIS, N, "牛奶", "250ml×24", "箱", "59.90", 0.15),
    DemoProduct(DENNIS, N, "白象方便面", "24袋", "箱", "49.90", 0.10),
    DemoProduct(DENNIS, N, "洗洁精", "1.5kg", "瓶", "12.90", 0.05),
    DemoProduct(DENNIS, N, "垃圾袋", "50只", "卷", "6.90", 0.10),
    # 世纪联华: staples in family sizes, frozen meat, household goods.
    DemoProduct(LIANHUA, G, "大米", "10kg", "袋", "59.90", 0.15),
    DemoProduct(LIANHUA, G, "面粉", "5kg", "袋", "26.50", 0.15),
    DemoProduct(LIANHUA, G, "食用油", "5L", "桶", "79.90", 0.10),
    DemoProduct(LIANHUA, G, "小米", "1kg", "袋", "12.80", 0.05),
    DemoProduct(LIANHUA, G, "食盐", "400g", "袋", "2.50", 0.10),
    DemoProduct(LIANHUA, M, "冷冻鸡翅中", "500g", "袋", "26.90", 0.05),
    DemoProduct(LIANHUA, M, "鸡胸肉", "1kg", "袋", "19.90", 0.05),
    DemoProduct(LIANHUA, N, "洗衣液", "2kg", "瓶", "29.90", 0.05),
    DemoProduct(LIANHUA, N, "卫生巾", "10片", "包", "12.90", 0.05),
    DemoProduct(LIANHUA, N, "婴儿纸尿裤", "L码52片", "包", "89.00", 0.01, minimum=10),
    DemoProduct(LIANHUA, N, "婴儿配方奶粉", "800g", "罐", "228.00", 0.01, minimum=10),
    # 大参林: medicine (prescription drugs for chronic patients included) and protection.
    DemoProduct(
        DASHENLIN,
        D,
        "连花清瘟胶囊",
        "0.35g×36粒",
        "盒",
        "29.80",
        0.005,
        minimum=10,
        household_limit=2,
        reference_cap="32.00",
    ),
    DemoProduct(DASHENLIN, D, "布洛芬缓释胶囊", "0.3g×20粒", "盒", "21.50", 0.03, reference_cap="24.00"),
    DemoProduct(DASHENLIN, D, "对乙酰氨基酚片", "0.5g×20片", "盒", "8.50", 0.03, reference_cap="12.00"),
    DemoProduct(DASHENLIN, D, "板蓝根颗粒", "10g×20袋", "盒", "15.80", 0.05),
    DemoProduct(
        DASHENLIN,
        D,
        "降压药 硝苯地平缓释片",
        "10mg×30片",
        "盒",
        "12.60",
        0.02,
        description="处方药：凭处方或慢病卡购买，送药时请出示",
    ),
    DemoProduct(
        DASHENLIN,
        D,
        "二甲双胍片",
        "0.5g×48片",
        "盒",
        "9.80",
        0.02,
        description="处方药：凭处方或慢病卡购买，送药时请出示",
    ),
    DemoProduct(DASHENLIN, E, "N95医用防护口罩", "10只", "盒", "38.00", 0.05, reference_cap="39.90"),
    DemoProduct(DASHENLIN, E, "抗原检测试剂盒", "5人份", "盒", "29.50", 0.05, household_limit=2, reference_cap="29.50"),
    DemoProduct(DASHENLIN, E, "电子体温计", "1支", "支", "25.00", 0.02),
)
# Sells out first in the demo: the demo orders below take 7 of its 10 units in a small city.
SCARCE = (DASHENLIN, "连花清瘟胶囊", "0.35g×36粒")

# A few orders so that the order pages, the supplier's view and the dashboards are not empty.
# (label, account, channel, payment, household chooser, note, lines as (supplier, name, size, quantity)).
DEMO_ORDERS = (
    (
        "resident",
        "resident",
        Channel.WEB,
        PaymentMethod.ONLINE,
        "resident",
        "",
        (
            (DENNIS, "蔬菜包", "5kg", 1),
            (DENNIS, "鸡蛋", "30枚", 1),
            (DENNIS, "牛奶", "250ml×24", 1),
            (DENNIS, "医用外科口罩", "50只", 1),
            (*SCARCE, 2),
        ),
    ),
    (
        "worker",
        "worker",
        Channel.WORKER,
        PaymentMethod.ON_DELIVERY,
        "ledger",
        "独居老人，放门口后请敲门",
        ((DENNIS, "蔬菜包", "5kg", 1), (DENNIS, "挂面", "1kg", 1), (*SCARCE, 1)),
    ),
    (
        "hotline-1",
        "operator",
        Channel.HOTLINE,
        PaymentMethod.ON_DELIVERY,
        "chronic",
        "电话下单，慢病用药",
        (
            (DENNIS, "大白菜", "约2kg", 1),
            (DENNIS, "鸡蛋", "30枚", 1),
            (DASHENLIN, "降压药 硝苯地平缓释片", "10mg×30片", 2),
            (*SCARCE, 2),
        ),
    ),
    (
        "hotline-2",
        "operator",
        Channel.HOTLINE,
        PaymentMethod.ON_DELIVERY,
        "care",
        "电话下单",
        ((DENNIS, "蔬菜包", "5kg", 1), (LIANHUA, "大米", "10kg", 1), (LIANHUA, "食用油", "5L", 1), (*SCARCE, 2)),
    ),
    (
        "hotline-3",
        "operator",
        Channel.HOTLINE,
        PaymentMethod.ON_DELIVERY,
        "care",
        "电话下单",
        ((DENNIS, "土豆", "2.5kg", 1), (DENNIS, "猪肉（前腿肉）", "500g", 2), (DENNIS, "卫生纸", "10卷", 1)),
    ),
)


# --- the result --------------------------------------------------------------------------------


@dataclass
class DemoCatalogResult:
    """What the demo catalog holds after the run, and what this run added."""

    suppliers: int
    suppliers_whitelisted: int  # whitelisted by this run
    products: int
    products_created: int
    by_category: dict[str, int]
    reference_caps: int
    pending_prices: list[tuple[str, Decimal, Decimal]]  # (product, posted price, cap)
    cycle_number: int
    cycle_cutoff: datetime.datetime
    cycle_first_delivery: datetime.date
    cycle_created: bool  # opened by this run
    stock_rows: int
    orders: int  # demo orders in the open cycle
    orders_created: int
    orders_skipped: list[str]  # why a demo order could not be placed (the cycle past its cutoff…)
    scarce: tuple[str, int, int] | None  # (product, available, capacity) in the open cycle
    seconds: float = 0.0


def _capacity(product: DemoProduct, households: int) -> int:
    return max(product.minimum, ceil(households * product.share / 10) * 10)


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
BASELINE = ((DENNIS, "蔬菜包", "5kg", 1), (DENNIS, "板蓝根颗粒", "10g×20袋", 1), (DENNIS, "医用外科口罩", "50只", 1))


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
            capacity=_capacity(item, households),
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
    return created, skipped
