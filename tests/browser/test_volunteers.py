"""A volunteer registers on a phone, is approved by the community's worker, signs up for the door
round, sees only its team's doors on the phone, delivers two and records one exception; the worker
watches the team's progress (issue 16)."""

import datetime

import pytest
from django.utils import timezone
from django.utils.translation import gettext

from deliveries.models import HandoverEvent, HandoverKind, Package, PackageStatus, ShiftKind
from deliveries.volunteers import teams as team_services
from households.models import LockdownLevel, Role, Volunteer
from tests.browser.conftest import open_page
from tests.browser.test_handover import _delivered_to_the_community_today
from tests.browser.test_sign_in import sign_in
from tests.deliveries.volunteers import volunteer
from tests.factories import (
    BuildingFactory,
    CommunityFactory,
    CompoundFactory,
    HouseholdFactory,
    HouseholdPhoneFactory,
    UserFactory,
)

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]
PHONE = "13765432101"


@pytest.fixture
def community_day(live_server, settings):
    """Two buildings of a stay-at-home compound, their doors due today and at the community; two
    teams: 一组 (no member yet, a door round today) and 二组 (one volunteer, on its round)."""
    settings.SHOW_SMS_CODES = True
    community = CommunityFactory(name="红旗社区")
    compound = CompoundFactory(
        community=community, name="幸福里", lockdown_level=LockdownLevel.STAY_AT_HOME, delivery_day=0
    )
    first, second = (
        BuildingFactory(compound=compound, number="1号楼"),
        BuildingFactory(compound=compound, number="2号楼"),
    )
    households = [
        HouseholdFactory(building=first, room=f"{floor}01", floor=floor, contact_name=f"一楼住户{floor}")
        for floor in range(1, 5)
    ] + [
        HouseholdFactory(building=second, room=f"{floor}01", floor=floor, contact_name=f"二楼住户{floor}")
        for floor in (1, 2)
    ]
    for household in households:
        HouseholdPhoneFactory(household=household)
    worker = UserFactory(username="worker", role=Role.WORKER, community=community, is_staff=True)
    cycle = _delivered_to_the_community_today(community, households)
    one = team_services.team_create(community_id=community.pk, name="一组", by=worker)
    two = team_services.team_create(community_id=community.pk, name="二组", by=worker)
    other = volunteer(community, name="李二", phone="+8613700000222")
    team_services.team_member_add(team_id=two.pk, user_id=other.user_id, by=worker, leader=True)
    today, now = timezone.localdate(), timezone.localtime()
    starts = (now - datetime.timedelta(minutes=30)).time().replace(second=0, microsecond=0)
    ends = datetime.time(23, 59)
    shifts = {}
    for team in (one, two):
        shifts[team.name] = team_services.shift_create(
            community_id=community.pk,
            day=today,
            kind=ShiftKind.DOORS,
            starts=starts,
            ends=ends,
            needed=3,
            team_id=team.pk,
            by=worker,
        )
    team_services.shift_signup(shift_id=shifts["二组"].pk, user=other.user)
    packages = {
        p.household.building.number: []
        for p in Package.objects.filter(cycle=cycle).select_related("household__building")
    }
    for p in Package.objects.filter(cycle=cycle).select_related("household__building").order_by("household__floor"):
        packages[p.household.building.number].append(p)
    return live_server, community, packages


def test_a_volunteer_carries_its_team_s_round_and_the_worker_sees_the_progress(community_day, browser, page):
    server, community, packages = community_day
    phone, _ = open_page(browser, viewport={"width": 390, "height": 844}, is_mobile=True, has_touch=True)
    phone_page = phone.pages[0]
    try:
        # 1. The volunteer registers on the phone: who, what, when; the code proves the number.
        phone_page.goto(f"{server.url}/accounts/login/")
        phone_page.get_by_role("link", name=gettext("Register as a volunteer")).click()
        phone_page.fill("#id_phone", PHONE)
        phone_page.fill("#id_name", "陈红")
        phone_page.select_option("#id_community", str(community.pk))
        phone_page.get_by_label(gettext("Can carry heavy loads")).check()
        phone_page.locator("#id_availability input[value='0']").check()
        phone_page.fill("#id_password", "Hongmajia-2022")
        phone_page.get_by_role("button", name=gettext("Send me a code")).click()
        phone_page.wait_for_url(f"{server.url}/volunteer/register/verify/")
        phone_page.fill("#id_code", phone_page.locator("#demo-code strong").inner_text())
        phone_page.get_by_role("button", name=gettext("Continue")).click()
        phone_page.get_by_text(gettext("Thank you for volunteering")).wait_for()
        assert Volunteer.objects.get(user__phone=f"+86{PHONE}").status == "pending"

        # 2. The worker approves and puts the volunteer in team 一组.
        sign_in(page, server.url, "worker")
        page.get_by_role("link", name=gettext("Volunteers"), exact=True).first.click()
        page.locator("tr", has_text="陈红").get_by_role("button", name=gettext("Approve"), exact=True).click()
        page.locator(".messages").wait_for()
        page.get_by_role("link", name=gettext("Teams and shifts")).click()
        team = page.locator("section.team", has_text="一组")
        team.locator("select[name=volunteer]").select_option(label="陈红")
        team.get_by_role("button", name=gettext("Put in the team")).click()
        page.locator(".messages").wait_for()
        assert "陈红" in page.locator("section.team", has_text="一组").inner_text()

        # 3. The volunteer signs in, declares its health and signs up for the team's door round.
        sign_in(phone_page, server.url, PHONE, "Hongmajia-2022")
        phone_page.get_by_label(
            gettext("Well: no fever or cough, no contact with a case, today's test negative")
        ).check()
        phone_page.get_by_role("button", name=gettext("Declare")).click()
        phone_page.locator(".messages").wait_for()
        phone_page.get_by_role("link", name=gettext("Shifts to sign up for")).click()
        row = phone_page.locator("#shifts tr", has_text="一组")
        row.get_by_role("button", name=gettext("Sign up")).click()
        phone_page.locator(".messages").wait_for()
        assert gettext("Signed up") in phone_page.locator("#shifts tr", has_text="一组").inner_text()

        # 4. The worker divides the day's doors among the two teams present.
        page.goto(f"{server.url}/teams/rounds/")
        page.once("dialog", lambda dialog: dialog.accept())
        page.get_by_role("button", name=gettext("Divide the day's doors among the teams")).click()
        page.locator(".messages").wait_for()

        # 5. On the phone: only team 一组's doors (building 1), in walking order, phones masked.
        phone_page.goto(f"{server.url}/volunteer/round/")
        rows = phone_page.locator("table.round-list tbody tr")
        mine, theirs = packages["1号楼"], packages["2号楼"]
        assert [rows.nth(i).get_attribute("data-code") for i in range(rows.count())] == [p.code for p in mine]
        body = phone_page.locator("body").inner_text()
        assert all(p.code not in body for p in theirs)
        assert "****" in phone_page.locator("table.round-list").inner_text()
        width = phone_page.evaluate("document.documentElement.scrollWidth")
        assert width <= 390, f"the round is wider than the phone: {width}px"
        for package in mine[:2]:
            phone_row = phone_page.locator(f"tr[data-code='{package.code}']")
            phone_row.get_by_role("button", name=gettext("Delivered"), exact=True).click()
            phone_page.locator(f"tr[data-code='{package.code}'] .row-message").wait_for()
        third = phone_page.locator(f"tr[data-code='{mine[2].code}']")
        third.locator("details.missed summary").click()
        third.get_by_role("button", name=gettext("Not at home")).click()
        phone_page.locator(f"tr[data-code='{mine[2].code}'] .row-message").wait_for()

        events = HandoverEvent.objects.filter(
            package__in=[p.pk for p in mine], kind__in=[HandoverKind.DELIVERED, HandoverKind.EXCEPTION]
        )
        assert {e.by.phone for e in events} == {f"+86{PHONE}"} and events.count() == 3
        assert [Package.objects.get(pk=p.pk).status for p in mine[:2]] == [PackageStatus.DELIVERED] * 2

        # 6. The worker sees the team's progress: 2 delivered, 1 not delivered, 1 still out.
        page.goto(f"{server.url}/teams/rounds/")
        progress = page.locator("#team-progress tr", has_text="一组")
        cells = [progress.locator("td").nth(i).inner_text() for i in range(2, 6)]
        assert cells == ["4", "2", "1", "1"], cells
    finally:
        phone.close()
