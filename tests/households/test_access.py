"""One place decides what a user may see: every role against every other's households and places."""

import pytest

from households import selectors
from households.access import restrict, scope_of
from households.models import Building, Community, Compound, District, Household, HouseholdPhone, Office
from supply.models import Supplier

pytestmark = pytest.mark.django_db


def visible_households(user):
    return set(selectors.household_list(user=user).values_list("pk", flat=True))


def all_households_of(city, *communities):
    return {h.pk for c in communities for h in city.places[c.pk].households}


def test_each_role_sees_exactly_its_households(city):
    u = city.users
    assert visible_households(u.resident) == {city.household_a.pk}
    assert visible_households(u.worker) == all_households_of(city, city.a)
    assert visible_households(u.worker_b) == all_households_of(city, city.b)
    assert visible_households(u.office) == all_households_of(city, city.a, city.b)
    assert visible_households(u.operator) == all_households_of(city, city.a, city.b)
    assert visible_households(u.operator2) == all_households_of(city, city.c)
    assert visible_households(u.taskforce) == all_households_of(city, city.a, city.b)
    assert visible_households(u.city_taskforce) == all_households_of(city, city.a, city.b, city.c)
    assert visible_households(u.admin) == all_households_of(city, city.a, city.b, city.c)
    assert visible_households(u.supplier) == set()


def test_worker_of_a_cannot_get_household_of_b(city):
    from django.http import Http404

    with pytest.raises(Http404):
        selectors.household_get(user=city.users.worker, pk=city.household_b.pk)
    assert selectors.household_get(user=city.users.worker, pk=city.household_a.pk).pk == city.household_a.pk


def test_anonymous_and_placeless_users_see_nothing(city):
    from django.contrib.auth.models import AnonymousUser

    from tests.factories import UserFactory

    assert visible_households(AnonymousUser()) == set()
    assert visible_households(UserFactory(role="resident")) == set()
    assert not restrict(District.objects.all(), AnonymousUser()).exists()


def test_places_above_the_scope_are_the_users_own_ancestors(city):
    worker = city.users.worker
    assert set(restrict(Office.objects.all(), worker)) == {city.offices[0]}
    assert set(restrict(District.objects.all(), worker)) == {city.districts[0]}
    assert set(restrict(Community.objects.all(), worker)) == {city.a}
    assert set(restrict(Compound.objects.all(), worker)) == {city.places[city.a.pk].compound}
    assert set(restrict(Building.objects.all(), worker)) == {city.places[city.a.pk].building}
    operator2 = city.users.operator2
    assert set(restrict(Community.objects.all(), operator2)) == {city.c}


def test_phones_follow_their_household(city):
    numbers = set(
        restrict(HouseholdPhone.objects.all(), city.users.worker).values_list(
            "household__building__compound__community", flat=True
        )
    )
    assert numbers == {city.a.pk}
    assert not restrict(HouseholdPhone.objects.all(), city.users.supplier).exists()


def test_supplier_staff_see_only_their_supplier(city):
    from tests.factories import SupplierFactory

    other = SupplierFactory()
    assert set(restrict(Supplier.objects.all(), city.users.supplier)) == {city.supplier}
    assert set(restrict(Supplier.objects.all(), city.users.worker)) == {city.supplier, other}


def test_scope_is_computed_once_per_user_object(city, django_assert_num_queries):
    worker = city.users.worker
    with django_assert_num_queries(1):
        scope_of(worker)
        scope_of(worker)
    assert scope_of(worker).community_id == city.a.pk


def test_unregistered_model_is_refused_loudly(city):
    from households.models import User

    with pytest.raises(LookupError):
        restrict(User.objects.all(), city.users.worker)


def test_resident_cannot_see_neighbours_household(city):
    neighbour = city.places[city.a.pk].households[1]
    assert not restrict(Household.objects.filter(pk=neighbour.pk), city.users.resident).exists()
