"""A community worker opens today's round, downloads the door list PDF, opens (scans) a label URL
and marks the package delivered, marks another one not delivered, and the resident's page shows
the new status."""

import re

import pytest
from django.utils import timezone
from django.utils.translation import gettext

from deliveries import services as delivery_services
from deliveries.models import ExceptionReason, HandoverEvent, HandoverKind, Package, PackageStatus
from households.models import LockdownLevel, Role
from supply import services
from supply.models import Cycle, CycleStatus
from tests.browser.conftest import open_page
from tests.browser.test_sign_in import sign_in
from tests.deliveries.custody import receive_upstream
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


def _delivered_to_the_community_today(community, households) -> Cycle:
    """Each household orders a bag of rice in a cycle whose first delivery day is today; the cycle
    closes (the build runs in-process and commits) and its goods reach the community."""
    supplier = SupplierFactory(name=f"{community.name}保供超市")
    supplier.districts.add(community.office.district_id)
    rice = services.product_create(
        supplier_id=supplier.pk,
        by=None,
        name=f"{community.name}大米",
        category="grain_oil",
        unit="袋",
        size="5kg",
        price="39.90",
        capacity=len(households) + 50,
    )
    cycle = services.cycle_open()
    Cycle.objects.filter(pk=cycle.pk).update(first_delivery_date=timezone.localdate())
    for household in households:
        services.order_place(
            household_id=household.pk,
            lines=[{"product": rice.pk, "quantity": 1}],
            placed_by=None,
            channel="web",
            payment_method="on_delivery",
        )
    delivery_services.cycle_close(cycle_id=cycle.pk)
    assert Cycle.objects.get(pk=cycle.pk).status == CycleStatus.PACKED
    receive_upstream(cycle, UserFactory(username=f"admin-{community.pk}", role=Role.ADMIN, is_staff=True))
    return cycle


@pytest.fixture
def delivery_day(live_server):
    """A stay-at-home compound with two households whose packages are due today, and whose goods
    have reached the community (the office and the community confirmed their receipts)."""
    community = CommunityFactory(name="平安街社区")
    compound = CompoundFactory(
        community=community, name="正商城", lockdown_level=LockdownLevel.STAY_AT_HOME, delivery_day=0
    )
    building = BuildingFactory(compound=compound, number="1号楼")
    home = HouseholdFactory(building=building, room="301", floor=3, contact_name="张伟")
    neighbour = HouseholdFactory(building=building, room="1201", floor=12, contact_name="李娜")
    for household in (home, neighbour):
        HouseholdPhoneFactory(household=household)
    resident = UserFactory(username="resident", role=Role.RESIDENT, household=home)
    UserFactory(username="worker", role=Role.WORKER, community=community, is_staff=True)
    cycle = _delivered_to_the_community_today(community, (home, neighbour))
    packages = {p.household_id: p for p in Package.objects.filter(cycle=cycle)}
    assert {p.delivery_date for p in packages.values()} == {timezone.localdate()}
    assert {p.status for p in packages.values()} == {PackageStatus.AT_COMMUNITY}
    return live_server, resident, packages[home.pk], packages[neighbour.pk]


def test_worker_delivers_and_records_an_exception_and_the_resident_sees_it(delivery_day, page):
    server, resident, own, other = delivery_day
    sign_in(page, server.url, "worker")

    # 1. Today's round: both doors, in address order.
    page.get_by_role("link", name=gettext("Today's round")).first.click()
    page.wait_for_url(f"{server.url}/rounds/")
    rows = page.locator("table.round-list tbody tr")
    assert rows.count() == 2
    assert [rows.nth(i).get_attribute("data-code") for i in range(2)] == [own.code, other.code], "room 301 before 1201"

    # 2. The door list as a PDF, to print.
    with page.expect_download() as download_info:
        page.locator("#door-lists a.door-list-pdf").first.click()
    download = download_info.value
    with open(download.path(), "rb") as pdf:
        assert pdf.read(5) == b"%PDF-"

    # 3. The label's QR code opens the package's page: mark it delivered there.
    page.goto(f"{server.url}/p/{own.code}/")
    assert own.code in page.locator("h1").inner_text()
    door = page.locator("#door")
    door.get_by_label(gettext("Where (optional)")).first.fill("1号楼301门口")
    door.get_by_role("button", name=gettext("Delivered"), exact=True).click()
    page.locator(".messages").wait_for()
    assert str(PackageStatus.DELIVERED.label) in page.locator("#history").inner_text()
    assert "1号楼301门口" in page.locator("#history").inner_text()

    # 4. Back on the round: the neighbour is not at home (the row answers in place).
    page.goto(f"{server.url}/rounds/")
    row = page.locator(f"tr[data-code='{other.code}']")
    row.locator("summary").click()
    row.get_by_role("button", name=str(ExceptionReason.NOT_HOME.label)).click()
    page.locator(f"tr[data-code='{other.code}'] .row-message").wait_for()
    assert str(ExceptionReason.NOT_HOME.label) in page.locator(f"tr[data-code='{other.code}']").inner_text()
    other.refresh_from_db()
    assert other.status == PackageStatus.AT_COMMUNITY and other.delivery_date > timezone.localdate()
    assert HandoverEvent.objects.filter(package=own, kind=HandoverKind.DELIVERED).count() == 1

    # 5. The resident's home page shows the package delivered, with its history.
    page.context.clear_cookies()
    sign_in(page, server.url, "resident")
    where = page.locator("#where-is-my-package")
    where.locator(".package-status").wait_for()
    assert where.locator(".package-status").inner_text() == str(PackageStatus.DELIVERED.label)
    assert own.code in where.inner_text() and other.code not in where.inner_text()
    page.get_by_role("link", name=gettext("My orders")).first.click()
    page.locator("a[href*='/orders/']").filter(has_text=re.compile(r"\d")).first.click()
    page.locator("#where-is-my-package .package-status").wait_for()
    assert page.locator("#where-is-my-package .package-status").inner_text() == str(PackageStatus.DELIVERED.label)


@pytest.fixture
def long_round(live_server):
    """Forty doors of one compound due today, their goods at the community."""
    community = CommunityFactory(name="长街社区")
    compound = CompoundFactory(
        community=community, name="长街小区", lockdown_level=LockdownLevel.STAY_AT_HOME, delivery_day=0
    )
    building = BuildingFactory(compound=compound, number="1号楼")
    households = [
        HouseholdFactory(building=building, room=f"{floor}0{n}", floor=floor, contact_name=f"住户{floor}{n}")
        for floor in range(1, 21)
        for n in (1, 2)
    ]
    for household in households:
        HouseholdPhoneFactory(household=household)
    UserFactory(username="worker", role=Role.WORKER, community=community, is_staff=True)
    cycle = _delivered_to_the_community_today(community, households)
    return live_server, list(Package.objects.filter(cycle=cycle).order_by("code"))


def test_the_round_marks_a_door_in_place_on_a_phone_and_keeps_the_scroll_position(long_round, browser):
    server, packages = long_round
    context, page = open_page(browser, viewport={"width": 390, "height": 844}, is_mobile=True, has_touch=True)
    try:
        sign_in(page, server.url, "worker")
        page.goto(f"{server.url}/rounds/")
        page.locator("#round-start button").click()  # the goods are at the compound: out for delivery
        page.locator("#round-started").wait_for()
        assert page.locator("#round-start").count() == 0, "no start button once the round is under way"
        target = packages[30]
        row = page.locator(f"tr[data-code='{target.code}']")
        row.scroll_into_view_if_needed()
        page.mouse.wheel(0, 200)
        page.wait_for_timeout(200)
        before = page.evaluate("window.scrollY")
        assert before > 2000, "far down a long list"
        page.evaluate("window.__sameDocument = true")
        row.locator("a.phone").first.wait_for()
        assert row.locator("a.phone").first.get_attribute("href").startswith("tel:+86")
        row.get_by_role("button", name=gettext("Delivered"), exact=True).click()
        page.locator(f"tr[data-code='{target.code}'] .row-message").wait_for()
        assert page.evaluate("window.__sameDocument") is True, "no page reload"
        assert abs(page.evaluate("window.scrollY") - before) < 5, "the page stays where the worker was"
        assert str(PackageStatus.DELIVERED.label) in page.locator(f"tr[data-code='{target.code}']").inner_text()
        assert Package.objects.get(pk=target.pk).status == PackageStatus.DELIVERED
        # A mistaken tap is undone in place, and the door can be marked again.
        page.once("dialog", lambda dialog: dialog.accept())
        page.locator(f"tr[data-code='{target.code}'] form.undo button").click()
        page.locator(f"tr[data-code='{target.code}'] button.deliver").wait_for()
        assert Package.objects.get(pk=target.pk).status == PackageStatus.AT_COMPOUND
        assert abs(page.evaluate("window.scrollY") - before) < 5
        assert not page.script_problems, page.script_problems
    finally:
        context.close()


def test_the_receiving_list_fits_a_phone(delivery_day, browser):
    server, _resident, own, _other = delivery_day
    context, page = open_page(browser, viewport={"width": 390, "height": 844}, is_mobile=True)
    try:
        sign_in(page, server.url, "worker")
        page.goto(f"{server.url}/print/{own.cycle_id}/receiving/{own.community_id}/{own.dispatch_date.isoformat()}/")
        page.locator(".printed-list").first.wait_for()
        assert page.evaluate("document.documentElement.scrollWidth") <= 392, "nothing wider than the screen"
    finally:
        context.close()


def test_an_old_cycle_s_label_opens_that_cycle_s_package(delivery_day, page):
    """The same household has a package in the next cycle with the same code within its cycle: a
    label of the old cycle (its QR code's URL, and a label printed before codes carried their cycle)
    still opens the old cycle's package."""
    from deliveries.printing.rendering import package_url
    from tests.deliveries.test_package_codes import _copy_into_a_new_cycle

    server, _resident, own, _other = delivery_day
    newer = _copy_into_a_new_cycle(own)
    sign_in(page, server.url, "worker")
    local = own.code.split("-", 1)[1]
    for url in (package_url(code=own.code, base=server.url), f"{server.url}/p/{local}/?cycle={own.cycle.number}"):
        page.goto(url)
        heading = page.locator("h1").inner_text()
        assert own.code in heading and newer.code not in heading, (url, heading)
    # typed without its cycle in the search box: both cycles have it, so the page asks which
    page.goto(f"{server.url}/rounds/")
    page.fill("#package-code", local)
    page.locator("#package-code").press("Enter")
    page.locator("#packages").wait_for()
    page.locator("#packages a", has_text=newer.code).click()
    assert newer.code in page.locator("h1").inner_text()
