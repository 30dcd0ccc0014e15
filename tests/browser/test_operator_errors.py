"""Issue 18: an operator's refused form says so at the top of the page, focused, not 1,200–3,600 px
down where nobody looks: a medical transport without its appointment, and a phone order over a
household's limit (refused at the read-back, before the caller is asked to agree)."""

import re

import pytest
from django.utils.translation import gettext

from hotlines.models import Ticket
from households.models import HouseholdPhone
from supply import services
from supply.models import Order
from tests.browser.conftest import accessibility_problems
from tests.browser.test_hotline import hotline_city  # noqa: F401
from tests.browser.test_sign_in import sign_in

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def summary_at_the_top(page) -> str:
    """The error summary: shown inside the first screen, holding the focus; its text."""
    summary = page.locator(".error-summary")
    summary.wait_for()
    assert page.evaluate("window.scrollY") == 0
    box = summary.bounding_box()
    assert box is not None and box["y"] < page.viewport_size["height"], "the summary is on the first screen"
    assert page.evaluate("document.activeElement.classList.contains('error-summary')")
    assert accessibility_problems(page) == []
    return summary.inner_text()


def test_a_refused_transport_ticket_and_phone_order_say_so_at_the_top(hotline_city, page):  # noqa: F811
    server, household, rice = hotline_city
    page.set_viewport_size({"width": 1280, "height": 720})
    phone = HouseholdPhone.objects.filter(household=household).order_by("-is_primary", "id").first().number
    tickets = Ticket.objects.count()
    sign_in(page, server.url, "operator")
    page.goto(f"{server.url}/hotline/")
    page.get_by_label(gettext("Caller's number")).fill(phone.removeprefix("+86"))
    page.get_by_role("button", name=gettext("Take the call")).click()
    page.wait_for_url(re.compile(r"/hotline/calls/\d+/$"))

    # A medical transport without its appointment.
    form = page.locator("#new-ticket form")
    form.get_by_label(gettext("Kind of request")).select_option("transport")
    form.get_by_label(gettext("The request")).fill("透析转运")
    form.get_by_label(gettext("Destination (hospital)")).fill("郑州大学第一附属医院")
    form.get_by_label(gettext("Treatment")).select_option("dialysis")
    form.get_by_role("button", name=gettext("Send the ticket to the community")).click()
    text = summary_at_the_top(page)
    assert Ticket.objects.count() == tickets
    appointment = page.get_by_label(gettext("Appointment"))
    # each problem links to its field: the field comes into view with the focus
    page.locator(".error-summary a").first.click()
    assert page.evaluate("document.activeElement.name") in ("appointment_at", "destination", "need")
    assert text.strip()
    assert appointment.count() == 1

    # A phone order over the household's limit: refused before the read-back, at the top.
    limited = services.product_create(
        supplier_id=rice.supplier_id,
        by=None,
        name="热线测试鸡蛋",
        category="meat_eggs",
        unit="盒",
        size="30枚",
        price="28.00",
        capacity=50,
        household_limit=2,
    )
    services.cycle_open()
    page.goto(f"{server.url}/orders/new/{household.pk}/")
    page.locator(f"input[name=qty_{limited.pk}]").fill("3")
    page.get_by_role("button", name=gettext("Read back the order")).click()
    text = summary_at_the_top(page)
    assert "限购" in text and gettext("Read this to the caller") not in page.locator("main").inner_text()
    assert not Order.objects.filter(lines__product=limited).exists()


def test_the_operator_finds_a_product_by_pinyin_and_keeps_what_was_typed(hotline_city, page):  # noqa: F811
    server, household, rice = hotline_city
    sign_in(page, server.url, "operator")
    page.goto(f"{server.url}/orders/new/{household.pk}/")
    rows = page.locator("#phone-order-table tbody tr[data-search]")
    everything = rows.count()
    assert everything > 5
    search = page.get_by_label(gettext("Find a product"))
    search.fill("rxcs")  # 热线测试大米: re xian ce shi da mi
    visible = [r for r in rows.all() if r.is_visible()]
    assert len(visible) == 1 and "热线测试大米" in visible[0].inner_text()
    page.locator(f"input[name=qty_{rice.pk}]").fill("2")
    search.fill("jidan")
    assert not page.locator(f"input[name=qty_{rice.pk}]").is_visible()
    search.fill("")
    assert sum(1 for r in rows.all() if r.is_visible()) == everything
    assert page.locator(f"input[name=qty_{rice.pk}]").input_value() == "2"  # what was typed is kept
    assert accessibility_problems(page) == []
    page.get_by_role("button", name=gettext("Read back the order")).click()
    assert "热线测试大米" in page.locator("main").inner_text()
