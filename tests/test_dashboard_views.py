"""The dashboard page, its CSV export and ``GET /api/v1/dashboard/``: scope, errors, query counts."""

import csv
import io

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from households import dashboard as dash
from households.models import LockdownLevel
from tests import test_dashboard
from tests.factories import BuildingFactory, CommunityFactory, CompoundFactory, HouseholdFactory, OfficeFactory
from tests.test_dashboard import _order

busy = test_dashboard.busy  # the fixture, shared with tests/test_dashboard.py

pytestmark = pytest.mark.django_db

PAGE = "/dashboard/"
CSV = "/dashboard/export.csv"
API = "/api/v1/dashboard/"


def _token_client(api_client, user):
    api_client.force_authenticate(user)
    return api_client


# --- API ------------------------------------------------------------------------------------------


def test_api_returns_the_callers_figures(city, busy, api_client):
    response = _token_client(api_client, city.users.taskforce).get(API)
    assert response.status_code == 200
    data = response.json()
    board = dash.dashboard(user=city.users.taskforce, now=busy.now)
    assert data["place"] == {"level": "district", "id": city.districts[0].pk, "name": city.districts[0].name}
    assert data["cycle"]["number"] == busy.cycle.number
    assert data["children_level"] == "office"
    assert data["totals"] == {c.key: board.totals.values[c.key] for c in board.columns}
    assert [child["id"] for child in data["children"]] == [city.offices[0].pk]
    assert data["children"][0]["figures"]["orders"] == data["totals"]["orders"] == 5
    assert {row["supplier_id"] for row in data["suppliers"]} >= {city.supplier.pk}
    assert [row["product"] for row in data["sold_out"]] == ["大白菜 约2kg"]


def test_api_place_narrows_within_scope(city, busy, api_client):
    client = _token_client(api_client, city.users.office)
    data = client.get(API, {"place": f"community:{city.b.pk}"}).json()
    assert data["place"]["id"] == city.b.pk and data["children_level"] == "compound"
    assert data["totals"]["orders"] == 1
    for place in (
        f"community:{city.c.pk}",
        f"office:{city.offices[1].pk}",
        f"district:{city.districts[0].pk}",
        "community:99999999",
    ):
        response = client.get(API, {"place": place})
        assert response.status_code == 404, place
        assert set(response.json()) == {"detail", "errors"}
    for place in ("community:x", "district", "compound:1", "office:-1", "community:1;drop", "\x00"):
        response = client.get(API, {"place": place})
        assert response.status_code == 400, place
        body = response.json()
        assert body["errors"]["place"] == [body["detail"]]
    response = client.get(API, {"cycle": "abc"})
    assert response.status_code == 400 and "cycle" in response.json()["errors"]
    assert client.get(API, {"cycle": "999"}).status_code == 404


def test_api_refuses_residents_suppliers_operators_and_anonymous(city, busy, api_client):
    assert api_client.get(API).status_code in (401, 403)
    for user in (city.users.resident, city.users.supplier, city.users.operator):
        response = _token_client(api_client, user).get(API)
        assert response.status_code == 403
        assert set(response.json()) == {"detail", "errors"}


def test_api_is_in_the_schema_with_its_response(admin_client):
    response = admin_client.get("/api/v1/schema/", {"format": "json"})
    assert response.status_code == 200
    schema = response.json()
    operation = schema["paths"]["/api/v1/dashboard/"]["get"]
    assert {"200", "400", "403", "404"} <= set(operation["responses"])
    assert {p["name"] for p in operation["parameters"]} >= {"place", "cycle"}
    figures = schema["components"]["schemas"]["DashboardFigures"]["properties"]
    assert {"households", "orders_web", "packages_delivered", "tickets_overdue", "ledger_no_contact"} <= set(figures)
    assert "suppliers" in schema["components"]["schemas"]["Dashboard"]["properties"]


# --- page and CSV ---------------------------------------------------------------------------------


def test_page_for_each_staff_level(city, busy, client):
    for user, place_name in (
        (city.users.admin, None),
        (city.users.taskforce, city.districts[0].name),
        (city.users.office, city.offices[0].name),
        (city.users.worker, city.a.name),
    ):
        client.force_login(user)
        response = client.get(PAGE)
        assert response.status_code == 200
        html = response.content.decode()
        assert "数据看板" in html or "Dashboard" in html
        if place_name:
            assert place_name in html
    client.force_login(city.users.office)
    html = client.get(PAGE, {"place": f"community:{city.b.pk}"}).content.decode()
    assert city.places[city.b.pk].compound.name in html
    assert client.get(PAGE, {"place": f"community:{city.c.pk}"}).status_code == 404
    assert client.get(PAGE, {"place": "community:abc"}).status_code == 400


def test_page_refuses_other_roles(city, client):
    assert client.get(PAGE).status_code == 302  # to sign in
    for user in (city.users.resident, city.users.supplier, city.users.operator):
        client.force_login(user)
        assert client.get(PAGE).status_code == 403
        assert client.get(CSV).status_code == 403


def test_csv_has_one_row_per_child_with_the_same_figures(city, busy, client):
    client.force_login(city.users.office)
    response = client.get(CSV)
    assert response.status_code == 200 and response["Content-Type"].startswith("text/csv")
    text = response.content.decode("utf-8-sig")
    rows = list(csv.reader(io.StringIO(text)))
    board = dash.dashboard(user=city.users.office, now=busy.now)
    assert rows[0][3:] == [str(c.label) for c in board.columns]
    assert len(rows) == 1 + len(board.rows) == 3
    for line, row in zip(rows[1:], board.rows, strict=True):
        assert int(line[1]) == row.place.id and line[2] == row.place.name
        assert [int(v) for v in line[3:]] == [row.values[c.key] for c in board.columns]


# --- query counts ---------------------------------------------------------------------------------


def _grow(city, shop):
    """More places and households everywhere, and more orders: the query count must not change."""
    for district in city.districts:
        office = OfficeFactory(district=district)
        for _ in range(2):
            community = CommunityFactory(office=office)
            compound = CompoundFactory(community=community, lockdown_level=LockdownLevel.STAY_AT_HOME)
            building = BuildingFactory(compound=compound)
            for _ in range(3):
                HouseholdFactory(building=building, elderly_alone=True)
    compound = CompoundFactory(community=city.a)
    for _ in range(4):
        HouseholdFactory(building=BuildingFactory(compound=compound))


def _count(client, url, params=None) -> int:
    with CaptureQueriesContext(connection) as queries:
        assert client.get(url, params or {}).status_code == 200
    return len(queries)


@pytest.mark.parametrize("role,expected", [("admin", 19), ("taskforce", 22), ("office", 22), ("worker", 22)])
def test_page_query_count_is_pinned_and_does_not_grow(city, shop, client, django_assert_num_queries, role, expected):
    user = getattr(city.users, role)
    _order(city.household_a, (shop.eggs, 1))
    client.force_login(user)
    client.get(PAGE)  # sessions, content types: warm
    with django_assert_num_queries(expected):
        assert client.get(PAGE).status_code == 200
    csv_queries = _count(client, CSV)
    _grow(city, shop)
    for household in list(city.places[city.a.pk].households) + [city.household_b]:
        _order(household, (shop.masks, 1))
    with django_assert_num_queries(expected):
        assert client.get(PAGE).status_code == 200
    assert _count(client, CSV) == csv_queries


def test_api_query_count_does_not_grow(city, shop, api_client):
    client = _token_client(api_client, city.users.admin)
    before = _count(client, API)
    _grow(city, shop)
    _order(city.household_c, (shop.masks, 2))
    assert _count(client, API) == before
