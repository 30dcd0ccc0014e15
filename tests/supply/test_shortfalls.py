"""A supplier short of a product before packing: orders cut newest first, each household's choice
(substitute or leave out) honoured, money and stock adding up."""

from decimal import Decimal

import pytest
from django.utils import timezone

from core.errors import BaogongError, Conflict
from deliveries.statements import online_money, supplier_statements
from households.models import Notification
from households.notifications import message_text
from supply import services
from supply.models import CycleStock, Order, OrderLine, Refund, Shortfall
from supply.services import payments
from supply.services.shortfalls import stock_shortfall_record
from tests.factories import HouseholdFactory, ProductFactory


def place(shop, household, *lines, method="on_delivery", when_out=None):
    return services.order_place(
        household_id=household.pk,
        lines=[{"product": p.pk, "quantity": q} for p, q in lines],
        placed_by=None,
        channel="web",
        payment_method=method,
        when_out=when_out,
    ).order


def stock(shop, product) -> tuple[int, int]:
    row = CycleStock.objects.get(cycle=shop.cycle, product=product)
    return row.capacity, row.reserved


def lines(order) -> dict[str, int]:
    return dict(OrderLine.objects.filter(order=order).values_list("name", "quantity"))


@pytest.fixture
def lettuce(shop):
    """A cheaper vegetable of the same supplier: what a cabbage can be replaced with."""
    product = ProductFactory(supplier=shop.supplier, name="生菜", unit="颗", size="500g", price="5.00", capacity=50)
    CycleStock.objects.create(cycle=shop.cycle, product=product, capacity=50)
    return product


def test_the_newest_orders_are_cut_and_left_out_when_the_household_asked_so(shop, city):
    first = place(shop, city.household_a, (shop.cabbage, 2))
    second = place(shop, city.household_b, (shop.cabbage, 3), (shop.masks, 1))
    newest = place(shop, city.household_c, (shop.cabbage, 1), (shop.masks, 1))

    outcome = stock_shortfall_record(product_id=shop.cabbage.pk, available=3, by=city.users.supplier)

    assert (outcome.units, outcome.orders, outcome.substituted, outcome.cancelled) == (3, 2, 0, 0)
    assert outcome.given_back == Decimal("19.50")  # 3 × 6.50
    assert lines(first) == {str(shop.cabbage): 2}
    assert lines(second) == {str(shop.cabbage): 1, str(shop.masks): 1}
    assert lines(newest) == {str(shop.masks): 1}
    for order in (first, second, newest):
        order.refresh_from_db()
        assert order.total == sum(line.line_total for line in order.lines.all())
    assert stock(shop, shop.cabbage) == (3, 3)  # nothing more can be ordered
    assert Shortfall.objects.count() == 2 and not Refund.objects.exists()  # nothing was paid online
    told = Notification.objects.get(household=city.household_b, kind="shortfall")
    assert "大白菜" in message_text(told.kind, told.params) and "2" in message_text(told.kind, told.params)
    with pytest.raises(Conflict):  # sold out for everybody else
        place(shop, HouseholdFactory(building=city.places[city.a.pk].building), (shop.cabbage, 1))


def test_a_household_that_asked_for_a_substitute_gets_the_closest_one_costing_no_more(shop, city, lettuce):
    ProductFactory(supplier=shop.supplier, name="有机菜心", price="12.00")  # dearer: never sent instead
    order = payments.payment_at_fake_cashier(
        order=place(shop, city.household_a, (shop.cabbage, 2), (shop.masks, 1), method="online", when_out="substitute")
    )
    paid = order.total

    outcome = stock_shortfall_record(product_id=shop.cabbage.pk, available=0, by=city.users.supplier)

    assert (outcome.units, outcome.substituted) == (2, 2)
    assert lines(order) == {str(shop.masks): 1, str(lettuce): 2}
    order.refresh_from_db()
    assert order.status == "placed" and order.payment_state == "paid"
    assert order.total == paid - Decimal("3.00")  # 2 × (6.50 − 5.00)
    refund = Refund.objects.get(order=order)
    assert refund.amount == Decimal("3.00") and Shortfall.objects.get(order=order).refund == refund
    assert stock(shop, lettuce) == (50, 2)
    told = Notification.objects.get(household=city.household_a, kind="shortfall")
    assert "生菜" in message_text(told.kind, told.params)


def test_a_substitute_respects_the_household_limit_and_the_capacity_left(shop, city, lettuce):
    CycleStock.objects.filter(product=lettuce).update(capacity=1)
    order = place(shop, city.household_a, (shop.cabbage, 2), when_out="substitute")
    stock_shortfall_record(product_id=shop.cabbage.pk, available=0, by=None)
    order.refresh_from_db()
    assert order.status == "cancelled" and order.payment_state == "void"  # one lettuce is not two
    assert stock(shop, lettuce) == (1, 0)


def test_a_paid_order_left_with_nothing_is_cancelled_and_refunded_in_full(
    shop, city, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        order = payments.payment_at_fake_cashier(
            order=place(shop, city.household_a, (shop.cabbage, 4), method="online")
        )
        stock_shortfall_record(product_id=shop.cabbage.pk, available=0, by=None)
    order.refresh_from_db()
    assert order.status == "cancelled"
    assert Refund.objects.get(order=order).amount == Decimal("26.00")
    assert order.payment_state in ("to_refund", "refunded")
    assert stock(shop, shop.cabbage) == (0, 0)


def test_an_order_awaiting_payment_pays_the_new_amount(shop, city):
    order = place(shop, city.household_a, (shop.cabbage, 2), (shop.masks, 1), method="online")
    payment = payments.payment_start(order=order, return_url="/")
    stock_shortfall_record(product_id=shop.cabbage.pk, available=1, by=None)
    payment.refresh_from_db()
    order.refresh_from_db()
    assert payment.status == "closed" and order.total == Decimal("26.40")  # 6.50 + 19.90


def test_statements_add_up_with_money_given_back_for_a_shortfall(
    shop, city, lettuce, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        a = payments.payment_at_fake_cashier(
            order=place(
                shop, city.household_a, (shop.cabbage, 2), (shop.masks, 1), method="online", when_out="substitute"
            )
        )
        payments.payment_at_fake_cashier(order=place(shop, city.household_b, (shop.cabbage, 3), method="online"))
        stock_shortfall_record(product_id=shop.cabbage.pk, available=0, by=None)
    statements = supplier_statements(user=city.users.admin, cycle=shop.cycle)
    money = online_money(user=city.users.admin, cycle=shop.cycle)
    assert money.received == sum(s.online + s.refunded + s.refund_due for s in statements)
    assert money.refunded + money.refund_due == Decimal("3.00") + Decimal("19.50")
    a.refresh_from_db()
    assert sum(s.online for s in statements) == a.total


def test_refused_after_packing_for_bad_numbers_and_beyond_the_baseline(shop, city):
    place(shop, city.household_a, (shop.cabbage, 2))
    for bad in (-1, "3", 1.5, True, None):
        with pytest.raises(BaogongError):
            stock_shortfall_record(product_id=shop.cabbage.pk, available=bad, by=None)
    free = place(shop, city.household_b, (shop.cabbage, 2), method=None)
    Order.objects.filter(pk=free.pk).update(channel="baseline")
    with pytest.raises(BaogongError) as refused:
        stock_shortfall_record(product_id=shop.cabbage.pk, available=1, by=None)
    assert refused.value.errors == {"available": [str(refused.value)]}
    assert stock(shop, shop.cabbage)[1] == 4  # nothing changed
    shop.cycle.status = "closing"
    shop.cycle.save()
    with pytest.raises(Conflict):
        stock_shortfall_record(product_id=shop.cabbage.pk, available=0, by=None)


def test_enough_for_everyone_only_lowers_what_can_still_be_ordered(shop, city):
    place(shop, city.household_a, (shop.cabbage, 2))
    outcome = stock_shortfall_record(product_id=shop.cabbage.pk, available=5, by=None, now=timezone.now())
    assert outcome.units == 0 and stock(shop, shop.cabbage) == (5, 2)


def _messages(response) -> list[str]:
    return [str(m) for m in response.context["messages"]] if response.context else []


def test_the_supplier_is_told_what_the_shortfall_did_in_plain_words(shop, city, client):
    """Found by a review: "0 个订单…已取消" and "之后不能再订" when 396 could still be ordered."""
    from django.urls import reverse
    from django.utils.translation import gettext as _

    place(shop, city.household_a, (shop.cabbage, 2), (shop.masks, 1))
    client.force_login(city.users.supplier)
    url = reverse("catalog:product_shortfall", args=[shop.cabbage.pk])
    enough = client.post(url, {"available": "10"}, follow=True)
    said = _messages(enough)
    assert said == [_("Enough for every order: no order changes; %(n)d more can be ordered in this cycle.") % {"n": 8}]
    cut = client.post(url, {"available": "1"}, follow=True)
    said = " ".join(_messages(cut))
    assert (_("%(n)d orders were left with nothing and cancelled.") % {"n": 0}) not in said
    assert "¥6.50" in said
    shop.cycle.status = "closing"
    shop.cycle.save()
    closed = client.post(url, {"available": "0"}, follow=True)
    assert closed.status_code == 200 and any("No cycle" in m or "接单" in m for m in _messages(closed))
    assert stock(shop, shop.cabbage) == (1, 1)


def test_the_queries_of_a_shortfall_do_not_grow_with_the_orders_it_cuts(shop, city, lettuce):
    """The cycle is locked while a shortfall is recorded: its lines and orders are written set-based."""
    from django.db import connection
    from django.db.models import F
    from django.test.utils import CaptureQueriesContext

    building = city.places[city.a.pk].building

    def cut(households: int) -> int:
        CycleStock.objects.filter(cycle=shop.cycle, product=shop.cabbage).update(capacity=F("reserved") + 100)
        for _ in range(households):
            place(shop, HouseholdFactory(building=building), (shop.cabbage, 1), (shop.masks, 1), when_out="substitute")
        held = stock(shop, shop.cabbage)[1]
        with CaptureQueriesContext(connection) as queries:
            stock_shortfall_record(product_id=shop.cabbage.pk, available=held - households, by=None)
        return len(queries)

    assert cut(12) == cut(3)
