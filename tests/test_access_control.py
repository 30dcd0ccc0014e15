"""Access control, enumerated from the URLconf: every route has a permission decision, and every
role gets what that decision says (never a 500), for pages and API alike.

A new route without a decision (``role_required``, DRF permission classes, or an entry in
PUBLIC / DECIDES_INSIDE below with its reason) fails this suite.
"""

import re

import pytest
from django.core.cache import cache
from django.urls import URLPattern, URLResolver, get_resolver

from households.identity import api_token_issue
from households.permissions import RULES

pytestmark = pytest.mark.django_db

# Routes anyone may open, and why.
PUBLIC = {
    "home": "the sign-in page for strangers, each role's home page after",
    "login": "sign in",
    "logout": "sign out",
    "register": "residents register themselves",
    "register_verify": "the registration's code (a flow in the session; nothing without the code)",
    "login_code": "sign in by text-message code",
    "login_code_verify": "the sign-in code (a flow in the session)",
    "password_reset": "residents reset the password by code",
    "password_reset_verify": "the reset code and the new password (a flow in the session)",
    "api-code": "asks for a sign-in code (the same neutral answer for every number)",
    "register_buildings": "the registration form's building list (no personal data)",
    "volunteer_register": "volunteers register themselves",
    "volunteer_register_verify": "the volunteer registration's code (a flow in the session)",
    "set_language": "language switch",
    "large_text": "the large-text switch (适老化), for anyone, kept with the account when signed in",
    "healthz": "health check for containers (no personal data)",
    "favicon": "the site's icon (a redirect to a static file)",
    "api-token": "token sign-in",
    "api-schema": "the OpenAPI schema",
    "api-docs": "the API's browsable docs",
    "payment_notify": "a payment provider's server (signed notifications; verified before anything changes)",
    "fakepay_cashier": "the demo's stand-in for a provider's cashier (only with PAYMENT_GATEWAY=fake)",
}
# Routes that sign in first and then answer 404 to anyone not allowed (so a label's QR code
# tells a stranger nothing, not even whether the package exists).
DECIDES_INSIDE = {"package_scan", "package_find"}

ROLES = ("resident", "worker", "office", "operator", "taskforce", "supplier", "admin", "volunteer")


def _routes(patterns=None, prefix=""):
    for p in patterns if patterns is not None else get_resolver().url_patterns:
        if isinstance(p, URLResolver):
            if str(p.pattern) == "admin/":
                continue  # Django's admin decides with ScopedAdmin (tests/households/test_admin.py)
            yield from _routes(p.url_patterns, prefix + str(p.pattern))
        elif isinstance(p, URLPattern):
            yield prefix + str(p.pattern), p


def _decision(pattern):
    callback = pattern.callback
    if getattr(callback, "rule", None):  # a named rule (households.permissions): the roles it allows
        return "roles", tuple(sorted(RULES[callback.rule]))
    if getattr(callback, "allowed_roles", None):
        return "roles", tuple(str(r) for r in callback.allowed_roles)
    view_class = getattr(callback, "cls", None)
    if view_class is not None and "permission_classes" in {k for c in view_class.__mro__ for k in vars(c)}:
        return "api", tuple(p.__name__ for p in view_class.permission_classes)
    if pattern.name in PUBLIC:
        return "public", ()
    if pattern.name in DECIDES_INSIDE:
        return "inside", ()
    return None, ()


SAMPLE = {"int": "987654", "str": "ZZ-9-9-999", "slug": "door_list", "path": "x"}


def _url(route: str) -> str:
    url = re.sub(r"<(?:(\w+):)?(\w+)>", lambda m: SAMPLE.get(m.group(1) or "str", "1"), route)
    if "<" in url or "(" in url:
        raise AssertionError(f"cannot fill {route}")
    return "/" + url.replace("^", "").replace("$", "")


ALL = sorted(_routes(), key=lambda r: r[0])


def test_every_route_has_a_permission_decision():
    missing = [f"/{route} ({pattern.name})" for route, pattern in ALL if _decision(pattern)[0] is None]
    assert not missing, f"routes without a permission decision: {missing}"


@pytest.fixture
def users(city):
    return {role: getattr(city.users, role) for role in ROLES}


@pytest.mark.parametrize("route,pattern", ALL, ids=[r for r, _p in ALL])
def test_each_role_gets_what_the_decision_says(route, pattern, users, client, shop):
    kind, allowed = _decision(pattern)
    url = _url(route)
    is_api = url.startswith("/api/")
    # signed out
    for method in ("get", "post"):
        response = getattr(client, method)(url)
        assert response.status_code < 500, (method, url, "anonymous", response.status_code)
        if kind in ("roles", "inside") and response.status_code != 405:  # 405: the wrong method, refused first
            assert response.status_code == 302 and "/accounts/login/" in response["Location"], (method, url)
        if kind == "api" and "AllowAny" not in allowed:
            assert response.status_code in (401, 403), (method, url, response.status_code)
    for role, user in users.items():
        if is_api:
            client.logout()
            headers = {"HTTP_AUTHORIZATION": f"Token {api_token_issue(user=user)[1]}"}
        else:
            client.force_login(user)
            headers = {}
        for method in ("get", "post"):
            response = getattr(client, method)(url, **headers)
            status = response.status_code
            assert status < 500, (method, url, role, status)
            if kind == "roles":
                effective = "admin" if user.is_superuser else role
                if effective in allowed:
                    assert status != 403, (method, url, role)
                else:
                    assert status in (403, 405), (method, url, role, status)
            if kind == "inside" and role in ("resident", "supplier"):
                assert status in (404, 405), (method, url, role, status)
        client.logout()


# --- ids of others: 404, never another household's or community's data -------------------------


@pytest.fixture
def others(shop, city):
    """Objects of community B / district 2 / another household, with the users who must not see them."""
    from hotlines import services as hotline_services
    from supply import services as supply_services

    order_b = supply_services.order_place(
        household_id=city.household_b.pk,
        lines=[{"product": shop.masks.pk, "quantity": 1}],
        placed_by=None,
        channel="web",
    ).order
    ticket_c = hotline_services.ticket_open(
        household_id=city.household_c.pk, category="other", summary="求助", opened_by=None
    )
    return {"order_b": order_b, "ticket_c": ticket_c}


def test_ids_of_others_are_not_found(others, city, client, api_client):
    household_c = city.household_c
    compound_c = city.places[city.c.pk].compound
    cases = [
        (city.users.worker, f"/households/{household_c.pk}/"),  # another community's household
        (city.users.worker, f"/compounds/{compound_c.pk}/"),
        (city.users.worker, f"/ledger/{city.household_b.pk}/"),  # community B's ledger household
        (city.users.worker, f"/tickets/{others['ticket_c'].pk}/"),  # another district's ticket
        (city.users.office, f"/households/{household_c.pk}/"),  # another office's household
        (city.users.operator, f"/households/{household_c.pk}/"),  # another district's household
        (city.users.operator, f"/orders/new/{household_c.pk}/"),
        (city.users.taskforce, f"/compounds/{compound_c.pk}/"),  # another district's compound
        (city.users.resident, f"/shop/orders/{others['order_b'].pk}/"),  # another household's order
    ]
    for user, url in cases:
        client.force_login(user)
        assert client.get(url).status_code == 404, (user.role, url)
    api_client.credentials(HTTP_AUTHORIZATION=f"Token {api_token_issue(user=city.users.resident)[1]}")
    response = api_client.get(f"/api/v1/orders/{others['order_b'].pk}/")
    assert response.status_code == 404 and "detail" in response.json()
    assert api_client.post(f"/api/v1/orders/{others['order_b'].pk}/cancel/").status_code == 404


def test_csrf_is_enforced_on_forms(city, shop):
    from django.test import Client

    client = Client(enforce_csrf_checks=True)
    client.force_login(city.users.taskforce)
    compound = city.places[city.a.pk].compound
    response = client.post(f"/compounds/{compound.pk}/level/", {"level": 0, "reason": "无 CSRF"})
    assert response.status_code == 403
    compound.refresh_from_db()
    assert compound.lockdown_level != 0
    signin = Client(enforce_csrf_checks=True).post("/accounts/login/", {"username": "x", "password": "y"})
    assert signin.status_code == 403


def test_suppliers_never_see_residents_names_or_phones(shop, city, client):
    from supply import services as supply_services

    supply_services.order_place(
        household_id=city.household_a.pk,
        lines=[{"product": shop.masks.pk, "quantity": 2}],
        placed_by=None,
        channel="web",
    )
    client.force_login(city.users.supplier)
    secrets = []
    for place in city.places.values():
        for household in place.households:
            secrets.append(household.contact_name)
            secrets.extend(p.number[-8:] for p in household.phones.all())
    for route, pattern in ALL:
        if "<" in route or _decision(pattern)[0] == "api":
            continue
        body = client.get("/" + route).content.decode(errors="ignore")
        leaked = [s for s in secrets if s and s in body]
        assert not leaked, (route, leaked)


def test_care_flags_are_for_the_community_and_the_hotline_only(city, client):
    household = city.household_a  # elderly living alone
    for role, sees in (("worker", True), ("operator", True), ("admin", True), ("office", False), ("taskforce", False)):
        client.force_login(getattr(city.users, role))
        detail = client.get(f"/households/{household.pk}/").content.decode()
        listing = client.get(f"/households/?community={city.a.pk}&care=1").content.decode()
        assert ("独居老人" in detail) is sees, role
        assert ("独居老人" in listing) is sees, role
    client.force_login(city.users.office)
    assert client.get("/ledger/").status_code == 403


def test_staff_views_of_household_details_are_audit_logged(shop, city, client):
    from households.models import HouseholdViewLog

    household = city.household_a
    client.force_login(city.users.worker)
    client.get(f"/households/{household.pk}/")
    client.get(f"/ledger/{household.pk}/")
    client.force_login(city.users.operator)
    client.get(f"/orders/new/{household.pk}/")
    client.force_login(city.users.office)
    client.get(f"/admin/households/household/{household.pk}/change/")
    client.force_login(city.users.resident)
    client.get("/")  # a resident's own household is not logged
    rows = list(HouseholdViewLog.objects.order_by("id").values_list("household_id", "role", "where"))
    assert rows == [
        (household.pk, "worker", "household_detail"),
        (household.pk, "worker", "ledger_household"),
        (household.pk, "operator", "order_on_behalf"),
        (household.pk, "office", "admin"),
    ]
    client.force_login(city.users.office)  # the office's admin page shows no care flags
    page = client.get(f"/admin/households/household/{household.pk}/change/").content.decode()
    assert "elderly_alone" not in page


def test_sign_in_is_throttled_per_address_on_the_page_and_the_api(city, client, api_client, settings):
    # different account names each time, so the guard's per-account back-off stays out of it
    for attempt in range(20):
        assert (
            client.post("/accounts/login/", {"username": f"1390000{attempt:04d}", "password": "wrong"}).status_code
            == 200
        )
    # django-ratelimit counts in fixed one-minute windows: when the attempts above straddle a window's
    # end, the count starts again, so the refusal comes within the next 20 (never later).
    for _ in range(21):
        blocked = client.post("/accounts/login/", {"username": "13900000001", "password": "demo12345"})
        if blocked.status_code == 429:
            break
    assert blocked.status_code == 429 and "请等一分钟再试" in blocked.content.decode()
    cache.clear()  # the guard counts wrong passwords of the page and the API together: start the API afresh
    for attempt in range(20):
        assert (
            api_client.post(
                "/api/v1/auth/token/", {"username": f"x{attempt}", "password": "y"}, format="json"
            ).status_code
            == 400
        )
    for _ in range(21):  # the same fixed windows as above
        response = api_client.post(
            "/api/v1/auth/token/", {"username": "13900000001", "password": "demo12345"}, format="json"
        )
        if response.status_code == 429:
            break
    assert response.status_code == 429 and set(response.json()) == {"detail", "errors"}


def test_ordering_is_throttled_per_account(shop, city, api_client):
    api_client.credentials(HTTP_AUTHORIZATION=f"Token {api_token_issue(user=city.users.resident)[1]}")
    statuses = [
        api_client.post("/api/v1/orders/", {"lines": [{"product": 0, "quantity": 1}]}, format="json").status_code
        for _ in range(61)
    ]
    assert statuses[:60] == [400] * 60 and statuses[60] == 429
    assert api_client.get("/api/v1/orders/").status_code == 200  # reading is not limited
