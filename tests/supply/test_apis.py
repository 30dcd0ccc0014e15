"""The order API of /api/v1/ as ARCHITECTURE.md states it: field names, money strings, status codes, scope."""

import datetime
import json
import threading
from concurrent.futures import ThreadPoolExecutor

import pytest
from django.db import connection
from django.utils import timezone
from rest_framework.test import APIClient

from core.dates import moment_text
from households.models import User
from supply import services
from supply.models import Cycle, CycleStock, Order, OrderLine
from tests.factories import HouseholdFactory, ProductFactory, SupplierFactory, UserFactory

pytestmark = pytest.mark.django_db

CATALOG, ORDERS = "/api/v1/catalog/", "/api/v1/orders/"
PRODUCT_FIELDS = {"id", "name", "category", "unit", "size", "price", "supplier", "available", "household_limit"}
ORDER_FIELDS = {
    "when_out",
    "id",
    "status",
    "channel",
    "household",
    "cycle",
    "lines",
    "total",
    "payment_method",
    "payment_state",
    "note",
    "created_at",
    "package",
}
LINE_FIELDS = {"product", "name", "quantity", "unit_price", "line_total"}


def client_for(user) -> APIClient:
    client = APIClient()
    client.force_authenticate(user)
    return client


def lines(*pairs) -> list[dict]:
    return [{"product": product.pk, "quantity": quantity} for product, quantity in pairs]


def post_order(client, body, key=None):
    headers = {"Idempotency-Key": key} if key is not None else {}
    return client.post(ORDERS, body, format="json", headers=headers)


def place(household, *pairs, by=None, channel="web"):
    return services.order_place(household_id=household.pk, lines=lines(*pairs), placed_by=by, channel=channel).order


def db_state():
    return (
        sorted(Order.objects.values_list("id", "status")),
        sorted(OrderLine.objects.values_list("id", "quantity")),
        sorted(CycleStock.objects.values_list("id", "reserved")),
    )


def reserved(shop, product) -> int:
    return CycleStock.objects.get(cycle=shop.cycle, product=product).reserved


def assert_error(response, status: int) -> dict:
    assert response.status_code == status, response.content
    data = response.json()
    assert set(data) == {"detail", "errors"}, data
    assert isinstance(data["detail"], str) and data["detail"]
    assert isinstance(data["errors"], dict)
    return data


def close_ordering(shop) -> datetime.datetime:
    """Move the open cycle's cutoff into the past; return when the next cycle opens."""
    now = timezone.now()
    opens_at = now - datetime.timedelta(days=2)
    Cycle.objects.filter(pk=shop.cycle.pk).update(opens_at=opens_at, cutoff_at=now - datetime.timedelta(minutes=1))
    return opens_at + datetime.timedelta(days=services.CYCLE_DAYS)


# --- catalog ----------------------------------------------------------------------------------------


def test_a_resident_signs_in_with_a_token_and_reads_the_catalog(shop, city, api_client):
    token = api_client.post("/api/v1/auth/token/", {"username": "13900000001", "password": "demo12345"}, format="json")
    assert token.status_code == 200
    api_client.credentials(HTTP_AUTHORIZATION=f"Token {token.json()['token']}")
    response = api_client.get(CATALOG)
    assert response.status_code == 200
    items = {item["id"]: item for item in response.json()}
    assert set(items) == {shop.cabbage.pk, shop.eggs.pk, shop.masks.pk}
    assert all(set(item) == PRODUCT_FIELDS for item in items.values())
    assert items[shop.cabbage.pk] == {
        "id": shop.cabbage.pk,
        "name": "大白菜",
        "category": "vegetables",
        "unit": "颗",
        "size": "约2kg",
        "price": "6.50",
        "supplier": shop.supplier.name,
        "available": 20,
        "household_limit": None,
    }
    assert items[shop.eggs.pk]["price"] == "28.00" and items[shop.eggs.pk]["household_limit"] == 2


def test_the_catalog_shows_sold_out_as_zero_and_hides_a_price_waiting_for_approval(shop, city):
    place(city.household_b, (shop.cabbage, 20))
    services.product_reference_cap_set(product_id=shop.masks.pk, cap="25.00", by=city.users.taskforce)
    services.product_price_set(product_id=shop.masks.pk, price="38.00", by=None)
    items = {item["id"]: item for item in client_for(city.users.resident).get(CATALOG).json()}
    assert items[shop.cabbage.pk]["available"] == 0
    assert shop.masks.pk not in items
    assert items[shop.eggs.pk]["available"] == 100


def test_the_catalog_filters_by_category_and_search(shop, city):
    client = client_for(city.users.resident)
    assert [p["id"] for p in client.get(CATALOG, {"category": "epidemic"}).json()] == [shop.masks.pk]
    assert [p["id"] for p in client.get(CATALOG, {"search": "白菜"}).json()] == [shop.cabbage.pk]
    assert client.get(CATALOG, {"search": "no such thing"}).json() == []
    assert_error(client.get(CATALOG, {"category": "weapons"}), 400)


def test_with_ordering_closed_the_catalog_lists_everything_as_unavailable(shop, city):
    close_ordering(shop)
    items = client_for(city.users.resident).get(CATALOG).json()
    assert len(items) == 3 and {item["available"] for item in items} == {0}


def test_staff_name_a_household_of_their_scope_for_the_catalog(shop, city):
    worker, operator = client_for(city.users.worker), client_for(city.users.operator)
    assert worker.get(CATALOG, {"household": city.household_a.pk}).status_code == 200
    assert operator.get(CATALOG, {"household": city.household_b.pk}).status_code == 200
    data = assert_error(worker.get(CATALOG), 400)
    assert "household" in data["errors"]
    assert_error(worker.get(CATALOG, {"household": city.household_c.pk}), 404)
    assert_error(operator.get(CATALOG, {"household": city.household_c.pk}), 404)
    assert_error(worker.get(CATALOG, {"household": "abc"}), 400)
    assert_error(worker.get(CATALOG, {"household": str(10**30)}), 400)
    assert_error(client_for(city.users.resident).get(CATALOG, {"household": city.household_b.pk}), 404)
    assert client_for(city.users.resident).get(CATALOG, {"household": city.household_a.pk}).status_code == 200


@pytest.mark.parametrize("role", ["office", "taskforce", "supplier", "admin"])
def test_roles_that_do_not_order_get_403_from_the_catalog_and_ordering(shop, city, role):
    client = client_for(getattr(city.users, role))
    assert_error(client.get(CATALOG, {"household": city.household_a.pk}), 403)
    body = {"household": city.household_a.pk, "lines": lines((shop.cabbage, 1))}
    assert_error(post_order(client, body), 403)
    assert not Order.objects.exists()


def test_a_resident_without_a_household_gets_403(shop, city):
    assert_error(client_for(UserFactory(household=None)).get(CATALOG), 403)


def test_anonymous_callers_get_401(shop):
    client = APIClient()
    for response in (
        client.get(CATALOG),
        client.get(ORDERS),
        client.post(ORDERS, {}, format="json"),
        client.get(f"{ORDERS}1/"),
        client.post(f"{ORDERS}1/cancel/"),
    ):
        assert_error(response, 401)


def test_the_catalog_query_count_does_not_grow_with_products(shop, city, django_assert_max_num_queries):
    for index in range(30):
        ProductFactory(supplier=shop.supplier, name=f"挂面{index}", capacity=10)
    services.cycle_open()  # already open: the new products got no stock and show 0
    client = client_for(city.users.worker)
    with django_assert_max_num_queries(4):
        response = client.get(CATALOG, {"household": city.household_a.pk})
    assert len(response.json()) == 33


# --- placing orders ---------------------------------------------------------------------------------


def test_a_resident_places_an_order_with_every_field_and_money_as_strings(shop, city):
    client = client_for(city.users.resident)
    body = {"lines": lines((shop.cabbage, 3), (shop.masks, 1)), "note": "放门口", "payment_method": "online"}
    response = post_order(client, body, key="k-1")
    assert response.status_code == 201, response.content
    order = response.json()
    assert set(order) == ORDER_FIELDS
    # never "paid" before the provider says so: held for its payment meanwhile
    assert order["status"] == "awaiting" and order["channel"] == "web"
    assert order["household"] == city.household_a.pk and order["cycle"] == shop.cycle.pk
    assert order["total"] == "39.40" and order["note"] == "放门口"
    assert order["payment_method"] == "online" and order["payment_state"] == "awaiting"
    assert order["package"] is None
    assert order["lines"] == [
        {
            "product": shop.cabbage.pk,
            "name": "大白菜 约2kg",
            "quantity": 3,
            "unit_price": "6.50",
            "line_total": "19.50",
        },
        {
            "product": shop.masks.pk,
            "name": "医用口罩 50只",
            "quantity": 1,
            "unit_price": "19.90",
            "line_total": "19.90",
        },
    ]
    assert all(set(line) == LINE_FIELDS for line in order["lines"])
    assert datetime.datetime.fromisoformat(order["created_at"]).tzinfo is not None


def test_the_same_idempotency_key_returns_the_first_order_and_refuses_another_body(shop, city):
    client = client_for(city.users.resident)
    body = {"lines": lines((shop.cabbage, 2)), "note": "x"}
    first = post_order(client, body, key="retry-1")
    again = post_order(client, body, key="retry-1")
    assert (first.status_code, again.status_code) == (201, 200)
    assert again.json() == first.json()
    assert Order.objects.count() == 1 and reserved(shop, shop.cabbage) == 2
    before = db_state()
    changed = post_order(client, {"lines": lines((shop.cabbage, 3)), "note": "x"}, key="retry-1")
    assert "idempotency_key" in assert_error(changed, 400)["errors"]
    assert db_state() == before
    # without a key every request is a new order
    assert post_order(client, body).status_code == 201 and post_order(client, body).status_code == 201
    assert Order.objects.count() == 3


def test_placing_an_order_takes_a_pinned_number_of_queries_and_shows_what_a_read_shows(
    shop, city, django_assert_max_num_queries
):
    client = client_for(city.users.resident)
    body = {"lines": lines((shop.cabbage, 3), (shop.masks, 1)), "note": "放门口"}
    # [savepoint], lock (household and cycle), read (products, limits, the key), order and lines,
    # reservation, [release] on PostgreSQL; SQLite writes the lines and each product's reservation
    # apart. The resident's own household needs no scope query; no read-back of the order.
    most = 6 if connection.vendor == "postgresql" else 8
    with django_assert_max_num_queries(most):
        placed = post_order(client, body, key="pinned")
    assert placed.status_code == 201, placed.content
    with django_assert_max_num_queries(most):
        assert post_order(client, body).status_code == 201
    assert client.get(f"{ORDERS}{placed.json()['id']}/").json() == placed.json()


def test_an_operator_orders_by_phone_for_a_household_of_the_district(shop, city):
    response = post_order(
        client_for(city.users.operator), {"household": city.household_b.pk, "lines": lines((shop.eggs, 1))}
    )
    assert response.status_code == 201
    assert response.json()["channel"] == "hotline" and response.json()["household"] == city.household_b.pk
    assert Order.objects.get().placed_by == city.users.operator


def test_a_worker_orders_for_a_household_of_the_own_community(shop, city):
    response = post_order(
        client_for(city.users.worker), {"household": city.household_a.pk, "lines": lines((shop.eggs, 1))}
    )
    assert response.status_code == 201
    assert response.json()["channel"] == "worker" and response.json()["household"] == city.household_a.pk


def test_nobody_orders_for_a_household_outside_their_scope(shop, city):
    body = {"lines": lines((shop.cabbage, 1))}
    assert_error(post_order(client_for(city.users.worker), {**body, "household": city.household_c.pk}), 404)
    assert_error(post_order(client_for(city.users.worker_b), {**body, "household": city.household_a.pk}), 404)
    assert_error(post_order(client_for(city.users.operator2), {**body, "household": city.household_a.pk}), 404)
    assert_error(post_order(client_for(city.users.resident), {**body, "household": city.household_b.pk}), 404)
    assert_error(post_order(client_for(city.users.resident), {**body, "household": 10**9}), 404)
    assert "household" in assert_error(post_order(client_for(city.users.operator), body), 400)["errors"]
    assert not Order.objects.exists()
    # a resident naming the own household is fine
    assert post_order(client_for(city.users.resident), {**body, "household": city.household_a.pk}).status_code == 201


@pytest.mark.parametrize("quantity", [0, -1, 1.5, 100, 10**12, 10**30, True, False, "2", None, [], {"n": 1}])
def test_every_bad_quantity_is_a_400_and_nothing_is_written(shop, city, quantity):
    before = db_state()
    response = post_order(
        client_for(city.users.resident), {"lines": [{"product": shop.cabbage.pk, "quantity": quantity}]}
    )
    assert "lines.0.quantity" in assert_error(response, 400)["errors"]
    assert db_state() == before


@pytest.mark.parametrize(
    "raw",
    [
        '{"lines": [',
        "[]",
        '"eggs"',
        "null",
        "{}",
        '{"lines": []}',
        '{"lines": "eggs"}',
        '{"lines": {"product": 1, "quantity": 1}}',
        '{"lines": [1]}',
        '{"lines": [[1, 2]]}',
        '{"lines": [{"quantity": 1}]}',
        '{"lines": [{"product": "1", "quantity": 1}]}',
        '{"lines": [{"product": true, "quantity": 1}]}',
        '{"lines": [{"product": 99999999999999999999999999, "quantity": 1}]}',
        '{"lines": [{"product": PID, "quantity": 1}], "note": ["x"]}',
        '{"lines": [{"product": PID, "quantity": 1}], "note": {"a": 1}}',
        '{"lines": [{"product": PID, "quantity": 1}], "payment_method": "bitcoin"}',
        '{"lines": [{"product": PID, "quantity": 1}], "payment_method": "free"}',
        '{"lines": [{"product": PID, "quantity": 1}], "household": "abc"}',
        '{"lines": [{"product": PID, "quantity": 1}], "household": 99999999999999999999999999}',
    ],
)
def test_malformed_bodies_are_a_400_with_the_error_shape(shop, city, raw):
    before = db_state()
    raw = raw.replace("PID", str(shop.cabbage.pk))  # a product the household could order: the body is what is wrong
    response = client_for(city.users.resident).post(ORDERS, data=raw, content_type="application/json")
    assert_error(response, 400)
    assert db_state() == before


def test_too_many_lines_an_oversized_note_or_key_are_refused(shop, city):
    client = client_for(city.users.resident)
    before = db_state()
    body = {"lines": lines((shop.cabbage, 1))}
    assert "note" in assert_error(post_order(client, {**body, "note": "长" * 201}), 400)["errors"]
    assert "idempotency_key" in assert_error(post_order(client, body, key="k" * 101), 400)["errors"]
    assert_error(post_order(client, body, key="   "), 400)
    many = [{"product": shop.cabbage.pk, "quantity": 1}] * (services.MAX_LINES + 1)
    assert "lines" in assert_error(post_order(client, {"lines": many}), 400)["errors"]
    assert db_state() == before
    assert post_order(client, {**body, "note": "长" * 200}, key="k" * 100).status_code == 201


def test_a_form_encoded_body_is_refused_as_unsupported(shop, city):
    response = client_for(city.users.resident).post(ORDERS, {"lines": "1"})
    assert_error(response, 415)


def test_unknown_inactive_and_foreign_products_are_refused(shop, city):
    inactive = ProductFactory(supplier=shop.supplier, is_active=False)
    foreign = ProductFactory(supplier=SupplierFactory())
    client = client_for(city.users.resident)
    before = db_state()
    for product_id in (10**9, inactive.pk, foreign.pk):
        response = post_order(client, {"lines": [{"product": product_id, "quantity": 1}]})
        assert "lines" in assert_error(response, 400)["errors"]
    assert db_state() == before


def test_capacity_gone_is_a_409_and_nothing_is_written(shop, city):
    place(city.household_b, (shop.cabbage, 18))
    before = db_state()
    client = client_for(city.users.resident)
    response = post_order(client, {"lines": lines((shop.masks, 1), (shop.cabbage, 3))})
    assert "2" in assert_error(response, 409)["detail"]
    assert db_state() == before
    assert post_order(client, {"lines": lines((shop.cabbage, 2))}).status_code == 201
    assert "lines" in assert_error(post_order(client, {"lines": lines((shop.cabbage, 1))}), 409)["errors"]


def test_the_household_limit_is_a_409(shop, city):
    client = client_for(city.users.resident)
    assert post_order(client, {"lines": lines((shop.eggs, 2))}).status_code == 201
    assert_error(post_order(client, {"lines": lines((shop.eggs, 1))}), 409)
    assert reserved(shop, shop.eggs) == 2


def test_after_the_cutoff_ordering_is_a_409_that_says_when_the_next_cycle_opens(shop, city):
    next_opening = close_ordering(shop)
    response = post_order(client_for(city.users.resident), {"lines": lines((shop.cabbage, 1))}, key="late")
    detail = assert_error(response, 409)["detail"]
    assert moment_text(next_opening) in detail
    assert not Order.objects.exists()


# --- reading and cancelling orders ------------------------------------------------------------------


def test_the_order_list_shows_the_callers_orders_newest_first(shop, city):
    own_first = place(city.household_a, (shop.cabbage, 1))
    place(city.household_b, (shop.cabbage, 1))
    place(city.household_c, (shop.cabbage, 1))
    own_second = place(city.household_a, (shop.masks, 1), by=city.users.worker, channel="worker")
    resident = client_for(city.users.resident).get(ORDERS).json()
    assert resident["count"] == 2 and [o["id"] for o in resident["results"]] == [own_second.pk, own_first.pk]
    assert set(resident) == {"count", "next", "previous", "results"}
    assert set(resident["results"][0]) == ORDER_FIELDS
    assert client_for(city.users.worker).get(ORDERS).json()["count"] == 2  # community A
    assert client_for(city.users.operator).get(ORDERS).json()["count"] == 3  # district 1
    assert client_for(city.users.operator).get(ORDERS, {"household": city.household_b.pk}).json()["count"] == 1
    assert client_for(city.users.supplier).get(ORDERS).json()["count"] == 0
    assert client_for(city.users.resident).get(ORDERS, {"cycle": shop.cycle.pk}).json()["count"] == 2
    assert client_for(city.users.resident).get(ORDERS, {"cycle": shop.cycle.pk + 1}).json()["count"] == 0
    assert_error(client_for(city.users.resident).get(ORDERS, {"cycle": "x"}), 400)
    assert_error(client_for(city.users.resident).get(ORDERS, {"cycle": str(10**30)}), 400)
    assert_error(client_for(city.users.resident).get(ORDERS, {"page": 9}), 404)


def test_the_order_list_pages_by_fifty_with_a_query_count_that_does_not_grow(shop, city, django_assert_max_num_queries):
    for _ in range(55):
        place(city.household_a, (shop.masks, 1))
    client = client_for(city.users.resident)
    # auth, count, the page, its lines, their packages (supply.packages: one query for the page)
    with django_assert_max_num_queries(5):
        first = client.get(ORDERS).json()
    assert first["count"] == 55 and len(first["results"]) == 50 and first["next"] and first["previous"] is None
    assert all(len(order["lines"]) == 1 for order in first["results"])
    with django_assert_max_num_queries(5):
        second = client.get(ORDERS, {"page": 2}).json()
    assert len(second["results"]) == 5 and second["next"] is None


def test_an_order_is_seen_by_its_household_and_the_staff_of_its_place_only(shop, city):
    order_b = place(city.household_b, (shop.cabbage, 1))
    order_c = place(city.household_c, (shop.cabbage, 1))
    url_b, url_c = f"{ORDERS}{order_b.pk}/", f"{ORDERS}{order_c.pk}/"
    assert_error(client_for(city.users.resident).get(url_b), 404)  # resident of A, order of B
    assert_error(client_for(city.users.worker).get(url_c), 404)  # worker of A, order in C
    assert_error(client_for(city.users.supplier).get(url_b), 404)
    assert_error(client_for(city.users.resident).get(f"{ORDERS}{10**30}/"), 404)
    shown = client_for(city.users.worker_b).get(url_b)
    assert shown.status_code == 200 and set(shown.json()) == ORDER_FIELDS and shown.json()["id"] == order_b.pk
    assert client_for(city.users.operator2).get(url_c).status_code == 200


def test_cancel_is_200_then_409_and_gives_capacity_back(shop, city):
    client = client_for(city.users.resident)
    order_id = post_order(client, {"lines": lines((shop.cabbage, 5))}).json()["id"]
    cancelled = client.post(f"{ORDERS}{order_id}/cancel/")
    assert cancelled.status_code == 200
    assert cancelled.json()["status"] == "cancelled" and cancelled.json()["payment_state"] == "void"
    assert set(cancelled.json()) == ORDER_FIELDS
    assert reserved(shop, shop.cabbage) == 0
    assert_error(client.post(f"{ORDERS}{order_id}/cancel/"), 409)
    assert reserved(shop, shop.cabbage) == 0
    assert client.get(f"{ORDERS}{order_id}/").json()["status"] == "cancelled"


def test_nobody_cancels_an_order_outside_their_scope_or_after_the_cutoff(shop, city):
    order_b = place(city.household_b, (shop.cabbage, 2))
    order_c = place(city.household_c, (shop.cabbage, 2))
    assert_error(client_for(city.users.resident).post(f"{ORDERS}{order_b.pk}/cancel/"), 404)
    assert_error(client_for(city.users.worker).post(f"{ORDERS}{order_c.pk}/cancel/"), 404)
    assert_error(client_for(city.users.office).post(f"{ORDERS}{order_b.pk}/cancel/"), 403)
    assert reserved(shop, shop.cabbage) == 4
    close_ordering(shop)
    assert_error(client_for(city.users.worker_b).post(f"{ORDERS}{order_b.pk}/cancel/"), 409)
    assert reserved(shop, shop.cabbage) == 4
    assert Order.objects.filter(status="placed").count() == 2


def test_the_schema_documents_the_order_api(city):
    schema = APIClient().get("/api/v1/schema/", {"format": "json"})
    assert schema.status_code == 200
    paths = json.loads(schema.content)["paths"]
    assert {"/api/v1/catalog/", "/api/v1/orders/", "/api/v1/orders/{id}/", "/api/v1/orders/{id}/cancel/"} <= set(paths)
    create = paths["/api/v1/orders/"]["post"]
    assert {"201", "200", "400", "404", "409"} <= set(create["responses"])
    assert any(p["name"] == "Idempotency-Key" and p["in"] == "header" for p in create["parameters"])


# --- concurrency ------------------------------------------------------------------------------------


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_five_parallel_requests_with_the_same_key_place_one_order(shop, city):
    users = [User.objects.get(pk=city.users.resident.pk) for _ in range(5)]
    body = {"lines": lines((shop.masks, 3)), "note": "重试"}
    barrier = threading.Barrier(5)

    def send(i):
        try:
            client = client_for(users[i])
            barrier.wait(timeout=30)
            response = post_order(client, body, key="same-key")
            return response.status_code, response.json()
        finally:
            connection.close()

    with ThreadPoolExecutor(max_workers=5) as pool:
        results = list(pool.map(send, range(5)))
    statuses = sorted(status for status, _data in results)
    assert statuses == [200, 200, 200, 200, 201], results
    assert len({data["id"] for _status, data in results}) == 1
    assert Order.objects.count() == 1
    assert reserved(shop, shop.masks) == 3


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_parallel_orders_through_the_api_never_oversell(shop, city):
    building = city.places[city.a.pk].building
    households = [HouseholdFactory(building=building) for _ in range(8)]
    operator = city.users.operator
    barrier = threading.Barrier(8)

    def send(i):
        try:
            client = client_for(User.objects.get(pk=operator.pk))
            barrier.wait(timeout=30)
            return post_order(client, {"household": households[i].pk, "lines": lines((shop.cabbage, 3))}).status_code
        finally:
            connection.close()

    with ThreadPoolExecutor(max_workers=8) as pool:
        statuses = list(pool.map(send, range(8)))
    assert sorted(statuses) == [201] * 6 + [409] * 2  # 20 units: six orders of 3
    assert reserved(shop, shop.cabbage) == 18
