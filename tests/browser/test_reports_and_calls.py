"""Issue 18's remaining steps in the browser, each page checked with axe-core: a resident reports
a missing item of a delivered package; an operator opens a ticket for a caller not on the register;
a phone order taken on a call comes back to that call."""

import re

import pytest
from django.utils.translation import gettext

from deliveries import handovers
from hotlines.models import Call, Ticket
from households.models import HouseholdPhone, User
from supply.models import Order
from tests.browser.conftest import accessibility_problems
from tests.browser.test_hotline import hotline_city  # noqa: F401
from tests.browser.test_ordering import PHONE, assert_fits_the_phone, phone_page  # noqa: F401
from tests.browser.test_sign_in import sign_in

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_a_resident_reports_a_missing_item_on_a_phone(arrived, city, live_server, phone_page):  # noqa: F811
    package = arrived.a1
    resident = city.users.resident
    User.objects.filter(pk=resident.pk).update(household=package.household)
    handovers.package_deliver(package_id=package.pk, by=city.users.worker, override="测试：当日送达")
    page = phone_page
    sign_in(page, live_server.url, resident.username)
    page.goto(f"{live_server.url}/my/packages/")
    page.get_by_role("link", name=gettext("An item missing or damaged? Tell your community")).first.click()
    page.wait_for_url(re.compile(rf"/my/packages/{package.code}/report/$"))
    assert_fits_the_phone(page)
    assert accessibility_problems(page) == []
    page.get_by_label(gettext("Which item")).select_option(str(arrived.rice))
    page.get_by_label(gettext("Damaged")).check()
    page.get_by_label(gettext("Anything to add (optional)")).fill("袋子破了")
    page.get_by_role("button", name=gettext("Send to my community")).click()
    page.locator(".messages").wait_for()
    ticket = Ticket.objects.get(household=package.household)
    assert ticket.category == "item" and "袋子破了" in ticket.summary
    assert str(ticket.pk) in page.locator(".messages").inner_text()
    assert accessibility_problems(page) == []


def test_an_operator_sends_a_ticket_for_a_caller_not_on_the_register(hotline_city, page):  # noqa: F811
    server, household, rice = hotline_city
    sign_in(page, server.url, "operator")
    page.goto(f"{server.url}/hotline/")
    page.get_by_label(gettext("Caller's number")).fill("13700001111")
    page.get_by_role("button", name=gettext("Take the call")).click()
    page.wait_for_url(re.compile(r"/hotline/calls/\d+/$"))
    assert accessibility_problems(page) == []
    form = page.locator("#new-ticket form")
    form.get_by_label(gettext("Kind of request")).select_option("other")
    form.get_by_label(gettext("The request")).fill("独居老人家中缺药，需要社区上门")
    community = household.building.compound.community
    form.get_by_label(gettext("Community")).select_option(str(community.pk))
    form.get_by_label(gettext("Where the caller lives")).fill("丰产路9号院 3号楼 东门旁")
    form.get_by_role("button", name=gettext("Send the ticket to the community")).click()
    page.locator(".messages").wait_for()
    ticket = Ticket.objects.get(caller_address="丰产路9号院 3号楼 东门旁")
    assert ticket.household_id is None and ticket.community_id == community.pk
    assert community.name in page.locator(".messages").inner_text()
    assert accessibility_problems(page) == []


def test_a_phone_order_taken_on_a_call_comes_back_to_that_call(hotline_city, page):  # noqa: F811
    server, household, rice = hotline_city
    phone = HouseholdPhone.objects.filter(household=household).order_by("-is_primary", "id").first().number
    sign_in(page, server.url, "operator")
    page.goto(f"{server.url}/hotline/")
    page.get_by_label(gettext("Caller's number")).fill(phone.removeprefix("+86"))
    page.get_by_role("button", name=gettext("Take the call")).click()
    page.wait_for_url(re.compile(r"/hotline/calls/\d+/$"))
    call_url = page.url
    call = Call.objects.get(pk=int(call_url.rstrip("/").rsplit("/", 1)[1]))
    page.locator("#phone-order").click()
    page.locator(f"input[name=qty_{rice.pk}]").fill("1")
    page.get_by_role("button", name=gettext("Read back the order")).click()
    assert accessibility_problems(page) == []
    page.get_by_role("button", name=gettext("The caller agrees: confirm the order")).click()
    page.wait_for_url(re.compile(r"/orders/placed/\d+/"))
    assert accessibility_problems(page) == []
    page.locator("#back-to-call").click()
    page.wait_for_url(call_url)
    assert Order.objects.filter(household=household, lines__product=rice).exists()
    assert page.locator("#household").inner_text().count(household.address) >= 1
    assert Call.objects.get(pk=call.pk).ended_at is None  # still the call in progress
    assert accessibility_problems(page) == []
