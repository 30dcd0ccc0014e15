"""The demo catalog seeded by ``seed_demo``: suppliers, priced products, an open cycle and demo orders."""

import re
from decimal import Decimal

import pytest
from django.apps import apps
from django.core.management import call_command
from django.db.models import Sum
from django.utils import timezone

from core.errors import BaogongError
from households.models import District, Household, User
from supply import selectors, services
from supply.demo import CATALOG, DEMO_ORDERS, SCARCE, SUPPLIER_DISTRICTS, demo_capacity, demo_catalog_seed
from supply.models import (
    BaselineItem,
    Category,
    Channel,
    Cycle,
    CycleStatus,
    CycleStock,
    Order,
    OrderLine,
    PriceChange,
    PriceState,
    Product,
    Supplier,
)

HOUSEHOLDS = 300


def seed(households: int = HOUSEHOLDS, seed: int = 2022) -> None:
    call_command("seed_demo", households=households, seed=seed, quiet=True)


@pytest.fixture
def demo(db):
    seed()
    return {
        u.username: u
        for u in User.objects.filter(username__in=("resident", "worker", "operator", "supplier", "taskforce"))
    }


def supply_tables() -> dict[str, list[dict]]:
    """Every row of every supply table (the suppliers' districts too), ids and timestamps included."""
    models = [*apps.get_app_config("supply").get_models(), Supplier.districts.through]
    return {model._meta.label: list(model._default_manager.order_by("pk").values()) for model in models}


def catalog_by_natural_key() -> dict[str, list]:
    """The demo's catalog, prices, stock and orders without ids or timestamps: equal for the same city and seed."""
    natural = (
        "household__building__compound__community__code",
        "household__building__compound__code",
        "household__building__number",
        "household__unit",
        "household__room",
    )
    return {
        "suppliers": sorted(
            (
                s.name,
                s.is_whitelisted,
                s.whitelisted_by.username,
                tuple(sorted(s.districts.values_list("code", flat=True))),
            )
            for s in Supplier.objects.select_related("whitelisted_by")
        ),
        "products": sorted(
            Product.objects.values_list(
                "supplier__name",
                "name",
                "size",
                "category",
                "unit",
                "price",
                "price_state",
                "reference_cap",
                "capacity",
                "household_limit",
                "is_bundle",
                "is_active",
                "description",
            )
        ),
        "prices": sorted(
            PriceChange.objects.values_list(
                "product__supplier__name",
                "product__name",
                "product__size",
                "old_price",
                "new_price",
                "reference_cap",
                "state",
                "changed_by__username",
            ),
            key=str,
        ),
        "stock": sorted(
            CycleStock.objects.values_list(
                "cycle__number", "product__supplier__name", "product__name", "product__size", "capacity", "reserved"
            )
        ),
        "orders": sorted(
            Order.objects.values_list(
                "idempotency_key",
                *natural,
                "channel",
                "placed_by__username",
                "status",
                "total",
                "payment_method",
                "payment_state",
                "note",
            ),
            key=str,
        ),
        "lines": sorted(
            OrderLine.objects.values_list(
                "order__idempotency_key",
                *(f"order__{n}" for n in natural),
                "name",
                "quantity",
                "unit_price",
                "line_total",
            ),
            key=str,
        ),
    }


def test_every_category_is_on_sale_at_realistic_prices_with_two_decimals(demo):
    assert set(Product.objects.values_list("category", flat=True)) == set(Category.values)
    assert Product.objects.count() == len(CATALOG) >= 40
    for name, price in Product.objects.values_list("name", "price"):
        assert isinstance(price, Decimal) and re.fullmatch(r"\d+\.\d\d", str(price)), (name, price)
        assert Decimal("1.00") <= price <= Decimal("300.00"), (name, price)
    bundle = Product.objects.get(name="蔬菜包", size="5kg")
    assert bundle.is_bundle and bundle.category == Category.VEGETABLES
    assert Product.objects.get(name="鸡蛋", size="30枚").household_limit == 2
    assert Product.objects.get(name="连花清瘟胶囊").household_limit == 2
    assert Product.objects.get(name="抗原检测试剂盒").household_limit
    assert Product.objects.filter(category=Category.MEDICINE, name__contains="硝苯地平").exists()
    # Every price has its history: the first posted price, recorded by the services.
    for product in Product.objects.all():
        first = product.price_changes.order_by("changed_at", "id").first()
        assert first is not None and first.old_price is None, product


def test_the_suppliers_are_whitelisted_and_every_district_can_order_every_category(demo):
    taskforce = demo["taskforce"]
    for supplier in Supplier.objects.all():
        assert supplier.is_whitelisted and supplier.whitelisted_at is not None, supplier
        assert supplier.whitelisted_by == taskforce
        assert set(supplier.districts.values_list("code", flat=True)) == set(SUPPLIER_DISTRICTS[supplier.name])
    assert Supplier.objects.get(name="郑州丹尼斯生鲜超市").districts.count() == 3
    cycle = selectors.open_cycle()
    for district in District.objects.all():
        household = (
            Household.objects.select_related("building__compound__community__office")
            .filter(building__compound__community__office__district=district)
            .first()
        )
        categories = set(selectors.catalog(household=household, cycle=cycle).values_list("category", flat=True))
        assert categories == set(Category.values), district.name


def test_capacity_scales_with_the_city_and_one_product_is_nearly_sold_out(demo):
    for item in CATALOG:
        product = Product.objects.get(supplier__name=item.supplier, name=item.name, size=item.size)
        assert product.capacity == demo_capacity(item, HOUSEHOLDS)
    scarce = next(item for item in CATALOG if item.key == SCARCE)
    big = {item.key: demo_capacity(item, 250_000) for item in CATALOG}
    # A 250,000-household city has hundreds or thousands of each product per cycle...
    assert min(big.values()) >= 1000
    assert big[SCARCE] == 1250
    # ...while in the demo (2,000 households) the scarce product has 10, and the demo orders hold 7.
    assert demo_capacity(scarce, 2000) == 10
    stock = CycleStock.objects.get(cycle=selectors.open_cycle(), product__name=SCARCE[1])
    assert 0 < stock.available <= 3
    assert stock.reserved == OrderLine.objects.filter(product__name=SCARCE[1]).aggregate(n=Sum("quantity"))["n"]


def test_a_cycle_is_open_with_stock_for_every_product_on_sale(demo):
    cycle = Cycle.objects.get(status=CycleStatus.OPEN)
    assert selectors.open_cycle() == cycle
    assert cycle.cutoff_at > timezone.now()
    stock = dict(CycleStock.objects.filter(cycle=cycle).values_list("product_id", "capacity"))
    # the free baseline packages of stay-at-home households come on top of each product's capacity
    baseline = dict(
        OrderLine.objects.filter(order__cycle=cycle, order__channel=Channel.BASELINE)
        .values_list("product_id")
        .annotate(n=Sum("quantity"))
    )
    assert baseline, "stay-at-home households get a baseline package"
    expected = {
        pid: capacity + baseline.get(pid, 0)
        for pid, capacity in Product.objects.filter(is_active=True).values_list("id", "capacity")
    }
    assert stock == expected


def test_one_price_waits_for_the_task_force_and_caps_watch_medicine_and_protection(demo):
    pending = Product.objects.get(price_state=PriceState.PENDING)
    assert pending.reference_cap is not None and pending.price > pending.reference_cap
    queue = list(selectors.pending_price_changes(user=demo["taskforce"]))
    assert [change.product_id for change in queue] == [pending.pk]
    assert queue[0].new_price == pending.price and queue[0].old_price < pending.reference_cap
    capped = Product.objects.filter(reference_cap__isnull=False)
    assert capped.count() >= 3
    assert set(capped.values_list("category", flat=True)) == {Category.MEDICINE, Category.EPIDEMIC}
    # Capped products at or under their cap are shown; the pending one is not.
    assert not capped.exclude(pk=pending.pk).exclude(price_state=PriceState.APPROVED).exists()


def test_the_demo_resident_can_order_from_the_catalog(demo):
    resident = demo["resident"]
    household = Household.objects.select_related("building__compound__community__office").get(pk=resident.household_id)
    cycle = selectors.open_cycle()
    products = list(selectors.catalog(household=household, cycle=cycle))
    assert len(products) >= 30
    assert {p.category for p in products} == set(Category.values)
    assert all(p.available > 0 for p in products if p.name != SCARCE[1])
    assert not [p for p in products if p.price_state != PriceState.APPROVED]

    cabbage = next(p for p in products if p.name == "大白菜")
    placed = services.order_place(
        household_id=household.pk,
        lines=[{"product": cabbage.pk, "quantity": 2}],
        placed_by=resident,
        channel=Channel.WEB,
        idempotency_key="test-resident-cabbage",
    )
    assert placed.created and placed.order.total == cabbage.price * 2


def test_demo_orders_come_from_the_web_the_hotline_and_a_worker(demo):
    cycle = selectors.open_cycle()
    orders = Order.objects.filter(cycle=cycle).exclude(channel=Channel.BASELINE).select_related("placed_by")
    assert orders.count() == len(DEMO_ORDERS)
    resident = demo["resident"]
    mine = orders.get(household_id=resident.household_id)
    assert mine.channel == Channel.WEB and mine.placed_by == resident
    hotline = orders.filter(channel=Channel.HOTLINE)
    assert hotline.count() == 3 and {o.placed_by.username for o in hotline} == {"operator"}
    operator_district = demo["operator"].district_id
    assert {o.household.building.compound.community.office.district_id for o in hotline} == {operator_district}
    ledger = orders.get(channel=Channel.WORKER)
    assert ledger.household.elderly_alone and ledger.household.assigned_worker == demo["worker"]
    assert len({o.household_id for o in orders}) == len(DEMO_ORDERS)
    for order in orders:
        assert order.total == sum(line.line_total for line in order.lines.all()) > 0


def test_a_second_run_changes_no_row_of_any_supply_table(demo):
    before = supply_tables()

    result = demo_catalog_seed(seed=2022)
    seed()

    assert supply_tables() == before
    assert result.products_created == 0 and result.orders_created == 0 and not result.cycle_created
    assert result.suppliers_whitelisted == 0 and result.orders == len(DEMO_ORDERS) and not result.orders_skipped


def test_the_same_city_and_seed_give_the_same_catalog_and_orders(db):
    seed()
    first = catalog_by_natural_key()
    for model in (Order, Cycle, BaselineItem, Product):
        model.objects.all().delete()
    for supplier in Supplier.objects.all():
        supplier.districts.clear()
    Supplier.objects.update(whitelisted_at=None, whitelisted_by=None)

    seed()
    assert catalog_by_natural_key() == first


def test_a_cycle_past_its_cutoff_gets_no_new_demo_orders_and_the_seed_still_succeeds(demo):
    cycle = Cycle.objects.get(status=CycleStatus.OPEN)
    Order.objects.all().delete()  # the cancelled demo of another day: nothing left of it
    CycleStock.objects.update(reserved=0)
    later = timezone.now() - timezone.timedelta(hours=1)
    Cycle.objects.filter(pk=cycle.pk).update(opens_at=later - timezone.timedelta(hours=36), cutoff_at=later)
    before = supply_tables()

    result = demo_catalog_seed(seed=2022)

    assert result.orders_created == 0 and result.orders_skipped
    assert supply_tables() == before


def test_the_catalog_needs_the_demo_city(db):
    with pytest.raises(BaogongError):
        demo_catalog_seed(seed=2022)
    assert not Product.objects.exists() and not Cycle.objects.exists()
