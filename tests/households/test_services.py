import pytest

from core.edges import building_sort_key, floor_from_room
from core.errors import BaogongError
from core.phones import InvalidPhone, phone_masked, phone_normalize
from households import services
from households.models import (
    Household,
    LockdownChange,
    LockdownLevel,
)

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize(
    "raw, e164",
    [
        ("13812345678", "+8613812345678"),
        ("138 1234 5678", "+8613812345678"),
        ("+86 138-1234-5678", "+8613812345678"),
        ("0371-67180381", "+8637167180381"),
        ("037167180381", "+8637167180381"),
    ],
)
def test_phone_normalize_accepts_chinese_mobiles_and_landlines(raw, e164):
    assert phone_normalize(raw) == e164


@pytest.mark.parametrize("raw", ["", "12345", "1381234567", "abc", "+1 650 253 0000", "0000-00000000"])
def test_phone_normalize_refuses_bad_numbers_with_a_chinese_message(raw):
    with pytest.raises(InvalidPhone) as exc:
        phone_normalize(raw)
    assert any("\u4e00" <= ch <= "\u9fff" for ch in exc.value.message)


def test_phone_masked_hides_the_middle_digits():
    assert phone_masked("+8613812341234") == "138****1234"


def test_building_sort_key_and_floor_from_room():
    assert building_sort_key("12号楼") == 12 and building_sort_key("１２号楼") == 12 and building_sort_key("❶号楼") == 0
    assert building_sort_key("2号楼") < building_sort_key("12号楼")
    assert floor_from_room("1201") == 12
    assert floor_from_room("301") == 3
    assert floor_from_room("52") is None


def test_compound_level_change_is_kept_with_who_and_why(city):
    compound = city.places[city.c.pk].compound
    services.compound_set_lockdown_level(
        compound_id=compound.pk, level=LockdownLevel.STAY_AT_HOME, reason="新增阳性病例", changed_by=city.users.office
    )
    compound.refresh_from_db()
    assert compound.lockdown_level == LockdownLevel.STAY_AT_HOME
    change = LockdownChange.objects.get(compound=compound)
    assert (change.from_level, change.to_level, change.reason, change.changed_by) == (
        LockdownLevel.OPEN,
        LockdownLevel.STAY_AT_HOME,
        "新增阳性病例",
        city.users.office,
    )
    # the same level again records nothing
    services.compound_set_lockdown_level(
        compound_id=compound.pk, level=LockdownLevel.STAY_AT_HOME, reason="x", changed_by=None
    )
    assert LockdownChange.objects.filter(compound=compound).count() == 1


def test_a_sealed_building_is_stricter_than_its_compound(city):
    place = city.places[city.b.pk]  # compound: stay in compound
    services.building_set_lockdown_level(
        building_id=place.building.pk, level=LockdownLevel.STAY_AT_HOME, reason="楼栋封控", changed_by=city.users.office
    )
    household = Household.objects.select_related("building__compound").get(pk=place.households[0].pk)
    assert household.effective_level == LockdownLevel.STAY_AT_HOME
    # a looser building never loosens a stricter compound
    strict = city.places[city.a.pk]
    assert strict.building.lockdown_level == LockdownLevel.OPEN
    assert Household.objects.select_related("building__compound").get(pk=strict.households[0].pk).effective_level == 2


def test_level_change_needs_a_reason_and_a_known_level(city):
    compound = city.places[city.c.pk].compound
    with pytest.raises(BaogongError):
        services.compound_set_lockdown_level(compound_id=compound.pk, level=2, reason="  ", changed_by=None)
    with pytest.raises(BaogongError):
        services.compound_set_lockdown_level(compound_id=compound.pk, level=7, reason="x", changed_by=None)
    assert not LockdownChange.objects.exists()


def test_household_phones_set_replaces_and_validates(city):
    household = city.household_c
    services.household_phones_set(household=household, phones=["13812340000", "0371-67180381", "138 1234 0000"])
    assert list(household.phones.order_by("-is_primary", "id").values_list("number", "is_primary")) == [
        ("+8613812340000", True),
        ("+8637167180381", False),
    ]
    with pytest.raises(BaogongError):
        services.household_phones_set(household=household, phones=["13812340001", "bad"])
    assert household.phones.count() == 2


def test_delivery_days_are_levelled_and_the_spread_reported(city):
    from tests.factories import CompoundFactory

    community = city.a
    sizes = [40, 35, 30, 20, 15, 10, 5, 5]
    compounds = [CompoundFactory(community=community, delivery_day=0) for _ in sizes]
    weights = {compound.pk: size for compound, size in zip(compounds, sizes, strict=True)}
    weights[city.places[city.a.pk].compound.pk] = 0
    result = services.community_delivery_days_level(community_id=community.pk, weights=weights)
    assert sum(result.loads) == sum(sizes)
    assert max(result.loads) - min(result.loads) <= max(sizes)
    assert result.spread < 0.2 and result.moved > 0
    days = {c.pk: c.delivery_day for c in type(compounds[0]).objects.filter(community=community)}
    for day in range(3):
        assert sum(weights[pk] for pk, d in days.items() if d == day) == result.loads[day]
    again = services.community_delivery_days_level(community_id=community.pk, weights=weights)
    assert again.moved == 0 and again.loads == result.loads


def test_a_building_added_later_sorts_by_its_number(city):
    """10号楼 added through the admin (or any save) after 1号楼 must not print before it."""
    from households.models import Building

    compound = city.places[city.a.pk].compound
    first = city.places[city.a.pk].building
    first.number = "1号楼"
    first.save()
    later = Building(compound=compound, number="10号楼")  # no sort key given, as the admin saves it
    later.save()
    assert list(Building.objects.filter(compound=compound).values_list("number", flat=True)) == ["1号楼", "10号楼"]
    assert later.sort_key == 10 and Building.objects.get(pk=first.pk).sort_key == 1
