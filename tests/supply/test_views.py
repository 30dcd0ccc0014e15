"""Ordering pages: a resident's shop, basket and orders; orders on a household's behalf."""

import datetime
import re
from decimal import Decimal

import pytest
from django.db.models import F
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext

from core.dates import day_text, moment_text
from core.errors import BaogongError
from households.models import DeliveryMode, LockdownLevel
from supply import services
from supply.basket import SESSION_KEY
from supply.models import Channel, CycleStock, Order, OrderStatus, PaymentState
from tests.factories import ProductFactory

pytestmark = pytest.mark.django_db

SHOP = reverse("supply:shop")
BASKET = reverse("supply:basket")
ADD = reverse("supply:basket_add")
UPDATE = reverse("supply:basket_update")
CONFIRM = reverse("supply:basket_confirm")
MY_ORDERS = reverse("supply:order_list")


def html(response) -> str:
    return response.content.decode()


def messages_of(response) -> list[str]:
    return [str(m) for m in response.context["messages"]] if response.context else []


def key_of(page: str) -> str:
    match = re.search(r'name="idempotency_key" value="([^"]+)"', page)
    assert match, "the page has no idempotency key"
    return match.group(1)


def total_of(page: str) -> str:
    match = re.search(r'name="expected_total" value="([^"]*)"', page)
    assert match, "the page has no expected total"
    return match.group(1)


def quantity_message() -> str:
    return gettext("The quantity must be a whole number from 1 to %(max)d.") % {"max": 99}


def stock(shop, product) -> CycleStock:
    return CycleStock.objects.get(cycle=shop.cycle, product=product)


def db_state():
    return sorted(Order.objects.values_list("id", "status")), sorted(CycleStock.objects.values_list("id", "reserved"))


@pytest.fixture
def resident(client, city):
    client.force_login(city.users.resident)
    return client


def add(client, product, quantity, **extra):
    return client.post(ADD, {"product": product.pk, "quantity": quantity}, **extra)


def confirm(client, page: str, **fields):
    """Submit the basket page's confirm form as the browser would, with ``fields`` changed."""
    seen = re.search(r'name="seen_prices" value="([^"]*)"', page)
    data = {
        "payment_method": "on_delivery",
        "idempotency_key": key_of(page),
        "expected_total": total_of(page),
        "seen_prices": seen.group(1) if seen else "",
    }
    return client.post(CONFIRM, {**data, **fields})


def close_ordering(cycle, *, minutes_ago: int = 1):
    cycle.cutoff_at = timezone.now() - datetime.timedelta(minutes=minutes_ago)
    cycle.opens_at = cycle.cutoff_at - datetime.timedelta(hours=36)
    cycle.save(update_fields=["cutoff_at", "opens_at"])


# --- the catalog --------------------------------------------------------------------------------------


def test_catalog_shows_posted_prices_sizes_suppliers_limits_and_an_add_form(shop, resident):
    page = html(resident.get(SHOP))
    for product in (shop.cabbage, shop.eggs, shop.masks):
        assert product.name in page and product.size in page
        assert f'name="product" value="{product.pk}"' in page
    assert "¥6.50" in page and "¥28.00" in page and "¥19.90" in page
    assert shop.supplier.name in page
    assert gettext("Limit %(n)s per household, %(left)s more for you") % {"n": 2, "left": 2} in page
    assert gettext("Cycle %(n)s is taking orders.") % {"n": shop.cycle.number} in page
    assert moment_text(shop.cycle.cutoff_at) in page


def test_catalog_marks_sold_out_and_few_left_and_offers_no_add_for_sold_out(shop, resident):
    CycleStock.objects.filter(cycle=shop.cycle, product=shop.cabbage).update(reserved=20)
    CycleStock.objects.filter(cycle=shop.cycle, product=shop.masks).update(reserved=93)
    page = html(resident.get(SHOP))
    cabbage = page[page.index(f'id="product-{shop.cabbage.pk}"') :]
    cabbage = cabbage[: cabbage.index("</li>")]
    assert gettext("Sold out") in cabbage
    assert 'name="quantity"' not in cabbage
    assert gettext("Only %(n)s left") % {"n": 7} in page


def test_catalog_filters_by_category_and_search(shop, resident):
    page = html(resident.get(SHOP, {"category": "epidemic"}))
    assert shop.masks.name in page and shop.cabbage.name not in page
    page = html(resident.get(SHOP, {"q": "鸡蛋"}))
    assert shop.eggs.name in page and shop.masks.name not in page
    page = html(resident.get(SHOP, {"category": "no-such-thing"}))  # ignored, not an error
    assert shop.masks.name in page and shop.cabbage.name in page


def test_catalog_search_takes_pinyin_and_initials(shop, resident):
    """Issue 18: `jidan` (or `jd`, or `JiDan`) finds 鸡蛋, as on the group-buy apps residents know."""
    for typed in ("jidan", "jd", "JiDan", "ji dan"):
        page = html(resident.get(SHOP, {"q": typed}))
        assert shop.eggs.name in page and shop.masks.name not in page and shop.cabbage.name not in page, typed
    renamed = shop.cabbage
    renamed.name = "小白菜"
    renamed.save(update_fields=["name"])
    renamed.refresh_from_db()
    assert renamed.search_key == "xiaobaicai xbc"
    assert "小白菜" in html(resident.get(SHOP, {"q": "xbc"}))


def test_catalog_hides_products_of_suppliers_not_serving_the_district(shop, city, resident):
    other = ProductFactory(name="外区大米")  # its own supplier, serving no district
    services.cycle_open()
    assert other.name not in html(resident.get(SHOP))
    response = add(resident, other, 1)
    assert resident.session.get(SESSION_KEY) in (None, {})
    assert response.status_code == 302


# --- the resident's flow ------------------------------------------------------------------------------


def test_resident_orders_from_the_basket_at_the_posted_price(shop, city, resident):
    assert add(resident, shop.cabbage, 2).status_code == 302
    add(resident, shop.masks, 1)
    add(resident, shop.cabbage, 1)  # adds up: 3 cabbages
    assert resident.session[SESSION_KEY] == {str(shop.cabbage.pk): 3, str(shop.masks.pk): 1}

    page = html(resident.get(BASKET))
    assert "¥39.40" in page  # 3 × 6.50 + 19.90
    household = city.household_a
    delivery = shop.cycle.first_delivery_date + datetime.timedelta(days=household.building.compound.delivery_day)
    assert day_text(delivery) in page
    assert str(DeliveryMode.DOOR.label) in page  # community A is stay-at-home: to the door
    assert moment_text(shop.cycle.cutoff_at) in page
    key = key_of(page)

    # The posted price changes after the order: the order keeps the price it was placed at.
    form = {
        "payment_method": "on_delivery",
        "note": "请放门口",
        "idempotency_key": key,
        "expected_total": total_of(page),
    }
    response = resident.post(CONFIRM, form)
    order = Order.objects.get()
    assert response.status_code == 302 and response.url == reverse("supply:order_detail", args=[order.pk])
    assert order.channel == Channel.WEB and order.placed_by == city.users.resident and order.household == household
    assert (
        order.total == Decimal("39.40") and order.note == "请放门口" and order.payment_state == PaymentState.TO_COLLECT
    )
    assert order.lines.get(product=shop.cabbage).unit_price == Decimal("6.50")
    assert not resident.session.get(SESSION_KEY)
    services.product_price_set(product_id=shop.cabbage.pk, price="9.00", by=None)

    # A double submit (same key) places nothing more and shows the same order.
    again = resident.post(CONFIRM, form)
    assert again.status_code == 302 and again.url == reverse("supply:order_detail", args=[order.pk])
    assert Order.objects.count() == 1

    detail = html(resident.get(reverse("supply:order_detail", args=[order.pk])))
    assert shop.cabbage.name in detail and "¥39.40" in detail and "¥6.50" in detail

    orders = html(resident.get(MY_ORDERS))
    assert gettext("Order %(n)s") % {"n": order.pk} in orders and "¥39.40" in orders
    assert f'action="{reverse("supply:order_cancel", args=[order.pk])}"' in orders

    response = resident.post(reverse("supply:order_cancel", args=[order.pk]), {"next": MY_ORDERS})
    assert response.status_code == 302 and response.url == MY_ORDERS
    order.refresh_from_db()
    assert order.status == OrderStatus.CANCELLED and order.cancelled_by == city.users.resident
    assert stock(shop, shop.cabbage).reserved == 0
    orders = html(resident.get(MY_ORDERS))
    assert str(OrderStatus.CANCELLED.label) in orders
    assert f'action="{reverse("supply:order_cancel", args=[order.pk])}"' not in orders


def test_two_submits_of_the_same_page_with_the_basket_still_full_place_one_order(shop, resident):
    add(resident, shop.masks, 2)
    page = html(resident.get(BASKET))
    form = {"payment_method": "online", "idempotency_key": key_of(page), "expected_total": total_of(page)}
    session = resident.session
    first = resident.post(CONFIRM, form)
    # The second request comes from the same page before the first one's response (basket still full).
    session[SESSION_KEY] = {str(shop.masks.pk): 2}
    session.save()
    second = resident.post(CONFIRM, form)
    assert first.url == second.url
    assert Order.objects.count() == 1 and stock(shop, shop.masks).reserved == 2
    assert Order.objects.get().payment_state == PaymentState.AWAITING  # until the provider says paid


def test_a_refused_order_keeps_the_basket_and_says_why(shop, city, resident):
    add(resident, shop.cabbage, 5)
    page = html(resident.get(BASKET))
    # Someone else takes the cabbages between the review and the confirm.
    services.order_place(
        household_id=city.household_b.pk,
        lines=[{"product": shop.cabbage.pk, "quantity": 18}],
        placed_by=None,
        channel=Channel.HOTLINE,
    )
    response = confirm(resident, page)
    assert response.status_code == 409
    left = gettext("Only %(left)d of “%(name)s” are left for this cycle.") % {"left": 2, "name": shop.cabbage}
    assert left in html(response)
    assert Order.objects.filter(household=city.household_a).count() == 0
    assert resident.session[SESSION_KEY] == {str(shop.cabbage.pk): 5}


def test_a_price_changed_since_the_review_is_shown_before_anything_is_ordered(shop, resident):
    add(resident, shop.cabbage, 2)
    page = html(resident.get(BASKET))
    services.product_price_set(product_id=shop.cabbage.pk, price="7.00", by=None)
    response = confirm(resident, page)
    assert response.status_code == 409 and not Order.objects.exists()
    assert "¥14.00" in html(response) and total_of(html(response)) == "14.00"
    # the message names the product and its old and new price (issue 18)
    assert any(f"{shop.cabbage} ¥6.50 → ¥7.00" in m for m in messages_of(response))
    response = confirm(resident, page, expected_total="14.00")
    assert response.status_code == 302 and Order.objects.get().total == Decimal("14.00")


def test_household_limit_is_checked_when_adding(shop, resident):
    add(resident, shop.eggs, 2)
    response = add(resident, shop.eggs, 1, follow=True)
    assert resident.session[SESSION_KEY] == {str(shop.eggs.pk): 2}
    assert any("2" in message and shop.eggs.name in message for message in messages_of(response))


def test_basket_update_and_remove(shop, resident):
    add(resident, shop.cabbage, 2)
    add(resident, shop.masks, 1)
    resident.post(UPDATE, {"product": shop.cabbage.pk, "quantity": "4"})
    assert resident.session[SESSION_KEY][str(shop.cabbage.pk)] == 4
    resident.post(UPDATE, {"product": shop.masks.pk, "remove": "1"})
    assert resident.session[SESSION_KEY] == {str(shop.cabbage.pk): 4}
    assert "¥26.00" in html(resident.get(BASKET))


@pytest.mark.parametrize("quantity", ["0", "-1", "1.5", "abc", "100", "", "1e2"])
def test_bad_quantities_in_the_basket_are_refused_with_a_clear_message(shop, resident, quantity):
    add(resident, shop.masks, 1)
    before = dict(resident.session[SESSION_KEY])
    response = resident.post(ADD, {"product": shop.cabbage.pk, "quantity": quantity}, follow=True)
    assert quantity_message() in messages_of(response)
    response = resident.post(UPDATE, {"product": shop.masks.pk, "quantity": quantity}, follow=True)
    assert quantity_message() in messages_of(response)
    assert resident.session[SESSION_KEY] == before
    assert not Order.objects.exists()


def test_full_width_digits_count(shop, resident):
    add(resident, shop.masks, "２")
    assert resident.session[SESSION_KEY] == {str(shop.masks.pk): 2}


def test_add_with_htmx_answers_the_basket_bar(shop, resident):
    response = add(resident, shop.cabbage, 2, HTTP_HX_REQUEST="true")
    page = html(response)
    assert response.status_code == 200 and 'id="basket-bar"' in page and "¥13.00" in page
    assert "<html" not in page
    assert f'id="in-basket-{shop.cabbage.pk}"' in page and 'hx-swap-oob="true"' in page
    response = add(resident, shop.cabbage, "abc", HTTP_HX_REQUEST="true")
    assert quantity_message() in html(response) and resident.session[SESSION_KEY] == {str(shop.cabbage.pk): 2}


def test_an_htmx_add_refreshes_the_card_s_limit_left(shop, resident):
    """Found by the review of issue 18: the card's "还可订 n 份" stayed as it was after an add."""
    page = html(add(resident, shop.eggs, 1, HTTP_HX_REQUEST="true"))  # limit 2 per household
    tags = page[page.index(f'id="tags-{shop.eggs.pk}"') :]
    tags = tags[: tags.index("</p>")]
    left = gettext("Limit %(n)s per household, %(left)s more for you") % {"n": 2, "left": 1}
    assert 'hx-swap-oob="true"' in tags and left in tags


def test_a_malformed_basket_breaks_nothing_and_prices_come_from_the_catalog(shop, city, resident):
    """Whatever the kept basket holds (an older version's rows, a hand-edited value), only well-formed
    lines count and prices come from the catalog."""
    from supply.models import SavedBasket

    SavedBasket.objects.update_or_create(
        user=city.users.resident,
        defaults={"items": {str(shop.masks.pk): 2, "x": 1, str(shop.cabbage.pk): 10_000, "price": "0.01", "7": True}},
    )
    page = html(resident.get(BASKET))
    assert "¥39.80" in page  # 2 masks at the posted 19.90; the rest is dropped
    response = confirm(resident, page)
    assert response.status_code == 302 and Order.objects.get().total == Decimal("39.80")


# --- closed ordering ----------------------------------------------------------------------------------


def test_after_the_cutoff_the_catalog_shows_but_ordering_is_disabled(shop, resident):
    add(resident, shop.masks, 1)
    close_ordering(shop.cycle)
    opening = timezone.localtime(services.next_opening())
    expected = gettext("Ordering is closed now. The next cycle opens on %(when)s.") % {"when": moment_text(opening)}
    page = html(resident.get(SHOP))
    assert shop.masks.name in page and "¥19.90" in page
    assert expected in page
    assert 'name="quantity"' not in page and gettext("Sold out") not in page

    response = add(resident, shop.cabbage, 1, follow=True)
    assert expected in messages_of(response)
    assert resident.session[SESSION_KEY] == {str(shop.masks.pk): 1}

    page = html(resident.get(BASKET))
    assert expected in page and CONFIRM not in page
    response = resident.post(CONFIRM, {"payment_method": "on_delivery", "idempotency_key": "k1"})
    assert response.status_code == 409 and not Order.objects.exists()


def test_no_cycle_at_all_says_ordering_opens_soon(city, client):
    city.supplier.districts.set(city.districts)
    ProductFactory(supplier=city.supplier, name="土豆")
    client.force_login(city.users.resident)
    page = html(client.get(SHOP))
    assert "土豆" in page and 'name="quantity"' not in page
    soon = "Ordering is closed now. The next cycle opens soon; if you need something urgently, call the supply hotline."
    assert gettext(soon) in page


def test_orders_of_a_closed_cycle_cannot_be_cancelled_from_the_page(shop, city, resident):
    order = services.order_place(
        household_id=city.household_a.pk,
        lines=[{"product": shop.masks.pk, "quantity": 1}],
        placed_by=city.users.resident,
        channel=Channel.WEB,
    ).order
    close_ordering(shop.cycle)
    page = html(resident.get(MY_ORDERS))
    assert gettext("Order %(n)s") % {"n": order.pk} in page
    assert reverse("supply:order_cancel", args=[order.pk]) not in page
    response = resident.post(reverse("supply:order_cancel", args=[order.pk]), follow=True)
    assert gettext(
        "The ordering cutoff has passed: this order can no longer be cancelled. Call the supply hotline if there is a problem."
    ) in messages_of(response)
    order.refresh_from_db()
    assert order.status == OrderStatus.PLACED


# --- scope --------------------------------------------------------------------------------------------


def test_another_households_order_is_404(shop, city, resident):
    theirs = services.order_place(
        household_id=city.household_b.pk,
        lines=[{"product": shop.masks.pk, "quantity": 1}],
        placed_by=None,
        channel=Channel.HOTLINE,
    ).order
    assert resident.get(reverse("supply:order_detail", args=[theirs.pk])).status_code == 404
    assert resident.post(reverse("supply:order_cancel", args=[theirs.pk])).status_code == 404
    theirs.refresh_from_db()
    assert theirs.status == OrderStatus.PLACED
    assert gettext("Order %(n)s") % {"n": theirs.pk} not in html(resident.get(MY_ORDERS))


def test_my_orders_shows_orders_placed_for_the_household_by_the_hotline(shop, city, resident):
    order = services.order_place(
        household_id=city.household_a.pk,
        lines=[{"product": shop.eggs.pk, "quantity": 1}],
        placed_by=city.users.operator,
        channel=Channel.HOTLINE,
    ).order
    page = html(resident.get(MY_ORDERS))
    assert gettext("Order %(n)s") % {"n": order.pk} in page and str(Channel.HOTLINE.label) in page


@pytest.mark.parametrize("role", ["worker", "operator", "office", "supplier", "admin"])
def test_the_shop_is_for_residents(shop, city, client, role):
    client.force_login(getattr(city.users, role))
    assert client.get(SHOP).status_code == 403
    assert client.get(MY_ORDERS).status_code == 403


def test_anonymous_users_are_sent_to_sign_in(shop, client):
    response = client.get(SHOP)
    assert response.status_code == 302 and "/accounts/login/" in response.url


def test_resident_nav_and_home_lead_to_ordering(shop, resident):
    page = html(resident.get("/"))
    assert SHOP in page and MY_ORDERS in page and reverse("supply:cycle_status") in page
    fragment = html(resident.get(reverse("supply:cycle_status")))
    assert moment_text(shop.cycle.cutoff_at) in fragment


# --- orders on a household's behalf -------------------------------------------------------------------


def new_url(household) -> str:
    return reverse("supply:order_new", args=[household.pk])


def confirm_url(household) -> str:
    return reverse("supply:order_new_confirm", args=[household.pk])


def entry(client, household, quantities: dict, **fields):
    """Post the on-behalf entry form: ``quantities`` maps products to what is typed in their boxes."""
    data = {f"qty_{product.pk}": str(typed) for product, typed in quantities.items()}
    return client.post(new_url(household), {"payment_method": "on_delivery", "idempotency_key": "k1", **data, **fields})


def test_an_order_taken_on_behalf_is_paid_at_the_door(shop, city, client):
    """Issue 18 (from issue 17's note): an operator could choose "pay online" for a caller who
    cannot order online; nobody could pay, and the order expired unpacked. An order on a
    household's behalf is paid at the door: the form does not offer online, the service refuses it."""
    client.force_login(city.users.operator)
    household = city.household_a
    page = html(client.get(new_url(household)))
    assert 'value="online"' not in page
    refused = entry(client, household, {shop.masks: 1}, payment_method="online")
    assert refused.status_code == 400
    with pytest.raises(BaogongError) as error:
        services.order_place(
            household_id=household.pk,
            lines=[{"product": shop.masks.pk, "quantity": 1}],
            placed_by=city.users.operator,
            channel="hotline",
            payment_method="online",
        )
    assert error.value.errors == {"payment_method": [str(error.value)]}
    assert not Order.objects.exists()


def read_back_form(page: str) -> dict[str, str]:
    """The hidden fields of the read-back page's confirm form."""
    form = page[page.index('action="/orders/new/') :]
    form = form[: form.index("</form>")]
    return dict(re.findall(r'<input type="hidden" name="([^"]+)" value="([^"]*)"', form))


def test_operator_orders_for_a_household_seeing_its_orders_first(shop, city, client):
    household = city.household_a
    web = services.order_place(
        household_id=household.pk,
        lines=[{"product": shop.masks.pk, "quantity": 1}],
        placed_by=city.users.resident,
        channel=Channel.WEB,
    ).order
    client.force_login(city.users.operator)

    detail = html(client.get(reverse("households:household_detail", args=[household.pk])))
    assert new_url(household) in detail

    page = html(client.get(new_url(household)))
    assert household.address in page and household.contact_name in page
    assert str(household._meta.get_field("elderly_alone").verbose_name) in page
    existing = page.index(gettext("Order %(n)s") % {"n": web.pk})
    assert existing < page.index(f'name="qty_{shop.cabbage.pk}"'), "the household's orders come before the catalog"
    warning = gettext("This household already has %(n)s order in this cycle.") % {"n": 1}
    assert warning in page

    response = client.post(
        new_url(household),
        {
            f"qty_{shop.cabbage.pk}": "2",
            f"qty_{shop.eggs.pk}": "",
            f"qty_{shop.masks.pk}": "0",
            "payment_method": "on_delivery",
            "note": "老人独居，请敲门",
            "idempotency_key": key_of(page),
        },
    )
    read_back = html(response)
    assert response.status_code == 200 and gettext("Read this to the caller") in read_back
    assert shop.cabbage.name in read_back and "¥13.00" in read_back
    assert shop.eggs.name not in read_back.split(gettext("Read this to the caller"))[1].split("<details")[0]
    delivery = shop.cycle.first_delivery_date + datetime.timedelta(days=household.building.compound.delivery_day)
    assert day_text(delivery) in read_back and str(DeliveryMode.DOOR.label) in read_back
    assert not Order.objects.exclude(pk=web.pk).exists(), "nothing is ordered before the confirm"

    hidden = read_back_form(read_back)
    response = client.post(confirm_url(household), {**hidden, "action": "confirm"})
    order = Order.objects.exclude(pk=web.pk).get()
    assert response.status_code == 302 and response.url == reverse("supply:order_placed", args=[order.pk])
    assert order.channel == Channel.HOTLINE and order.placed_by == city.users.operator and order.household == household
    assert order.total == Decimal("13.00") and order.payment_state == PaymentState.TO_COLLECT
    assert order.note == "老人独居，请敲门"
    placed = html(client.get(response.url))
    assert f">{order.pk}<" in placed and shop.cabbage.name in placed

    # The confirm sent twice (a double click, the back button) places one order.
    again = client.post(confirm_url(household), {**hidden, "action": "confirm"})
    assert again.url == response.url and Order.objects.count() == 2


def test_the_read_back_can_go_back_to_the_form_with_the_quantities(shop, city, client):
    client.force_login(city.users.operator)
    key = key_of(html(client.get(new_url(city.household_a))))
    read_back = html(entry(client, city.household_a, {shop.masks: 3}, idempotency_key=key))
    response = client.post(confirm_url(city.household_a), {**read_back_form(read_back), "action": "edit"})
    page = html(response)
    assert re.search(rf'name="qty_{shop.masks.pk}" value="3"', page)
    assert key_of(page) == key and not Order.objects.exists()


def test_worker_orders_for_a_household_of_their_community_through_the_worker_channel(shop, city, client):
    client.force_login(city.users.worker)
    household = city.places[city.a.pk].households[1]
    key = key_of(html(client.get(new_url(household))))
    read_back = html(entry(client, household, {shop.eggs: 2}, idempotency_key=key))
    client.post(confirm_url(household), {**read_back_form(read_back), "action": "confirm"})
    order = Order.objects.get()
    assert order.channel == Channel.WORKER and order.placed_by == city.users.worker and order.total == Decimal("56.00")


def test_on_behalf_pages_are_scoped_to_the_staff_members_places(shop, city, client):
    client.force_login(city.users.worker)  # community A
    assert client.get(new_url(city.household_b)).status_code == 404
    assert (
        client.post(
            confirm_url(city.household_b),
            {f"qty_{shop.masks.pk}": "1", "payment_method": "on_delivery", "idempotency_key": "k", "action": "confirm"},
        ).status_code
        == 404
    )
    client.force_login(city.users.operator2)  # the other district
    assert client.get(new_url(city.household_a)).status_code == 404
    client.force_login(city.users.operator)
    assert client.get(new_url(city.household_b)).status_code == 200  # same district, other community
    assert not Order.objects.exists()


@pytest.mark.parametrize("role", ["resident", "office", "supplier", "taskforce"])
def test_on_behalf_pages_are_for_operators_and_workers(shop, city, client, role):
    client.force_login(getattr(city.users, role))
    assert client.get(new_url(city.household_a)).status_code == 403
    assert client.post(confirm_url(city.household_a), {}).status_code == 403


def test_household_page_offers_ordering_to_operators_and_workers_only(shop, city, client):
    url = reverse("households:household_detail", args=[city.household_a.pk])
    client.force_login(city.users.worker)
    assert new_url(city.household_a) in html(client.get(url))
    client.force_login(city.users.office)
    assert new_url(city.household_a) not in html(client.get(url))


@pytest.mark.parametrize("quantity", ["-1", "1.5", "abc", "100"])
def test_bad_quantities_on_behalf_are_marked_and_order_nothing(shop, city, client, quantity):
    client.force_login(city.users.operator)
    before = db_state()
    data = {
        f"qty_{shop.masks.pk}": "2",
        f"qty_{shop.cabbage.pk}": quantity,
        "payment_method": "on_delivery",
        "idempotency_key": "k1",
    }
    response = client.post(new_url(city.household_a), data)
    page = html(response)
    assert response.status_code == 400
    assert gettext("Enter a whole number from 1 to %(max)d, or leave it blank.") % {"max": 99} in page
    assert re.search(rf'name="qty_{shop.masks.pk}" value="2"', page), "what was typed is kept"
    response = client.post(confirm_url(city.household_a), {**data, "action": "confirm"})
    assert response.status_code == 400
    assert db_state() == before


def test_an_empty_order_on_behalf_is_refused(shop, city, client):
    client.force_login(city.users.operator)
    response = entry(client, city.household_a, {shop.masks: 0, shop.eggs: ""})
    assert response.status_code == 400
    assert gettext("Enter a quantity for at least one product.") in html(response)


def test_a_refusal_on_behalf_keeps_the_quantities(shop, city, client):
    client.force_login(city.users.operator)
    data = {
        f"qty_{shop.eggs.pk}": "3",
        f"qty_{shop.masks.pk}": "1",
        "payment_method": "on_delivery",
        "idempotency_key": "k1",
        "action": "confirm",
    }
    response = client.post(confirm_url(city.household_a), data)  # eggs are limited to 2
    page = html(response)
    assert response.status_code == 409 and shop.eggs.name in page
    assert re.search(rf'name="qty_{shop.eggs.pk}" value="3"', page)
    assert not Order.objects.exists()


def test_on_behalf_after_the_cutoff_shows_the_household_but_takes_no_order(shop, city, client):
    close_ordering(shop.cycle)
    client.force_login(city.users.operator)
    page = html(client.get(new_url(city.household_a)))
    assert city.household_a.address in page and f'name="qty_{shop.masks.pk}"' not in page
    response = client.post(
        confirm_url(city.household_a),
        {f"qty_{shop.masks.pk}": "1", "payment_method": "on_delivery", "idempotency_key": "k1", "action": "confirm"},
    )
    assert response.status_code == 409 and not Order.objects.exists()


def test_pickup_households_see_the_receiving_point(shop, city, client):
    household = city.household_b  # community B: stay in compound
    assert household.building.compound.lockdown_level == LockdownLevel.STAY_IN_COMPOUND
    client.force_login(city.users.operator)
    page = html(client.get(new_url(household)))
    assert str(DeliveryMode.PICKUP.label) in page and city.b.receiving_point in page


# --- query counts -------------------------------------------------------------------------------------


def test_shop_query_count_does_not_grow_with_products_or_basket(shop, city, resident, django_assert_max_num_queries):
    """Nine queries, and a tenth for the basket kept with the account."""
    resident.get(SHOP)  # warm the session
    with django_assert_max_num_queries(10):
        resident.get(SHOP)
    extra = [ProductFactory(supplier=shop.supplier, name=f"蔬菜{n}", household_limit=3) for n in range(30)]
    CycleStock.objects.bulk_create([CycleStock(cycle=shop.cycle, product=p, capacity=50) for p in extra])
    for product in extra[:10]:
        add(resident, product, 1)
    services.order_place(
        household_id=city.household_a.pk,
        lines=[{"product": p.pk, "quantity": 1} for p in extra[10:20]],
        placed_by=city.users.resident,
        channel=Channel.WEB,
    )
    with django_assert_max_num_queries(10):
        response = resident.get(SHOP)
    assert all(p.name in html(response) for p in extra)


def test_my_orders_query_count_does_not_grow_with_orders(shop, city, resident, django_assert_max_num_queries):
    def place(n):
        for _ in range(n):
            services.order_place(
                household_id=city.household_a.pk,
                lines=[{"product": shop.masks.pk, "quantity": 1}, {"product": shop.cabbage.pk, "quantity": 1}],
                placed_by=city.users.resident,
                channel=Channel.WEB,
            )

    place(1)
    resident.get(MY_ORDERS)
    with django_assert_max_num_queries(9):  # one of them reads the orders' packages
        resident.get(MY_ORDERS)
    place(12)
    with django_assert_max_num_queries(9):
        response = resident.get(MY_ORDERS)
    assert html(response).count('class="card order-card') == 13


def test_the_basket_marks_lines_that_can_no_longer_be_had_and_drops_products_off_sale(shop, resident):
    add(resident, shop.cabbage, 3)
    add(resident, shop.masks, 1)
    add(resident, shop.eggs, 1)
    CycleStock.objects.filter(cycle=shop.cycle, product=shop.cabbage).update(reserved=19)
    shop.masks.is_active = False
    shop.masks.save(update_fields=["is_active"])
    response = resident.get(BASKET)
    page = html(response)
    assert gettext("Only %(left)d of “%(name)s” are left for this cycle.") % {"left": 1, "name": shop.cabbage} in page
    gone = gettext("Some products are no longer sold to your household and were taken out of the basket.")
    assert gone in messages_of(response)
    assert resident.session[SESSION_KEY] == {str(shop.cabbage.pk): 3, str(shop.eggs.pk): 1}
    assert "¥47.50" in page  # 3 × 6.50 + 28.00, the masks gone


def test_on_behalf_read_back_is_refused_after_the_cutoff(shop, city, client):
    client.force_login(city.users.worker)
    key = key_of(html(client.get(new_url(city.household_a))))
    close_ordering(shop.cycle)
    response = entry(client, city.household_a, {shop.masks: 1}, idempotency_key=key)
    expected = gettext("Ordering is closed now. The next cycle opens on %(when)s.") % {
        "when": moment_text(services.next_opening())
    }
    assert response.status_code == 400 and gettext("Read this to the caller") not in html(response)
    assert expected in html(response) and not Order.objects.exists()


def test_a_product_gone_between_read_back_and_confirm_is_not_dropped_silently(shop, city, client):
    client.force_login(city.users.operator)
    key = key_of(html(client.get(new_url(city.household_a))))
    read_back = html(entry(client, city.household_a, {shop.masks: 1, shop.cabbage: 2}, idempotency_key=key))
    shop.cabbage.is_active = False
    shop.cabbage.save(update_fields=["is_active"])
    response = client.post(confirm_url(city.household_a), {**read_back_form(read_back), "action": "confirm"})
    assert response.status_code == 400
    gone = gettext("Some products are no longer sold to this household. Check the items and read them back again.")
    assert gone in html(response)
    assert not Order.objects.exists()


def test_the_read_back_checks_limits_and_capacity_before_the_caller_agrees(shop, city, client):
    """Issue 18: the read-back offered 鸡蛋 3盒 over the limit and refused only after the caller had
    agreed. Now the entry answers at once, with the reason, and no read-back is shown."""
    client.force_login(city.users.operator)
    key = key_of(html(client.get(new_url(city.household_a))))
    over = entry(client, city.household_a, {shop.eggs: 3}, idempotency_key=key)
    assert over.status_code == 409 and gettext("Read this to the caller") not in html(over)
    assert "限购" in html(over) and re.search(rf'name="qty_{shop.eggs.pk}" value="3"', html(over))
    CycleStock.objects.filter(cycle=shop.cycle, product=shop.masks).update(capacity=F("reserved") + 1)
    short = entry(client, city.household_a, {shop.masks: 2}, idempotency_key=key)
    assert short.status_code == 409 and "1" in html(short) and gettext("Read this to the caller") not in html(short)
    fine = entry(client, city.household_a, {shop.masks: 1, shop.eggs: 2}, idempotency_key=key)
    assert fine.status_code == 200 and gettext("Read this to the caller") in html(fine)
    assert not Order.objects.exists()


def test_order_these_again_fills_the_basket_with_what_can_still_be_ordered(shop, city, resident):
    """再来一单: the earlier order's products go back into the basket at today's price; what is over
    the household's limit (or no longer sold) is named, and nothing is ordered until confirmed."""
    earlier = services.order_place(
        household_id=city.household_a.pk,
        lines=[{"product": shop.masks.pk, "quantity": 2}, {"product": shop.eggs.pk, "quantity": 2}],
        placed_by=city.users.resident,
        channel=Channel.WEB,
    ).order
    page = html(resident.get(reverse("supply:order_detail", args=[earlier.pk])))
    again = reverse("supply:order_repeat", args=[earlier.pk])
    assert f'action="{again}"' in page
    response = resident.post(again)
    assert response.status_code == 302 and response["Location"] == BASKET
    assert resident.session[SESSION_KEY] == {str(shop.masks.pk): 2}  # eggs: the limit of 2 is used up
    said = messages_of(resident.get(BASKET))
    assert any(shop.eggs.name in m for m in said) and Order.objects.count() == 1
    other = services.order_place(
        household_id=city.household_b.pk,
        lines=[{"product": shop.masks.pk, "quantity": 1}],
        placed_by=None,
        channel=Channel.WEB,
    ).order
    assert resident.post(reverse("supply:order_repeat", args=[other.pk])).status_code == 404  # not theirs


def test_the_resident_changes_quantities_on_the_order_page(shop, city, resident):
    order = services.order_place(
        household_id=city.household_a.pk,
        lines=[{"product": shop.masks.pk, "quantity": 2}, {"product": shop.cabbage.pk, "quantity": 1}],
        placed_by=city.users.resident,
        channel=Channel.WEB,
    ).order
    page = html(resident.get(reverse("supply:order_detail", args=[order.pk])))
    url = reverse("supply:order_change", args=[order.pk])
    assert f'action="{url}"' in page and f'name="qty_{shop.masks.pk}" value="2"' in page
    response = resident.post(url, {f"qty_{shop.masks.pk}": "3", f"qty_{shop.cabbage.pk}": "0"})
    assert response.status_code == 302
    order.refresh_from_db()
    assert dict(order.lines.values_list("product_id", "quantity")) == {shop.masks.pk: 3}
    assert resident.post(url, {f"qty_{shop.masks.pk}": "x"}).status_code == 400  # one parser, a clear 400
    emptied = resident.post(url, {f"qty_{shop.masks.pk}": "0"}, follow=True)
    assert any(gettext("To take every item out, cancel the order instead.") in m for m in messages_of(emptied))
    assert order.lines.count() == 1


def test_a_resident_is_told_when_a_sold_out_product_is_back(shop, city, resident):
    """到货提醒 (issue 18): sold out, the card offers an alert; when a cancelled order gives some
    back, the beat tells the household once, in the app and by SMS."""
    from households.models import Notification

    taken = services.order_place(
        household_id=city.household_b.pk,
        lines=[{"product": shop.cabbage.pk, "quantity": 20}],  # all 20 of them
        placed_by=None,
        channel=Channel.WEB,
    ).order
    page = html(resident.get(SHOP, {"category": "vegetables"}))
    url = reverse("supply:restock_alert", args=[shop.cabbage.pk])
    assert f'action="{url}"' in page
    assert resident.post(url, {"next": SHOP}).status_code == 302
    resident.post(url)  # asking twice is one alert
    assert gettext("We will tell you when it is back.") in html(resident.get(SHOP, {"category": "vegetables"}))
    assert services.restock_alerts_send() == 0  # still sold out
    services.order_cancel(order_id=taken.pk, by=None)
    assert services.restock_alerts_send() == 1
    told = Notification.objects.get(household=city.household_a, kind="restock")
    assert shop.cabbage.name in told.text and "20" in told.text
    assert services.restock_alerts_send() == 0  # once


def test_the_basket_is_kept_with_the_account_on_every_phone(shop, city, resident):
    """Issue 18: a basket put together on one phone is there on another, and after signing in
    again; confirming it empties it everywhere."""
    from django.test import Client

    add(resident, shop.masks, 2)
    other_phone = Client()
    other_phone.force_login(city.users.resident)
    page = html(other_phone.get(BASKET))
    assert shop.masks.name in page and "¥39.80" in page
    other_phone.post(UPDATE, {"product": shop.masks.pk, "quantity": "3"})
    assert "¥59.70" in html(resident.get(BASKET))  # the first phone sees the change
    confirm(resident, html(resident.get(BASKET)))
    assert Order.objects.count() == 1
    assert shop.masks.name not in html(other_phone.get(BASKET))


def test_the_free_baseline_order_offers_no_cancel_to_the_resident(shop, city, resident):
    free = services.order_place(
        household_id=city.household_a.pk,
        lines=[{"product": shop.masks.pk, "quantity": 1}],
        placed_by=None,
        channel=Channel.BASELINE,
    ).order
    page = html(resident.get(reverse("supply:order_detail", args=[free.pk])))
    assert reverse("supply:order_cancel", args=[free.pk]) not in page
    assert reverse("supply:order_change", args=[free.pk]) not in page
