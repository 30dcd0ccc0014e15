import datetime
from decimal import Decimal

import pytest
from django.utils import timezone

from core.errors import BaogongError, Conflict, NotFound
from supply import selectors, services
from supply.models import (
    Channel,
    Cycle,
    CycleStatus,
    CycleStock,
    Order,
    OrderLine,
    PaymentState,
    PriceChange,
    PriceState,
)
from supply.services import payments

pytestmark = pytest.mark.django_db


def place(shop, household, *lines, by=None, **kwargs):
    return services.order_place(
        household_id=household.pk,
        lines=[{"product": product.pk, "quantity": quantity} for product, quantity in lines],
        placed_by=by,
        channel=kwargs.pop("channel", Channel.WEB),
        **kwargs,
    )


def stock(shop, product) -> int:
    return CycleStock.objects.get(cycle=shop.cycle, product=product).reserved


def db_state():
    return (
        sorted(Order.objects.values_list("id", "status")),
        sorted(OrderLine.objects.values_list("id", "quantity")),
        sorted(CycleStock.objects.values_list("id", "reserved")),
    )


def test_an_order_fixes_the_posted_price_and_reserves_capacity(shop, city):
    placed = place(shop, city.household_a, (shop.cabbage, 3), (shop.masks, 1), by=city.users.resident)
    order = placed.order
    assert placed.created and order.status == "placed" and order.channel == "web"
    assert order.total == Decimal("6.50") * 3 + Decimal("19.90")
    assert stock(shop, shop.cabbage) == 3 and stock(shop, shop.masks) == 1
    services.product_price_set(product_id=shop.cabbage.pk, price="9.00", by=None)
    line = order.lines.get(product=shop.cabbage)
    assert line.unit_price == Decimal("6.50") and line.line_total == Decimal("19.50")
    order.refresh_from_db()
    assert order.total == Decimal("39.40")


def test_a_household_may_order_several_times_in_a_cycle(shop, city):
    place(shop, city.household_a, (shop.cabbage, 1))
    place(shop, city.household_a, (shop.masks, 1))
    assert Order.objects.filter(household=city.household_a, cycle=shop.cycle).count() == 2


def test_capacity_is_never_exceeded_and_the_message_says_what_is_left(shop, city):
    place(shop, city.household_a, (shop.cabbage, 18))
    before = db_state()
    with pytest.raises(Conflict) as exc:
        place(shop, city.household_b, (shop.masks, 1), (shop.cabbage, 3))
    assert "2" in exc.value.message
    assert db_state() == before  # the masks reserved before the cabbage failed were given back
    place(shop, city.household_b, (shop.cabbage, 2))
    with pytest.raises(Conflict) as exc:
        place(shop, city.household_c, (shop.cabbage, 1))
    assert stock(shop, shop.cabbage) == 20


def test_household_limit_counts_earlier_orders_of_the_cycle(shop, city):
    place(shop, city.household_a, (shop.eggs, 1))
    with pytest.raises(Conflict):
        place(shop, city.household_a, (shop.eggs, 2))
    place(shop, city.household_a, (shop.eggs, 1))
    assert stock(shop, shop.eggs) == 2
    place(shop, city.household_b, (shop.eggs, 2))  # another household has its own limit


@pytest.mark.parametrize(
    "lines",
    [
        [],
        "eggs",
        [{"product": 1}],
        [{"product": "x", "quantity": 1}],
        [{"quantity": 1}],
        [{"product": None, "quantity": 1}],
    ],
)
def test_malformed_lines_are_refused(shop, city, lines):
    with pytest.raises(BaogongError):
        services.order_place(household_id=city.household_a.pk, lines=lines, placed_by=None, channel="web")
    assert not Order.objects.exists()


@pytest.mark.parametrize("quantity", [0, -1, 1.5, 100, 10**12, True, "2"])
def test_bad_quantities_are_refused_with_nothing_written(shop, city, quantity):
    before = db_state()
    with pytest.raises(BaogongError) as exc:
        services.order_place(
            household_id=city.household_a.pk,
            lines=[{"product": shop.cabbage.pk, "quantity": quantity}],
            placed_by=None,
            channel="web",
        )
    assert "lines.0.quantity" in exc.value.errors
    assert db_state() == before


def test_unknown_inactive_hidden_and_foreign_products_are_refused(shop, city):
    from tests.factories import ProductFactory, SupplierFactory

    inactive = ProductFactory(supplier=shop.supplier, is_active=False)
    foreign = ProductFactory(supplier=SupplierFactory())  # a supplier that does not serve this district
    unlisted = ProductFactory(supplier=SupplierFactory(is_whitelisted=False))
    unlisted.supplier.districts.set(city.districts)
    for product_id in (999999, inactive.pk, foreign.pk, unlisted.pk):
        with pytest.raises(BaogongError):
            services.order_place(
                household_id=city.household_a.pk,
                lines=[{"product": product_id, "quantity": 1}],
                placed_by=None,
                channel="web",
            )
    assert not Order.objects.exists()


def test_unknown_household_is_not_found(shop):
    with pytest.raises(NotFound):
        services.order_place(household_id=10**9, lines=[{"product": 1, "quantity": 1}], placed_by=None, channel="web")


def test_nothing_is_accepted_after_the_cutoff_and_the_message_says_when_next(shop, city):
    later = shop.cycle.cutoff_at + datetime.timedelta(minutes=1)
    with pytest.raises(Conflict) as exc:
        place(shop, city.household_a, (shop.cabbage, 1), now=later)
    assert "下一" in exc.value.message or "next" in exc.value.message
    assert str(timezone.localtime(shop.cycle.opens_at + datetime.timedelta(days=3)).day) in exc.value.message
    assert not Order.objects.exists()


def test_cancel_releases_capacity_once_and_only_before_the_cutoff(shop, city):
    order = place(shop, city.household_a, (shop.cabbage, 5), payment_method="online").order
    payments.payment_at_fake_cashier(order=order)
    cancelled = services.order_cancel(order_id=order.pk, by=city.users.resident)
    assert cancelled.status == "cancelled" and cancelled.payment_state == PaymentState.TO_REFUND
    assert stock(shop, shop.cabbage) == 0
    with pytest.raises(Conflict):
        services.order_cancel(order_id=order.pk, by=city.users.resident)
    assert stock(shop, shop.cabbage) == 0
    late = place(shop, city.household_a, (shop.cabbage, 2)).order
    with pytest.raises(Conflict):
        services.order_cancel(order_id=late.pk, by=None, now=shop.cycle.cutoff_at)
    assert stock(shop, shop.cabbage) == 2


def test_idempotency_key_returns_the_first_order_and_refuses_another_body(shop, city):
    user = city.users.resident
    first = place(shop, city.household_a, (shop.cabbage, 1), by=user, idempotency_key="k-1")
    again = place(shop, city.household_a, (shop.cabbage, 1), by=user, idempotency_key="k-1")
    assert first.created and not again.created and again.order.pk == first.order.pk
    with pytest.raises(BaogongError):
        place(shop, city.household_a, (shop.cabbage, 2), by=user, idempotency_key="k-1")
    assert Order.objects.count() == 1 and stock(shop, shop.cabbage) == 1
    # the same key from another user is another order
    place(shop, city.household_a, (shop.cabbage, 1), by=city.users.worker, idempotency_key="k-1", channel="worker")
    assert Order.objects.count() == 2


def test_an_online_order_awaits_its_payment_and_others_are_recorded(shop, city):
    online = place(shop, city.household_a, (shop.masks, 1), payment_method="online").order
    assert online.status == "awaiting" and online.payment_state == PaymentState.AWAITING
    assert place(shop, city.household_a, (shop.masks, 1)).order.payment_state == PaymentState.TO_COLLECT
    baseline = place(shop, city.household_a, (shop.masks, 1), channel="baseline").order
    assert baseline.payment_method == "free" and baseline.payment_state == PaymentState.FREE
    with pytest.raises(BaogongError):
        place(shop, city.household_a, (shop.masks, 1), payment_method="bitcoin")


def test_price_above_the_cap_waits_for_the_task_force(shop, city):
    services.product_reference_cap_set(product_id=shop.masks.pk, cap="25.00", by=city.users.taskforce)
    services.product_price_set(product_id=shop.masks.pk, price="38.00", by=None)
    household = selectors.household_for_ordering(user=city.users.resident, household_id=city.household_a.pk)
    assert shop.masks not in selectors.catalog(household=household, cycle=shop.cycle)
    with pytest.raises(BaogongError):
        place(shop, city.household_a, (shop.masks, 1))
    change = PriceChange.objects.filter(product=shop.masks).first()
    assert change.state == PriceState.PENDING and change.old_price == Decimal("19.90")
    services.price_change_decide(price_change_id=change.pk, approve=True, by=city.users.taskforce)
    shown = selectors.catalog(household=household, cycle=shop.cycle).get(pk=shop.masks.pk)
    assert shown.price == Decimal("38.00")
    with pytest.raises(Conflict):
        services.price_change_decide(price_change_id=change.pk, approve=False, by=city.users.taskforce)


def test_every_price_change_is_kept(shop):
    services.product_price_set(product_id=shop.cabbage.pk, price="7.00", by=None)
    services.product_price_set(product_id=shop.cabbage.pk, price="7.00", by=None)  # no change, no record
    services.product_price_set(product_id=shop.cabbage.pk, price="6.00", by=None)
    prices = list(PriceChange.objects.filter(product=shop.cabbage).order_by("id").values_list("new_price", flat=True))
    assert prices == [Decimal("7.00"), Decimal("6.00")]
    with pytest.raises(BaogongError):
        services.product_price_set(product_id=shop.cabbage.pk, price="-1", by=None)


def test_catalog_shows_what_is_left_and_sold_out(shop, city):
    household = selectors.household_for_ordering(user=city.users.resident, household_id=city.household_a.pk)
    place(shop, city.household_a, (shop.cabbage, 20))
    items = {p.pk: p.available for p in selectors.catalog(household=household, cycle=shop.cycle)}
    assert items[shop.cabbage.pk] == 0 and items[shop.masks.pk] == 100


def test_cycle_open_is_idempotent_and_a_new_product_gets_capacity(shop):
    assert services.cycle_open() == shop.cycle
    assert Cycle.objects.count() == 1
    product = services.product_create(
        supplier_id=shop.supplier.pk, by=None, name="挂面", category="grain_oil", unit="把", price="5.50", capacity=40
    )
    assert CycleStock.objects.get(cycle=shop.cycle, product=product).capacity == 40


def test_cycle_open_due_opens_the_next_cycle_three_days_later(shop):
    Cycle.objects.filter(pk=shop.cycle.pk).update(status=CycleStatus.PACKED)
    assert services.cycle_open_due(now=shop.cycle.opens_at + datetime.timedelta(days=2)) is None
    nxt = services.cycle_open_due(now=shop.cycle.opens_at + datetime.timedelta(days=3, minutes=1))
    assert nxt.number == shop.cycle.number + 1 and nxt.status == CycleStatus.OPEN
    assert services.cycle_open_due(now=shop.cycle.opens_at + datetime.timedelta(days=3, minutes=2)) is None


def test_delivery_expectation_follows_the_lockdown_level(shop, city):
    household = selectors.household_for_ordering(user=city.users.worker, household_id=city.household_a.pk)
    expectation = selectors.delivery_expectation(household=household, cycle=shop.cycle)
    assert expectation.mode == "door"
    assert expectation.date == shop.cycle.first_delivery_date + datetime.timedelta(
        days=household.building.compound.delivery_day
    )
    other = selectors.household_for_ordering(user=city.users.admin, household_id=city.household_b.pk)
    assert selectors.delivery_expectation(household=other, cycle=shop.cycle).mode == "pickup"


def test_the_household_one_orders_for_is_what_the_scope_allows_for_every_role(shop, city):
    """``household_id_for_ordering`` answers a resident's own household without computing the
    scope; for everyone it must answer exactly what ``households.access.restrict`` allows."""
    from django.http import Http404

    from households.access import restrict
    from households.models import Household

    households = [h for place in city.places.values() for h in place.households]
    for user in vars(city.users).values():
        for household in households:
            allowed = restrict(Household.objects.filter(pk=household.pk), user).exists()
            try:
                answer = selectors.household_id_for_ordering(user=user, household_id=household.pk)
            except Http404:
                answer = None
            assert answer == (household.pk if allowed else None), (user.role, household.pk)
    # a resident's own household: no query at all
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    resident = city.users.resident
    resident.refresh_from_db()
    with CaptureQueriesContext(connection) as queries:
        assert (
            selectors.household_id_for_ordering(user=resident, household_id=city.household_a.pk) == city.household_a.pk
        )
    assert len(queries) == 0


def test_a_cycle_moves_only_from_the_status_that_permits_each_step(shop):
    cycle = shop.cycle
    assert not services.cycle_step(cycle=cycle, step="pack"), "an open cycle is not packed before it closes"
    assert not services.cycle_step(cycle=cycle, step="complete")
    assert services.cycle_step(cycle=cycle, step="close") and cycle.closed_at is not None
    assert not services.cycle_step(cycle=cycle, step="close"), "closed once"
    assert services.cycle_step(cycle=cycle, step="pack") and services.cycle_step(cycle=cycle, step="complete")
    assert services.cycle_step(cycle=cycle, step="reopen")
    cycle.refresh_from_db()
    assert cycle.status == "packed"


def test_an_order_is_changed_in_place_all_or_nothing(shop, city):
    """Issue 18: change before the cutoff instead of cancelling: the same order, its quantities
    replaced, stock and limits checked again atomically; a refusal changes nothing."""
    order = place(shop, city.household_a, (shop.cabbage, 2), (shop.masks, 1)).order
    changed = services.order_change(
        order_id=order.pk,
        lines=[{"product": shop.cabbage.pk, "quantity": 5}, {"product": shop.eggs.pk, "quantity": 2}],
        by=city.users.resident,
    )
    assert changed.pk == order.pk and changed.status == "placed"
    assert dict(changed.lines.values_list("product_id", "quantity")) == {shop.cabbage.pk: 5, shop.eggs.pk: 2}
    assert changed.total == Decimal("6.50") * 5 + Decimal(str(shop.eggs.price)) * 2
    assert (stock(shop, shop.cabbage), stock(shop, shop.masks), stock(shop, shop.eggs)) == (5, 0, 2)
    before = db_state()
    with pytest.raises(Conflict):  # eggs are limited to 2 a household: 3 is refused, nothing moves
        services.order_change(
            order_id=order.pk, lines=[{"product": shop.eggs.pk, "quantity": 3}], by=city.users.resident
        )
    with pytest.raises(Conflict):  # more cabbage than there is
        services.order_change(
            order_id=order.pk, lines=[{"product": shop.cabbage.pk, "quantity": 99}], by=city.users.resident
        )
    assert db_state() == before
    paid = payments.payment_at_fake_cashier(
        order=place(shop, city.household_b, (shop.masks, 1), payment_method="online").order
    )
    with pytest.raises(Conflict):
        services.order_change(order_id=paid.pk, lines=[{"product": shop.masks.pk, "quantity": 2}], by=None)
    with pytest.raises(Conflict):
        services.order_change(
            order_id=order.pk,
            lines=[{"product": shop.cabbage.pk, "quantity": 1}],
            by=None,
            now=shop.cycle.cutoff_at,
        )


def test_the_free_baseline_order_is_not_the_household_s_to_cancel_or_change(shop, city):
    """The page never offered it, but the API did: the rule lives in the service now."""
    free = place(shop, city.household_a, (shop.masks, 1), channel="baseline").order
    with pytest.raises(Conflict):
        services.order_cancel(order_id=free.pk, by=city.users.resident)
    with pytest.raises(Conflict):
        services.order_change(order_id=free.pk, lines=[{"product": shop.masks.pk, "quantity": 2}], by=None)
    free.refresh_from_db()
    assert free.status == "placed" and stock(shop, shop.masks) == 1
