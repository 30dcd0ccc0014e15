"""Dashboards: the figures equal counts computed independently here, in Python over the rows."""

import datetime
from collections import Counter
from types import SimpleNamespace

import pytest
from django.utils import timezone

from core.errors import BaogongError, NotFound
from deliveries import handovers
from deliveries import services as delivery_services
from deliveries.models import Consignment, Hop, Package, PackageOrder, PackageStatus
from hotlines import services as hotline_services
from hotlines.models import CheckIn, Ticket
from households import dashboard as dash
from households.models import Household, LockdownLevel
from supply import services as supply_services
from supply.models import CycleStock, Order, OrderLine, OrderStatus
from tests.factories import BuildingFactory, CompoundFactory, HouseholdFactory, ProductFactory

pytestmark = pytest.mark.django_db


def _order(household, *lines, channel="web", by=None):
    return supply_services.order_place(
        household_id=household.pk,
        lines=[{"product": p.pk, "quantity": q} for p, q in lines],
        placed_by=by,
        channel=channel,
    ).order


@pytest.fixture
def busy(city, shop, django_capture_on_commit_callbacks):
    """The small city with a closed cycle: orders of every chosen channel, a sold-out product,
    packages in several statuses, legs received, tickets (one overdue), ledger households."""
    users = city.users
    # A second compound in community A, stay in compound, with a building sealed on its own.
    compound = CompoundFactory(community=city.a, lockdown_level=LockdownLevel.STAY_IN_COMPOUND)
    loose, sealed = (
        BuildingFactory(compound=compound),
        BuildingFactory(compound=compound, lockdown_level=LockdownLevel.STAY_AT_HOME),
    )
    extra = [
        HouseholdFactory(building=loose),
        HouseholdFactory(building=loose, disabled=True),
        HouseholdFactory(building=sealed),
    ]
    a1, a2 = city.places[city.a.pk].households
    b1, b2 = city.places[city.b.pk].households
    c1, c2 = city.places[city.c.pk].households
    other_supplier_product = ProductFactory(name="挂面", capacity=50)
    other_supplier_product.supplier.districts.set([city.districts[0]])
    stock_product = CycleStock.objects.create(cycle=shop.cycle, product=other_supplier_product, capacity=50)
    assert stock_product.pk
    _order(a1, (shop.cabbage, 5), (shop.eggs, 1))
    _order(a2, (shop.cabbage, 4), channel="worker", by=users.worker)
    _order(extra[0], (shop.masks, 2), (other_supplier_product, 3), channel="hotline", by=users.operator)
    _order(extra[2], (shop.cabbage, 6), (shop.eggs, 2))
    _order(b1, (shop.cabbage, 5), (shop.masks, 1))  # cabbage: 20 of 20, sold out
    cancelled = _order(b2, (shop.masks, 3))
    supply_services.order_cancel(order_id=cancelled.pk, by=None)
    _order(c1, (shop.eggs, 1), channel="hotline", by=users.operator2)
    with django_capture_on_commit_callbacks(execute=True):
        delivery_services.cycle_close(cycle_id=shop.cycle.pk)
    shop.cycle.refresh_from_db()
    # Community A's goods received at every hop, in order; its second compound counted one package short.
    for hop, by in ((Hop.SUPPLIER_OFFICE, users.office), (Hop.OFFICE_COMMUNITY, users.worker)):
        for leg in Consignment.objects.filter(hop=hop, built_by=city.a):
            handovers.consignment_receive(
                consignment_id=leg.pk, by=by, packages_received=leg.package_count, items_received=leg.item_count
            )
    for leg in Consignment.objects.filter(hop=Hop.COMMUNITY_COMPOUND, compound=compound):
        handovers.consignment_receive(
            consignment_id=leg.pk,
            by=users.worker,
            packages_received=leg.package_count - 1,
            items_received=leg.item_count,
            note="少一包",
        )
    # Where the packages are: set directly, to have every status on the board.
    packages = {p.household_id: p for p in Package.objects.all()}
    Package.objects.filter(pk=packages[a1.pk].pk).update(status=PackageStatus.DELIVERED)
    Package.objects.filter(pk=packages[extra[0].pk].pk).update(status=PackageStatus.AT_COMPOUND)
    Package.objects.filter(pk=packages[b1.pk].pk).update(status=PackageStatus.EXCEPTION)
    Package.objects.filter(pk=packages[c1.pk].pk).update(status=PackageStatus.DISPATCHED)
    now = timezone.now()
    # Tickets: one overdue in A, one fresh in A, one in C, one resolved in B.
    past = now - datetime.timedelta(hours=30)
    hotline_services.ticket_open(
        household_id=a2.pk, category="complaint", summary="菜不新鲜", opened_by=users.operator, now=past
    )
    hotline_services.ticket_open(
        household_id=extra[1].pk, category="medicine", summary="降压药", opened_by=users.operator
    )
    hotline_services.ticket_open(household_id=c2.pk, category="other", summary="咨询", opened_by=users.operator2)
    done = hotline_services.ticket_open(household_id=b2.pk, category="other", summary="咨询", opened_by=users.operator)
    hotline_services.ticket_resolve(ticket_id=done.pk, by=users.worker_b, resolution="已答复")
    # Ledger: a1, b1, c1 (elderly alone) and extra[1] (disabled); b1 gets a check-in.
    hotline_services.checkin_record(household_id=b1.pk, worker=users.worker_b, kind="call", outcome="well")
    return SimpleNamespace(compound=compound, extra=extra, cycle=shop.cycle, now=timezone.now())


# --- independent counts ---------------------------------------------------------------------------


def _chain(household: Household) -> dict:
    compound = household.building.compound
    community = compound.community
    return {
        "compound": compound.pk,
        "community": community.pk,
        "office": community.office_id,
        "district": community.office.district_id,
    }


def _expected(place_level: str, place_id: int | None, child_level: str, busy) -> dict[int, Counter]:
    """Every figure per child, counted one row at a time in Python."""
    chains = {h.pk: _chain(h) for h in Household.objects.select_related("building__compound__community__office")}

    def inside(household_id):
        return place_level == "city" or chains[household_id][place_level] == place_id

    figures: dict[int, Counter] = {}

    def add(household_id, key, n=1):
        figures.setdefault(chains[household_id][child_level], Counter())[key] += n

    for h in Household.objects.select_related("building__compound"):
        if not inside(h.pk):
            continue
        level = max(h.building.lockdown_level, h.building.compound.lockdown_level)
        add(h.pk, "households")
        add(h.pk, {0: "households_open", 1: "households_in_compound", 2: "households_at_home"}[level])
        ledger = h.needs_care or h.assigned_worker_id is not None
        if ledger:
            add(h.pk, "ledger_households")
            chosen = (
                Order.objects.filter(
                    household=h, cycle=busy.cycle, status=OrderStatus.PLACED, standing_order__isnull=True
                )
                .exclude(channel="baseline")
                .exists()
            )
            contacted = CheckIn.objects.filter(household=h, at__gte=busy.cycle.opens_at).exists()
            if not chosen and not contacted:
                add(h.pk, "ledger_no_contact")
    for o in Order.objects.filter(cycle=busy.cycle):
        if o.status == OrderStatus.PLACED and inside(o.household_id):
            add(o.household_id, "orders")
            add(o.household_id, f"orders_{o.channel}")
    for p in Package.objects.filter(cycle=busy.cycle):
        if inside(p.household_id):
            add(p.household_id, "packages")
            add(p.household_id, f"packages_{p.status}")
    for t in Ticket.objects.all():
        if t.status == "open" and inside(t.household_id):
            add(t.household_id, "tickets_open")
            if t.due_at <= busy.now:
                add(t.household_id, "tickets_overdue")
            if t.level > 0:
                add(t.household_id, "tickets_escalated")
    return figures


def _check(board: dash.Dashboard, expected: dict[int, Counter]) -> None:
    keys = {key for counter in expected.values() for key in counter} | {"households", "orders", "packages"}
    assert {row.place.id for row in board.rows} >= set(expected)
    for row in board.rows:
        for key in keys:
            assert row.values[key] == expected.get(row.place.id, Counter())[key], (row.place, key)
    for key in keys:
        assert board.totals.values[key] == sum(c[key] for c in expected.values()), key


def test_city_dashboard_equals_independent_counts(city, busy):
    board = dash.dashboard(user=city.users.admin, now=busy.now)
    assert board.place.level == "city" and board.child_level == "district"
    assert [row.place.id for row in board.rows] == sorted(
        [d.pk for d in city.districts], key=lambda pk: next(d.name for d in city.districts if d.pk == pk)
    )
    expected = _expected("city", None, "district", busy)
    _check(board, expected)
    # Sanity of the data itself, so the comparison cannot pass on empty figures.
    assert board.totals.values["orders"] == 6 and board.totals.values["packages"] == 6
    assert board.totals.values["packages_delivered"] == 1 and board.totals.values["packages_exception"] == 1
    assert board.totals.values["tickets_overdue"] == 1 and board.totals.values["tickets_open"] == 3
    assert board.totals.values["ledger_no_contact"] >= 1


def test_district_office_and_community_dashboards(city, busy):
    d1 = city.districts[0]
    board = dash.dashboard(user=city.users.taskforce, now=busy.now)
    assert (board.place.level, board.place.id, board.child_level) == ("district", d1.pk, "office")
    _check(board, _expected("district", d1.pk, "office", busy))

    board = dash.dashboard(user=city.users.office, now=busy.now)
    assert (board.place.level, board.child_level) == ("office", "community")
    _check(board, _expected("office", city.offices[0].pk, "community", busy))

    board = dash.dashboard(user=city.users.worker, now=busy.now)
    assert (board.place.level, board.place.id, board.child_level) == ("community", city.a.pk, "compound")
    expected = _expected("community", city.a.pk, "compound", busy)
    _check(board, expected)
    assert {row.place.id for row in board.rows} == {city.places[city.a.pk].compound.pk, busy.compound.pk}


def _counted(leg) -> int:
    receipt = leg.events.filter(kind="received").first()
    return receipt.packages_received if receipt else 0


def test_route_figures_count_received_legs(city, busy):
    board = dash.dashboard(user=city.users.office, now=busy.now)
    rows = {row.place.id: row.values for row in board.rows}
    legs = Consignment.objects.filter(cycle=busy.cycle, office=city.offices[0])
    for hop, (sent, received) in {
        Hop.SUPPLIER_OFFICE: ("office_sent", "office_received"),
        Hop.OFFICE_COMMUNITY: ("community_sent", "community_received"),
        Hop.COMMUNITY_COMPOUND: ("compound_sent", "compound_received"),
    }.items():
        for community in (city.a, city.b):
            mine = [leg for leg in legs if leg.hop == hop and leg.built_by_id == community.pk]
            assert rows[community.pk][sent] == sum(leg.package_count for leg in mine)
            assert rows[community.pk][received] == sum(_counted(leg) for leg in mine), "what each hop counted"
    assert rows[city.a.pk]["office_received"] == rows[city.a.pk]["office_sent"] > 0
    assert rows[city.b.pk]["office_received"] == 0
    # Seen from community A, the supplier → office legs belong to no compound: they count in the totals.
    board = dash.dashboard(user=city.users.worker, now=busy.now)
    assert board.totals.values["office_sent"] == rows[city.a.pk]["office_sent"]
    assert (
        board.totals.values["compound_received"]
        == sum(
            leg.package_count - 1
            for leg in legs
            if leg.hop == Hop.COMMUNITY_COMPOUND and leg.compound_id == busy.compound.pk
        )
        > 0
    )


def test_supplier_fill_rates_and_sold_out(city, shop, busy):
    board = dash.dashboard(user=city.users.taskforce, now=busy.now)
    suppliers = {row["supplier_id"]: row for row in board.table_rows["suppliers"]}
    d1 = city.districts[0]
    lines = OrderLine.objects.filter(order__cycle=busy.cycle, order__status=OrderStatus.PLACED).select_related(
        "order__household__building__compound__community__office", "product"
    )
    packed_orders = set(PackageOrder.objects.values_list("order_id", flat=True))
    for supplier_id, row in suppliers.items():
        mine = [
            line
            for line in lines
            if line.product.supplier_id == supplier_id
            and line.order.household.building.compound.community.office.district_id == d1.pk
        ]
        assert row["units_ordered"] == sum(line.quantity for line in mine)
        assert row["units_packed"] == sum(line.quantity for line in mine if line.order_id in packed_orders)
        stock = CycleStock.objects.filter(cycle=busy.cycle, product__supplier_id=supplier_id)
        assert row["capacity"] == sum(s.capacity for s in stock)
        assert row["reserved"] == sum(s.reserved for s in stock)
    assert suppliers[shop.supplier.pk]["units_ordered"] == 5 + 1 + 4 + 2 + 6 + 2 + 5 + 1
    assert suppliers[shop.supplier.pk]["fill_rate"] == 1.0
    assert [row["product"] for row in board.table_rows["sold_out"]] == ["大白菜 约2kg"]


def test_ledger_count_equals_the_alert_list(city, busy):
    from hotlines.selectors import ledger_alerts

    for user in (city.users.admin, city.users.taskforce, city.users.worker):
        board = dash.dashboard(user=user, now=busy.now)
        assert board.totals.values["ledger_no_contact"] == ledger_alerts(user=user, now=busy.now)[1].count()


# --- scope ------------------------------------------------------------------------------------------


def test_place_narrows_within_scope_and_never_beyond(city, busy):
    d1, d2 = city.districts
    admin, taskforce, office, worker = city.users.admin, city.users.taskforce, city.users.office, city.users.worker
    assert dash.dashboard(user=admin, place=f"community:{city.c.pk}").place.id == city.c.pk
    assert dash.dashboard(user=taskforce, place=f"office:{city.offices[0].pk}").child_level == "community"
    assert dash.dashboard(user=office, place=f"community:{city.b.pk}").place.name == city.b.name
    for user, place in (
        (taskforce, f"district:{d2.pk}"),
        (taskforce, f"community:{city.c.pk}"),
        (office, f"district:{d1.pk}"),  # above the own place
        (office, f"office:{city.offices[1].pk}"),
        (worker, f"community:{city.b.pk}"),
        (worker, f"office:{city.offices[0].pk}"),
        (admin, "community:999999999"),
    ):
        with pytest.raises(NotFound):
            dash.dashboard(user=user, place=place)
    for bad in (
        "community",
        "city:1",
        "compound:1",
        "district:0",
        "district:abc",
        "district:1:2",
        "district:99999999999999999999",
    ):
        with pytest.raises(BaogongError) as caught:
            dash.dashboard(user=admin, place=bad)
        assert caught.value.status_code == 400 and "place" in caught.value.errors
    for user in (city.users.resident, city.users.supplier, city.users.operator):
        with pytest.raises(BaogongError) as caught:
            dash.dashboard(user=user)
        assert caught.value.status_code == 403


def test_district_taskforce_sees_only_own_district_figures(city, busy):
    board = dash.dashboard(user=city.users.taskforce, now=busy.now)
    assert [row.place.id for row in board.rows] == [city.offices[0].pk]
    # C's hotline order and ticket are in district 2: not in these figures.
    assert board.totals.values["orders_hotline"] == 1
    assert board.totals.values["tickets_open"] == 2


def test_cycle_choice(city, shop, busy):
    second = supply_services.cycle_open()
    board = dash.dashboard(user=city.users.admin, now=busy.now)
    assert board.period.obj == second and board.totals.values["packages"] == 0
    board = dash.dashboard(user=city.users.admin, cycle=str(busy.cycle.number), now=busy.now)
    assert board.period.obj == busy.cycle and board.totals.values["packages"] == 6
    assert [key for key, _label in board.period.options] == [str(second.number), str(busy.cycle.number)]
    with pytest.raises(NotFound):
        dash.dashboard(user=city.users.admin, cycle="999")
    with pytest.raises(BaogongError) as caught:
        dash.dashboard(user=city.users.admin, cycle="x1")
    assert caught.value.status_code == 400


def test_no_cycle_yet(city):
    board = dash.dashboard(user=city.users.admin)
    assert board.period.obj is None
    assert board.totals.values["households"] == 6 and board.totals.values["orders"] == 0


# --- the whole city's units ordered are the units reserved ------------------------------------------


def _units_per_supplier(cycle, district_id=None) -> Counter:
    units: Counter = Counter()
    lines = OrderLine.objects.filter(order__cycle=cycle, order__status=OrderStatus.PLACED).select_related(
        "product", "order__household__building__compound__community__office"
    )
    for line in lines:
        if district_id is None or line.order.household.building.compound.community.office.district_id == district_id:
            units[line.product.supplier_id] += line.quantity
    return units


def test_reserved_equals_placed_lines_and_city_units_ordered(city, shop, busy):
    """The city dashboard reads the units ordered from CycleStock.reserved: prove, through every
    service that writes lines or reserved units (order_place, order_cancel, the baseline and
    standing orders of cycle_open), that reserved is the sum of the placed lines' quantities, and
    that the city's figure equals the lines summed here and the districts' figures added up."""
    from supply.models import BaselineItem, StandingOrder

    d1 = city.districts[0]
    BaselineItem.objects.create(district=d1, product=shop.eggs, quantity=2)
    ledger_household = city.places[city.a.pk].households[0]
    StandingOrder.objects.create(household=ledger_household, product=shop.masks, quantity=3)
    second = supply_services.cycle_open()  # places the baseline and standing orders
    assert Order.objects.filter(cycle=second, channel="baseline").exists()
    assert Order.objects.filter(cycle=second, standing_order__isnull=False).exists()
    _order(city.household_b, (shop.cabbage, 2), (shop.eggs, 1))
    kept = _order(city.household_c, (shop.masks, 1))
    cancelled = _order(busy.extra[0], (shop.cabbage, 3))
    supply_services.order_cancel(order_id=cancelled.pk, by=None)
    assert kept.pk
    for cycle in (busy.cycle, second):
        lines = Counter()
        for product_id, quantity in OrderLine.objects.filter(
            order__cycle=cycle, order__status=OrderStatus.PLACED
        ).values_list("product_id", "quantity"):
            lines[product_id] += quantity
        stock = {s.product_id: s.reserved for s in CycleStock.objects.filter(cycle=cycle)}
        assert set(lines) <= set(stock)
        assert {pid: n for pid, n in stock.items() if n} == dict(lines)

        board = dash.dashboard(user=city.users.admin, cycle=str(cycle.number), now=busy.now)
        city_units = {row["supplier_id"]: row["units_ordered"] for row in board.table_rows["suppliers"]}
        expected = _units_per_supplier(cycle)
        assert sum(expected.values()) > 0
        assert {k: v for k, v in city_units.items() if v} == dict(expected)
        by_district: Counter = Counter()
        for district in city.districts:
            part = dash.dashboard(
                user=city.users.admin, place=f"district:{district.pk}", cycle=str(cycle.number), now=busy.now
            )
            mine = {row["supplier_id"]: row["units_ordered"] for row in part.table_rows["suppliers"]}
            assert {k: v for k, v in mine.items() if v} == dict(_units_per_supplier(cycle, district.pk))
            by_district.update(mine)
        assert {k: v for k, v in by_district.items() if v} == dict(expected)
