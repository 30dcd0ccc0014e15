"""Identity as an outsider meets it: the registration, sign-in and reset pages, the API's sign-in,
and the bounds on guessing (with X-Forwarded-For rotated by the guesser)."""

import re

import pytest
from django.test import RequestFactory
from django.urls import reverse

from core.guard import client_ip
from households.models import ApiToken, PhoneCode, RegistrationReason, ResidentRegistration, User
from tests.factories import resident_registered

pytestmark = pytest.mark.django_db

PASSWORD = "Baozhang-2022"


@pytest.fixture(autouse=True)
def _demo_codes(settings):
    """The demo's way of showing the code on the page (console backend): how these tests read it."""
    settings.SHOW_SMS_CODES = True


def _code_on_page(html: str) -> str | None:
    match = re.search(r'id="demo-code".*?<strong>(\d{6})</strong>', html, re.S)
    return match.group(1) if match else None


def _register_form(household, number: str, **changes) -> dict:
    community = household.building.compound.community
    return {
        "phone": number,
        "contact_name": "新住户",
        "community": community.pk,
        "building": household.building_id,
        "unit": household.unit,
        "room": household.room,
        "password": PASSWORD,
        "password_again": PASSWORD,
        **changes,
    }


def _neutral(html: str) -> str:
    """The page without what legitimately differs between two requests (the token, the number)."""
    html = re.sub(r'name="csrfmiddlewaretoken" value="[^"]+"', "", html)
    html = re.sub(r"hx-headers='[^']*'", "", html)
    return re.sub(r"\d{3} \d{4} \d{4}", "PHONE", html)


def test_registering_reveals_nothing_about_the_number_until_the_code(city, client, settings):
    settings.SHOW_SMS_CODES = False  # what an outsider sees in production
    with_account = city.users.resident.phone[3:]
    on_register = city.household_b.phones.get().number[3:]
    unknown = "13711112222"
    pages = []
    accounts = User.objects.count()
    for phone in (with_account, on_register, unknown):
        client.cookies.clear()
        response = client.post(reverse("register"), _register_form(city.household_b, phone))
        assert response.status_code == 302 and response["Location"] == reverse("register_verify")
        page = client.get(reverse("register_verify"))
        pages.append(_neutral(page.content.decode()))
        assert city.household_b.contact_name not in page.content.decode()
        wrong = client.post(reverse("register_verify"), {"code": "123456"})
        assert wrong.status_code == 400
        pages.append(_neutral(wrong.content.decode()))
    assert pages[0] == pages[2] == pages[4] and pages[1] == pages[3] == pages[5]
    assert User.objects.count() == accounts and not ResidentRegistration.objects.exists()


def test_a_new_resident_registers_with_the_code_and_is_linked(city, client):
    household = city.household_c
    phone = household.phones.get().number
    client.post(reverse("register"), _register_form(household, phone[3:]))
    page = client.get(reverse("register_verify"))
    code = _code_on_page(page.content.decode())
    assert code and "no-store" in page["Cache-Control"]
    response = client.post(reverse("register_verify"), {"code": code})
    assert response.status_code == 302 and response["Location"] == reverse("home")
    user = User.objects.get(phone=phone)
    assert user.household == household and int(client.session["_auth_user_id"]) == user.pk
    assert household.contact_name in client.get(reverse("home")).content.decode()


def test_an_address_that_differs_from_the_register_waits_for_the_worker(city, client):
    household = city.household_a
    other = city.places[city.a.pk].households[1]
    phone = other.phones.get().number  # on the register at room 1201; typed: room 301
    client.post(reverse("register"), _register_form(household, phone[3:]))
    code = _code_on_page(client.get(reverse("register_verify")).content.decode())
    response = client.post(reverse("register_verify"), {"code": code})
    assert response.status_code == 200 and "审批" in response.content.decode()
    registration = ResidentRegistration.objects.get(phone=phone)
    assert registration.reason == RegistrationReason.ADDRESS_DIFFERS and "_auth_user_id" not in client.session
    client.force_login(city.users.worker)
    queue = client.get(reverse("households:registration_list")).content.decode()
    assert "登记于其他地址" in queue and other.address in queue


def test_registration_refuses_odd_input_with_a_400_and_changes_nothing(city, client):
    household = city.household_b
    for changes in (
        {"phone": "12345"},
        {"room": "❶❷❸"},
        {"room": "1\x0001"},
        {"community": "²"},
        {"building": "abc"},
        {"password": "123", "password_again": "123"},
        {"password_again": "other-Pass-1"},
    ):
        response = client.post(reverse("register"), _register_form(household, "13711113333", **changes))
        assert response.status_code == 400, changes
        assert any("\u4e00" <= ch <= "\u9fff" for ch in response.content.decode())
    assert not PhoneCode.objects.exists() and not ResidentRegistration.objects.exists()


def test_a_resident_signs_in_by_code_and_resets_the_password_by_code(city, client):
    resident = city.users.resident
    client.post(reverse("login_code"), {"phone": "139 0000 0001"})
    code = _code_on_page(client.get(reverse("login_code_verify")).content.decode())
    response = client.post(reverse("login_code_verify"), {"code": code})
    assert response.status_code == 302 and int(client.session["_auth_user_id"]) == resident.pk

    client.post(reverse("logout"))
    client.post(reverse("password_reset"), {"phone": "13900000001"})
    code = _code_on_page(client.get(reverse("password_reset_verify")).content.decode())
    weak = client.post(
        reverse("password_reset_verify"), {"code": code, "new_password": "123", "new_password_again": "123"}
    )
    assert weak.status_code == 400
    client.post(
        reverse("password_reset_verify"),
        {"code": code, "new_password": "Xin-Mima-2022", "new_password_again": "Xin-Mima-2022"},
    )
    client.post(reverse("logout"))
    assert client.post(reverse("login"), {"username": "13900000001", "password": "Xin-Mima-2022"}).status_code == 302


def test_staff_get_no_reset_code_and_the_answer_is_the_same(city, client):
    worker = city.users.worker
    worker.phone = "+8613600000003"
    worker.save()
    client.post(reverse("password_reset"), {"phone": "13600000003"})
    page = client.get(reverse("password_reset_verify")).content.decode()
    assert _code_on_page(page) is None and PhoneCode.objects.get().digest == ""


def test_an_applicant_learns_how_the_registration_stands_only_with_the_password_chosen(city, client):
    registration = resident_registered(
        "13700007777", building=city.places[city.a.pk].building, room="703", contact_name="郑爽", password=PASSWORD
    )
    assert (
        "审核"
        not in client.post(reverse("login"), {"username": "13700007777", "password": "guess-1234"}).content.decode()
    )
    assert "审核" in client.post(reverse("login"), {"username": "13700007777", "password": PASSWORD}).content.decode()
    client.force_login(city.users.worker)
    client.post(
        reverse("households:registration_decide", args=[registration.pk]),
        {"decision": "reject", "note": "该地址查无此人"},
    )
    client.logout()
    assert (
        "该地址查无此人"
        in client.post(reverse("login"), {"username": "13700007777", "password": PASSWORD}).content.decode()
    )


def test_identity_pages_are_never_cached_and_every_page_has_the_csp(city, client):
    for name in ("login", "login_code", "register", "password_reset"):
        response = client.get(reverse(name))
        assert "no-store" in response["Cache-Control"], name
        policy = response["Content-Security-Policy"]
        script = re.search(r"script-src ([^;]+)", policy).group(1)
        assert "'unsafe-inline'" not in script and "'unsafe-eval'" not in script
        assert "<script>" not in response.content.decode() and " onclick=" not in response.content.decode()
    client.force_login(city.users.taskforce)
    assert "Content-Security-Policy" in client.get(reverse("home"))


# --- bounds on guessing -------------------------------------------------------------------------------------


def test_the_client_address_believes_x_forwarded_for_only_behind_trusted_proxies(settings):
    request = RequestFactory().get("/", REMOTE_ADDR="10.0.0.5", HTTP_X_FORWARDED_FOR="1.2.3.4, 203.0.113.9")
    settings.TRUSTED_PROXIES = 0
    assert client_ip(request) == "10.0.0.5"
    settings.TRUSTED_PROXIES = 1
    assert client_ip(request) == "203.0.113.9"  # what our proxy saw; "1.2.3.4" was typed by the client
    settings.TRUSTED_PROXIES = 2
    assert client_ip(request) == "1.2.3.4"
    request = RequestFactory().get("/", REMOTE_ADDR="10.0.0.5", HTTP_X_FORWARDED_FOR="not-an-address")
    assert client_ip(request) == "10.0.0.5"


def test_100_password_guesses_with_rotating_forwarded_for_are_stopped_at_the_limit(city, client, api_client, settings):
    responses = [
        client.post(
            reverse("login"),
            {"username": "13900000001", "password": f"guess-{n}"},
            HTTP_X_FORWARDED_FOR=f"198.51.100.{n}",
        )
        for n in range(100)
    ]
    checked = [r.status_code for r in responses]
    assert checked.count(200) == settings.GUARD_FREE_FAILURES_PER_ACCOUNT and checked.count(429) == 100 - checked.count(
        200
    )
    assert "错误次数过多" in responses[settings.GUARD_FREE_FAILURES_PER_ACCOUNT].content.decode()  # the guard's lock
    locked = client.post(reverse("login"), {"username": "13900000001", "password": "demo12345"})
    assert locked.status_code == 429 and "_auth_user_id" not in client.session

    answers = [
        api_client.post(
            "/api/v1/auth/token/",
            {"username": "worker-x", "password": f"guess-{n}"},
            format="json",
            HTTP_X_FORWARDED_FOR=f"198.51.100.{n}",
        ).status_code
        for n in range(100)
    ]
    assert answers.count(400) <= settings.GUARD_FREE_FAILURES_PER_ACCOUNT and answers.count(429) >= 95


def test_guessing_many_accounts_from_one_address_is_stopped_even_behind_a_proxy(city, api_client, settings):
    settings.TRUSTED_PROXIES = 1
    answers = [
        api_client.post(
            "/api/v1/auth/token/",
            {"username": f"someone-{n}", "password": "guess"},
            format="json",
            HTTP_X_FORWARDED_FOR=f"198.51.100.{n}, 203.0.113.9",
        ).status_code
        for n in range(100)
    ]
    assert answers.count(400) <= max(settings.GUARD_FREE_FAILURES_PER_ADDRESS, 20) and answers[-1] == 429
    # another client behind the same proxy is not held up
    other = api_client.post(
        "/api/v1/auth/token/",
        {"username": "13900000001", "password": "demo12345"},
        format="json",
        HTTP_X_FORWARDED_FOR="203.0.113.77",
    )
    assert other.status_code == 200


def test_100_code_guesses_are_stopped_at_the_code_and_the_guard(city, client, settings):
    client.post(reverse("login_code"), {"phone": "13900000001"})
    code = _code_on_page(client.get(reverse("login_code_verify")).content.decode())
    answers = []
    for n in range(100):
        guess = "%06d" % n
        if guess == code:
            guess = "999999"
        answers.append(
            client.post(
                reverse("login_code_verify"), {"code": guess}, HTTP_X_FORWARDED_FOR=f"198.51.100.{n}"
            ).status_code
        )
    assert answers.count(400) <= settings.PHONE_CODE_MAX_TRIES and answers.count(429) >= 95
    assert client.post(reverse("login_code_verify"), {"code": code}).status_code == 429
    assert "_auth_user_id" not in client.session
    assert PhoneCode.objects.get().attempts <= settings.PHONE_CODE_MAX_TRIES


def test_api_sign_in_by_code(city, api_client, settings, sms_outbox, django_capture_on_commit_callbacks):
    from tests.sms import codes_sent_to

    with django_capture_on_commit_callbacks(execute=True):
        asked = api_client.post("/api/v1/auth/code/", {"phone": "13900000001"}, format="json")
        unknown = api_client.post("/api/v1/auth/code/", {"phone": "13711114444"}, format="json")
    assert asked.status_code == unknown.status_code == 202 and asked.json() == unknown.json()
    assert api_client.post("/api/v1/auth/code/", {"phone": "12"}, format="json").status_code == 400
    (code,) = codes_sent_to("+8613900000001")
    assert codes_sent_to("+8613711114444") == []
    wrong = api_client.post(
        "/api/v1/auth/token/", {"phone": "13900000001", "code": "%06d" % ((int(code) + 1) % 10**6)}, format="json"
    )
    assert wrong.status_code == 400 and wrong.json()["errors"]["code"]
    right = api_client.post("/api/v1/auth/token/", {"phone": "13900000001", "code": code}, format="json")
    assert right.status_code == 200 and ApiToken.objects.filter(user=city.users.resident).count() == 1


def test_registration_is_rate_limited_per_address(city, client, settings):
    statuses = [
        client.post(reverse("register"), _register_form(city.household_b, f"1371111{n:04d}")).status_code
        for n in range(11)
    ]
    assert statuses[:10] == [302] * 10 and statuses[10] == 429  # REGISTER_RATE: 10 an hour


def test_code_pages_speak_the_readers_language(city, client, settings):
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
    assert "<h1>Sign in with a text-message code</h1>" in client.get(reverse("login_code")).content.decode()
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "zh-hans"
    assert "<h1>用短信验证码登录</h1>" in client.get(reverse("login_code")).content.decode()
