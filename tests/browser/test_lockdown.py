"""A district task force member changes a compound to "stay at home": its packages switch to door
delivery at once, and the community worker's printed door list is marked out of date."""

import pytest
from django.utils.translation import gettext

from deliveries import services as delivery_services
from deliveries.models import Package
from deliveries.printing import services as printing
from households.models import DeliveryMode, LockdownChange, LockdownLevel, Role
from supply import services
from tests.browser.test_sign_in import sign_in
from tests.factories import (
    BuildingFactory,
    CommunityFactory,
    CompoundFactory,
    HouseholdFactory,
    HouseholdPhoneFactory,
    SupplierFactory,
    UserFactory,
)

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def packed_pickup_compound(live_server):
    """A stay-in-compound compound (pick-up at the receiving point) whose packages are built and
    whose lists are printed."""
    community = CommunityFactory(name="锦艺社区")
    compound = CompoundFactory(community=community, name="锦艺城", lockdown_level=LockdownLevel.STAY_IN_COMPOUND)
    building = BuildingFactory(compound=compound, number="2号楼")
    households = [HouseholdFactory(building=building, room=room, floor=int(room[:-2])) for room in ("302", "801")]
    for household in households:
        HouseholdPhoneFactory(household=household)
    UserFactory(username="taskforce", role=Role.TASKFORCE, district=community.office.district, is_staff=True)
    UserFactory(username="worker", role=Role.WORKER, community=community, is_staff=True)
    supplier = SupplierFactory(name="封控测试保供超市")
    supplier.districts.add(community.office.district_id)
    flour = services.product_create(
        supplier_id=supplier.pk,
        by=None,
        name="封控测试面粉",
        category="grain_oil",
        unit="袋",
        size="5kg",
        price="29.90",
        capacity=50,
    )
    cycle = services.cycle_open()
    for household in households:
        services.order_place(
            household_id=household.pk, lines=[{"product": flour.pk, "quantity": 1}], placed_by=None, channel="web"
        )
    delivery_services.cycle_close(cycle_id=cycle.pk)
    printing.community_lists_generate(cycle_id=cycle.pk, community_id=community.pk)
    packages = list(Package.objects.filter(cycle=cycle, compound=compound))
    assert len(packages) == 2 and {p.mode for p in packages} == {DeliveryMode.PICKUP}
    assert all(p.pickup_slot_id for p in packages)
    return live_server, compound, packages


def test_a_compound_sealed_at_home_switches_its_packages_to_the_door_and_the_list_is_out_of_date(
    packed_pickup_compound, page
):
    server, compound, packages = packed_pickup_compound

    # The worker's door list is current before the change.
    sign_in(page, server.url, "worker")
    page.get_by_role("link", name=gettext("Printed lists")).first.click()
    assert page.locator("[data-state='out-of-date']").count() == 0
    page.context.clear_cookies()

    # The task force seals the compound: stay at home.
    sign_in(page, server.url, "taskforce")
    page.goto(f"{server.url}/compounds/{compound.pk}/")
    page.locator("#id_level").select_option(str(LockdownLevel.STAY_AT_HOME.value))
    page.locator("#id_reason").fill("新增阳性病例，升级为足不出户")
    page.get_by_role("button", name=gettext("Change the level")).click()
    page.locator(".messages").wait_for()
    assert (
        gettext("The lockdown level was changed and the change was recorded.") in page.locator(".messages").inner_text()
    )
    assert LockdownChange.objects.filter(compound=compound, to_level=LockdownLevel.STAY_AT_HOME).exists()

    # Its packages now go to the door, without a pick-up slot.
    for package in packages:
        package.refresh_from_db()
        assert package.mode == DeliveryMode.DOOR and package.pickup_slot_id is None and package.recomputed_at

    # The worker sees the printed door list marked out of date.
    page.context.clear_cookies()
    sign_in(page, server.url, "worker")
    page.get_by_role("link", name=gettext("Printed lists")).first.click()
    stale = page.locator("[data-state='out-of-date']")
    assert stale.count() >= 1
    assert (
        gettext(
            "Out of date: packages on it changed (a lockdown change, a missed door). Being drawn again; do not use the paper printed before."
        )
        in stale.first.inner_text()
    )
