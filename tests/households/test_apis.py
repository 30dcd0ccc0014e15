import pytest
from rest_framework.test import APIClient

pytestmark = pytest.mark.django_db


def test_token_for_staff_username_and_resident_phone(city):
    client = APIClient()
    response = client.post(
        "/api/v1/auth/token/", {"username": city.users.worker.username, "password": "demo12345"}, format="json"
    )
    assert response.status_code == 200 and len(response.json()["token"]) == 40
    again = client.post(
        "/api/v1/auth/token/", {"username": city.users.worker.username, "password": "demo12345"}, format="json"
    )
    assert again.json()["token"] != response.json()["token"]  # one token per device, each revocable
    resident = client.post("/api/v1/auth/token/", {"username": "13900000001", "password": "demo12345"}, format="json")
    assert resident.status_code == 200


@pytest.mark.parametrize(
    "body", [{}, {"username": "worker"}, {"username": "x", "password": "y"}, {"username": ["a"], "password": 3}]
)
def test_bad_sign_in_is_a_400_with_the_error_shape(city, body):
    response = APIClient().post("/api/v1/auth/token/", body, format="json")
    assert response.status_code == 400
    data = response.json()
    assert set(data) == {"detail", "errors"} and data["detail"] and isinstance(data["errors"], dict)


def test_schema_and_docs_are_served(city):
    client = APIClient()
    schema = client.get("/api/v1/schema/")
    assert schema.status_code == 200 and b"/api/v1/auth/token/" in schema.content
    docs = client.get("/api/v1/docs/")
    assert docs.status_code == 200
    assert b"cdn." not in docs.content  # Swagger UI comes from our own static files


def test_unknown_api_paths_answer_json_and_pages_answer_html(city, client):
    client.force_login(city.users.worker)
    response = client.get("/api/v1/no-such-thing/")
    assert response.status_code == 404 and response.json()["detail"]
    assert "text/html" in client.get("/no-such-page/")["Content-Type"]
