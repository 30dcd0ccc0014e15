"""Statements that add up to the cent (issue 17): after a cycle with online, cash and free orders,
a line not supplied, cancellations (one refunded, one refund not yet settled), an order never paid,
deliveries and a door refused, every supplier's sold = online + cash + refunded + outstanding, and
each figure equals an independent count made in Python from the raw rows."""

from collections import defaultdict
from decimal import Decimal

import pytest
from django.urls import reverse

from deliveries import handovers
from deliveries.models import HandoverEvent, HandoverKind, PackageOrder
from deliveries.statements import community_cash, disagreements, online_money, statement_build, supplier_statements
from households.identity import api_token_issue
from supply import services as supply_services
from supply.models import Order, OrderLine, Payment, Refund
from supply.services import payments
from tests.deliveries.custody import pack, receive_upstream

pytestmark = pytest.mark.django_db


def place(household, *lines, method="online", channel="web"):
    return supply_services.order_place(
        household_id=household.pk,
        lines=[{"product": p.pk, "quantity": q} for p, q in lines],
        placed_by=None,
        channel=channel,
        payment_method=method,
    ).order


@pytest.fixture
def cycle_done(city, shop, django_capture_on_commit_callbacks):
    capture = django_capture_on_commit_callbacks
    a1, a2 = city.places[city.a.pk].households
    with capture(execute=True):
        paid = payments.payment_at_fake_cashier(order=place(a1, (shop.eggs, 1), (shop.cabbage, 2)))
        payments.order_line_refund(line_id=paid.lines.get(product=shop.cabbage).pk, by=city.users.worker)
        cancelled = payments.payment_at_fake_cashier(order=place(a2, (shop.eggs, 2)))
        supply_services.order_cancel(order_id=cancelled.pk, by=None)  # refunded at once
    # a cancellation whose refund the provider has not settled yet (never sent here)
    with capture(execute=False):
        pending = payments.payment_at_fake_cashier(order=place(city.household_c, (shop.masks, 1)))
        supply_services.order_cancel(order_id=pending.pk, by=None)
    never_paid = place(city.household_b, (shop.cabbage, 3))  # expires at the cutoff
    cash_cancelled = place(city.household_c, (shop.cabbage, 1), method="on_delivery")
    supply_services.order_cancel(order_id=cash_cancelled.pk, by=None)
    free = place(city.household_b, (shop.masks, 2), method=None, channel="baseline")  # the free baseline
    # as cycle_open writes them: no price on the order or its lines (the district pays the supplier)
    Order.objects.filter(pk=free.pk).update(total=0)
    OrderLine.objects.filter(order=free).update(unit_price=0, line_total=0)
    done = pack(city, shop, capture, today=True)  # four cash orders, then the close
    receive_upstream(done.cycle, city.users.admin)
    handovers.package_deliver(package_id=done.a1.pk, by=city.users.worker, override="测试：当日送达")
    handovers.package_exception(
        package_id=done.a2.pk, by=city.users.worker, reason="refused", override="测试：当日送达"
    )
    done.never_paid, done.pending = never_paid, pending
    return done


def independent_count(cycle) -> dict[int, dict[str, Decimal]]:
    """Per supplier, each line's money told from the raw rows, one line at a time."""
    paid_orders = set(Payment.objects.filter(status="paid").values_list("order_id", flat=True))
    line_refunds = dict(Refund.objects.filter(line__isnull=False).values_list("line_id", "status"))
    order_refunds = dict(
        Refund.objects.filter(line__isnull=True).exclude(reason="paid_twice").values_list("order_id", "status")
    )
    delivered_with_cash = set()
    for event in HandoverEvent.objects.filter(kind=HandoverKind.DELIVERED):
        undone = HandoverEvent.objects.filter(undoes=event).exists()
        if not undone and event.cash_collected is not None:
            delivered_with_cash |= set(
                PackageOrder.objects.filter(package_id=event.package_id).values_list("order_id", flat=True)
            )
    counts: dict[int, dict[str, Decimal]] = defaultdict(lambda: defaultdict(Decimal))
    for line in OrderLine.objects.filter(order__cycle=cycle).select_related("order", "product"):
        order, money = line.order, counts[line.product.supplier_id]
        if order.payment_method == "free":
            money["free"] += line.quantity * line.product.price
        elif line.pk in line_refunds:
            money["refunded" if line_refunds[line.pk] == "succeeded" else "refund_due"] += line.line_total
        elif order.payment_method == "online" and order.pk in paid_orders:
            if order.status == "placed":
                money["online"] += line.line_total
            else:
                money["refunded" if order_refunds.get(order.pk) == "succeeded" else "refund_due"] += line.line_total
        elif order.payment_method == "on_delivery" and order.status == "placed":
            money["cash" if order.pk in delivered_with_cash else "to_collect"] += line.line_total
    return counts


def test_every_supplier_s_statement_adds_up_and_matches_an_independent_count(cycle_done, city, shop):
    statements = supplier_statements(user=city.users.admin, cycle=cycle_done.cycle)
    expected = independent_count(cycle_done.cycle)
    assert {s.supplier_id for s in statements} == set(expected) == {shop.supplier.pk, cycle_done.second_supplier.pk}
    for statement in statements:
        count = expected[statement.supplier_id]
        for state in ("online", "cash", "refunded", "refund_due", "to_collect", "free"):
            assert getattr(statement, state) == count[state], (statement.supplier, state)
        assert statement.sold == statement.online + statement.cash + statement.refunded + statement.outstanding
        assert statement.owed == statement.online + statement.cash + statement.free
    main = next(s for s in statements if s.supplier_id == shop.supplier.pk)
    # every kind of money happened to the main supplier in this cycle
    assert all(getattr(main, state) > 0 for state in ("online", "cash", "refunded", "refund_due", "to_collect", "free"))
    # the never-paid order expired and is in no figure
    cycle_done.never_paid.refresh_from_db()
    assert cycle_done.never_paid.status == "expired"
    assert main.sold == sum(
        (count for state, count in expected[shop.supplier.pk].items() if state != "free"), Decimal("0.00")
    )


def test_cash_per_community_and_online_money_agree_with_the_lines(cycle_done, city):
    statements = supplier_statements(user=city.users.admin, cycle=cycle_done.cycle)
    cash = community_cash(user=city.users.admin, cycle=cycle_done.cycle)
    assert [(c.community_id, c.collected, c.handed_over) for c in cash] == [
        (city.a.pk, cycle_done.a1.to_collect, Decimal("0.00"))
    ]
    assert sum(c.collected for c in cash) == sum(s.cash for s in statements)
    money = online_money(user=city.users.admin, cycle=cycle_done.cycle)
    assert money.received == sum(s.online + s.refunded + s.refund_due for s in statements)
    assert money.refunded == sum(s.refunded for s in statements)
    assert money.refund_due == sum(s.refund_due for s in statements)


def test_a_supplier_sees_its_own_statement_only(cycle_done, city, shop):
    supplier_user = city.users.supplier
    mine = supplier_statements(user=supplier_user, cycle=cycle_done.cycle)
    assert [s.supplier_id for s in mine] == [supplier_user.supplier_id]


def test_the_reconciliation_check_lists_orders_whose_money_and_package_disagree(cycle_done, city):
    cycle = cycle_done.cycle
    assert disagreements(user=city.users.admin, cycle=cycle) == []
    # an order marked paid with no payment behind it (what the old code wrote), a packed order
    # cancelled behind the package's back, and a refund the provider refused
    cash_order = PackageOrder.objects.filter(package=cycle_done.b).values_list("order_id", flat=True).first()
    Order.objects.filter(pk=cash_order).update(payment_state="paid")
    packed = PackageOrder.objects.filter(package=cycle_done.a2).values_list("order_id", flat=True).first()
    Order.objects.filter(pk=packed).update(status="cancelled")
    Refund.objects.filter(order=cycle_done.pending).update(status="failed")
    found = {(d.order_id, d.problem) for d in disagreements(user=city.users.admin, cycle=cycle)}
    assert found == {
        (cash_order, "paid_without_payment"),
        (packed, "packed_unplaced"),
        (cycle_done.pending.pk, "refund_failed"),
    }
    # a community worker sees only its community's
    mine = {d.order_id for d in disagreements(user=city.users.worker, cycle=cycle)}
    assert mine == {packed}


def test_the_statement_page_and_api_add_up_the_same(cycle_done, city, client):
    client.force_login(city.users.admin)
    page = client.get(reverse("deliveries:statements"), {"cycle": cycle_done.cycle.number})
    assert page.status_code == 200
    statements = supplier_statements(user=city.users.admin, cycle=cycle_done.cycle)
    html = page.content.decode()
    for statement in statements:
        assert f"{statement.sold:.2f}" in html and f"{statement.owed:.2f}" in html
    assert client.get(reverse("deliveries:statements"), {"cycle": "x"}).status_code == 400
    csv = client.get(reverse("deliveries:statements_export", args=["csv"]), {"cycle": cycle_done.cycle.number})
    assert csv.status_code == 200 and f"{statements[0].sold:.2f}" in csv.content.decode("utf-8-sig")


def test_the_statements_api_gives_the_page_s_figures_in_the_caller_s_scope(cycle_done, city, client):
    def get(user, **params):
        token = api_token_issue(user=user)[1]
        return client.get("/api/v1/statements/", params, HTTP_AUTHORIZATION=f"Token {token}")

    response = get(city.users.taskforce, cycle=cycle_done.cycle.number)
    assert response.status_code == 200, response.content
    data = response.json()
    expected = statement_build(user=city.users.taskforce, cycle=cycle_done.cycle).as_dict()
    assert data == expected and data["cycle"] == cycle_done.cycle.number
    for row in data["suppliers"]:
        parts = sum(Decimal(row[k]) for k in ("paid_online", "collected_in_cash", "refunded", "outstanding"))
        assert Decimal(row["sold"]) == parts
    mine = get(city.users.supplier, cycle=cycle_done.cycle.number).json()
    assert [row["supplier"] for row in mine["suppliers"]] == [city.users.supplier.supplier_id]
    assert mine["communities"] == [] and mine["disagreements"] == []
    assert get(city.users.resident).status_code == 403
    assert get(city.users.taskforce, cycle="abc").status_code == 400
    assert get(city.users.taskforce, cycle=999).status_code == 404


def test_a_worker_refunds_a_line_not_supplied_from_the_package_page(cycle_done, city, client, shop):
    package_url = reverse("package_scan", args=[cycle_done.a1.code])
    client.force_login(city.users.worker)
    page = client.get(package_url).content.decode()
    eggs = OrderLine.objects.get(
        order__household=cycle_done.a1.household, order__payment_method="online", product=shop.eggs
    )
    refund_url = reverse("supply:order_line_refund", args=[eggs.pk])
    assert 'id="not-supplied"' in page and refund_url in page
    client.force_login(city.users.worker_b)  # another community: not theirs
    assert client.post(refund_url).status_code == 404
    client.force_login(city.users.worker)
    response = client.post(refund_url, {"next": package_url})
    assert response.status_code == 302 and response["Location"] == package_url
    refund = Refund.objects.get(line=eggs)
    assert refund.amount == eggs.line_total and refund.reason == "not_supplied"
    assert refund_url not in client.get(package_url).content.decode()  # refunded once
    assert Refund.objects.filter(line=eggs).count() == 1
