"""What the order path keeps between requests must never let a stale answer through.

The order path caches no data: products, prices, limits, capacity, the cycle and the account are
read again for every order (in the order's own transaction, after the household's lock). What it
does keep is *plans*: on PostgreSQL its statements are prepared once per database connection.
These tests place orders one after another through the API (the same connection) while the
catalog, the cycle and the account change in between, and check each change counts at once.
"""

import datetime
from decimal import Decimal

import pytest
from django.db import connection
from django.utils import timezone
from rest_framework.test import APIClient

from households.identity import api_token_issue
from households.models import ApiToken
from supply import services
from supply.models import Cycle, CycleStock, Order, OrderLine
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db

ORDERS = "/api/v1/orders/"


@pytest.fixture
def resident_client(city):
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {api_token_issue(user=city.users.resident)[1]}")
    return client


def order(client, *pairs, key=None):
    headers = {"Idempotency-Key": key} if key else {}
    body = {"lines": [{"product": product.pk, "quantity": quantity} for product, quantity in pairs]}
    return client.post(ORDERS, body, format="json", headers=headers)


def test_a_new_price_counts_from_the_next_order_and_placed_orders_keep_theirs(shop, city, resident_client):
    first = order(resident_client, (shop.masks, 2), key="one")
    assert first.status_code == 201, first.content
    services.product_price_set(product_id=shop.masks.pk, price="17.50", by=None)
    second = order(resident_client, (shop.masks, 2), key="two")
    assert second.status_code == 201, second.content
    assert second.json()["lines"][0]["unit_price"] == "17.50" and second.json()["total"] == "35.00"
    assert first.json()["lines"][0]["unit_price"] == "19.90"
    assert OrderLine.objects.get(order_id=first.json()["id"]).unit_price == Decimal("19.90")
    # A retry of the first order still answers with the first order at its price.
    again = order(resident_client, (shop.masks, 2), key="one")
    assert again.status_code == 200 and again.json() == first.json()


@pytest.mark.parametrize(
    "change",
    [
        pytest.param(
            lambda shop, city: services.product_update(product_id=shop.masks.pk, by=None, is_active=False),
            id="off-sale",
        ),
        pytest.param(
            lambda shop, city: (
                services.product_reference_cap_set(product_id=shop.masks.pk, cap="20.00", by=None),
                services.product_price_set(product_id=shop.masks.pk, price="30.00", by=None),
            ),
            id="price-above-cap-waiting",
        ),
        pytest.param(
            lambda shop, city: services.supplier_whitelist(
                supplier_id=shop.supplier.pk, whitelisted=False, by=city.users.taskforce
            ),
            id="supplier-off-whitelist",
        ),
        pytest.param(
            lambda shop, city: shop.supplier.districts.remove(city.districts[0]), id="district-no-longer-served"
        ),
    ],
)
def test_a_product_taken_off_the_catalog_is_refused_at_the_next_order(shop, city, resident_client, change):
    shop.supplier.is_whitelisted = True
    shop.supplier.save(update_fields=["is_whitelisted"])
    assert order(resident_client, (shop.masks, 1), key="before").status_code == 201
    change(shop, city)
    before = (Order.objects.count(), CycleStock.objects.get(cycle=shop.cycle, product=shop.masks).reserved)
    refused = order(resident_client, (shop.masks, 1), key="after")
    assert refused.status_code == 400, refused.content
    assert "lines" in refused.json()["errors"]
    assert (Order.objects.count(), CycleStock.objects.get(cycle=shop.cycle, product=shop.masks).reserved) == before


def test_lowered_capacity_and_a_new_limit_count_at_the_next_order(shop, city, resident_client):
    assert order(resident_client, (shop.masks, 5), key="a").status_code == 201
    services.product_update(product_id=shop.masks.pk, by=None, capacity=6)
    refused = order(resident_client, (shop.masks, 2), key="b")
    assert refused.status_code == 409 and "1" in refused.json()["detail"], refused.content
    services.product_update(product_id=shop.masks.pk, by=None, capacity=100, household_limit=6)
    assert order(resident_client, (shop.masks, 2), key="c").status_code == 409
    assert order(resident_client, (shop.masks, 1), key="d").status_code == 201


def test_a_cutoff_moved_forward_closes_ordering_at_the_next_order(shop, city, resident_client):
    assert order(resident_client, (shop.cabbage, 1), key="a").status_code == 201
    now = timezone.now()
    Cycle.objects.filter(pk=shop.cycle.pk).update(
        opens_at=now - datetime.timedelta(days=1), cutoff_at=now - datetime.timedelta(seconds=1)
    )
    refused = order(resident_client, (shop.cabbage, 1), key="b")
    assert refused.status_code == 409 and refused.json()["errors"] == {}
    # a retry of the order placed before the cutoff still gets that order
    assert order(resident_client, (shop.cabbage, 1), key="a").status_code == 200


def test_the_account_is_read_again_for_every_request(shop, city, resident_client):
    resident = city.users.resident
    assert order(resident_client, (shop.masks, 1)).json()["household"] == city.household_a.pk
    # re-linked to another household: the old token ends at once; a new sign-in orders for the new one
    resident.household = city.places[city.a.pk].households[1]
    resident.save(update_fields=["household"])
    assert order(resident_client, (shop.masks, 1)).status_code == 401
    resident_client.credentials(HTTP_AUTHORIZATION=f"Token {api_token_issue(user=resident)[1]}")
    assert order(resident_client, (shop.masks, 1)).json()["household"] == resident.household_id
    # deactivated: refused at once, in the user's language, nothing written
    resident.is_active = False
    resident.save(update_fields=["is_active"])
    count = Order.objects.count()
    refused = order(resident_client, (shop.masks, 1))
    assert refused.status_code == 401 and refused.json()["detail"] == "用户未激活或者已删除。"
    resident.is_active = True
    resident.save(update_fields=["is_active"])
    # the token deleted (signed out): refused at once
    ApiToken.objects.filter(user=resident).delete()
    refused = order(resident_client, (shop.masks, 1))
    assert refused.status_code == 401 and refused.json()["detail"] == "认证令牌无效。"
    assert Order.objects.count() == count


def test_an_unknown_token_is_refused_and_a_valid_one_authenticates_the_whole_account(shop, city):
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION="Token " + "0" * 40)
    assert client.get(ORDERS).status_code == 401
    operator = UserFactory(role="operator", district=city.districts[0], is_staff=True)
    client.credentials(HTTP_AUTHORIZATION=f"Token {api_token_issue(user=operator)[1]}")
    placed = client.post(
        ORDERS, {"household": city.household_b.pk, "lines": [{"product": shop.eggs.pk, "quantity": 1}]}, format="json"
    )
    assert placed.status_code == 201 and placed.json()["channel"] == "hotline"
    assert Order.objects.get().placed_by == operator
    # a household outside the operator's district: not found
    outside = client.post(
        ORDERS, {"household": city.household_c.pk, "lines": [{"product": shop.eggs.pk, "quantity": 1}]}, format="json"
    )
    assert outside.status_code == 404


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_prepared_statements_survive_a_refused_order_and_a_new_connection(shop, city, resident_client):
    refused = order(resident_client, (shop.cabbage, 21), key="too-many")  # capacity 20: rolled back
    assert refused.status_code == 409
    assert order(resident_client, (shop.cabbage, 2), key="fine").status_code == 201
    with connection.cursor() as cursor:
        cursor.execute("SELECT name FROM pg_prepared_statements WHERE name LIKE 'supply_order%%'")
        prepared = {row[0] for row in cursor.fetchall()}
    assert {
        "supply_order_lock",
        "supply_order_read_key",
        "supply_order_insert_key",
        "supply_order_reserve_all",
    } <= prepared
    connection.close()  # a new connection has nothing prepared: the statements are prepared again
    assert order(resident_client, (shop.cabbage, 3), key="after-reconnect").status_code == 201
    assert CycleStock.objects.get(cycle=shop.cycle, product=shop.cabbage).reserved == 5
