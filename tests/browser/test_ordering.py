"""A resident orders on a phone-sized screen: catalog, basket, confirm, my orders, cancel."""

import re

import pytest
from django.core.management import call_command
from django.utils.translation import gettext

from households.models import User
from supply import services
from supply.models import Order, OrderStatus
from tests.browser.conftest import open_page
from tests.browser.test_sign_in import sign_in
from tests.factories import SupplierFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

PHONE = {"width": 390, "height": 844}


@pytest.fixture
def phone_page(browser):
    context, page = open_page(browser, viewport=PHONE, device_scale_factor=2, is_mobile=True, has_touch=True)
    try:
        yield page
        assert not page.script_problems, f"blocked or failing scripts: {page.script_problems}"
    finally:
        context.close()


@pytest.fixture
def demo_shop(live_server):
    """The demo city, and a whitelisted supplier serving the resident's district with three products.

    seed_demo may bring its own catalog and open cycle; these products are added either way, and
    ``cycle_open`` returns the cycle already open if there is one.
    """
    call_command("seed_demo", households=200, quiet=True)
    resident = User.objects.select_related("household__building__compound__community__office").get(username="resident")
    supplier = SupplierFactory(name="浏览器测试保供超市", is_whitelisted=True)
    supplier.districts.add(resident.household.building.compound.community.office.district_id)
    products = [
        services.product_create(
            supplier_id=supplier.pk,
            by=None,
            name=name,
            category=category,
            unit=unit,
            size=size,
            price=price,
            capacity=50,
        )
        for name, category, unit, size, price in (
            ("测试大白菜", "vegetables", "颗", "约2kg", "6.50"),
            ("测试鸡蛋", "meat_eggs", "盒", "30枚", "28.00"),
            ("测试口罩", "epidemic", "盒", "50只", "19.90"),
        )
    ]
    services.cycle_open()
    return live_server, resident, products


def add_to_basket(page, product, quantity: int) -> None:
    card = page.locator(f"#product-{product.pk}")
    card.locator("input[name=quantity]").fill(str(quantity))
    card.locator("button[type=submit]").click()
    # With htmx the bar and the card update in place; without it the page reloads at the product.
    page.locator(f"#in-basket-{product.pk}").filter(has_text=str(quantity)).wait_for()


def assert_fits_the_phone(page) -> None:
    overflow = page.evaluate("document.documentElement.scrollWidth - window.innerWidth")
    assert overflow <= 0, f"{page.url} is {overflow}px wider than a 390px phone"


def test_resident_orders_on_a_phone_sees_the_orders_and_cancels_one(demo_shop, phone_page):
    server, resident, (cabbage, eggs, masks) = demo_shop
    page = phone_page
    sign_in(page, server.url, resident.phone.removeprefix("+86"))

    page.get_by_role("link", name=gettext("Order groceries")).first.click()
    page.wait_for_url(f"{server.url}/shop/")
    assert_fits_the_phone(page)
    add_to_basket(page, cabbage, 2)
    add_to_basket(page, eggs, 1)
    page.locator("#basket-bar").filter(has_text="¥41.00").wait_for()

    page.locator("#basket-bar a").click()
    page.wait_for_url(f"{server.url}/shop/basket/")
    assert_fits_the_phone(page)
    body = page.locator("main").inner_text()
    assert "¥41.00" in body and cabbage.name in body and eggs.name in body
    page.get_by_role("button", name=gettext("Confirm order")).click()
    page.wait_for_url(re.compile(r"/shop/orders/\d+/$"))
    first = Order.objects.get(household=resident.household, lines__product=cabbage)
    thanks = gettext("Thank you: order %(number)s is placed.") % {"number": first.pk}
    assert page.locator(".messages").inner_text().strip() == thanks

    # Something forgotten: a second order, for masks.
    page.goto(f"{server.url}/shop/?category=epidemic")
    add_to_basket(page, masks, 3)
    page.locator("#basket-bar a").click()
    page.get_by_role("button", name=gettext("Confirm order")).click()
    page.wait_for_url(re.compile(r"/shop/orders/\d+/$"))
    second = Order.objects.get(household=resident.household, lines__product=masks)

    page.get_by_role("link", name=gettext("My orders")).first.click()
    page.wait_for_url(f"{server.url}/shop/orders/")
    assert_fits_the_phone(page)
    orders = page.locator(".orders-current").inner_text()
    for product in (cabbage, eggs, masks):
        assert product.name in orders

    card = page.locator(f"#order-{second.pk}")
    card.locator("details.cancel-order summary").click()
    card.get_by_role("button", name=gettext("Yes, cancel order %(n)s") % {"n": second.pk}).click()
    page.wait_for_url(f"{server.url}/shop/orders/")
    cancelled = str(OrderStatus.CANCELLED.label)
    page.locator(f"#order-{second.pk} .status").filter(has_text=cancelled).wait_for()
    assert page.locator(f"#order-{first.pk} .status").inner_text() == str(OrderStatus.PLACED.label)
    assert page.locator(f"#order-{second.pk} details.cancel-order").count() == 0, "a cancelled order offers no cancel"

    second.refresh_from_db()
    first.refresh_from_db()
    assert second.status == OrderStatus.CANCELLED and first.status == OrderStatus.PLACED


def test_the_card_becomes_a_stepper_holding_what_is_in_the_basket(demo_shop, phone_page):
    """Issue 18: tapping "add" again added the field's number once more. Once a product is in the
    basket its card shows the basket's quantity with − and +, and updating sets it."""
    from tests.browser.conftest import accessibility_problems

    server, resident, (_cabbage, _eggs, masks) = demo_shop
    page = phone_page
    sign_in(page, server.url, resident.phone.removeprefix("+86"))
    page.goto(f"{server.url}/shop/?category=epidemic")
    add_to_basket(page, masks, 2)
    card = page.locator(f"#product-{masks.pk}")
    field = card.locator("input[name=quantity]")
    field.wait_for()
    assert field.input_value() == "2"
    card.get_by_role("button", name=gettext("One more")).click()
    assert field.input_value() == "3"
    card.get_by_role("button", name=gettext("Update the basket")).click()
    page.locator(f"#in-basket-{masks.pk}").filter(has_text="3").wait_for()
    card.get_by_role("button", name=gettext("One less")).click()
    card.get_by_role("button", name=gettext("One less")).click()
    card.get_by_role("button", name=gettext("One less")).click()  # never below 1
    assert field.input_value() == "1"
    card.get_by_role("button", name=gettext("Update the basket")).click()
    page.locator(f"#in-basket-{masks.pk}").filter(has_text="1").wait_for()

    page.goto(f"{server.url}/shop/basket/")
    assert "¥19.90" in page.locator("main").inner_text()  # one box of masks, not 2 + 3 + 1
    assert accessibility_problems(page) == []


def test_a_resident_changes_an_order_orders_it_again_and_asks_for_a_restock_alert(demo_shop, phone_page):
    """Issue 18's resident steps on a phone, each page checked with axe-core: change an order's
    quantities before the cutoff, 再来一单 into the basket, and 到货提醒 on a sold-out product."""
    from supply.models import CycleStock
    from tests.browser.conftest import accessibility_problems

    server, resident, (cabbage, eggs, masks) = demo_shop
    page = phone_page
    sign_in(page, server.url, resident.phone.removeprefix("+86"))
    order = services.order_place(
        household_id=resident.household_id,
        lines=[{"product": cabbage.pk, "quantity": 2}, {"product": eggs.pk, "quantity": 1}],
        placed_by=resident,
        channel="web",
    ).order

    # change: 3 cabbages, no eggs
    page.goto(f"{server.url}/shop/orders/{order.pk}/")
    card = page.locator(f"#order-{order.pk}")
    card.locator("details.change-order summary").click()
    card.locator(f"input[name=qty_{cabbage.pk}]").fill("3")
    card.locator(f"input[name=qty_{eggs.pk}]").fill("0")
    assert accessibility_problems(page) == []
    card.get_by_role("button", name=gettext("Save the changes")).click()
    page.locator(".messages").wait_for()
    order.refresh_from_db()
    assert dict(order.lines.values_list("product_id", "quantity")) == {cabbage.pk: 3}
    assert_fits_the_phone(page)

    # 再来一单: the same products back in the basket
    page.get_by_role("button", name=gettext("Order these again")).click()
    page.wait_for_url(f"{server.url}/shop/basket/")
    assert cabbage.name in page.locator("main").inner_text()
    assert accessibility_problems(page) == []

    # 到货提醒: masks sold out, the card offers the alert
    CycleStock.objects.filter(product=masks).update(capacity=0)
    page.goto(f"{server.url}/shop/?category=epidemic")
    product = page.locator(f"#product-{masks.pk}")
    product.get_by_role("button", name=gettext("Tell me when it is back")).click()
    page.locator(f"#product-{masks.pk}").get_by_role("button", name=gettext("No alert")).wait_for()
    assert gettext("We will tell you when it is back.") in page.locator(f"#product-{masks.pk}").inner_text()
    assert accessibility_problems(page) == []


def test_a_resident_asks_for_a_substitute_and_sees_it_after_the_supplier_runs_short(demo_shop, phone_page, browser):
    """Issue 18: what to do if an item is out. The resident chooses 换成同类商品 at the basket;
    the supplier records that only part can be supplied; the resident's order shows the
    substitute and the money back. Every page checked with axe-core."""
    from households.models import Role
    from tests.browser.conftest import accessibility_problems
    from tests.factories import UserFactory

    server, resident, (cabbage, eggs, masks) = demo_shop
    lettuce = services.product_create(
        supplier_id=cabbage.supplier_id,
        by=None,
        name="测试生菜",
        category="vegetables",
        unit="颗",
        size="500g",
        price="5.00",
        capacity=50,
    )
    page = phone_page
    sign_in(page, server.url, resident.phone.removeprefix("+86"))
    page.goto(f"{server.url}/shop/?category=vegetables")
    add_to_basket(page, cabbage, 2)
    page.goto(f"{server.url}/shop/basket/")
    page.get_by_label(str(gettext("Send a similar product at the same price or less"))).check()
    assert accessibility_problems(page) == []
    page.get_by_role("button", name=gettext("Confirm order")).click()
    page.wait_for_url(re.compile(r"/shop/orders/\d+/$"))
    order = Order.objects.get(household=resident.household, lines__product=cabbage)
    assert order.when_out == "substitute"

    # the supplier, on a desktop, can supply none of the cabbages
    staff = UserFactory(username="shortfall-supplier", role=Role.SUPPLIER, supplier=cabbage.supplier)
    context, desk = open_page(browser)
    try:
        sign_in(desk, server.url, staff.username)
        desk.goto(f"{server.url}/catalog/{cabbage.pk}/")
        desk.get_by_label(str(gettext("How many you can supply in this cycle"))).fill("0")
        assert accessibility_problems(desk) == []
        desk.get_by_role("button", name=gettext("Record the shortfall")).click()
        desk.locator(".messages").wait_for()
        assert "¥3.00" in desk.locator(".messages").inner_text()  # 2 × (6.50 − 5.00)
    finally:
        context.close()

    page.goto(f"{server.url}/shop/orders/{order.pk}/")
    section = page.locator("#not-supplied")
    assert cabbage.name in section.inner_text() and lettuce.name in section.inner_text()
    assert "¥3.00" in section.inner_text()
    assert_fits_the_phone(page)
    assert accessibility_problems(page) == []


def test_a_resident_finds_eggs_by_pinyin_and_finds_the_basket_on_another_phone(demo_shop, phone_page, browser):
    """Issue 18: pinyin search (jidan finds 鸡蛋) and a basket kept with the account, not the browser."""
    from tests.browser.conftest import accessibility_problems

    server, resident, (cabbage, eggs, masks) = demo_shop
    page = phone_page
    sign_in(page, server.url, resident.phone.removeprefix("+86"))
    page.goto(f"{server.url}/shop/")
    page.get_by_label(gettext("Search products")).fill("jidan")
    page.get_by_role("button", name=gettext("Search"), exact=True).click()
    page.wait_for_url(re.compile(r"/shop/\?q=jidan"))
    found = page.locator("ul.products").inner_text()
    assert eggs.name in found and cabbage.name not in found and masks.name not in found
    assert accessibility_problems(page) == []
    add_to_basket(page, eggs, 2)

    context, other = open_page(browser, viewport=PHONE, is_mobile=True, has_touch=True)
    try:
        sign_in(other, server.url, resident.username)
        other.goto(f"{server.url}/shop/basket/")
        basket = other.locator("main").inner_text()
        assert eggs.name in basket and "¥56.00" in basket
    finally:
        context.close()
