import datetime
import io
import json
from collections import Counter
from decimal import Decimal

import pytest
from django.core.management import call_command
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from core.errors import Conflict
from deliveries import services
from deliveries.models import BuildStatus, CommunityBuild, Consignment, Hop, Package, PackageOrder, PickupSlot
from deliveries.services import building
from households.models import LockdownLevel
from supply import services as supply_services
from supply.models import CycleStatus, CycleStock, Order, OrderStatus
from supply.services import payments
from tests.factories import HouseholdFactory

pytestmark = pytest.mark.django_db


def order(shop, household, *lines, paid=True, **kwargs):
    """An order placed on the web; one to pay online is paid at the demo's cashier unless ``paid=False``."""
    placed = supply_services.order_place(
        household_id=household.pk,
        lines=[{"product": p.pk, "quantity": q} for p, q in lines],
        placed_by=None,
        channel="web",
        **kwargs,
    ).order
    if paid and placed.status == "awaiting":
        return payments.payment_at_fake_cashier(order=placed)
    return placed


@pytest.fixture
def close(django_capture_on_commit_callbacks):
    """cycle_close with its on-commit hooks run (the build tasks run eagerly in tests)."""

    def run(**kwargs):
        with django_capture_on_commit_callbacks(execute=True):
            cycle = services.cycle_close(**kwargs)
        cycle.refresh_from_db()
        return cycle

    return run


def snapshot(cycle):
    return (
        sorted(
            Package.objects.filter(cycle=cycle).values_list(
                "household_id", "code", "mode", "delivery_date", "item_count", "total"
            )
        ),
        sorted(PackageOrder.objects.filter(package__cycle=cycle).values_list("order_id", "package__code")),
        sorted(
            Consignment.objects.filter(cycle=cycle).values_list("hop", "delivery_date", "package_count", "item_count")
        ),
        sorted(PickupSlot.objects.filter(cycle=cycle).values_list("compound_id", "starts_at", "assigned")),
    )


def test_closing_builds_one_package_per_household_with_its_orders(shop, city, close):
    a1, a2 = city.places[city.a.pk].households
    first = order(shop, a1, (shop.cabbage, 2), payment_method="online")
    second = order(shop, a1, (shop.masks, 1), (shop.cabbage, 1))
    third = order(shop, a2, (shop.eggs, 1))
    cancelled = order(shop, city.household_b, (shop.masks, 1))
    supply_services.order_cancel(order_id=cancelled.pk, by=None)

    cycle = close()
    cycle.refresh_from_db()
    assert cycle.status == CycleStatus.PACKED  # eager tasks in tests

    packages = {p.household_id: p for p in Package.objects.filter(cycle=cycle)}
    assert set(packages) == {a1.pk, a2.pk}
    p1 = packages[a1.pk]
    assert set(p1.order_links.values_list("order_id", flat=True)) == {first.pk, second.pk}
    assert p1.item_count == 4 and p1.total == Decimal("6.50") * 3 + Decimal("19.90")
    assert p1.to_collect == Decimal("6.50") + Decimal("19.90")  # the online payment is not collected
    assert "大白菜 约2kg ×3颗" in p1.item_summary
    assert p1.mode == "door"  # community A's compound is stay at home
    compound = city.places[city.a.pk].compound
    assert p1.delivery_date == cycle.first_delivery_date + datetime.timedelta(days=compound.delivery_day)
    assert p1.code.endswith("-001") and packages[a2.pk].code.endswith("-002")  # room 301 before 1201
    # the cycle, the district, the community, the compound, the sequence: unique for ever
    assert p1.code.split("-")[0] == str(cycle.number)
    assert p1.code.split("-")[2:4] == [str(city.a.pk), str(compound.pk)]
    assert set(packages[a2.pk].order_links.values_list("order_id", flat=True)) == {third.pk}
    assert not PackageOrder.objects.filter(order=cancelled).exists()


def test_an_online_order_never_paid_expires_at_the_cutoff_and_is_not_packed(shop, city, close):
    a1, _a2 = city.places[city.a.pk].households
    unpaid = order(shop, a1, (shop.cabbage, 2), payment_method="online", paid=False)
    kept = order(shop, a1, (shop.eggs, 1))
    cycle = close()
    unpaid.refresh_from_db()
    assert unpaid.status == "expired" and unpaid.payment_state == "void"
    assert not PackageOrder.objects.filter(order=unpaid).exists()
    package = Package.objects.get(cycle=cycle, household=a1)
    assert set(package.order_links.values_list("order_id", flat=True)) == {kept.pk}
    assert CycleStock.objects.get(cycle=cycle, product=shop.cabbage).reserved == 0


def written(cycle) -> dict:
    """Everything a build writes, by natural key (no ids, no timestamps)."""
    return {
        "packages": sorted(
            Package.objects.filter(cycle=cycle).values_list(
                "household_id",
                "community_id",
                "compound_id",
                "building_id",
                "code",
                "mode",
                "status",
                "urgent",
                "delivery_date",
                "dispatch_date",
                "pickup_slot__date",
                "pickup_slot__starts_at",
                "orders_count",
                "item_count",
                "item_summary",
                "total",
                "to_collect",
            )
        ),
        "links": sorted(PackageOrder.objects.filter(package__cycle=cycle).values_list("package__code", "order_id")),
        "slots": sorted(
            PickupSlot.objects.filter(cycle=cycle).values_list(
                "compound_id", "date", "starts_at", "ends_at", "capacity", "assigned"
            )
        ),
        "legs": sorted(
            Consignment.objects.filter(cycle=cycle).values_list(
                "hop",
                "supplier_id",
                "office_id",
                "community_id",
                "compound_id",
                "delivery_date",
                "package_count",
                "item_count",
            ),
            key=str,
        ),
    }


@pytest.mark.postgres
def test_postgresql_writes_the_packages_exactly_as_python_does(shop, city, monkeypatch):
    """On PostgreSQL the database folds, numbers and writes the packages; elsewhere Python does.
    Both write the same packages, links, pick-up slots and route legs, field by field: many orders
    of a household, a cancelled one, online and cash, addresses whose text and numbers sort apart
    (2号楼 before 12号楼, unit "" and "2", room 301 before 1201), a sealed building in an open
    compound, and a pick-up compound whose buildings overflow a slot."""
    a1, a2 = city.places[city.a.pk].households
    order(shop, a1, (shop.cabbage, 2), payment_method="online")
    order(shop, a1, (shop.masks, 1), (shop.cabbage, 1), note="第二单")
    order(shop, a1, (shop.eggs, 1))
    order(shop, a1, (shop.eggs, 1), (shop.cabbage, 1))
    order(shop, a2, (shop.eggs, 1), (shop.masks, 2))
    cancelled = order(shop, a2, (shop.cabbage, 5))
    supply_services.order_cancel(order_id=cancelled.pk, by=None)
    from tests.factories import BuildingFactory, CompoundFactory

    yard = CompoundFactory(community=city.a, lockdown_level=LockdownLevel.OPEN, code="b-yard", delivery_day=1)
    buildings = [
        BuildingFactory(compound=yard, number="12号楼", sort_key=12),
        BuildingFactory(compound=yard, number="2号楼", sort_key=2),
        BuildingFactory(compound=yard, number="2号楼B", sort_key=2, lockdown_level=LockdownLevel.STAY_AT_HOME),
    ]
    n = 0
    for building_row, count in zip(buildings, (27, 31, 5), strict=True):
        for i in range(count):
            n += 1
            household = HouseholdFactory(
                building=building_row, unit=("", "2")[i % 2], floor=3 + i % 10, room=f"{3 + i % 10}{i // 10 + 1:02d}"
            )
            order(shop, household, (shop.eggs, 1 + n % 2), *([(shop.masks, 1)] if n % 3 else []))
    cycle = shop.cycle
    cycle.status = CycleStatus.CLOSING
    cycle.save(update_fields=["status"])

    def build(in_sql: bool) -> dict:
        monkeypatch.setattr(building, "_writes_in_sql", lambda: in_sql)
        CommunityBuild.objects.update_or_create(cycle=cycle, community=city.a, defaults={"status": BuildStatus.PENDING})
        done = services.community_build(cycle_id=cycle.pk, community_id=city.a.pk)
        assert done.packages == 2 + 63 and done.orders == 4 + 1 + 63
        result = written(cycle)
        PackageOrder.objects.all().delete()
        for model in (Package, PickupSlot, Consignment):
            model.objects.all().delete()
        return result

    in_sql, in_python = build(True), build(False)
    assert in_sql == in_python
    assert len(in_sql["slots"]) >= 2 and {p[5] for p in in_sql["packages"]} == {"door", "pickup"}
    summaries = [p[14] for p in in_sql["packages"] if p[0] == a1.pk]
    assert summaries == ["大白菜 约2kg ×4颗、医用口罩 50只 ×1盒、鸡蛋 30枚 ×2盒"]


def test_orders_are_refused_once_the_cycle_is_closing(shop, city, close):
    close()
    with pytest.raises(Conflict):
        order(shop, city.household_a, (shop.masks, 1))


def test_closing_twice_and_building_twice_change_nothing(shop, city, close):
    order(shop, city.household_a, (shop.masks, 2))
    order(shop, city.household_b, (shop.cabbage, 1))
    cycle = close()
    before = snapshot(cycle)
    close(cycle_id=cycle.pk)
    for community in (city.a, city.b, city.c):
        services.community_build(cycle_id=cycle.pk, community_id=community.pk)
    assert snapshot(cycle) == before


def test_a_failure_half_way_leaves_the_community_untouched_and_a_rerun_completes_it(shop, city, monkeypatch, close):
    order(shop, city.household_a, (shop.masks, 2))
    order(shop, city.household_b, (shop.cabbage, 1))
    real = Consignment.objects.bulk_create

    def explode(*args, **kwargs):  # the packages and their order links are written by then
        raise RuntimeError("worker lost half-way")

    monkeypatch.setattr(Consignment.objects, "bulk_create", explode)
    with pytest.raises(RuntimeError):
        close()
    cycle = shop.cycle
    cycle.refresh_from_db()
    assert cycle.status == CycleStatus.CLOSING
    assert not Package.objects.filter(cycle=cycle).exists()  # the packages written before the failure rolled back
    assert not PackageOrder.objects.exists()
    assert not Consignment.objects.exists() and not PickupSlot.objects.exists()

    monkeypatch.setattr(Consignment.objects, "bulk_create", real)
    for build in CommunityBuild.objects.filter(cycle=cycle, status=BuildStatus.PENDING):
        services.community_build(cycle_id=cycle.pk, community_id=build.community_id)
        services.cycle_finish_if_built(cycle_id=cycle.pk)
    cycle.refresh_from_db()
    assert cycle.status == CycleStatus.PACKED
    assert Package.objects.filter(cycle=cycle).count() == 2


def test_pickup_slots_keep_buildings_together_and_are_never_overfull(shop, city, monkeypatch, close):
    monkeypatch.setattr(building, "SLOT_CAPACITY", 5)
    place = city.places[city.b.pk]  # stay in compound: pick-up
    from tests.factories import BuildingFactory

    second_building = BuildingFactory(compound=place.compound)
    households = [HouseholdFactory(building=place.building) for _ in range(3)]
    households += [HouseholdFactory(building=second_building) for _ in range(4)]
    for household in households:
        order(shop, household, (shop.masks, 1))
    cycle = close()
    slots = list(PickupSlot.objects.filter(cycle=cycle).order_by("starts_at"))
    assert all(slot.assigned <= slot.capacity for slot in slots)
    assert sum(slot.assigned for slot in slots) == 7
    by_building = {}
    for package in Package.objects.filter(cycle=cycle, compound=place.compound):
        assert package.mode == "pickup" and package.pickup_slot_id
        by_building.setdefault(package.building_id, set()).add(package.pickup_slot_id)
    assert len(by_building[place.building.pk]) == 1 and len(by_building[second_building.pk]) == 1
    assert by_building[place.building.pk] != by_building[second_building.pk]  # 3 + 4 > 5: the next slot


def test_the_route_counts_add_up(shop, city, close):
    order(shop, city.household_a, (shop.masks, 2), (shop.cabbage, 1))
    order(shop, city.places[city.a.pk].households[1], (shop.eggs, 1))
    order(shop, city.household_c, (shop.masks, 3))
    cycle = close()
    packages = Package.objects.filter(cycle=cycle)
    legs = Consignment.objects.filter(cycle=cycle)
    for hop in (Hop.OFFICE_COMMUNITY, Hop.COMMUNITY_COMPOUND):
        assert sum(legs.filter(hop=hop).values_list("package_count", flat=True)) == packages.count()
        assert sum(legs.filter(hop=hop).values_list("item_count", flat=True)) == sum(p.item_count for p in packages)
    supplier_legs = legs.filter(hop=Hop.SUPPLIER_OFFICE)
    assert set(supplier_legs.values_list("supplier_id", flat=True)) == {shop.supplier.pk}
    assert sum(supplier_legs.values_list("item_count", flat=True)) == 7


@pytest.mark.django_db(transaction=True)
def test_close_cycle_command_prints_the_json_line(shop, city):
    order(shop, city.household_a, (shop.masks, 2))
    order(shop, city.household_a, (shop.cabbage, 1))
    order(shop, city.household_c, (shop.masks, 1))
    out = io.StringIO()
    call_command("close_cycle", "--json", stdout=out)
    line = json.loads(out.getvalue().strip().splitlines()[-1])
    assert set(line) == {
        "cycle",
        "orders",
        "packages",
        "households",
        "seconds",
        "packing_seconds",
        "paper_seconds",
        "lists_drawn",
        "lists_total",
        "lists_failed",
    }
    assert (line["cycle"], line["orders"], line["packages"], line["households"]) == (shop.cycle.pk, 3, 2, 2)
    assert line["seconds"] == round(line["packing_seconds"] + line["paper_seconds"], 2)


@pytest.mark.django_db(transaction=True)
def test_close_cycle_waits_for_the_paper_and_counts_it_apart(shop, city, settings):
    """The embedded demo said "seconds": 1 and went on drawing lists for a minute and a half:
    now the command waits for every list and reports packing and paper separately."""
    settings.DELIVERIES_PRINT_ON_PACK = True
    settings.EAGER_TASKS_IN_THREADS = True  # as the demo draws its paper: in the background
    order(shop, city.household_a, (shop.masks, 2))
    order(shop, city.household_c, (shop.cabbage, 1))
    out = io.StringIO()
    call_command("close_cycle", "--json", stdout=out)
    line = json.loads(out.getvalue().strip().splitlines()[-1])
    assert line["lists_total"] > 0 and line["lists_drawn"] == line["lists_total"] and line["lists_failed"] == 0
    assert line["paper_seconds"] > 0
    from deliveries.printing.selectors import lists_pending

    assert lists_pending(cycle_id=shop.cycle.pk) == 0
    # the other background tasks of the close (telling households) end before the database is emptied
    import threading

    for thread in threading.enumerate():
        if thread.name.startswith("eager-"):
            thread.join(timeout=60)


def test_close_cycle_without_an_open_cycle_says_so(db):
    from django.core.management.base import CommandError

    with pytest.raises(CommandError):
        call_command("close_cycle")


def test_the_mode_follows_the_level_at_closing_time(shop, city, close):
    place = city.places[city.c.pk]  # open compound: pick-up
    order(shop, city.household_c, (shop.masks, 1))
    from households import services as household_services

    household_services.building_set_lockdown_level(
        building_id=place.building.pk, level=LockdownLevel.STAY_AT_HOME, reason="楼栋封控", changed_by=None
    )
    close()
    assert Package.objects.get(household=city.household_c).mode == "door"


@settings(
    max_examples=15, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow]
)
@given(
    plan=st.lists(
        st.tuples(st.integers(0, 5), st.integers(0, 2), st.integers(1, 3), st.booleans()), min_size=0, max_size=14
    )
)
def test_property_every_order_is_in_exactly_one_package_of_its_household(shop, city, plan, close):
    # hypothesis re-runs the body inside one test transaction: start each example from a fresh cycle
    PackageOrder.objects.all().delete()
    Package.objects.all().delete()
    Consignment.objects.all().delete()
    PickupSlot.objects.all().delete()
    CommunityBuild.objects.all().delete()
    Order.objects.all().delete()
    from supply.models import Cycle, CycleStock

    CycleStock.objects.update(reserved=0, capacity=1000)
    Cycle.objects.filter(pk=shop.cycle.pk).update(status=CycleStatus.OPEN)
    households = [h for place in city.places.values() for h in place.households]
    products = [shop.cabbage, shop.masks, shop.eggs]
    placed = []
    for who, what, quantity, cancel in plan:
        try:
            made = order(shop, households[who], (products[what], quantity))
        except Conflict:
            continue  # the household limit on eggs
        if cancel:
            supply_services.order_cancel(order_id=made.pk, by=None)
        else:
            placed.append(made)

    cycle = close(cycle_id=shop.cycle.pk)
    first = snapshot(cycle)
    close(cycle_id=cycle.pk)  # closing twice
    assert snapshot(cycle) == first

    links = Counter(PackageOrder.objects.values_list("order_id", flat=True))
    assert set(links) == {o.pk for o in placed} and all(n == 1 for n in links.values())
    for package in Package.objects.filter(cycle=cycle).prefetch_related("order_links__order"):
        assert package.item_count > 0
        assert {link.order.household_id for link in package.order_links.all()} == {package.household_id}
    assert Package.objects.filter(cycle=cycle).count() == len({o.household_id for o in placed})
    assert not Order.objects.filter(status=OrderStatus.CANCELLED, package_link__isnull=False).exists()


def test_the_order_api_shows_the_package_once_packed(shop, city, close, api_client):
    placed = order(shop, city.household_b, (shop.masks, 1))
    api_client.force_authenticate(city.users.admin)
    assert api_client.get(f"/api/v1/orders/{placed.pk}/").json()["package"] is None
    close()
    package = api_client.get(f"/api/v1/orders/{placed.pk}/").json()["package"]
    stored = Package.objects.get(household=city.household_b)
    assert package["code"] == stored.code and package["mode"] == "pickup" and package["status"] == "packed"
    assert package["delivery_date"] == stored.delivery_date.isoformat()
    assert package["pickup_slot"] == str(stored.pickup_slot)


@pytest.fixture
def medicine(shop):
    from tests.factories import ProductFactory

    return ProductFactory(
        supplier=shop.supplier, name="硝苯地平缓释片", category="medicine", unit="盒", size="30片", price="25.00"
    )


def test_an_urgent_medicine_order_becomes_a_same_day_package_at_once(
    shop, city, medicine, django_capture_on_commit_callbacks
):
    from django.utils import timezone

    from supply.models import CycleStock

    CycleStock.objects.get_or_create(cycle=shop.cycle, product=medicine, defaults={"capacity": 10})
    with django_capture_on_commit_callbacks(execute=True):
        placed = supply_services.order_place(
            household_id=city.household_a.pk,
            lines=[{"product": medicine.pk, "quantity": 1}],
            placed_by=city.users.operator,
            channel="hotline",
            urgent=True,
        )
    package = Package.objects.get(order_links__order=placed.order)
    assert (
        package.urgent
        and package.delivery_date == timezone.localdate()
        and package.code.startswith(f"{package.cycle.number}-U-")
    )
    assert package.mode == "door" and "硝苯地平缓释片" in package.item_summary
    assert services.urgent_package_build(order_id=placed.order.pk) is None  # idempotent


def test_the_urgent_lane_is_for_medicine_from_operators_and_workers(shop, city, medicine):
    from core.errors import BaogongError

    with pytest.raises(BaogongError):
        supply_services.order_place(
            household_id=city.household_a.pk,
            lines=[{"product": shop.masks.pk, "quantity": 1}],
            placed_by=city.users.operator,
            channel="hotline",
            urgent=True,
        )
    with pytest.raises(BaogongError):
        supply_services.order_place(
            household_id=city.household_a.pk,
            lines=[{"product": medicine.pk, "quantity": 1}],
            placed_by=city.users.resident,
            channel="web",
            urgent=True,
        )
    assert not Order.objects.exists()


def test_closing_leaves_urgent_orders_in_their_own_package(
    shop, city, medicine, close, django_capture_on_commit_callbacks
):
    from supply.models import CycleStock

    CycleStock.objects.get_or_create(cycle=shop.cycle, product=medicine, defaults={"capacity": 10})
    with django_capture_on_commit_callbacks(execute=True):
        urgent = supply_services.order_place(
            household_id=city.household_a.pk,
            lines=[{"product": medicine.pk, "quantity": 1}],
            placed_by=city.users.worker,
            channel="worker",
            urgent=True,
        ).order
    normal = order(shop, city.household_a, (shop.masks, 1))
    close()
    assert Package.objects.get(urgent=True).order_links.get().order == urgent
    assert Package.objects.get(urgent=False, household=city.household_a).order_links.get().order == normal


def test_a_late_lockdown_change_moves_packages_to_the_door_and_back(
    shop, city, close, django_capture_on_commit_callbacks
):
    from households import services as household_services

    place = city.places[city.b.pk]  # stay in compound: pick-up
    for household in place.households:
        order(shop, household, (shop.masks, 1))
    close()
    packages = Package.objects.filter(compound=place.compound)
    assert set(packages.values_list("mode", flat=True)) == {"pickup"} and all(p.pickup_slot_id for p in packages)
    with django_capture_on_commit_callbacks(execute=True):
        household_services.compound_set_lockdown_level(
            compound_id=place.compound.pk,
            level=LockdownLevel.STAY_AT_HOME,
            reason="新增阳性",
            changed_by=city.users.office,
        )
    packages = Package.objects.filter(compound=place.compound)
    assert set(packages.values_list("mode", flat=True)) == {"door"}
    assert (
        not packages.filter(pickup_slot__isnull=False).exists()
        and not packages.filter(recomputed_at__isnull=True).exists()
    )
    assert not PickupSlot.objects.filter(compound=place.compound).exists()
    with django_capture_on_commit_callbacks(execute=True):
        household_services.compound_set_lockdown_level(
            compound_id=place.compound.pk, level=LockdownLevel.STAY_IN_COMPOUND, reason="解除", changed_by=None
        )
    slots = PickupSlot.objects.filter(compound=place.compound)
    assert set(Package.objects.filter(compound=place.compound).values_list("mode", flat=True)) == {"pickup"}
    assert sum(slots.values_list("assigned", flat=True)) == packages.count()
    assert services.compound_packages_recompute(compound_id=place.compound.pk) == 0  # nothing more to change


def test_a_build_message_for_no_build_or_a_cycle_no_longer_closing_is_dropped_with_a_log(city, shop, caplog):
    """A message left in the queue (its cycle reset, or already packed and then complete) changes
    nothing and does not fail the worker's task."""
    from deliveries.tasks import community_build_task

    with caplog.at_level("WARNING", logger="baogong.deliveries"):
        result = community_build_task.run(cycle_id=shop.cycle.pk, community_id=city.a.pk)
    assert result == {"community": city.a.pk, "packages": 0, "dropped": True}
    assert "no build" in caplog.text.lower() or "dropped" in caplog.text.lower()
    assert not Package.objects.exists()

    CommunityBuild.objects.create(cycle=shop.cycle, community=city.a)  # the cycle is open, not closing
    with caplog.at_level("WARNING", logger="baogong.deliveries"):
        result = community_build_task.run(cycle_id=shop.cycle.pk, community_id=city.a.pk)
    assert result["dropped"] is True
    assert CommunityBuild.objects.get(cycle=shop.cycle, community=city.a).status == BuildStatus.PENDING
