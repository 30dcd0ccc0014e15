"""Identity: a phone number is proven by a one-time code before it opens a household.

Services first (codes, registration, sign-in and reset by code, tokens), then the pages and the
API as an outsider meets them.
"""

import datetime
import re

import pytest
from django.contrib.auth import authenticate
from django.urls import reverse
from django.utils import timezone

from core.errors import BaogongError, WrongAnswer
from households import identity
from households.models import (
    ApiToken,
    CodePurpose,
    HouseholdPhone,
    PhoneCode,
    RegistrationReason,
    RegistrationStatus,
    ResidentRegistration,
    User,
)
from tests.factories import resident_registered

pytestmark = pytest.mark.django_db

REGISTER, SIGN_IN, RESET = CodePurpose.REGISTER, CodePurpose.SIGN_IN, CodePurpose.RESET
IP = "192.0.2.10"


def _later(seconds: float) -> datetime.datetime:
    return timezone.now() + datetime.timedelta(seconds=seconds)


# --- codes --------------------------------------------------------------------------------------------


def test_a_code_is_six_digits_sent_by_text_and_stored_only_as_a_digest(
    city, sms_outbox, django_capture_on_commit_callbacks
):
    phone = city.household_b.phones.get().number
    with django_capture_on_commit_callbacks(execute=True):
        sent = identity.phone_code_send(phone=phone[3:], purpose=REGISTER, client_ip=IP)
    assert re.fullmatch(r"\d{6}", sent.code)
    assert len(sms_outbox) == 1 and sms_outbox[0][0] == phone and sent.code in sms_outbox[0][1]
    assert "验证码" in sms_outbox[0][1]
    row = PhoneCode.objects.get()
    assert row.digest and sent.code not in row.digest and row.client_ip == IP
    assert (row.expires_at - row.created_at) == datetime.timedelta(minutes=5)


def test_no_code_is_sent_where_it_cannot_be_used_but_the_request_looks_the_same(
    city, sms_outbox, django_capture_on_commit_callbacks
):
    resident_phone = city.users.resident.phone  # already has an account: nothing to register
    worker = city.users.worker
    worker.phone = "+8613600000002"
    worker.save()
    with django_capture_on_commit_callbacks(execute=True):
        registering = identity.phone_code_send(phone=resident_phone, purpose=REGISTER, client_ip=IP)
        staff = identity.phone_code_send(phone=worker.phone, purpose=SIGN_IN, client_ip=IP)  # staff: no code sign-in
        nobody = identity.phone_code_send(phone="13700000000", purpose=RESET, client_ip=IP)
    assert registering.code is None and staff.code is None and nobody.code is None
    assert sms_outbox == []
    assert PhoneCode.objects.filter(digest="").count() == 3  # recorded and limited like any other
    # any code is then wrong, with the very message a wrong code for a real number gets
    messages = set()
    for phone, purpose in ((resident_phone, REGISTER), (worker.phone, SIGN_IN), ("13700000000", RESET)):
        with pytest.raises(WrongAnswer) as exc:
            identity.phone_code_verify(phone=phone, purpose=purpose, code="123456")
        messages.add(exc.value.message)
    real = identity.phone_code_send(phone=city.household_b.phones.get().number, purpose=REGISTER, client_ip=IP)
    with pytest.raises(WrongAnswer) as exc:
        identity.phone_code_verify(
            phone=real.phone, purpose=REGISTER, code="000000" if real.code != "000000" else "111111"
        )
    messages.add(exc.value.message)
    assert messages == {"验证码错误。此验证码还可再试4次。"}


def test_a_code_works_once_within_five_minutes_and_five_tries(city):
    phone = city.household_b.phones.get().number
    sent = identity.phone_code_send(phone=phone, purpose=REGISTER, client_ip=IP)
    with pytest.raises(WrongAnswer):  # expired
        identity.phone_code_verify(phone=phone, purpose=REGISTER, code=sent.code, now=_later(301))
    assert identity.phone_code_verify(phone=phone, purpose=REGISTER, code=sent.code) == phone
    with pytest.raises(WrongAnswer):  # single use
        identity.phone_code_verify(phone=phone, purpose=REGISTER, code=sent.code)

    again = identity.phone_code_send(phone=phone, purpose=REGISTER, client_ip=IP, now=_later(61))
    wrong = "%06d" % ((int(again.code) + 1) % 10**6)
    for _ in range(5):
        with pytest.raises(WrongAnswer):
            identity.phone_code_verify(phone=phone, purpose=REGISTER, code=wrong, now=_later(62))
    with pytest.raises(WrongAnswer) as exc:  # the right code, after five wrong tries: dead
        identity.phone_code_verify(phone=phone, purpose=REGISTER, code=again.code, now=_later(62))
    assert "次数过多" in exc.value.message


def test_a_newer_code_replaces_the_older_one(city):
    phone = city.household_b.phones.get().number
    first = identity.phone_code_send(phone=phone, purpose=REGISTER, client_ip=IP)
    second = identity.phone_code_send(phone=phone, purpose=REGISTER, client_ip=IP, now=_later(61))
    if first.code != second.code:
        with pytest.raises(WrongAnswer):
            identity.phone_code_verify(phone=phone, purpose=REGISTER, code=first.code, now=_later(62))
    assert identity.phone_code_verify(phone=phone, purpose=REGISTER, code=second.code, now=_later(62)) == phone


def test_resend_waits_a_minute_and_each_number_and_address_has_a_daily_cap(city, settings):
    phone = city.household_b.phones.get().number
    identity.phone_code_send(phone=phone, purpose=REGISTER, client_ip=IP)
    with pytest.raises(BaogongError) as exc:
        identity.phone_code_send(phone=phone, purpose=REGISTER, client_ip=IP, now=_later(30))
    assert exc.value.status_code == 429 and "秒" in exc.value.message
    for n in range(1, settings.PHONE_CODE_DAILY_PER_PHONE):
        identity.phone_code_send(phone=phone, purpose=REGISTER, client_ip=f"192.0.2.{n + 20}", now=_later(61 * n))
    with pytest.raises(BaogongError) as exc:
        identity.phone_code_send(phone=phone, purpose=REGISTER, client_ip="192.0.2.99", now=_later(61 * 20))
    assert exc.value.status_code == 429
    assert PhoneCode.objects.filter(phone=phone).count() == settings.PHONE_CODE_DAILY_PER_PHONE
    assert identity.phone_code_send(phone=phone, purpose=REGISTER, client_ip=IP, now=_later(86400 + 61 * 20)).code

    settings.PHONE_CODE_DAILY_PER_ADDRESS = 3
    for n in range(3):
        identity.phone_code_send(phone=f"1370000100{n}", purpose=REGISTER, client_ip="198.51.100.1")
    with pytest.raises(BaogongError) as exc:
        identity.phone_code_send(phone="13700001009", purpose=REGISTER, client_ip="198.51.100.1")
    assert exc.value.status_code == 429 and not PhoneCode.objects.filter(phone="+8613700001009").exists()


def test_a_malformed_number_is_refused_and_nothing_recorded(city):
    for raw in ["12345", "abc", "+1 650 253 0000", "1380013800０\x00"]:
        with pytest.raises(BaogongError):
            identity.phone_code_send(phone=raw, purpose=REGISTER, client_ip=IP)
    assert not PhoneCode.objects.exists()


# --- registration ---------------------------------------------------------------------------------------


def test_registration_binds_only_with_the_code_and_only_at_the_address_on_the_register(city):
    household = city.household_b
    phone = household.phones.get().number
    sent = identity.phone_code_send(phone=phone, purpose=REGISTER, client_ip=IP)
    details = dict(
        password_hash=identity.password_hash_for("Baozhang-2022", phone=phone),
        contact_name="冒名",
        building_id=household.building_id,
        unit=household.unit,
        room=household.room,
    )
    with pytest.raises(WrongAnswer):
        identity.resident_register(phone=phone, code="", **details)
    assert not User.objects.filter(phone=phone).exists() and not ResidentRegistration.objects.exists()

    user = identity.resident_register(phone=phone, code=sent.code, **details)
    assert isinstance(user, User) and user.household == household and user.role == "resident"
    assert authenticate(username=phone[3:], password="Baozhang-2022") == user


def test_a_typed_address_that_differs_from_the_register_waits_for_the_community(city):
    household = city.household_b
    phone = household.phones.get().number
    other = city.places[city.b.pk].households[1]
    registration = resident_registered(
        phone, building=other.building, room=other.room, contact_name="李四", password="Baozhang-2022"
    )
    assert isinstance(registration, ResidentRegistration)
    assert registration.reason == RegistrationReason.ADDRESS_DIFFERS and registration.registered_household == household
    assert registration.phone_verified_at is not None
    assert not User.objects.filter(phone=phone).exists()
    assert authenticate(username=phone, password="Baozhang-2022") is None


def test_a_number_not_on_the_register_waits_for_approval_and_is_linked_when_approved(city):
    building = city.places[city.a.pk].building
    registration = resident_registered(
        "13700001111", building=building, unit="2", room="502", contact_name="李秀英", password="Baozhang-2022"
    )
    assert registration.reason == RegistrationReason.NOT_ON_REGISTER and registration.registered_household is None
    user = identity.registration_approve(registration_id=registration.pk, decided_by=city.users.worker)
    household = user.household
    assert (household.building, household.unit, household.room, household.floor) == (building, "2", "502", 5)
    assert HouseholdPhone.objects.filter(household=household, number="+8613700001111").exists()
    assert authenticate(username="13700001111", password="Baozhang-2022") == user
    with pytest.raises(BaogongError):
        identity.registration_approve(registration_id=registration.pk, decided_by=city.users.worker)


def test_registration_without_a_password_signs_in_by_code_only(city):
    household = city.household_c
    phone = household.phones.get().number
    user = resident_registered(phone, building=household.building, unit=household.unit, room=household.room)
    assert isinstance(user, User) and not user.has_usable_password()


def test_approval_reuses_the_household_at_the_address_and_rejection_creates_no_account(city):
    household = city.household_a
    registration = resident_registered(
        "13700002222", building=household.building, unit=household.unit, room=household.room, contact_name="王芳"
    )
    user = identity.registration_approve(registration_id=registration.pk, decided_by=city.users.worker)
    assert user.household == household and household.phones.count() == 2

    other = resident_registered(
        "13700003333", building=city.places[city.a.pk].building, room="101", contact_name="赵磊"
    )
    identity.registration_reject(registration_id=other.pk, decided_by=city.users.worker, note="查无此人")
    other.refresh_from_db()
    assert other.status == RegistrationStatus.REJECTED and not User.objects.filter(phone="+8613700003333").exists()


def test_weak_and_common_passwords_are_refused(city):
    for weak in ["123", "password123", "13700004444"]:
        with pytest.raises(BaogongError) as exc:
            identity.password_hash_for(weak, phone="+8613700004444")
        assert "password" in exc.value.errors


# --- sign-in and reset by code ------------------------------------------------------------------------------


def test_a_resident_signs_in_and_resets_the_password_by_code(city):
    resident = city.users.resident
    sent = identity.phone_code_send(phone=resident.phone, purpose=SIGN_IN, client_ip=IP)
    assert identity.resident_sign_in_by_code(phone=resident.phone, code=sent.code) == resident

    token, key = identity.api_token_issue(user=resident)
    sent = identity.phone_code_send(phone=resident.phone, purpose=RESET, client_ip=IP)
    with pytest.raises(BaogongError):  # a weak password is refused before the code is used
        identity.resident_password_reset(phone=resident.phone, code=sent.code, password="123")
    identity.resident_password_reset(phone=resident.phone, code=sent.code, password="Xin-Mima-2022")
    assert authenticate(username=resident.phone, password="Xin-Mima-2022") == resident
    assert not ApiToken.objects.filter(pk=token.pk).exists()


# --- tokens -------------------------------------------------------------------------------------------------


def _token_get(api_client, key):
    api_client.credentials(HTTP_AUTHORIZATION=f"Token {key}")
    return api_client.get("/api/v1/orders/")


def test_tokens_expire_and_die_with_a_change_of_password_role_or_place(city, api_client, settings):
    worker = city.users.worker
    _, key = identity.api_token_issue(user=worker)
    assert _token_get(api_client, key).status_code == 200
    worker.community = city.b
    worker.save()
    response = _token_get(api_client, key)
    assert response.status_code == 401 and "重新登录" in response.json()["detail"]

    resident = city.users.resident
    _, key = identity.api_token_issue(user=resident)
    resident.set_password("Another-Pass-2022")
    resident.save()
    assert _token_get(api_client, key).status_code == 401

    _, key = identity.api_token_issue(
        user=resident, now=timezone.now() - datetime.timedelta(days=settings.API_TOKEN_LIFETIME_DAYS, seconds=1)
    )
    response = _token_get(api_client, key)
    assert response.status_code == 401 and "过期" in response.json()["detail"]
    assert ApiToken.objects.filter(digest=identity.api_token_digest(key)).exists()  # only its digest was ever stored
    assert not ApiToken.objects.filter(digest=key).exists()


def test_owners_list_and_revoke_their_tokens_and_signing_out_revokes_the_one_used(city, api_client):
    resident, operator = city.users.resident, city.users.operator
    first = api_client.post(
        "/api/v1/auth/token/", {"username": "13900000001", "password": "demo12345"}, format="json"
    ).json()
    second = api_client.post(
        "/api/v1/auth/token/", {"username": "13900000001", "password": "demo12345"}, format="json"
    ).json()
    assert first["token"] != second["token"] and first["expires_at"]
    _, theirs = identity.api_token_issue(user=operator)
    api_client.credentials(HTTP_AUTHORIZATION=f"Token {first['token']}")
    listed = api_client.get("/api/v1/auth/tokens/").json()
    assert [t["prefix"] for t in listed] == [second["token"][:8], first["token"][:8]]
    assert all("token" not in t and "digest" not in t for t in listed)
    operator_token = ApiToken.objects.get(user=operator)
    assert api_client.delete(f"/api/v1/auth/tokens/{operator_token.pk}/").status_code == 404  # not theirs
    second_id = listed[0]["id"]
    assert api_client.delete(f"/api/v1/auth/tokens/{second_id}/").status_code == 204
    assert _token_get(api_client, second["token"]).status_code == 401
    api_client.credentials(HTTP_AUTHORIZATION=f"Token {first['token']}")
    assert api_client.delete("/api/v1/auth/token/").status_code == 204  # signing out
    assert _token_get(api_client, first["token"]).status_code == 401
    assert _token_get(api_client, theirs).status_code == 200
    assert not ApiToken.objects.filter(user=resident).exists()


def test_a_staff_users_sessions_end_when_their_role_or_place_changes(city, client):
    worker = city.users.worker
    client.force_login(worker)
    assert client.get(reverse("households:household_list")).status_code == 200
    User.objects.filter(pk=worker.pk).update(community=city.b)  # even a bulk update, bypassing save()
    response = client.get(reverse("households:household_list"))
    assert response.status_code == 302 and reverse("login") in response["Location"]


def test_the_security_page_lists_live_tokens_and_revokes_them(city, client):
    resident = city.users.resident
    token, key = identity.api_token_issue(user=resident, name="Mozilla/5.0 (iPhone)")
    client.force_login(resident)
    page = client.get(reverse("account_security"))
    assert key[:8] in page.content.decode() and key not in page.content.decode()
    assert "no-store" in page["Cache-Control"]
    client.post(reverse("api_token_revoke", args=[token.pk]))
    assert not ApiToken.objects.filter(pk=token.pk).exists()
    _, other = identity.api_token_issue(user=city.users.worker)
    other_token = ApiToken.objects.get(user=city.users.worker)
    assert client.post(reverse("api_token_revoke", args=[other_token.pk])).status_code == 404
