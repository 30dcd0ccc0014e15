"""Catalog pages: supplier staff keep products and posted prices; the task force caps, decides, whitelists.

Messages are checked by level and by the state of the database, not by wording: the interface is
in Chinese and its translations change.
"""

import io
from decimal import Decimal

import pytest
from django.contrib.messages import constants
from django.test import Client
from django.urls import reverse
from PIL import Image

from households.models import Role
from supply import selectors, services
from supply.models import Channel, CycleStock, PriceChange, PriceState, Product, Supplier
from tests.factories import ProductFactory, SupplierFactory, UserFactory

pytestmark = pytest.mark.django_db

QUERY_LIMIT = 8  # session, user, scope, the page's rows and counts: never per row


def visible_to(household, product) -> bool:
    """Whether a resident of ``household`` sees ``product`` in the catalog they order from."""
    household = type(household).objects.select_related("building__compound__community__office").get(pk=household.pk)
    return selectors.catalog(household=household, cycle=selectors.open_cycle()).filter(pk=product.pk).exists()


def levels(response) -> list[int]:
    return [message.level for message in response.context["messages"]]


def product_state(product) -> tuple:
    """Everything a bad request must leave as it was."""
    product.refresh_from_db()
    return (
        product.name,
        product.size,
        product.price,
        product.price_state,
        product.reference_cap,
        product.capacity,
        product.household_limit,
        product.is_active,
        product.photo.name,
        PriceChange.objects.filter(product=product).count(),
        tuple(CycleStock.objects.filter(product=product).values_list("capacity", "reserved")),
    )


def png(size=(8, 8), padding: int = 0) -> io.BytesIO:
    buffer = io.BytesIO()
    Image.new("RGB", size, "green").save(buffer, format="PNG")
    buffer.write(b"\0" * padding)  # trailing bytes: still a readable PNG, just a large file
    buffer.seek(0)
    buffer.name = "cabbage.png"
    return buffer


@pytest.fixture
def other_shop(city):
    """A second supplier with one product, serving both districts."""
    supplier = SupplierFactory(name="二七蔬菜配送")
    supplier.districts.set(city.districts)
    staff = UserFactory(role=Role.SUPPLIER, supplier=supplier)
    product = ProductFactory(supplier=supplier, name="土豆", unit="斤", size="", price="3.00")
    return type("OtherShop", (), {"supplier": supplier, "staff": staff, "product": product})


@pytest.fixture(autouse=True)
def _media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"


NEW_PRODUCT = {
    "name": "蔬菜包",
    "category": "vegetables",
    "size": "5kg",
    "unit": "袋",
    "price": "39.90",
    "description": "白菜、土豆、萝卜",
    "is_bundle": "on",
    "capacity": "200",
    "household_limit": "2",
}


# --- supplier staff ----------------------------------------------------------------------------------


def test_supplier_adds_a_product_and_sees_it(shop, city, client):
    client.force_login(city.users.supplier)
    response = client.post(reverse("catalog:product_create"), NEW_PRODUCT, follow=True)
    product = Product.objects.get(supplier=shop.supplier, name="蔬菜包")
    assert response.redirect_chain[-1][0] == reverse("catalog:product_detail", args=[product.pk])
    assert constants.SUCCESS in levels(response)
    assert (product.price, product.capacity, product.household_limit, product.is_bundle) == (
        Decimal("39.90"),
        200,
        2,
        True,
    )
    first = PriceChange.objects.get(product=product)
    assert first.changed_by == city.users.supplier and first.old_price is None
    assert CycleStock.objects.get(cycle=shop.cycle, product=product).capacity == 200
    html = client.get(reverse("catalog:home")).content.decode()
    assert "蔬菜包" in html and "39.90" in html
    assert visible_to(city.household_a, product)


def test_supplier_catalog_shows_this_cycles_reserved_and_available(shop, city, client):
    services.order_place(
        household_id=city.household_a.pk,
        lines=[{"product": shop.cabbage.pk, "quantity": 3}],
        placed_by=None,
        channel=Channel.WEB,
    )
    client.force_login(city.users.supplier)
    response = client.get(reverse("catalog:home"))
    row = next(p for p in response.context["page"] if p.pk == shop.cabbage.pk)
    assert (row.stock_capacity, row.stock_reserved, row.stock_available) == (20, 3, 17)


def test_a_photo_is_optional_and_at_most_2_mb(shop, city, client):
    client.force_login(city.users.supplier)
    client.post(reverse("catalog:product_create"), {**NEW_PRODUCT, "photo": png()})
    product = Product.objects.get(name="蔬菜包")
    assert product.photo.name.startswith("products/")
    big = png(padding=2 * 1024 * 1024 + 1)
    response = client.post(reverse("catalog:product_create"), {**NEW_PRODUCT, "name": "大蔬菜包", "photo": big})
    assert response.status_code == 200 and "photo" in response.context["form"].errors
    assert not Product.objects.filter(name="大蔬菜包").exists()
    not_an_image = io.BytesIO(b"not a picture")
    not_an_image.name = "x.png"
    response = client.post(
        reverse("catalog:product_create"), {**NEW_PRODUCT, "name": "大蔬菜包", "photo": not_an_image}
    )
    assert "photo" in response.context["form"].errors and not Product.objects.filter(name="大蔬菜包").exists()


def test_a_price_above_the_cap_waits_for_the_task_force_then_approve_shows_it(shop, city, client):
    services.product_reference_cap_set(product_id=shop.cabbage.pk, cap="8.00", by=city.users.taskforce)
    client.force_login(city.users.supplier)
    response = client.post(reverse("catalog:product_price", args=[shop.cabbage.pk]), {"price": "9.50"}, follow=True)
    assert constants.WARNING in levels(response)  # "above the cap: waits for the task force"
    shop.cabbage.refresh_from_db()
    assert shop.cabbage.price == Decimal("9.50") and shop.cabbage.price_state == PriceState.PENDING
    assert not visible_to(city.household_a, shop.cabbage)

    client.force_login(city.users.taskforce)
    queue = client.get(reverse("catalog:price_queue"))
    changes = list(queue.context["page"])
    assert [c.product_id for c in changes] == [shop.cabbage.pk]
    assert "9.50" in queue.content.decode() and "8.00" in queue.content.decode()
    response = client.post(reverse("catalog:price_decide", args=[changes[0].pk]), {"decision": "approve"}, follow=True)
    assert constants.SUCCESS in levels(response)
    assert visible_to(city.household_a, shop.cabbage)
    assert list(client.get(reverse("catalog:price_queue")).context["page"]) == []


def test_a_refused_price_stays_hidden(shop, city, client):
    services.product_reference_cap_set(product_id=shop.eggs.pk, cap="30.00", by=city.users.taskforce)
    services.product_price_set(product_id=shop.eggs.pk, price="45.00", by=city.users.supplier)
    change = PriceChange.objects.filter(product=shop.eggs).latest("id")
    client.force_login(city.users.city_taskforce)
    client.post(reverse("catalog:price_decide", args=[change.pk]), {"decision": "refuse"})
    shop.eggs.refresh_from_db()
    assert shop.eggs.price_state == PriceState.REJECTED
    assert not visible_to(city.household_a, shop.eggs)
    # deciding twice is refused and changes nothing
    response = client.post(reverse("catalog:price_decide", args=[change.pk]), {"decision": "approve"}, follow=True)
    assert constants.ERROR in levels(response)
    shop.eggs.refresh_from_db()
    assert shop.eggs.price_state == PriceState.REJECTED


def test_only_the_latest_pending_price_of_a_product_is_in_the_queue(shop, city, client):
    services.product_reference_cap_set(product_id=shop.masks.pk, cap="20.00", by=None)
    services.product_price_set(product_id=shop.masks.pk, price="25.00", by=city.users.supplier)
    services.product_price_set(product_id=shop.masks.pk, price="24.00", by=city.users.supplier)
    client.force_login(city.users.taskforce)
    changes = list(client.get(reverse("catalog:price_queue")).context["page"])
    assert [c.new_price for c in changes] == [Decimal("24.00")]


def test_history_lists_each_change_with_who(shop, city, client):
    city.users.supplier.last_name, city.users.supplier.first_name = "赵", "磊"
    city.users.supplier.save()
    city.users.taskforce.last_name, city.users.taskforce.first_name = "郭", "振华"
    city.users.taskforce.save()
    services.product_reference_cap_set(product_id=shop.cabbage.pk, cap="8.00", by=city.users.taskforce)
    client.force_login(city.users.supplier)
    client.post(reverse("catalog:product_price", args=[shop.cabbage.pk]), {"price": "7.00"})
    client.post(reverse("catalog:product_price", args=[shop.cabbage.pk]), {"price": "9.00"})
    change = PriceChange.objects.filter(product=shop.cabbage).latest("id")
    services.price_change_decide(price_change_id=change.pk, approve=True, by=city.users.taskforce)
    response = client.get(reverse("catalog:product_detail", args=[shop.cabbage.pk]))
    history = list(response.context["history"])
    assert [(c.old_price, c.new_price) for c in history] == [
        (Decimal("7.00"), Decimal("9.00")),
        (Decimal("6.50"), Decimal("7.00")),
    ]
    assert [c.changed_by for c in history] == [city.users.supplier, city.users.supplier]
    html = response.content.decode()
    assert html.count("赵磊") >= 2 and "郭振华" in html  # who posted, and who approved


def test_supplier_edits_details_and_capacity_follows_into_the_open_cycle(shop, city, client):
    client.force_login(city.users.supplier)
    data = {
        "name": "大白菜",
        "category": "vegetables",
        "size": "约2kg",
        "unit": "颗",
        "capacity": "50",
        "household_limit": "3",
        "is_active": "on",
    }
    response = client.post(reverse("catalog:product_edit", args=[shop.cabbage.pk]), data, follow=True)
    assert constants.SUCCESS in levels(response)
    shop.cabbage.refresh_from_db()
    assert (shop.cabbage.capacity, shop.cabbage.household_limit) == (50, 3)
    assert CycleStock.objects.get(cycle=shop.cycle, product=shop.cabbage).capacity == 50
    client.post(reverse("catalog:product_edit", args=[shop.cabbage.pk]), {**data, "is_active": ""})
    shop.cabbage.refresh_from_db()
    assert not shop.cabbage.is_active and not visible_to(city.household_a, shop.cabbage)


def test_capacity_below_what_is_reserved_is_refused_and_changes_nothing(shop, city, client):
    services.order_place(
        household_id=city.household_a.pk,
        lines=[{"product": shop.masks.pk, "quantity": 5}],
        placed_by=None,
        channel=Channel.WEB,
    )
    before = product_state(shop.masks)
    client.force_login(city.users.supplier)
    data = {
        "name": "医用口罩",
        "category": "epidemic",
        "size": "50只",
        "unit": "盒",
        "capacity": "4",
        "is_active": "on",
    }
    response = client.post(reverse("catalog:product_edit", args=[shop.masks.pk]), data)
    assert response.status_code == 400 and "capacity" in response.context["details_form"].errors
    assert product_state(shop.masks) == before
    client.post(reverse("catalog:product_edit", args=[shop.masks.pk]), {**data, "capacity": "5"})
    assert (
        CycleStock.objects.get(cycle=shop.cycle, product=shop.masks).capacity == 5
    )  # exactly what is reserved is fine


@pytest.mark.parametrize("price", ["-1", "0", "abc", "6.505", "", "100000", "1e3", "NaN", "7,00.1", "7,50"])
def test_a_bad_price_changes_nothing(shop, city, client, price):
    before = product_state(shop.cabbage)
    client.force_login(city.users.supplier)
    response = client.post(reverse("catalog:product_price", args=[shop.cabbage.pk]), {"price": price})
    assert response.status_code == 400 and response.context["price_form"].errors["price"]
    assert product_state(shop.cabbage) == before


def test_a_price_typed_on_a_chinese_keyboard_is_understood(shop, city, client):
    client.force_login(city.users.supplier)
    client.post(reverse("catalog:product_price", args=[shop.cabbage.pk]), {"price": "￥７．５０"})
    shop.cabbage.refresh_from_db()
    assert shop.cabbage.price == Decimal("7.50")


@pytest.mark.parametrize(
    "change",
    [
        {"name": ""},
        {"name": "   "},
        {"price": "-3"},
        {"price": "abc"},
        {"price": "1.999"},
        {"capacity": "-1"},
        {"capacity": "ten"},
        {"household_limit": "0"},
        {"category": "weapons"},
        {"unit": ""},
        {"name": "鸡蛋", "size": "30枚"},
    ],
)
def test_a_bad_new_product_changes_nothing(shop, city, client, change):
    client.force_login(city.users.supplier)
    count = Product.objects.count(), PriceChange.objects.count(), CycleStock.objects.count()
    response = client.post(reverse("catalog:product_create"), {**NEW_PRODUCT, **change})
    assert response.status_code == 200 and response.context["form"].errors
    assert (Product.objects.count(), PriceChange.objects.count(), CycleStock.objects.count()) == count


def test_renaming_onto_another_product_is_refused(shop, city, client):
    before = product_state(shop.cabbage)
    client.force_login(city.users.supplier)
    data = {"name": "鸡蛋", "category": "vegetables", "size": "30枚", "unit": "颗", "capacity": "20", "is_active": "on"}
    response = client.post(reverse("catalog:product_edit", args=[shop.cabbage.pk]), data)
    assert response.status_code == 400 and "name" in response.context["details_form"].errors
    assert product_state(shop.cabbage) == before


def test_supplier_of_a_cannot_reach_products_of_supplier_b(shop, city, client, other_shop):
    before = product_state(other_shop.product)
    client.force_login(city.users.supplier)
    pk = other_shop.product.pk
    assert client.get(reverse("catalog:product_detail", args=[pk])).status_code == 404
    assert client.post(reverse("catalog:product_price", args=[pk]), {"price": "1.00"}).status_code == 404
    data = {"name": "偷改", "category": "vegetables", "unit": "斤", "capacity": "1"}
    assert client.post(reverse("catalog:product_edit", args=[pk]), data).status_code == 404
    assert product_state(other_shop.product) == before
    html = client.get(reverse("catalog:home")).content.decode()
    assert "土豆" not in html and "大白菜" in html
    client.force_login(other_shop.staff)
    assert client.get(reverse("catalog:product_detail", args=[shop.cabbage.pk])).status_code == 404


@pytest.mark.parametrize("role", ["resident", "worker"])
def test_residents_and_workers_cannot_open_catalog_pages(shop, city, client, role):
    client.force_login(getattr(city.users, role))
    for url in (
        reverse("catalog:home"),
        reverse("catalog:product_create"),
        reverse("catalog:product_detail", args=[shop.cabbage.pk]),
        reverse("catalog:price_queue"),
        reverse("catalog:products"),
        reverse("catalog:suppliers"),
    ):
        assert client.get(url).status_code == 403, url
    assert client.post(reverse("catalog:product_price", args=[shop.cabbage.pk]), {"price": "1.00"}).status_code == 403
    shop.cabbage.refresh_from_db()
    assert shop.cabbage.price == Decimal("6.50")


def test_supplier_staff_cannot_open_task_force_or_household_pages(shop, city, client):
    client.force_login(city.users.supplier)
    for url in (
        reverse("catalog:price_queue"),
        reverse("catalog:products"),
        reverse("catalog:suppliers"),
        reverse("households:household_list"),
        reverse("households:compound_list"),
    ):
        assert client.get(url).status_code == 403, url
    response = client.post(reverse("catalog:product_cap", args=[shop.cabbage.pk]), {"reference_cap": "1.00"})
    assert response.status_code == 403
    response = client.post(reverse("catalog:supplier_whitelist", args=[shop.supplier.pk]), {"whitelisted": "0"})
    assert response.status_code == 403
    shop.supplier.refresh_from_db()
    assert shop.supplier.is_whitelisted


def test_anonymous_users_are_sent_to_sign_in(shop, client):
    response = client.get(reverse("catalog:home"))
    assert response.status_code == 302 and "/accounts/login/" in response.url


def test_posts_need_the_csrf_token(shop, city):
    client = Client(enforce_csrf_checks=True)
    client.force_login(city.users.supplier)
    assert client.post(reverse("catalog:product_price", args=[shop.cabbage.pk]), {"price": "7.00"}).status_code == 403
    client.force_login(city.users.taskforce)
    assert (
        client.post(reverse("catalog:product_cap", args=[shop.cabbage.pk]), {"reference_cap": "1.00"}).status_code
        == 403
    )
    shop.cabbage.refresh_from_db()
    assert shop.cabbage.price == Decimal("6.50") and shop.cabbage.reference_cap is None


# --- task force ----------------------------------------------------------------------------------------


def test_task_force_sets_a_cap_and_a_price_above_it_waits(shop, city, client):
    client.force_login(city.users.taskforce)
    url = reverse("catalog:product_cap", args=[shop.cabbage.pk])
    response = client.post(url, {"reference_cap": "7.00", "next": reverse("catalog:products") + "?category=vegetables"})
    assert response.status_code == 302 and response.url.endswith("?category=vegetables")
    shop.cabbage.refresh_from_db()
    assert shop.cabbage.reference_cap == Decimal("7.00") and shop.cabbage.price_state == PriceState.APPROVED
    # a cap below the current price puts it in the queue and hides it
    response = client.post(url, {"reference_cap": "6.00"}, follow=True)
    assert constants.WARNING in levels(response)
    assert not visible_to(city.household_a, shop.cabbage)
    assert [c.product_id for c in client.get(reverse("catalog:price_queue")).context["page"]] == [shop.cabbage.pk]
    # clearing the cap shows the price again
    client.post(url, {"reference_cap": ""})
    shop.cabbage.refresh_from_db()
    assert shop.cabbage.reference_cap is None and visible_to(city.household_a, shop.cabbage)


@pytest.mark.parametrize("cap", ["abc", "-5", "0", "1.001"])
def test_a_bad_cap_changes_nothing(shop, city, client, cap):
    before = product_state(shop.cabbage)
    client.force_login(city.users.taskforce)
    response = client.post(reverse("catalog:product_cap", args=[shop.cabbage.pk]), {"reference_cap": cap}, follow=True)
    assert constants.ERROR in levels(response)
    assert product_state(shop.cabbage) == before


def test_a_redirect_never_leaves_the_site(shop, city, client):
    client.force_login(city.users.taskforce)
    response = client.post(
        reverse("catalog:product_cap", args=[shop.cabbage.pk]),
        {"reference_cap": "9.00", "next": "https://evil.example/"},
    )
    assert response.url == reverse("catalog:products")


def test_whitelist_off_takes_the_products_out_of_residents_catalog(shop, city, client):
    client.force_login(city.users.taskforce)
    url = reverse("catalog:supplier_whitelist", args=[shop.supplier.pk])
    response = client.post(url, {"whitelisted": "0"}, follow=True)
    assert constants.SUCCESS in levels(response)
    assert not any(visible_to(city.household_a, p) for p in (shop.cabbage, shop.eggs, shop.masks))
    client.post(url, {"whitelisted": "1"})
    shop.supplier.refresh_from_db()
    assert shop.supplier.is_whitelisted and shop.supplier.whitelisted_by == city.users.taskforce
    assert visible_to(city.household_a, shop.cabbage)
    before = Supplier.objects.values_list("is_whitelisted", "whitelisted_at").get(pk=shop.supplier.pk)
    client.post(url, {"whitelisted": "maybe"})
    assert Supplier.objects.values_list("is_whitelisted", "whitelisted_at").get(pk=shop.supplier.pk) == before


def test_suppliers_page_shows_the_districts_served(shop, city, client, other_shop):
    lonely = SupplierFactory(name="高新区粮油", is_whitelisted=False)
    client.force_login(city.users.taskforce)
    html = client.get(reverse("catalog:suppliers")).content.decode()
    assert "中原区" in html and "二七区" in html and "高新区粮油" in html
    mine = client.get(reverse("catalog:suppliers") + "?mine=1").context["suppliers"]
    assert lonely not in mine and shop.supplier in mine


@pytest.mark.parametrize("role", ["office", "operator"])
def test_office_staff_and_operators_see_prices_and_caps_read_only(shop, city, client, role):
    services.product_reference_cap_set(product_id=shop.eggs.pk, cap="29.00", by=None)
    client.force_login(getattr(city.users, role))
    response = client.get(reverse("catalog:products"))
    html = response.content.decode()
    assert response.status_code == 200 and "29.00" in html and "28.00" in html
    assert reverse("catalog:product_cap", args=[shop.eggs.pk]) not in html
    assert (
        client.post(reverse("catalog:product_cap", args=[shop.eggs.pk]), {"reference_cap": "1.00"}).status_code == 403
    )
    assert client.get(reverse("catalog:price_queue")).status_code == 403
    assert client.get(reverse("catalog:home")).status_code == 302  # to the products overview


def test_task_force_may_look_at_a_product_but_not_post_its_price(shop, city, client):
    client.force_login(city.users.taskforce)
    response = client.get(reverse("catalog:product_detail", args=[shop.cabbage.pk]))
    assert response.status_code == 200 and not response.context["can_edit"]
    assert client.post(reverse("catalog:product_price", args=[shop.cabbage.pk]), {"price": "1.00"}).status_code == 403


# --- query counts ---------------------------------------------------------------------------------------


def _more_products(supplier, n=30):
    for i in range(n):
        services.product_create(
            supplier_id=supplier.pk,
            by=None,
            name=f"加量商品{i}",
            category="daily",
            unit="件",
            price="5.00",
            capacity=10,
        )


@pytest.mark.parametrize(
    "role, url",
    [
        ("supplier", "catalog:home"),
        ("taskforce", "catalog:products"),
        ("taskforce", "catalog:price_queue"),
        ("taskforce", "catalog:suppliers"),
        ("office", "catalog:products"),
    ],
)
def test_list_pages_do_not_grow_with_products(shop, city, client, django_assert_max_num_queries, role, url):
    services.product_reference_cap_set(product_id=shop.masks.pk, cap="15.00", by=None)  # one price in the queue
    client.force_login(getattr(city.users, role))
    client.get(reverse(url))  # warm the session
    with django_assert_max_num_queries(QUERY_LIMIT) as few:
        assert client.get(reverse(url)).status_code == 200
    _more_products(shop.supplier)
    for supplier in (SupplierFactory(), SupplierFactory()):
        supplier.districts.set(city.districts)
        _more_products(supplier, 5)
    for product in Product.objects.filter(name__startswith="加量商品")[:20]:
        services.product_reference_cap_set(product_id=product.pk, cap="4.00", by=None)  # 20 pending prices
    with django_assert_max_num_queries(QUERY_LIMIT) as many:
        response = client.get(reverse(url))
    assert (
        response.status_code == 200 and len(response.context["page" if "page" in response.context else "suppliers"]) > 2
    )
    assert len(many.captured_queries) == len(few.captured_queries)


def test_product_page_does_not_grow_with_history(shop, city, client, django_assert_max_num_queries):
    client.force_login(city.users.supplier)
    url = reverse("catalog:product_detail", args=[shop.cabbage.pk])
    client.get(url)
    with django_assert_max_num_queries(QUERY_LIMIT) as few:
        client.get(url)
    for i in range(20):
        services.product_price_set(product_id=shop.cabbage.pk, price=f"{7 + i}.00", by=city.users.supplier)
    with django_assert_max_num_queries(QUERY_LIMIT) as many:
        assert len(client.get(url).context["history"]) == 20
    assert len(many.captured_queries) == len(few.captured_queries)


# --- admin ---------------------------------------------------------------------------------------------


def _admin_urls(shop, order):
    stock = CycleStock.objects.filter(cycle=shop.cycle).first()
    change = PriceChange.objects.first()
    return [
        "/admin/supply/product/",
        f"/admin/supply/product/{shop.cabbage.pk}/change/",
        "/admin/supply/pricechange/",
        f"/admin/supply/pricechange/{change.pk}/change/",
        "/admin/supply/cycle/",
        f"/admin/supply/cycle/{shop.cycle.pk}/change/",
        "/admin/supply/cyclestock/",
        f"/admin/supply/cyclestock/{stock.pk}/change/",
        "/admin/supply/order/",
        f"/admin/supply/order/{order.pk}/change/",
        "/admin/supply/supplier/",
        f"/admin/supply/supplier/{shop.supplier.pk}/change/",
    ]


@pytest.fixture
def order(shop, city):
    services.product_price_set(product_id=shop.cabbage.pk, price="7.00", by=city.users.supplier)
    return services.order_place(
        household_id=city.household_a.pk,
        lines=[{"product": shop.cabbage.pk, "quantity": 2}],
        placed_by=city.users.resident,
        channel=Channel.WEB,
    ).order


def test_admin_pages_of_the_supply_models_load_for_admin(shop, city, client, order):
    client.force_login(city.users.admin)
    for url in _admin_urls(shop, order):
        assert client.get(url).status_code == 200, url
    response = client.get(f"/admin/supply/product/{shop.cabbage.pk}/change/")
    assert "price" not in response.context["adminform"].form.fields  # prices only through the catalog page
    assert not response.context["has_add_permission"]
    order_page = client.get(f"/admin/supply/order/{order.pk}/change/")
    assert not order_page.context["has_change_permission"]
    assert client.post(f"/admin/supply/order/{order.pk}/delete/", {"post": "yes"}).status_code == 403
    assert client.get("/admin/supply/order/add/").status_code == 403
    assert client.get("/admin/supply/pricechange/add/").status_code == 403


def test_admin_product_edit_goes_through_the_service(shop, city, client, order):
    client.force_login(city.users.admin)
    url = f"/admin/supply/product/{shop.cabbage.pk}/change/"
    data = {
        "name": "大白菜",
        "category": "vegetables",
        "unit": "颗",
        "size": "约2kg",
        "description": "",
        "capacity": "1",
        "household_limit": "",
        "is_active": "on",
    }
    response = client.post(url, data)
    assert response.status_code == 200  # 2 are reserved: the form says so
    assert CycleStock.objects.get(cycle=shop.cycle, product=shop.cabbage).capacity == 20
    response = client.post(url, {**data, "capacity": "40"})
    assert response.status_code == 302
    assert CycleStock.objects.get(cycle=shop.cycle, product=shop.cabbage).capacity == 40


def test_admin_is_scoped_for_supplier_staff_and_workers(shop, city, client, order, other_shop):
    supplier_staff = city.users.supplier
    supplier_staff.is_staff = True
    supplier_staff.save()
    client.force_login(supplier_staff)
    response = client.get("/admin/supply/product/")
    assert response.status_code == 200
    assert {p.supplier_id for p in response.context["cl"].result_list} == {shop.supplier.pk}
    assert client.get(f"/admin/supply/product/{other_shop.product.pk}/change/").status_code == 302  # "does not exist"
    response = client.get("/admin/supply/pricechange/")
    assert {c.product.supplier_id for c in response.context["cl"].result_list} == {shop.supplier.pk}
    assert client.get("/admin/supply/order/").status_code == 403  # no household data
    assert not response.context["has_add_permission"]

    client.force_login(city.users.worker_b)  # community B: the order is community A's
    response = client.get("/admin/supply/order/")
    assert response.status_code == 200 and response.context["cl"].result_count == 0
    client.force_login(city.users.worker)
    response = client.get("/admin/supply/order/")
    assert [o.pk for o in response.context["cl"].result_list] == [order.pk]
    assert client.get("/admin/supply/product/").status_code == 200
    assert client.post(f"/admin/supply/product/{shop.cabbage.pk}/change/", {"name": "x"}).status_code == 403
