"""The planned city written set-based: places by natural keys, compounds, buildings, households and
phones by inserts that skip clashing rows, accounts only when missing. Existing rows are never updated."""

import functools
import time
from collections import Counter
from dataclasses import dataclass

from django.contrib.auth.hashers import make_password
from django.db import connection, transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop

from core.edges import building_sort_key
from core.errors import BaogongError
from core.phones import phone_display
from core.pinyin import pinyin_initials
from households.demo.copying import chunks, insert_rows, prefetched
from households.demo.people_names import (
    BATCH_SIZE,
    DEMO_PASSWORD,
    DEMO_STAFF,
    DEMO_USERNAMES,
    DEMO_VOLUNTEER_PHONE,
    DEMO_VOLUNTEERS,
    MIN_HOUSEHOLDS,
    STREAM_HOUSEHOLDS,
)
from households.demo.place_names import DISTRICTS
from households.demo.plan import (
    HOUSEHOLD_COLUMNS,
    CityPlan,
    DemoAccount,
    DemoResult,
    _Community,
    _Compound,
    city_plan,
)
from households.models import (
    HALF_DAYS,
    Building,
    Community,
    Compound,
    District,
    Household,
    HouseholdPhone,
    Office,
    Role,
    User,
    Volunteer,
    VolunteerStatus,
)

# --- writing -----------------------------------------------------------------------------------


@transaction.atomic
def demo_city_seed(*, households: int, seed: int, supplier_id: int | None = None) -> DemoResult:
    """Build (or complete) the demo city and its accounts.

    Guarantees:
    - the same ``households`` and ``seed`` always describe the same city; running it again with
      them inserts nothing and updates nothing (passwords are not re-hashed);
    - the three districts carry their real supply hotlines; every lockdown level is present on
      compounds, with a sealed building inside a looser compound; delivery days 0, 1 and 2 occur in
      every community; every care flag occurs; every phone is a valid Chinese mobile in E.164;
    - accounts ``resident`` (a household in a stay-at-home compound), ``worker`` (that community,
      and the assigned worker of its lonely elderly households), ``operator`` (that district),
      ``office`` (that office), ``supplier`` (of ``supplier_id``, made by supply.demo, the app that
      owns suppliers; without it no supplier account), ``taskforce`` (the whole city)
      and ``admin``, plus ``worker-<community code>`` in every community, all with password
      ``demo12345``;
    - everything is one transaction: an error leaves the database as it was.
    """
    if households < MIN_HOUSEHOLDS:
        raise BaogongError(_("A demo city needs at least %(count)d households.") % {"count": MIN_HOUSEHOLDS})
    started = time.monotonic()
    plan = city_plan(households=households, seed=seed)
    created: Counter[str] = Counter()
    # Hashing is slow: once per run at most, and not at all when every account exists.
    hashed = functools.cache(lambda: make_password(DEMO_PASSWORD))

    # Places above compounds: a few hundred rows at most, by natural key.
    district_ids: dict[str, int] = {}
    for code, name, hotline, _offices in DISTRICTS:
        district, was_created = District.objects.get_or_create(code=code, defaults={"name": name, "hotline": hotline})
        district_ids[code] = district.pk
        created["districts"] += was_created
    office_ids: dict[str, int] = {}
    for district_code, code, name in plan.offices:
        office, was_created = Office.objects.get_or_create(
            district_id=district_ids[district_code], code=code, defaults={"name": name}
        )
        office_ids[code] = office.pk
        created["offices"] += was_created
    community_ids: dict[str, int] = {}
    for community in plan.communities:
        row, was_created = Community.objects.get_or_create(
            office_id=office_ids[community.office_code],
            code=community.code,
            defaults={"name": community.name, "receiving_point": community.receiving_point},
        )
        community_ids[community.code] = row.pk
        created["communities"] += was_created
        if row.name != community.name:
            _refuse_other_city(f"{row.code} {row.name}", community.name)

    # Staff accounts before households: lonely elderly households name their worker.
    demo_community_id = community_ids[plan.demo.code]
    demo_office_id = office_ids[plan.demo.office_code]
    demo_district_id = district_ids[plan.demo.district_code]
    staff_scope = {
        Role.WORKER: {"community_id": demo_community_id, "is_staff": True},
        Role.OPERATOR: {"district_id": demo_district_id, "is_staff": True},
        Role.OFFICE: {"office_id": demo_office_id, "is_staff": True},
        Role.SUPPLIER: {"supplier_id": supplier_id},
        Role.TASKFORCE: {"district_id": None, "is_staff": True},
        Role.ADMIN: {"is_staff": True, "is_superuser": True},
        Role.VOLUNTEER: {"community_id": demo_community_id, "phone": DEMO_VOLUNTEER_PHONE.format(0)},
    }
    wanted_users = {
        username: dict(role=role, last_name=last, first_name=first, **staff_scope[role])
        for username, role, last, first in DEMO_STAFF
        if role != Role.SUPPLIER or supplier_id is not None
    }
    for community in plan.communities:
        last, first = community.worker_name
        wanted_users[f"worker-{community.code}"] = dict(
            role=Role.WORKER,
            last_name=last,
            first_name=first,
            community_id=community_ids[community.code],
            is_staff=True,
        )
    for suffix, name, _employer, _cadre, _skills in DEMO_VOLUNTEERS:
        wanted_users[f"volunteer-{suffix}"] = dict(
            role=Role.VOLUNTEER,
            last_name="",
            first_name=name,
            community_id=demo_community_id,
            phone=DEMO_VOLUNTEER_PHONE.format(int(suffix)),
        )
    user_ids = _users_create_missing(wanted_users, hashed=hashed, created=created)
    created["volunteers"] = _volunteers_create_missing(user_ids, community_id=demo_community_id)

    # Compounds, buildings, households and phones a batch of communities at a time (bounded memory).
    totals: Counter[str] = Counter()
    for batch in prefetched(plan.batches(STREAM_HOUSEHOLDS)):
        ids = _places_save(batch, community_ids=community_ids, created=created)
        household_ids, counts = _households_save(batch, demo=plan.demo, ids=ids, user_ids=user_ids, created=created)
        totals.update(counts)
        if any(community is plan.demo for community in batch):
            resident = _resident(plan, ids=ids, household_ids=household_ids)
        plan.release(batch)
    _users_create_missing({"resident": resident}, hashed=hashed, created=created)
    if connection.vendor == "postgresql":
        # A city just loaded has no statistics until autovacuum comes by: without them the
        # planner guesses, and at millions of households it guesses wrong (whole-table scans
        # while the first cycle is packed). ANALYZE samples: a second or two at 4 M households.
        with connection.cursor() as cursor:
            for model in (Compound, Building, Household, HouseholdPhone):
                cursor.execute(f"ANALYZE {connection.ops.quote_name(model._meta.db_table)}")

    figures = {
        "districts": len(DISTRICTS),
        "offices": len(plan.offices),
        "communities": len(plan.communities),
        "compounds": totals["compounds"],
        "buildings": totals["buildings"],
        "households": totals["households"],
        "phones": totals["phones"],
        "accounts": len(wanted_users) + 1,
        "volunteers": Volunteer.objects.filter(community_id=demo_community_id).count(),
    }
    return DemoResult(
        totals=figures,
        created={label: created[label] for label in figures},
        accounts=_accounts(),
        community_workers=sorted(u for u in wanted_users if u.startswith("worker-")),
        seconds=time.monotonic() - started,
    )


@dataclass
class _PlaceIds:
    """A batch's ids: community code → id, (community id, compound code) → id, (compound id, number) → id."""

    communities: dict[str, int]
    compounds: dict[tuple, int]
    buildings: dict[tuple, int]

    def building(self, community: _Community, compound: _Compound, number: str) -> int:
        return self.buildings[(self.compounds[(self.communities[community.code], compound.code)], number)]


def _places_save(batch: list[_Community], *, community_ids: dict[str, int], created: Counter) -> _PlaceIds:
    """Insert the batch's missing compounds and buildings, by natural key; return their ids."""
    ours = [community_ids[community.code] for community in batch]
    compound_ids = _insert_missing(
        Compound,
        key_fields=("community_id", "code"),
        scope={"community_id__in": ours},
        wanted={
            (community_ids[community.code], compound.code): dict(
                name=compound.name,
                initials=pinyin_initials(compound.name),
                lockdown_level=compound.level,
                delivery_day=compound.delivery_day,
                receiving_point=compound.receiving_point,
            )
            for community in batch
            for compound in community.compounds
        },
        created=created,
        label="compounds",
        same="name",
    )
    building_ids = _insert_missing(
        Building,
        key_fields=("compound_id", "number"),
        scope={"compound__community_id__in": ours},
        wanted={
            (compound_ids[(community_ids[community.code], compound.code)], number): dict(
                lockdown_level=level, sort_key=building_sort_key(number)
            )
            for community in batch
            for compound in community.compounds
            for number, level, _rows in compound.buildings
        },
        created=created,
        label="buildings",
    )
    return _PlaceIds(community_ids, compound_ids, building_ids)


def _resident(plan: CityPlan, *, ids: _PlaceIds, household_ids: dict[tuple, int]) -> dict:
    """The resident account: the first household of the demo community's stay-at-home compound."""
    compound = plan.demo.compounds[0]
    number, _level, rows = compound.buildings[0]
    row = rows[0]
    return dict(
        role=Role.RESIDENT,
        first_name=row[3],
        household_id=household_ids[(ids.building(plan.demo, compound, number), row[0], row[2])],
        phone=row[12][0],
    )


def _households_save(
    batch: list[_Community],
    *,
    demo: _Community,
    ids: _PlaceIds,
    user_ids: dict[str, int],
    created: Counter,
) -> tuple[dict[tuple, int], Counter]:
    """Insert the batch's missing households and phones; return address → id and the batch's totals.

    At a city's scale this is the bulk of the work. An address is (building id, unit, room).
    """
    household_rows: dict[tuple[int, str, str], list] = {}
    assigned: dict[tuple[int, str, str], int] = {}
    counts: Counter[str] = Counter()
    for community in batch:
        worker_id = user_ids["worker" if community is demo else f"worker-{community.code}"]
        counts["compounds"] += len(community.compounds)
        for compound in community.compounds:
            counts["buildings"] += len(compound.buildings)
            for number, _level, rows in compound.buildings:
                building_id = ids.building(community, compound, number)
                for row in rows:
                    address = (building_id, row[0], row[2])
                    household_rows[address] = row
                    counts["phones"] += len(row[12])
                    if row[6]:
                        assigned[address] = worker_id
    counts["households"] = len(household_rows)

    ours = Household.objects.filter(building__compound__community_id__in=[ids.communities[c.code] for c in batch])
    existing: dict[tuple[int, str, str], int] = {}
    for pk, building_id, unit, room, contact_name in ours.values_list(
        "pk", "building_id", "unit", "room", "contact_name"
    ):
        existing[(building_id, unit, room)] = pk
        row = household_rows.get((building_id, unit, room))
        if row is not None and row[3] != contact_name:
            _refuse_other_city(f"{unit}-{room} {contact_name}", row[3])
    had_households = bool(existing)
    missing = [address for address in household_rows if address not in existing]
    now = timezone.now()
    new_rows = []
    for address in missing:
        building_id, unit, room = address
        row = household_rows[address]
        new_rows.append((building_id, unit, row[1], room, *row[3:12], assigned.get(address), now, now, False))
    insert_rows(Household, HOUSEHOLD_COLUMNS, new_rows)
    created["households"] += len(missing)
    if missing:
        existing = {(b, unit, room): pk for pk, b, unit, room in ours.values_list("pk", "building_id", "unit", "room")}
    household_ids = {address: existing[address] for address in household_rows}

    # The first phone is the primary one. Only households that existed before can have phones.
    existing_phones = (
        set(HouseholdPhone.objects.filter(household__in=ours).values_list("household_id", "number"))
        if had_households
        else set()
    )
    new_phones = [
        (household_ids[address], number, i == 0)
        for address, row in household_rows.items()
        for i, number in enumerate(row[12])
        if (household_ids[address], number) not in existing_phones
    ]
    insert_rows(HouseholdPhone, ("household_id", "number", "is_primary"), new_phones)
    created["phones"] += len(new_phones)
    return household_ids, counts


def _insert_missing(model, *, key_fields, scope, wanted, created, label, same: str | None = None) -> dict[tuple, int]:
    """Insert the rows of ``wanted`` (natural key → other fields) that are missing; return key → id.

    With ``same``, a row that exists must have that field as planned, or the city is another one.
    """
    queryset = model.objects.filter(**scope)
    extra = (same,) if same else ()

    def read() -> dict[tuple, tuple]:
        width = len(key_fields)
        return {tuple(v[:width]): v[width:] for v in queryset.values_list(*key_fields, "pk", *extra)}

    rows = read()
    if same:
        for key, (_pk, value) in rows.items():
            if key in wanted and wanted[key][same] != value:
                _refuse_other_city(f"{key[-1]} {value}", wanted[key][same])
    missing = [key for key in wanted if key not in rows]
    if missing:
        for chunk in chunks(missing):
            model.objects.bulk_create(
                [model(**dict(zip(key_fields, key, strict=True)), **wanted[key]) for key in chunk],
                batch_size=BATCH_SIZE,
                ignore_conflicts=True,
            )
        rows = read()
    lost = [key for key in wanted if key not in rows]
    if lost:
        raise BaogongError(
            _("Cannot create the demo %(what)s: %(count)d clash with rows of other codes. %(hint)s")
            % {"what": label, "count": len(lost), "hint": _(_SEED_HINT)}
        )
    created[label] += len(missing)
    return {key: rows[key][0] for key in wanted}


_SEED_HINT = gettext_noop("Seed with the same --households and --seed as before, or start from an empty database.")


def _refuse_other_city(found: str, planned: str) -> None:
    raise BaogongError(
        _(
            "This database holds a demo city built with other arguments (found “%(found)s” where “%(planned)s” belongs). %(hint)s"
        )
        % {"found": found, "planned": planned, "hint": _(_SEED_HINT)}
    )


def _users_create_missing(wanted: dict[str, dict], *, hashed, created) -> dict[str, int]:
    existing = dict(User.objects.filter(username__in=list(wanted)).values_list("username", "pk"))
    missing = [username for username in wanted if username not in existing]
    if missing:
        User.objects.bulk_create(
            [User(username=username, password=hashed(), **wanted[username]) for username in missing],
            batch_size=BATCH_SIZE,
            ignore_conflicts=True,
        )
        existing = dict(User.objects.filter(username__in=list(wanted)).values_list("username", "pk"))
    lost = [username for username in wanted if username not in existing]
    if lost:
        raise BaogongError(
            _("Cannot create the demo account “%(username)s”: another account already uses its phone number.")
            % {"username": lost[0]}
        )
    created["accounts"] += len(missing)
    return existing


def _volunteers_create_missing(user_ids: dict[str, int], *, community_id: int) -> int:
    """The demo community's volunteers, approved, free every morning and afternoon; only those missing."""
    people = [("volunteer", "陈红", "", False, ("carry", "dialect"))] + [
        (f"volunteer-{suffix}", name, employer, cadre, skills)
        for suffix, name, employer, cadre, skills in DEMO_VOLUNTEERS
    ]
    have = set(Volunteer.objects.filter(user_id__in=[user_ids[p[0]] for p in people]).values_list("user_id", flat=True))
    now = timezone.now()
    missing = [
        Volunteer(
            user_id=user_ids[username],
            community_id=community_id,
            name=name,
            cadre=cadre,
            employer=employer,
            can_carry="carry" in skills,
            driver="driver" in skills,
            medical="medical" in skills,
            dialect="dialect" in skills,
            availability=(1 << HALF_DAYS) - 1,
            status=VolunteerStatus.APPROVED,
            decided_at=now,
        )
        for username, name, employer, cadre, skills in people
        if user_ids[username] not in have
    ]
    Volunteer.objects.bulk_create(missing)
    return len(missing)


def _accounts() -> list[DemoAccount]:
    """The demo accounts as they are in the database, with the place each one sees."""
    users = {
        user.username: user
        for user in User.objects.filter(username__in=DEMO_USERNAMES).select_related(
            "household__building__compound", "community", "office", "district", "supplier"
        )
    }
    accounts = []
    for username in DEMO_USERNAMES:
        user = users[username]
        if user.household_id:
            scope = f"{user.household.address} · {phone_display(user.phone)}"
        else:
            scope = str(
                user.community
                or user.office
                or user.district
                or user.supplier
                or ("全市" if user.role == Role.TASKFORCE else "—")
            )
        accounts.append(DemoAccount(username=username, role=user.role, scope=scope))
    return accounts


def demo_registration_example() -> tuple[str, str] | None:
    """A household of the demo resident's community that has no account yet: its phone number and
    address, printed by ``seed_demo`` for trying the registration (the code is shown by the demo)."""
    resident = User.objects.filter(username="resident").select_related("household__building__compound").first()
    if resident is None or resident.household is None:
        return None
    household = (
        Household.objects.filter(
            residents__isnull=True,
            phones__is_primary=True,
            building__compound__community_id=resident.household.building.compound.community_id,
        )
        .select_related("building__compound")
        .order_by("pk")
        .first()
    )
    if household is None:
        return None
    return phone_display(household.phones.get(is_primary=True).number), household.address
