from decimal import Decimal

import pytest

from supply import services
from supply.models import BaselineItem, Channel, Cycle, CycleStock, Order, StandingOrder

pytestmark = pytest.mark.django_db


@pytest.fixture
def baseline(shop, city):
    district = city.districts[0]
    BaselineItem.objects.create(district=district, product=shop.cabbage, quantity=2)
    BaselineItem.objects.create(district=district, product=shop.masks, quantity=1)
    Cycle.objects.filter(pk=shop.cycle.pk).update(baseline_at=None)
    return district


def test_stay_at_home_households_get_a_free_baseline_order_once(shop, city, baseline):
    opted_out = city.places[city.a.pk].households[1]
    opted_out.baseline_opt_out = True
    opted_out.save()
    services.cycle_baseline_orders(cycle_id=shop.cycle.pk)
    orders = Order.objects.filter(cycle=shop.cycle, channel=Channel.BASELINE)
    # community A is stay at home; B is stay in compound; C is open and in another district
    assert set(orders.values_list("household_id", flat=True)) == {city.household_a.pk}
    baseline_order = orders.get()
    assert baseline_order.total == 0 and baseline_order.payment_method == "free"
    assert sorted(baseline_order.lines.values_list("name", "quantity", "line_total")) == [
        ("医用口罩 50只", 1, Decimal("0.00")),
        ("大白菜 约2kg", 2, Decimal("0.00")),
    ]
    assert CycleStock.objects.get(cycle=shop.cycle, product=shop.cabbage).reserved == 2
    services.cycle_baseline_orders(cycle_id=shop.cycle.pk)
    assert Order.objects.filter(cycle=shop.cycle).count() == 1


def test_a_sealed_building_in_a_looser_compound_gets_the_baseline(shop, city, baseline):
    from households import services as household_services

    place = city.places[city.b.pk]
    household_services.building_set_lockdown_level(
        building_id=place.building.pk, level=2, reason="楼栋封控", changed_by=None
    )
    services.cycle_baseline_orders(cycle_id=shop.cycle.pk)
    got = set(Order.objects.filter(channel=Channel.BASELINE).values_list("household_id", flat=True))
    assert {h.pk for h in place.households} <= got


def test_baseline_supply_comes_on_top_of_what_residents_can_order(shop, city, baseline):
    services.cycle_baseline_orders(cycle_id=shop.cycle.pk)
    stock = CycleStock.objects.get(cycle=shop.cycle, product=shop.cabbage)
    assert stock.reserved == 4 and stock.capacity == 24  # two stay-at-home households, 2 each; 20 left to order


def test_standing_orders_become_orders_every_cycle(shop, city, baseline):
    StandingOrder.objects.create(
        household=city.household_c, product=shop.eggs, quantity=1, created_by=city.users.worker
    )
    StandingOrder.objects.create(household=city.household_b, product=shop.masks, quantity=3, is_active=False)
    services.cycle_baseline_orders(cycle_id=shop.cycle.pk)
    standing = Order.objects.get(standing_order__isnull=False)
    assert standing.household == city.household_c and standing.total == Decimal("28.00")
    assert standing.channel == Channel.WORKER and standing.payment_state == "to_collect"
    assert list(standing.lines.values_list("quantity", "unit_price")) == [(1, Decimal("28.00"))]


def test_a_new_cycle_places_them_at_opening(shop, city, baseline):
    from supply.models import CycleStatus

    Cycle.objects.filter(pk=shop.cycle.pk).update(status=CycleStatus.PACKED)
    cycle = services.cycle_open()
    assert Order.objects.filter(cycle=cycle, channel=Channel.BASELINE, household=city.household_a).exists()


# --- capacity is one number: what residents can buy; the baseline is held on top, counted once ----


def test_capacity_is_what_residents_can_buy_and_raising_it_never_lowers_that(shop, city, baseline, client):
    services.cycle_baseline_orders(cycle_id=shop.cycle.pk)  # 4 cabbages held for two households
    stock = CycleStock.objects.get(cycle=shop.cycle, product=shop.cabbage)
    assert (stock.capacity, stock.baseline, stock.reserved, stock.available) == (24, 4, 4, 20)
    supplier_user = city.users.supplier
    # The form, the catalogue and the resident's card say the same: 20 to sell, 20 left.
    product = services.product_update(product_id=shop.cabbage.pk, by=supplier_user, capacity=21)
    stock.refresh_from_db()
    assert (product.capacity, stock.capacity, stock.available) == (21, 25, 21), "raising it raises what can be ordered"
    services.product_update(product_id=shop.cabbage.pk, by=supplier_user, capacity=1)
    stock.refresh_from_db()
    assert stock.available == 1, "1 to sell + 4 held covers the 4 baseline cabbages: allowed"
    client.force_login(supplier_user)
    from django.urls import reverse

    html = client.get(reverse("catalog:product_detail", args=[shop.cabbage.pk])).content.decode()
    assert "可售1：已订0，剩余1" in html and "另为免费基本物资包和长期订单预留4" in html
