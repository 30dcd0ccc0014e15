"""The cases an outside tester found, each a clear 4xx now (never a 500), and the helpers behind them."""

import json

import pytest
from django.test import RequestFactory
from django.urls import reverse

from core.edges import (
    BadParameter,
    csv_cell,
    date_param,
    id_param,
    int_param,
    natural_key,
    text_param,
    xlsx_append,
)
from households.identity import api_token_issue

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize("raw", ["²", "❶", "١", "1.5", "-", "abc", " 1", "1e3", "1" * 13, "0x10", "¹²"])
def test_integers_are_ascii_digits_only(raw):
    with pytest.raises(BadParameter) as exc:
        int_param({"n": raw}, "n")
    assert any("\u4e00" <= ch <= "\u9fff" for ch in exc.value.message)


def test_parameter_helpers_accept_what_they_should():
    assert int_param({}, "n") is None and int_param({"n": ""}, "n") is None and int_param({"n": "42"}, "n") == 42
    assert id_param({"n": "7"}, "n") == 7
    with pytest.raises(BadParameter):
        id_param({"n": "0"}, "n")
    assert str(date_param({"d": "2022-04-25"}, "d")) == "2022-04-25"
    for bad in ("2022-4-25", "２０２２-04-25", "2022-02-30", "today"):
        with pytest.raises(BadParameter):
            date_param({"d": bad}, "d")
    assert text_param({"q": "  正商城 1 101 "}, "q") == "正商城 1 101"
    for bad in ("a\x00b", "\x1b[31m", "x" * 201):
        with pytest.raises(BadParameter):
            text_param({"q": bad}, "q")


def test_addresses_sort_whatever_they_hold():
    rooms = ["10❶", "1201", "301", "B-2", "", "10", "①", "２", "10a", "😀", "101室"]
    ordered = sorted(rooms, key=natural_key)
    assert ordered.index("301") < ordered.index("1201") and ordered.index("10") < ordered.index("301")
    assert sorted(reversed(rooms), key=natural_key) == ordered  # total and stable


def test_spreadsheet_cells_from_text_are_never_formulas():
    from openpyxl import Workbook

    assert csv_cell('=HYPERLINK("http://x")') == '\'=HYPERLINK("http://x")'
    assert [csv_cell(v) for v in ("+1", "-2", "@a", "\tx", "\rx", "ok", 5)] == [
        "'+1",
        "'-2",
        "'@a",
        "'\tx",
        "'\rx",
        "ok",
        5,
    ]
    sheet = Workbook().active
    xlsx_append(sheet, ["=1+1", "plain", 3])
    assert [c.data_type for c in sheet[1]] == ["s", "s", "n"] and sheet["A1"].value == "=1+1"


@pytest.mark.parametrize(
    "role, url",
    [
        (None, "/accounts/register/buildings/?community=²"),
        ("worker", "/households/?community=²"),
        ("worker", "/households/?compound=²"),
        ("worker", "/households/?level=9"),
        ("worker", "/print/?cycle=²"),
        ("worker", "/rounds/?compound=²"),
        ("taskforce", "/catalog/products/?supplier=²"),
        ("taskforce", "/dashboard/?cycle=²"),
        ("resident", "/my/packages/?cycle=²"),
        ("resident", "/shop/?q=%00"),
        ("worker", "/households/?q=%00"),
        ("supplier", "/catalog/?q=%00"),
        ("taskforce", "/catalog/products/?q=%00"),
        (None, "/accounts/login/?next=%00"),
    ],
)
def test_odd_parameters_are_a_400_in_chinese(city, shop, client, role, url):
    if role:
        client.force_login(getattr(city.users, role))
    response = client.get(url)
    assert response.status_code == 400, (url, response.status_code)
    assert any("\u4e00" <= ch <= "\u9fff" for ch in response.content.decode())


def test_odd_form_fields_are_a_400(city, client):
    client.force_login(city.users.office)
    compound = city.places[city.a.pk].compound
    response = client.post(
        reverse("households:compound_set_level", args=[compound.pk]),
        {"level": "2", "reason": "测试", "building": "abc"},
    )
    assert response.status_code == 400
    response = client.post(
        reverse("households:compound_set_level", args=[compound.pk]), {"level": "2", "reason": "a\x00b"}
    )
    assert response.status_code == 400


def test_the_api_answers_json_for_parse_errors_deep_json_nul_and_huge_bodies(city, api_client, settings):
    deep = "[" * 100_000 + "]" * 100_000
    response = api_client.post("/api/v1/auth/token/", deep, content_type="application/json")
    assert response.status_code == 400 and response.json()["detail"]
    response = api_client.post("/api/v1/auth/token/", "{not json", content_type="application/json")
    assert response.status_code == 400 and set(response.json()) == {"detail", "errors"}
    response = api_client.post(
        "/api/v1/auth/token/", json.dumps({"username": "a\u0000b", "password": "x"}), content_type="application/json"
    )
    assert response.status_code == 400 and response.json()["detail"]
    api_client.credentials(HTTP_AUTHORIZATION=f"Token {api_token_issue(user=city.users.resident)[1]}")
    big = json.dumps({"lines": [], "note": "x" * (11 * 1024 * 1024)})
    response = api_client.post("/api/v1/orders/", big, content_type="application/json")
    assert response.status_code == 413 and response["Content-Type"].startswith("application/json")
    assert response.json()["detail"]


def test_a_huge_form_is_a_413_page(city, client):
    client.force_login(city.users.worker)
    response = client.post(reverse("households:household_list"), {"q": "x" * (11 * 1024 * 1024)})
    assert response.status_code in (405, 413)
    response = client.post(reverse("households:import"), {"community": city.a.pk, "note": "x" * (11 * 1024 * 1024)})
    assert response.status_code == 413 and any("\u4e00" <= ch <= "\u9fff" for ch in response.content.decode())


def test_request_factory_helpers_read_querydicts():
    request = RequestFactory().get("/?n=12&q=abc")
    assert int_param(request.GET, "n") == 12 and text_param(request.GET, "q") == "abc"


def test_the_503_page_says_whether_the_database_was_busy_or_away(rf):
    """A burst on the embedded SQLite demo ("database is locked" after the wait) is not a restart:
    the page says which, and that nothing of this request was saved."""
    from django.db import OperationalError

    from core.middleware import DatabaseUnavailableMiddleware

    middleware = DatabaseUnavailableMiddleware(lambda request: None)
    busy = middleware.process_exception(rf.post("/shop/basket/confirm/"), OperationalError("database is locked"))
    away = middleware.process_exception(rf.get("/api/v1/catalog/"), OperationalError("server closed the connection"))
    assert busy.status_code == away.status_code == 503 and busy["Retry-After"] == "5"
    busy_text, away_text = busy.content.decode(), json.loads(away.content)["detail"]
    assert "同一时间" in busy_text and "重启" not in busy_text and "没有保存" in busy_text
    assert "重启" in away_text
