"""The Django admin is scoped exactly like the pages."""

import pytest

pytestmark = pytest.mark.django_db


def test_worker_admin_lists_only_own_community(city, client):
    client.force_login(city.users.worker)
    response = client.get("/admin/households/household/")
    assert response.status_code == 200
    assert response.context["cl"].result_count == 2
    ids = {h.pk for h in response.context["cl"].result_list}
    assert ids == {h.pk for h in city.places[city.a.pk].households}


def test_worker_admin_cannot_open_household_of_another_community(city, client):
    client.force_login(city.users.worker)
    response = client.get(f"/admin/households/household/{city.household_b.pk}/change/")
    assert response.status_code == 302  # the admin says "does not exist" and goes back
    response = client.post(f"/admin/households/household/{city.household_b.pk}/delete/", {"post": "yes"})
    assert response.status_code in (302, 403, 404)
    from households.models import Household

    assert Household.objects.filter(pk=city.household_b.pk).exists()


def test_building_choices_in_admin_are_scoped(city, client):
    client.force_login(city.users.worker)
    response = client.get("/admin/households/building/")
    assert {b.pk for b in response.context["cl"].result_list} == {city.places[city.a.pk].building.pk}


def test_operator_admin_is_read_only(city, client):
    client.force_login(city.users.operator)
    response = client.get(f"/admin/households/household/{city.household_a.pk}/change/")
    assert response.status_code == 200
    assert not response.context["has_change_permission"]
    response = client.post(f"/admin/households/household/{city.household_a.pk}/change/", {"contact_name": "改名"})
    assert response.status_code == 403


@pytest.mark.parametrize("role", ["worker", "office", "operator", "taskforce"])
def test_only_admins_manage_accounts(city, client, role):
    client.force_login(getattr(city.users, role))
    assert client.get("/admin/households/user/").status_code == 403


def test_residents_and_suppliers_have_no_admin(city, client):
    for user in (city.users.resident, city.users.supplier):
        client.force_login(user)
        response = client.get("/admin/")
        assert response.status_code == 302 and "/admin/login/" in response.url


def test_admin_sees_everything(city, client):
    client.force_login(city.users.admin)
    assert client.get("/admin/households/household/").context["cl"].result_count == 6
    assert client.get("/admin/households/user/").status_code == 200


def test_supplier_staff_admin_shows_own_supplier_only(city, client):
    from tests.factories import SupplierFactory

    SupplierFactory()
    city.users.supplier.is_staff = True
    city.users.supplier.save()
    client.force_login(city.users.supplier)
    response = client.get("/admin/supply/supplier/")
    assert {s.pk for s in response.context["cl"].result_list} == {city.supplier.pk}
    assert client.get("/admin/households/household/").status_code == 403
