"""An operator takes a call from a known number, places a phone order with read-back, and logs a
medical-transport ticket that then appears in the community worker's queue."""

import datetime
import re

import pytest
from django.core.management import call_command
from django.utils import timezone
from django.utils.translation import gettext

from hotlines.models import Call, Priority, Ticket
from households.models import HouseholdPhone, User
from supply import services
from supply.models import Channel, Order
from tests.browser.test_sign_in import sign_in
from tests.factories import SupplierFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def hotline_city(live_server):
    call_command("seed_demo", households=200, quiet=True)
    resident = User.objects.select_related("household__building__compound__community__office").get(username="resident")
    household = resident.household
    supplier = SupplierFactory(name="热线测试保供超市", is_whitelisted=True)
    supplier.districts.add(household.building.compound.community.office.district_id)
    rice = services.product_create(
        supplier_id=supplier.pk,
        by=None,
        name="热线测试大米",
        category="grain_oil",
        unit="袋",
        size="5kg",
        price="39.90",
        capacity=50,
    )
    services.cycle_open()
    return live_server, household, rice


def test_operator_takes_a_call_orders_with_read_back_and_sends_a_transport_ticket(hotline_city, page):
    server, household, rice = hotline_city
    phone = HouseholdPhone.objects.filter(household=household).order_by("-is_primary", "id").first().number
    sign_in(page, server.url, "operator")

    # 1. The call comes in: the operator types the caller's number; the household shows at once.
    page.get_by_role("link", name=gettext("Hotline console")).first.click()
    page.get_by_label(gettext("Caller's number")).fill(phone.removeprefix("+86"))
    page.get_by_role("button", name=gettext("Take the call")).click()
    page.wait_for_url(re.compile(r"/hotline/calls/\d+/$"))
    call = Call.objects.get(pk=int(page.url.rstrip("/").rsplit("/", 1)[1]))
    assert call.household_id == household.pk and call.caller_number == phone
    card = page.locator("#household")
    assert household.address in card.inner_text()
    assert "足不出户" in card.inner_text(), "the lockdown level is shown"

    # 2. A phone order through the on-behalf order page, with the read-back.
    page.locator("#phone-order").click()
    page.wait_for_url(f"{server.url}/orders/new/{household.pk}/?call={call.pk}")
    page.locator(f"input[name=qty_{rice.pk}]").fill("2")
    page.get_by_role("button", name=gettext("Read back the order")).click()
    readback = page.locator("main").inner_text()
    assert gettext("Read this to the caller") in readback
    assert "热线测试大米" in readback and "¥79.80" in readback
    page.get_by_role("button", name=gettext("The caller agrees: confirm the order")).click()
    page.wait_for_url(re.compile(rf"/orders/placed/\d+/\?call={call.pk}$"))
    order = Order.objects.get(household=household, lines__product=rice)
    assert order.channel == Channel.HOTLINE and order.placed_by.username == "operator"

    # 3. Back on the call (the order page returns there), the order is listed; a medical transport is logged.
    page.get_by_role("link", name=gettext("Back to this call")).click()
    page.wait_for_url(f"{server.url}/hotline/calls/{call.pk}/")
    assert "热线测试大米" in page.locator("#orders").inner_text()
    form = page.locator("#new-ticket form")
    form.get_by_label(gettext("Kind of request")).select_option("transport")
    form.get_by_label(gettext("The request")).fill("每周一三五透析，需要点对点闭环转运车辆")
    appointment = timezone.localtime() + datetime.timedelta(days=1)
    form.get_by_label(gettext("Appointment")).fill(appointment.strftime("%Y-%m-%dT09:30"))
    form.get_by_label(gettext("Destination (hospital)")).fill("郑州大学第一附属医院")
    form.get_by_label(gettext("Treatment")).select_option("dialysis")
    form.get_by_role("button", name=gettext("Send the ticket to the community")).click()
    page.locator(".messages").wait_for()
    ticket = Ticket.objects.get(call=call)
    assert (
        ticket.call_id == call.pk
        and ticket.need == "dialysis"
        and ticket.community_id == household.building.compound.community_id
    )
    assert "透析" in page.locator("#tickets").inner_text()

    # 4. The wrap-up is suggested; the call is logged.
    finish = page.locator("#finish form")
    assert finish.get_by_label(gettext("Outcome")).input_value() in ("ordered", "ticket")
    finish.get_by_label(gettext("What the call was about")).select_option("transport")
    finish.get_by_role("button", name=gettext("Log the call and take the next")).click()
    page.wait_for_url(f"{server.url}/hotline/")
    call.refresh_from_db()
    assert call.ended_at is not None and call.category == "transport"

    # 5. The community worker sees the ticket in the queue, most urgent first.
    page.context.clear_cookies()
    sign_in(page, server.url, "worker")
    page.get_by_role("link", name=gettext("Tickets")).first.click()
    row = page.locator(f"#ticket-{ticket.pk}")
    text = row.inner_text()
    assert "点对点闭环转运" in text and "郑州大学第一附属医院" in text and household.address in text
    rows = [
        page.locator("#ticket-table tbody tr").nth(i).get_attribute("id")
        for i in range(page.locator("#ticket-table tbody tr").count())
    ]
    urgent = Ticket.objects.filter(community=ticket.community, status="open", priority=Priority.URGENT).count()
    assert rows.index(f"ticket-{ticket.pk}") < urgent, "urgent tickets come first"

    # 6. The worker's pages fit a phone.
    page.set_viewport_size({"width": 390, "height": 844})
    for path in ("/tickets/", f"/tickets/{ticket.pk}/", "/ledger/", "/ledger/alerts/?mine=0"):
        page.goto(f"{server.url}{path}")
        overflow = page.evaluate("document.documentElement.scrollWidth - window.innerWidth")
        assert overflow <= 0, f"{path} is {overflow}px wider than a 390px phone"
