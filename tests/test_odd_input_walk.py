"""Odd input everywhere: every URL pattern, as every role that may open it and signed out, gets
odd values (Unicode digits, NUL, very long text, negative and huge numbers, impossible dates,
emoji, markup) in every query parameter and form field its view reads; no answer may be a 5xx.

Which names a view reads is learned, not listed: a first plain GET and POST record every key the
view looks up in ``request.GET`` / ``request.POST`` (forms included), and common names are added.
A deterministic pass sends a fixed set of odd values; a hypothesis pass sends generated ones.
schemathesis covers the API's bodies (tests/test_api_fuzz.py).
"""

import re

import pytest
from django.http import QueryDict
from django.utils.datastructures import MultiValueDict
from hypothesis import HealthCheck, given
from hypothesis import settings as hypothesis_settings
from hypothesis import strategies as st

from households.identity import api_token_issue
from households.models import Compound, Household
from supply.models import Cycle, Order, Product, Supplier
from tests.test_access_control import ALL, ROLES, _decision

pytestmark = pytest.mark.django_db

COMMON = (
    "q",
    "page",
    "cycle",
    "community",
    "compound",
    "building",
    "supplier",
    "household",
    "date",
    "day",
    "code",
    "place",
    "format",
    "level",
    "category",
    "state",
    "print",
    "next",
    "phone",
    "room",
    "unit",
    "product",
    "quantity",
)
ODD = ["²", "❶❷❸", "١٢", "-1", "99999999999999999999", "a\x00b", "x" * 3000, "2022-02-30", "😀'\"<>%", "=1+1"]

# the first id in a route gets a real object of this model, so detail pages reach their parsing
REAL = [
    (r"^(households|ledger|orders/new)/<", Household),
    (r"^compounds/<", Compound),
    (r"^(cycles|print)/<", Cycle),
    (r"^catalog/(products/)?<", Product),
    (r"^catalog/suppliers/<", Supplier),
    (r"^(shop/orders|orders/placed|api/v1/orders)/<", Order),
]


class Recorder:
    """Records the keys a view looks up in a QueryDict (request.GET, request.POST)."""

    def __init__(self, monkeypatch):
        self.keys: set[str] = set()
        for method in ("get", "__getitem__", "getlist", "__contains__"):
            original = getattr(MultiValueDict, method)
            monkeypatch.setattr(MultiValueDict, method, self._wrap(original))

    def _wrap(self, original):
        recorder = self

        def wrapper(self, key, *args, **kwargs):
            if isinstance(self, QueryDict) and isinstance(key, str):
                recorder.keys.add(key)
            return original(self, key, *args, **kwargs)

        return wrapper


def _url(route: str) -> str:
    model = next((m for pattern, m in REAL if re.match(pattern, route)), None)
    first = [True]

    def fill(match):
        converter = match.group(1) or "str"
        if converter == "int" and first[0] and model is not None:
            first[0] = False
            obj = model.objects.order_by("pk").first()
            return str(obj.pk) if obj else "987654"
        return {"int": "987654", "slug": "doors", "str": "ZZ-9-9-999"}.get(converter, "1")

    return "/" + re.sub(r"<(?:(\w+):)?(\w+)>", fill, route)


def _roles(pattern) -> list[str | None]:
    kind, allowed = _decision(pattern)
    if kind == "roles":
        return [None, *[r for r in ROLES if r in allowed or (r == "admin")]]
    if kind == "api":
        return [None, "resident", "operator", "worker"]
    return [None, "resident", "worker"]


def _client_for(role, users, client, api_client, url):
    if url.startswith("/api/"):
        api_client.credentials(
            **({"HTTP_AUTHORIZATION": f"Token {api_token_issue(user=users[role])[1]}"} if role else {})
        )
        return api_client
    client.logout()
    if role:
        client.force_login(users[role])
    return client


def _send(client, url: str, names, value: str) -> list[int]:
    data = {name: value for name in names}
    statuses = [client.get(url, data).status_code]
    if url.startswith("/api/"):
        statuses.append(client.post(url, data, format="json").status_code)
    else:
        statuses.append(client.post(url, data).status_code)
    return statuses


@pytest.fixture
def walk(city, shop, client, api_client, monkeypatch):
    """For every (route, role): the URL, the client signed in as that role, and the names its view reads."""
    from supply import services as supply_services

    supply_services.order_place(
        household_id=city.household_a.pk,
        lines=[{"product": shop.eggs.pk, "quantity": 1}],
        placed_by=None,
        channel="web",
        payment_method="on_delivery",
    )
    users = {role: getattr(city.users, role) for role in ROLES}
    recorder = Recorder(monkeypatch)
    cases = []
    for route, pattern in ALL:
        url = _url(route)
        for role in _roles(pattern):
            http = _client_for(role, users, client, api_client, url)
            recorder.keys.clear()
            statuses = _send(http, url, (), "")
            assert all(s < 500 for s in statuses), (url, role, statuses)
            cases.append((url, role, tuple(sorted(recorder.keys | set(COMMON)))))
    monkeypatch.undo()
    return cases, users, client, api_client


def test_no_odd_value_in_any_parameter_gives_a_5xx(walk):
    cases, users, client, api_client = walk
    failures = []
    for url, role, names in cases:
        http = _client_for(role, users, client, api_client, url)
        for value in ODD:
            for status in _send(http, url, names, value):
                if status >= 500:
                    failures.append((url, role, value[:20], status))
    assert not failures, failures[:20]


odd_text = st.one_of(
    st.text(
        alphabet=st.characters(blacklist_categories=("Cs",)), min_size=1, max_size=40
    ),  # lone surrogates cannot be sent
    st.integers().map(str),
    st.text(alphabet=st.characters(whitelist_categories=("Nd", "No")), min_size=1, max_size=12),
    st.sampled_from(ODD),
)


@hypothesis_settings(
    max_examples=200,
    deadline=None,
    derandomize=True,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(data=st.data())
def test_generated_values_in_every_parameter_give_no_5xx(walk, data):
    cases, users, client, api_client = walk
    url, role, names = data.draw(st.sampled_from(cases), label="case")
    value = data.draw(odd_text, label="value")
    http = _client_for(role, users, client, api_client, url)
    statuses = _send(http, url, names, value)
    assert all(s < 500 for s in statuses), (url, role, value, statuses)
