"""A resident pays online on a phone (issue 17): the order waits for its payment, the demo's cashier
takes it and sends its signed notification, the order is placed and paid; cancelled, it shows its
refund. At no step does the page say paid before the money is there."""

import re

import pytest
from django.utils.translation import gettext

from supply.models import Order, Payment, Refund
from tests.browser.conftest import accessibility_problems
from tests.browser.test_ordering import add_to_basket, assert_fits_the_phone, demo_shop, phone_page  # noqa: F401
from tests.browser.test_sign_in import sign_in

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_a_resident_pays_online_and_sees_the_true_state_at_every_step(demo_shop, phone_page):  # noqa: F811
    server, resident, (_cabbage, _eggs, masks) = demo_shop
    page = phone_page
    sign_in(page, server.url, resident.phone.removeprefix("+86"))
    page.goto(f"{server.url}/shop/?category=epidemic")
    add_to_basket(page, masks, 2)
    page.locator("#basket-bar a").click()
    page.wait_for_url(f"{server.url}/shop/basket/")
    page.get_by_label(gettext("Pay online")).check()
    page.get_by_role("button", name=gettext("Confirm order")).click()
    page.wait_for_url(re.compile(r"/shop/orders/\d+/$"))
    order = Order.objects.get(household=resident.household, lines__product=masks)
    assert order.status == "awaiting"
    card = page.locator(f"#order-{order.pk}")
    assert card.locator(".status").inner_text() == gettext("Awaiting payment")
    assert gettext("Paid") not in card.locator(".order-pay").inner_text().split(" · ")[-1]
    assert_fits_the_phone(page)

    card.get_by_role("button", name=gettext("Pay ¥%(total)s now") % {"total": "39.80"}).click()
    page.wait_for_url(re.compile(r"/pay/fake/BG\d+-\w+/$"))
    assert "¥39.80" in page.locator("main").inner_text()
    assert_fits_the_phone(page)
    assert accessibility_problems(page) == []
    page.get_by_role("button", name=gettext("Pay ¥%(amount)s") % {"amount": "39.80"}).click()
    page.wait_for_url(f"{server.url}/shop/orders/{order.pk}/")
    order.refresh_from_db()
    assert (order.status, order.payment_state) == ("placed", "paid")
    assert Payment.objects.get(order=order, status="paid").transaction_id.startswith("FAKE")
    card = page.locator(f"#order-{order.pk}")
    assert card.locator(".status").inner_text() == gettext("Placed")
    assert card.locator(".order-pay").inner_text().endswith(gettext("Paid"))
    assert card.get_by_role("button", name=gettext("I have paid")).count() == 0

    card.locator("details.cancel-order summary").click()
    card.get_by_role("button", name=gettext("Yes, cancel order %(n)s") % {"n": order.pk}).click()
    page.wait_for_url(re.compile(r"/shop/orders/"))
    page.goto(f"{server.url}/shop/orders/{order.pk}/")
    assert accessibility_problems(page) == []
    refunds = page.locator("#refunds").inner_text()
    assert "¥39.80" in refunds and gettext("Refunded") in refunds
    assert Refund.objects.get(order=order).status == "succeeded"
