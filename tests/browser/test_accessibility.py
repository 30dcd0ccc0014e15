"""Issue 18: the resident's, the worker's and the operator's pages pass axe-core's automated checks
(no serious or critical violation: labels, contrast, names, structure), on a phone and a desk."""

import pytest
from django.core.management import call_command
from django.utils.translation import gettext

from households.models import User
from supply.models import Order
from tests.browser.conftest import accessibility_problems, open_page
from tests.browser.test_sign_in import sign_in

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

PAGES = {
    "resident": [
        "/",
        "/shop/",
        "/shop/basket/",
        "/shop/orders/",
        "/shop/orders/{order}/",
        "/my/packages/",
        "/notifications/",
    ],
    "worker": ["/", "/rounds/", "/tickets/", "/ledger/", "/cash/", "/statements/", "/receiving/", "/print/", "/teams/"],
    "operator": ["/", "/hotline/", "/orders/new/{household}/", "/tickets/"],
    "volunteer": ["/", "/volunteer/shifts/", "/volunteer/round/"],
    "taskforce": ["/", "/dashboard/", "/cycles/", "/statements/"],
}


@pytest.fixture
def demo_city(live_server):
    call_command("seed_demo", households=120, quiet=True)
    resident = User.objects.get(username="resident")
    order = Order.objects.filter(household=resident.household).first()
    return live_server, {"order": order.pk if order else 0, "household": resident.household_id}


@pytest.mark.parametrize(
    "viewport", [{"width": 390, "height": 844}, {"width": 1280, "height": 800}], ids=["phone", "desk"]
)
def test_the_main_pages_have_no_serious_accessibility_violation(browser, demo_city, viewport):
    server, ids = demo_city
    found = {}
    for username, paths in PAGES.items():
        context, page = open_page(browser, viewport=viewport)
        try:
            sign_in(page, server.url, username)
            for path in paths:
                url = server.url + path.format(**ids)
                response = page.goto(url)
                if response is None or response.status != 200:
                    found[f"{username} {path}"] = [f"answered {response.status if response else 'nothing'}"]
                    continue
                problems = accessibility_problems(page)
                if problems:
                    found[f"{username} {path}"] = problems
        finally:
            context.close()
    assert not found, "\n".join(f"{where}:\n  " + "\n  ".join(problems) for where, problems in found.items())


def test_the_check_finds_what_it_should(browser):
    """The check itself can fail: an unlabelled field and grey-on-grey text are found."""
    context, page = open_page(browser)
    try:
        page.set_content(
            '<html lang="zh"><head><title>t</title></head><body><main><form><input type="text"></form>'
            '<p style="color:#aaa;background:#bbb">看不清的字</p></main></body></html>'
        )
        found = " ".join(accessibility_problems(page))
        assert "label" in found and "color-contrast" in found
    finally:
        context.close()


def test_large_text_on_a_phone_is_bigger_still_fits_and_passes(browser, demo_city):
    """适老化: the header's switch makes the text a quarter bigger on every page, kept with the
    account; the resident's pages still fit a 390 px phone and pass axe-core."""
    server, ids = demo_city
    context, page = open_page(browser, viewport={"width": 390, "height": 844}, is_mobile=True, has_touch=True)
    try:
        sign_in(page, server.url, "resident")
        normal = page.evaluate("parseFloat(getComputedStyle(document.documentElement).fontSize)")
        page.get_by_role("button", name=gettext("Large text")).click()
        page.wait_for_load_state()
        large = page.evaluate("parseFloat(getComputedStyle(document.documentElement).fontSize)")
        assert large >= normal * 1.2
        assert User.objects.get(username="resident").large_text
        for path in ("/", "/shop/", "/shop/basket/", "/shop/orders/", "/my/packages/"):
            page.goto(server.url + path)
            assert page.evaluate("document.documentElement.classList.contains('large-text')"), path
            overflow = page.evaluate("document.documentElement.scrollWidth - window.innerWidth")
            assert overflow <= 0, f"{path} is {overflow}px wider than the phone in large text"
            assert accessibility_problems(page) == [], path
    finally:
        context.close()
