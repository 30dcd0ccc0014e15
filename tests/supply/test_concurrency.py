"""Capacity, limits and idempotency under real concurrency: threads with their own PostgreSQL connections."""

import threading
from concurrent.futures import ThreadPoolExecutor

import pytest
from django.db import connection
from django.db.models import Sum

from core.errors import BaogongError, Conflict
from supply import services
from supply.models import CycleStock, Order, OrderLine
from tests.factories import HouseholdFactory

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]


def race(n: int, work) -> list:
    """Run ``work(i)`` in n threads released together; return each result or exception."""
    barrier = threading.Barrier(n)

    def run(i):
        try:
            barrier.wait(timeout=30)
            return work(i)
        except Exception as exc:  # noqa: BLE001 - the test inspects what each racer got
            return exc
        finally:
            connection.close()

    with ThreadPoolExecutor(max_workers=n) as pool:
        return list(pool.map(run, range(n)))


def test_fifty_orders_racing_for_twenty_units_accept_exactly_twenty(shop, city):
    building = city.places[city.a.pk].building
    households = [HouseholdFactory(building=building) for _ in range(50)]
    results = race(
        50,
        lambda i: services.order_place(
            household_id=households[i].pk,
            lines=[{"product": shop.cabbage.pk, "quantity": 1}],
            placed_by=None,
            channel="web",
        ),
    )
    accepted = [r for r in results if isinstance(r, services.PlacedOrder)]
    refused = [r for r in results if isinstance(r, Exception)]
    assert len(accepted) == 20
    assert all(isinstance(r, Conflict) for r in refused), refused
    assert CycleStock.objects.get(cycle=shop.cycle, product=shop.cabbage).reserved == 20
    assert OrderLine.objects.filter(product=shop.cabbage).aggregate(n=Sum("quantity"))["n"] == 20


def test_multi_line_orders_racing_never_oversell_nor_deadlock(shop, city):
    building = city.places[city.a.pk].building
    households = [HouseholdFactory(building=building) for _ in range(24)]

    def work(i):
        lines = [{"product": shop.cabbage.pk, "quantity": 2}, {"product": shop.masks.pk, "quantity": 9}]
        if i % 2:
            lines.reverse()  # the other order of products must not deadlock
        return services.order_place(household_id=households[i].pk, lines=lines, placed_by=None, channel="web")

    results = race(24, work)
    assert not [r for r in results if isinstance(r, Exception) and not isinstance(r, Conflict)], results
    accepted = sum(isinstance(r, services.PlacedOrder) for r in results)
    assert accepted == 10  # cabbage: 20 // 2 = 10; masks: 100 // 9 = 11
    assert CycleStock.objects.get(cycle=shop.cycle, product=shop.cabbage).reserved == 20
    assert CycleStock.objects.get(cycle=shop.cycle, product=shop.masks).reserved == 90


def test_household_limit_holds_under_concurrency(shop, city):
    results = race(
        10,
        lambda i: services.order_place(
            household_id=city.household_a.pk,
            lines=[{"product": shop.eggs.pk, "quantity": 1}],
            placed_by=None,
            channel="web",
        ),
    )
    assert sum(isinstance(r, services.PlacedOrder) for r in results) == 2
    assert (
        OrderLine.objects.filter(order__household=city.household_a, product=shop.eggs).aggregate(n=Sum("quantity"))["n"]
        == 2
    )


def test_the_same_idempotency_key_sent_five_times_in_parallel_creates_one_order(shop, city):
    user = city.users.resident
    results = race(
        5,
        lambda i: services.order_place(
            household_id=city.household_a.pk,
            lines=[{"product": shop.masks.pk, "quantity": 3}],
            placed_by=user,
            channel="web",
            idempotency_key="retry-me",
        ),
    )
    assert all(isinstance(r, services.PlacedOrder) for r in results), results
    assert sum(r.created for r in results) == 1
    assert len({r.order.pk for r in results}) == 1
    assert Order.objects.count() == 1
    assert CycleStock.objects.get(cycle=shop.cycle, product=shop.masks).reserved == 3


def test_the_same_key_for_two_households_at_the_same_moment_places_one_order(shop, city):
    user = city.users.operator
    households = [city.household_a, city.places[city.a.pk].households[1]]
    results = race(
        2,
        lambda i: services.order_place(
            household_id=households[i].pk,
            lines=[{"product": shop.masks.pk, "quantity": 2}],
            placed_by=user,
            channel="hotline",
            idempotency_key="same-moment",
        ),
    )
    assert sum(isinstance(r, services.PlacedOrder) and r.created for r in results) == 1, results
    refused = [r for r in results if isinstance(r, Exception)]
    assert len(refused) == 1 and "idempotency_key" in refused[0].errors, refused
    assert Order.objects.count() == 1
    assert CycleStock.objects.get(cycle=shop.cycle, product=shop.masks).reserved == 2


def test_cancel_racing_with_itself_releases_capacity_once(shop, city):
    order = services.order_place(
        household_id=city.household_a.pk,
        lines=[{"product": shop.cabbage.pk, "quantity": 4}],
        placed_by=None,
        channel="web",
    ).order
    results = race(6, lambda i: services.order_cancel(order_id=order.pk, by=None))
    assert sum(not isinstance(r, BaogongError) for r in results) == 1
    assert CycleStock.objects.get(cycle=shop.cycle, product=shop.cabbage).reserved == 0


def test_notifications_racing_each_other_and_a_cancel_settle_the_money_once(shop, city):
    """Duplicate and distinct notifications of one payment arrive together (providers retry), and
    the resident cancels at the same moment: the payment is recorded once, the stock released once,
    and exactly the amount paid goes back, whichever came first."""
    from supply.models import Payment, PaymentNotice, Refund
    from supply.payments.gateways import FakeGateway
    from supply.services import payments

    order = services.order_place(
        household_id=city.household_a.pk,
        lines=[{"product": shop.masks.pk, "quantity": 2}],
        placed_by=None,
        channel="web",
        payment_method="online",
    ).order
    payment = payments.payment_start(order=order, return_url="")
    fake = FakeGateway()
    first = fake.pay(payment.out_trade_no)
    second = fake.pay(payment.out_trade_no)  # the same payment told again, under another id

    def work(i):
        if i == 7:
            return services.order_cancel(order_id=order.pk, by=None)
        headers, body = first if i % 2 else second
        return payments.payment_notified(provider="fake", headers=headers, body=body)

    results = race(8, work)
    assert not [r for r in results if isinstance(r, Exception)], results
    order.refresh_from_db()
    assert order.status == "cancelled" and order.payment_state in ("to_refund", "refunded")
    assert Payment.objects.get(pk=payment.pk).status == "paid"
    assert PaymentNotice.objects.count() == 2
    [refund] = Refund.objects.filter(order=order)
    assert refund.amount == payment.amount
    assert CycleStock.objects.get(cycle=shop.cycle, product=shop.masks).reserved == 0
