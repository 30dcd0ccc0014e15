import re
from collections import Counter
from io import StringIO

import phonenumbers
import pytest
from django.apps import apps
from django.contrib.auth import authenticate
from django.core.management import CommandError, call_command, get_commands
from django.db.models import Count, Max, Min, Q

from core.edges import building_sort_key, floor_from_room
from core.phones import phone_normalize
from core.pinyin import pinyin_initials
from households.demo import DEMO_USERNAMES
from households.models import (
    Building,
    Community,
    Compound,
    District,
    Household,
    HouseholdPhone,
    LockdownLevel,
    Office,
    PopulationType,
    Role,
    User,
)
from supply.models import Cycle, Order, Product, Supplier

HOUSEHOLDS = 300


def seed(households: int = HOUSEHOLDS, seed: int = 2022, **options) -> str:
    out = StringIO()
    call_command("seed_demo", households=households, seed=seed, stdout=out, **options)
    return out.getvalue()


@pytest.fixture
def demo_city(db) -> str:
    return seed()


def wipe_demo() -> None:
    """An empty database again: the demo's orders, cycles and catalog first (they protect the city)."""
    from deliveries.models import Shift, Team
    from supply.models import BaselineItem

    for model in (Shift, Team, Order, Cycle, BaselineItem, Product):
        model.objects.all().delete()
    User.objects.all().delete()
    for model in (HouseholdPhone, Household, Building, Compound, Community, Office, District, Supplier):
        model.objects.all().delete()


def all_counts() -> dict[str, int]:
    return {model._meta.label: model._default_manager.count() for model in apps.get_models()}


def city_snapshot() -> dict[str, list]:
    """Every demo row by natural key, without ids or timestamps: equal for the same city."""
    return {
        "districts": sorted(District.objects.values_list("code", "name", "hotline")),
        "offices": sorted(Office.objects.values_list("district__code", "code", "name")),
        "communities": sorted(Community.objects.values_list("office__code", "code", "name", "receiving_point")),
        "compounds": sorted(
            Compound.objects.values_list(
                "community__code", "code", "name", "initials", "lockdown_level", "delivery_day", "receiving_point"
            )
        ),
        "buildings": sorted(
            Building.objects.values_list(
                "compound__community__code", "compound__code", "number", "lockdown_level", "sort_key"
            )
        ),
        "households": sorted(
            Household.objects.values_list(
                "building__compound__community__code",
                "building__compound__code",
                "building__number",
                "unit",
                "floor",
                "room",
                "contact_name",
                "members",
                "population_type",
                "elderly_alone",
                "disabled",
                "pregnant",
                "chronic_medicine",
                "dialysis",
                "care_note",
                "assigned_worker__username",
            )
        ),
        "phones": sorted(
            HouseholdPhone.objects.values_list(
                "household__building__compound__community__code",
                "household__building__compound__code",
                "household__building__number",
                "household__unit",
                "household__room",
                "number",
                "is_primary",
            )
        ),
        "users": sorted(
            User.objects.values_list(
                "username",
                "role",
                "phone",
                "household__room",
                "community__code",
                "office__code",
                "district__code",
                "supplier__name",
                "is_staff",
                "is_superuser",
            )
        ),
        "suppliers": sorted(Supplier.objects.values_list("name", "phone", "is_whitelisted")),
    }


def test_the_command_is_core_s_and_each_app_seeds_its_own_rows():
    # core knows no app: the apps register their steps (core.demo), run in this order.
    from core.demo import steps

    assert get_commands()["seed_demo"] == "core"
    assert [(step.name, step.path.split(".")[0]) for step in steps()] == [
        ("supply.suppliers", "supply"),
        ("households.city", "households"),
        ("supply.catalog", "supply"),
        ("deliveries.volunteers", "deliveries"),
        ("hotlines", "hotlines"),
    ]


def test_the_three_districts_carry_their_real_hotlines(demo_city):
    assert set(District.objects.values_list("code", "name", "hotline")) == {
        ("zhongyuan", "中原区", "0371-67635762"),
        ("erqi", "二七区", "0371-68812345"),
        ("gaoxin", "高新区", "0371-63060058"),
    }
    # Small cities still have offices in every district, at least two communities each.
    assert set(Office.objects.values_list("district__code", flat=True)) == {"zhongyuan", "erqi", "gaoxin"}
    assert min(Office.objects.annotate(n=Count("communities")).values_list("n", flat=True)) >= 2
    assert Community.objects.filter(name="平安街社区").exists()
    assert not Community.objects.filter(receiving_point="").exists()


def test_the_city_has_exactly_the_households_asked_for(demo_city):
    assert Household.objects.count() == HOUSEHOLDS
    assert not Building.objects.annotate(n=Count("households")).filter(n=0).exists()


def test_compounds_show_every_lockdown_level_and_a_sealed_building_in_a_looser_compound(demo_city):
    assert set(Compound.objects.values_list("lockdown_level", flat=True)) == set(LockdownLevel.values)
    assert Building.objects.filter(
        lockdown_level=LockdownLevel.STAY_AT_HOME, compound__lockdown_level__lt=LockdownLevel.STAY_AT_HOME
    ).exists()
    for community in Community.objects.all():
        assert set(community.compounds.values_list("delivery_day", flat=True)) == {0, 1, 2}, community.name
    assert not Compound.objects.filter(receiving_point="").exists()


def test_compound_initials_are_the_pinyin_initials_of_the_name(demo_city):
    assert pinyin_initials("丰产路12号院") == "fcl12hy"
    assert pinyin_initials("碧桂园·天麓") == "bgytl"
    for name, initials in Compound.objects.values_list("name", "initials"):
        assert re.fullmatch(r"[a-z0-9]+", initials), name
        assert initials == pinyin_initials(name)


def test_addresses_are_consistent(demo_city):
    for number, sort_key in Building.objects.values_list("number", "sort_key"):
        assert re.fullmatch(r"\d+号楼", number)
        assert sort_key == building_sort_key(number)
    for unit, floor, room in Household.objects.values_list("unit", "floor", "room"):
        assert re.fullmatch(r"\d*", unit)
        assert floor >= 1
        assert floor_from_room(room) == floor


def test_households_look_like_a_real_register(demo_city):
    assert Household.objects.aggregate(low=Min("members"), high=Max("members")) == {"low": 1, "high": 6}
    population = Counter(Household.objects.values_list("population_type", flat=True))
    assert population[PopulationType.PERMANENT] > population[PopulationType.FLOATING] > 0
    for name in Household.objects.values_list("contact_name", flat=True):
        assert re.fullmatch(r"[\u4e00-\u9fff]{2,3}", name), name
    # Lonely elderly people live alone.
    assert not Household.objects.filter(elderly_alone=True, members__gt=1).exists()


def test_care_flags_occur_on_a_few_households_and_lonely_elderly_have_a_worker(demo_city):
    for flag in Household.CARE_FLAGS:
        assert Household.objects.filter(**{flag: True}).exists(), flag
    assert Household.objects.exclude(care_note="").exists()
    flagged = sum(1 for h in Household.objects.all() if h.needs_care)
    assert flagged < HOUSEHOLDS * 0.3

    worker = User.objects.get(username="worker")
    ledger = Household.objects.filter(elderly_alone=True, building__compound__community=worker.community)
    assert ledger.exists()
    assert set(ledger.values_list("assigned_worker", flat=True)) == {worker.pk}
    # Elsewhere the community's own worker account is assigned.
    for household in Household.objects.filter(elderly_alone=True).exclude(
        building__compound__community=worker.community
    ):
        assigned = household.assigned_worker
        assert assigned.role == Role.WORKER
        assert assigned.community_id == household.building.compound.community_id


def test_every_phone_is_a_valid_chinese_mobile_in_e164(demo_city):
    numbers = list(HouseholdPhone.objects.values_list("number", flat=True))
    assert numbers
    for number in numbers:
        assert phone_normalize(number) == number
        assert phonenumbers.number_type(phonenumbers.parse(number)) == phonenumbers.PhoneNumberType.MOBILE
    assert len(numbers) == len(set(numbers))
    per_household = Household.objects.annotate(
        n=Count("phones"), primaries=Count("phones", filter=Q(phones__is_primary=True))
    )
    assert set(per_household.values_list("primaries", flat=True)) == {1}
    assert set(per_household.values_list("n", flat=True)) <= {1, 2, 3}


def test_demo_accounts_sign_in_with_the_demo_password(demo_city):
    for username in DEMO_USERNAMES:
        user = authenticate(username=username, password="demo12345")
        assert user is not None, username
        assert user.username == username
    assert authenticate(username="resident", password="wrong-password") is None
    workers = User.objects.filter(role=Role.WORKER).exclude(username="worker")
    assert set(workers.values_list("username", flat=True)) == {f"worker-{c.code}" for c in Community.objects.all()}
    assert authenticate(username=workers.first().username, password="demo12345") is not None
    # One hash, computed once, shared by every account.
    assert User.objects.values("password").distinct().count() == 1


def test_demo_accounts_have_their_roles_and_places(demo_city):
    users = {u.username: u for u in User.objects.filter(username__in=DEMO_USERNAMES)}
    resident, worker = users["resident"], users["worker"]
    community = resident.household.building.compound.community
    assert resident.role == Role.RESIDENT and not resident.is_staff
    assert worker.role == Role.WORKER and worker.community == community and worker.is_staff
    assert users["operator"].role == Role.OPERATOR and users["operator"].district == community.office.district
    assert users["office"].role == Role.OFFICE and users["office"].office == community.office
    assert users["supplier"].role == Role.SUPPLIER and users["supplier"].supplier.name == "郑州丹尼斯生鲜超市"
    assert users["taskforce"].role == Role.TASKFORCE and users["taskforce"].district is None
    assert users["admin"].role == Role.ADMIN and users["admin"].is_superuser
    assert all(users[name].is_staff for name in ("worker", "operator", "office", "taskforce", "admin"))
    assert Supplier.objects.filter(is_whitelisted=True).count() == 3


def test_the_resident_lives_in_a_stay_at_home_compound_and_signs_in_with_the_phone(demo_city):
    resident = User.objects.get(username="resident")
    household = resident.household
    assert household.building.compound.lockdown_level == LockdownLevel.STAY_AT_HOME
    assert household.effective_level == LockdownLevel.STAY_AT_HOME
    primary = household.phones.get(is_primary=True).number
    assert resident.phone == primary
    # Residents may sign in with the phone number, typed the national way.
    national = phonenumbers.format_number(phonenumbers.parse(primary), phonenumbers.PhoneNumberFormat.NATIONAL)
    assert authenticate(username=national, password="demo12345") == resident


def test_a_second_run_changes_nothing(demo_city):
    counts, snapshot = all_counts(), city_snapshot()
    passwords = dict(User.objects.values_list("username", "password"))
    updated = dict(Household.objects.values_list("pk", "updated_at"))

    output = seed()

    assert all_counts() == counts
    assert city_snapshot() == snapshot
    assert dict(User.objects.values_list("username", "password")) == passwords
    assert dict(Household.objects.values_list("pk", "updated_at")) == updated
    assert "(0 new)" in output and " new)" not in output.replace("(0 new)", "")


def test_the_same_seed_plans_the_same_city_and_another_seed_another(db):
    seed()
    first = city_snapshot()
    wipe_demo()

    seed()
    assert city_snapshot() == first

    # Another seed is another city (seeded into an empty database, as a demo would be).
    wipe_demo()
    seed(seed=7)
    other = city_snapshot()
    assert other["households"] != first["households"]
    assert other["districts"] == first["districts"]


def test_a_city_written_in_batches_is_the_same_city(db, monkeypatch):
    """A large city is planned and written a batch of communities at a time (bounded memory): the
    batches write exactly the city one batch writes, and a batch's households are let go once the
    next batch is planned."""
    import households.demo.writing as writing
    from households.demo.copying import prefetched
    from households.demo.plan import city_plan

    seed(households=1200)
    whole = city_snapshot()
    wipe_demo()

    monkeypatch.setattr(writing, "STREAM_HOUSEHOLDS", 250)
    output = seed(households=1200)
    assert city_snapshot() == whole
    assert re.search(r"households\s+1200", output)

    plan = city_plan(households=1200, seed=2022)
    sizes = []
    for batch in prefetched(plan.batches(250)):
        sizes.append(sum(len(rows) for c in batch for k in c.compounds for _n, _l, rows in k.buildings))
        plan.release(batch)
        # held: this batch (released) and at most the next, being planned meanwhile
        assert sum(1 for c in plan.communities if c.compounds) <= 2 * max(len(batch), 1) + 1
    assert len(sizes) > 1 and sum(sizes) == 1200


def test_planning_ahead_keeps_the_order_raises_the_maker_s_error_and_stops_early():
    from households.demo.copying import prefetched

    assert list(prefetched(iter(range(50)))) == list(range(50))

    def broken():
        yield 1
        raise ValueError("planned wrong")

    with pytest.raises(ValueError, match="planned wrong"):
        list(prefetched(broken()))
    made = []

    def endless():
        n = 0
        while True:
            made.append(n)
            yield n
            n += 1

    items = prefetched(endless())
    assert next(items) == 0
    items.close()  # the consumer stops: the thread stops too, a step or two ahead at most
    assert len(made) <= 4


def test_the_command_prints_the_accounts_unless_quiet(db):
    output = seed()
    for username in DEMO_USERNAMES:
        assert re.search(rf"^\s+{username}\s+\w+\s+.+demo12345$", output, re.MULTILINE), username
    assert "households" in output and str(HOUSEHOLDS) in output

    assert seed(quiet=True) == ""


def test_a_city_too_small_for_the_demo_is_refused(db):
    with pytest.raises(CommandError):
        seed(households=10)
    assert not District.objects.exists()


def test_another_city_over_an_existing_one_is_refused_and_changes_nothing(demo_city):
    counts, snapshot = all_counts(), city_snapshot()

    for other in ({"households": HOUSEHOLDS + 100}, {"seed": 7}):
        with pytest.raises(CommandError, match="其他参数"):
            seed(**{"households": HOUSEHOLDS, **other})

    assert all_counts() == counts
    assert city_snapshot() == snapshot


def test_the_demo_has_volunteers_in_teams_with_a_round_on_the_first_delivery_day(demo_city):
    from deliveries.models import Shift, ShiftSignup, Team

    volunteer = User.objects.get(username="volunteer")
    worker = User.objects.get(username="worker")
    assert volunteer.role == Role.VOLUNTEER and volunteer.community_id == worker.community_id
    assert authenticate(username="volunteer", password="demo12345") == volunteer
    teams = Team.objects.filter(community_id=worker.community_id)
    assert teams.count() == 3 and teams.get(name="专班一组").leader == volunteer
    cycle = Cycle.objects.get(status="open")
    door_round = Shift.objects.get(kind="doors", team__name="专班一组", day=cycle.first_delivery_date)
    assert ShiftSignup.objects.filter(shift=door_round, user=volunteer, status="confirmed").exists()
    assert Shift.objects.filter(day=cycle.first_delivery_date, kind="sorting").get().signups.count() == 2  # a gap
