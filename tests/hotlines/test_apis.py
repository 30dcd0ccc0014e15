"""``POST /api/v1/hotline/calls/``: a telephone system logs a call and gets the caller's households."""

import pytest
from rest_framework.test import APIClient

from hotlines.models import Call
from households.identity import api_token_issue
from tests.factories import HouseholdPhoneFactory

pytestmark = pytest.mark.django_db

URL = "/api/v1/hotline/calls/"


def client_for(user) -> APIClient:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {api_token_issue(user=user)[1]}")
    return client


def assert_error_shape(response, status: int) -> dict:
    assert response.status_code == status, response.content
    data = response.json()
    assert set(data) == {"detail", "errors"} and data["detail"] and isinstance(data["errors"], dict)
    return data


def test_a_known_number_logs_the_call_and_returns_its_household(city):
    household = city.household_a
    phone = household.phones.get().number
    response = client_for(city.users.operator).post(URL, {"phone": phone[3:]}, format="json")
    assert response.status_code == 201, response.content
    data = response.json()
    call = Call.objects.get()
    assert data["id"] == call.pk and data["phone"] == phone
    assert data["console"].endswith(f"/hotline/calls/{call.pk}/")
    assert [h["id"] for h in data["households"]] == [household.pk]
    first = data["households"][0]
    assert first["address"] == household.address and first["lockdown_level"] == 2
    assert first["community"] == city.a.name and first["care"]
    assert call.operator == city.users.operator and call.district == city.districts[0] and call.household == household


def test_an_unknown_number_is_logged_with_no_household(city):
    response = client_for(city.users.operator).post(URL, {"phone": "0371-67180381"}, format="json")
    assert response.status_code == 201
    assert response.json()["households"] == [] and response.json()["phone"] == "+8637167180381"
    assert Call.objects.get().household is None


def test_households_of_another_district_are_not_returned(city):
    shared = "+8613800000099"
    HouseholdPhoneFactory(household=city.household_a, number=shared, is_primary=False)
    HouseholdPhoneFactory(household=city.household_c, number=shared, is_primary=False)
    data = client_for(city.users.operator2).post(URL, {"phone": shared}, format="json").json()
    assert [h["id"] for h in data["households"]] == [city.household_c.pk]
    only_other = city.household_a.phones.filter(is_primary=True).get().number
    data = client_for(city.users.operator2).post(URL, {"phone": only_other}, format="json").json()
    assert data["households"] == []


@pytest.mark.parametrize(
    "body", [{"phone": "12345"}, {"phone": "not a phone"}, {"phone": ""}, {}, {"phone": ["138"]}, {"phone": "1" * 41}]
)
def test_a_malformed_number_is_a_400_and_logs_nothing(city, body):
    data = assert_error_shape(client_for(city.users.operator).post(URL, body, format="json"), 400)
    assert "phone" in data["errors"] or "non_field_errors" in data["errors"] or data["errors"] == {}
    assert not Call.objects.exists()


def test_the_error_is_in_chinese(city):
    data = assert_error_shape(client_for(city.users.operator).post(URL, {"phone": "12345"}, format="json"), 400)
    assert "不是" in data["detail"] or "号码" in data["detail"], data["detail"]


@pytest.mark.parametrize("role", ["worker", "office", "taskforce", "resident", "supplier", "admin"])
def test_only_operators_log_calls(city, role):
    assert_error_shape(client_for(getattr(city.users, role)).post(URL, {"phone": "13812345678"}, format="json"), 403)
    assert not Call.objects.exists()


def test_anonymous_callers_are_refused(city):
    assert_error_shape(APIClient().post(URL, {"phone": "13812345678"}, format="json"), 401)


def test_the_call_api_is_in_the_schema(city):
    assert b"/api/v1/hotline/calls/" in APIClient().get("/api/v1/schema/").content
