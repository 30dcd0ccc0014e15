"""The demo city planned in memory from one ``random.Random(seed)``: the same arguments always plan the
same city, whatever the database holds."""

import random
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from math import ceil

from households.demo.people_names import (
    CARE_NOTE_RATE,
    CARE_NOTES,
    CARE_RATES,
    COMMUNITIES_PER_OFFICE,
    COMMUNITY_POINTS,
    COMPOUND_POINTS,
    DEMO_PASSWORD,
    ELDERLY_GIVEN_NAMES,
    FLOATING_RATE,
    GATES,
    GIVEN_NAMES,
    HOUSEHOLDS_PER_COMMUNITY,
    HOUSEHOLDS_PER_COMPOUND,
    LEVEL_WEIGHTS,
    MEMBERS,
    MOBILE_PREFIXES,
    PHONE_COUNTS,
    SEALED_BUILDING_RATE,
    SURNAMES,
)
from households.demo.place_names import (
    COMMUNITY_SPLITS,
    DISTRICTS,
    ESTATE_PHASES,
    ESTATES,
    STREETS,
    WORK_UNIT_YARDS,
    WORK_UNITS,
)
from households.models import (
    LockdownLevel,
    PopulationType,
)

# --- the result --------------------------------------------------------------------------------


@dataclass(frozen=True)
class DemoAccount:
    username: str
    role: str
    scope: str
    password: str = DEMO_PASSWORD


@dataclass
class DemoResult:
    """What the demo city holds (``totals``), what this run added (``created``), and the accounts."""

    totals: dict[str, int]
    created: dict[str, int]
    accounts: list[DemoAccount]
    community_workers: list[str]
    seconds: float = 0.0


# --- the plan ----------------------------------------------------------------------------------
# Plain tuples and lists: at 250,000 households, objects per row would cost seconds.


@dataclass(eq=False)  # compared by identity: a planned community holds thousands of rows
class _Community:
    office_code: str
    code: str
    name: str
    receiving_point: str
    district_code: str
    worker_name: tuple[str, str]
    compounds: list["_Compound"] = field(default_factory=list)


@dataclass(eq=False)
class _Compound:
    code: str
    name: str
    level: int
    delivery_day: int
    receiving_point: str
    # (number, level, [household rows]); a row is a list, see _household_row.
    buildings: list[tuple[str, int, list[list]]] = field(default_factory=list)


@dataclass
class CityPlan:
    """The city's offices and communities; their compounds and households come in batches.

    ``batches()`` fills the communities in order, from the same random stream, and hands them out
    a batch of about ``size`` households at a time; the caller ``release()``-s a batch once it is
    written, so a city of millions is planned in bounded memory. The first batch holds the demo
    community (and, for any city up to ``size`` households, the whole city).
    """

    offices: list[tuple[str, str, str]]  # (district code, office code, name)
    communities: list[_Community]
    demo: _Community  # the demo worker's community; its first compound is the resident's
    shares: list[int]  # households per community
    rng: random.Random  # the city's one random stream, where city_plan left it
    names: "_Names"

    def batches(self, size: int) -> Iterator[list[_Community]]:
        batch: list[_Community] = []
        planned = 0
        first = True
        for community, share in zip(self.communities, self.shares, strict=True):
            _community_fill(community, share, demo=community is self.demo, rng=self.rng, names=self.names)
            batch.append(community)
            planned += share
            if planned >= size:
                yield self._finish(batch, first=first)
                first = False
                batch, planned = [], 0
        if batch:
            yield self._finish(batch, first=first)

    @staticmethod
    def release(batch: list[_Community]) -> None:
        """Let a written batch's compounds and households go (the plan keeps the communities)."""
        for community in batch:
            community.compounds = []

    def _finish(self, batch: list[_Community], *, first: bool) -> list[_Community]:
        if first:
            # The demo community's open compound has a sealed building (a risk unit inside an open yard).
            open_compound = self.demo.compounds[2]
            number, _level, rows = open_compound.buildings[-1]
            open_compound.buildings[-1] = (number, LockdownLevel.STAY_AT_HOME, rows)
            _ensure_care_examples(self.demo, batch)
        return batch


def _split(total: int, parts: int, rng: random.Random, spread: float) -> list[int]:
    """``total`` split into ``parts`` positive sizes that vary by about ±spread."""
    weights = [1 + rng.uniform(-spread, spread) for _part in range(parts)]
    scale = total / sum(weights)
    sizes = [max(1, int(w * scale)) for w in weights]
    i = 0
    while (diff := total - sum(sizes)) != 0:
        j = i % parts
        if diff > 0:
            sizes[j] += 1
        elif sizes[j] > 1:
            sizes[j] -= 1
        i += 1
    return sizes


class _Names:
    """Draws person names, compound names and phone numbers; compound names and phones are unique."""

    def __init__(self, rng: random.Random):
        self.rng = rng
        self.surnames = [s for s, weight in SURNAMES for _copy in range(weight)]
        self.used_compounds: set[str] = set()
        self.used_phones: set[int] = set()  # as numbers: a city of millions keeps millions of them
        self.yard_numbers: Counter[str] = Counter()

    def person(self, *, elderly: bool = False) -> tuple[str, str]:
        rng = self.rng
        given = rng.choice(ELDERLY_GIVEN_NAMES if elderly else GIVEN_NAMES)
        return rng.choice(self.surnames), given

    def phone(self) -> str:
        rng = self.rng
        while True:
            prefix, rest = rng.choice(MOBILE_PREFIXES), rng.randrange(100_000_000)
            key = int(prefix) * 100_000_000 + rest
            if key not in self.used_phones:
                self.used_phones.add(key)
                return f"+86{prefix}{rest:08d}"

    def compound(self, *, kind: str, street: str) -> str:
        rng = self.rng
        for _attempt in range(8):
            if kind == "estate":
                name = rng.choice(ESTATES) + rng.choice(ESTATE_PHASES)
            elif kind == "work_unit":
                name = rng.choice(WORK_UNITS) + rng.choice(WORK_UNIT_YARDS)
            else:
                name = f"{street}{rng.randint(1, 199)}号院"
            if name not in self.used_compounds:
                self.used_compounds.add(name)
                return name
        # Pools exhausted (very large cities): numbered yards never run out.
        while True:
            self.yard_numbers[street] += 1
            name = f"{street}{200 + self.yard_numbers[street]}号院"
            if name not in self.used_compounds:
                self.used_compounds.add(name)
                return name


def _pick_level(rng: random.Random) -> int:
    roll = rng.random() * 100
    for level, weight in LEVEL_WEIGHTS:
        if roll < weight:
            return level
        roll -= weight
    return LockdownLevel.OPEN


def _layouts(size: int, kind: str, rng: random.Random) -> list[tuple[int, int, int]]:
    """Buildings for ``size`` households as (units, floors, rooms per floor); units 0 = no units.

    Old yards are 5–7 storey walk-ups with 2 flats per landing; estates are high-rises. Some flats
    stay unregistered (empty, sold, let to nobody), so capacity is above ``size``.
    """
    occupancy = rng.uniform(0.75, 0.95)
    needed = ceil(size / occupancy)
    if kind == "estate":
        count = max(1, round(size / rng.uniform(50, 90)))
        units, rooms = rng.choice((1, 2, 2, 3)), rng.choice((2, 2, 3, 4))
        floors = min(33, max(6, ceil(needed / count / (units * rooms))))
        layout = (units, floors, rooms)
    else:
        count = max(1, round(size / rng.uniform(24, 40)))
        floors = rng.choice((5, 6, 6, 7))
        units = ceil(needed / count / (floors * 2))
        layout = (0 if units == 1 and rng.random() < 0.5 else units, floors, 2)
    per_building = max(1, layout[0]) * layout[1] * layout[2]
    count = max(count, ceil(needed / per_building))
    return [layout] * count


def _household_row(names: _Names, rng: random.Random, unit: str, floor: int, room: str) -> list:
    """[unit, floor, room, contact, members, population, elderly_alone, disabled, pregnant,
    chronic_medicine, dialysis, care_note, phones]."""
    elderly = rng.random() < CARE_RATES["elderly_alone"]
    disabled = rng.random() < CARE_RATES["disabled"]
    pregnant = not elderly and rng.random() < CARE_RATES["pregnant"]
    chronic = rng.random() < (CARE_RATES["chronic_medicine"] * (4 if elderly else 1))
    dialysis = rng.random() < CARE_RATES["dialysis"]
    note = rng.choice(CARE_NOTES) if rng.random() < CARE_NOTE_RATE else ""
    members = 1 if elderly else rng.choice(MEMBERS)
    if pregnant and members < 2:
        members = 2
    population = PopulationType.FLOATING if rng.random() < FLOATING_RATE else PopulationType.PERMANENT
    surname, given = names.person(elderly=elderly)
    phones = [names.phone() for _phone in range(rng.choice(PHONE_COUNTS))]
    return [
        unit,
        floor,
        room,
        surname + given,
        members,
        population,
        elderly,
        disabled,
        pregnant,
        chronic,
        dialysis,
        note,
        phones,
    ]


HOUSEHOLD_COLUMNS = (
    "building_id",
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
    "assigned_worker_id",
    "created_at",
    "updated_at",
    "baseline_opt_out",
)
_FLAG_COLUMNS = {"elderly_alone": 6, "disabled": 7, "pregnant": 8, "chronic_medicine": 9, "dialysis": 10}
_NOTE_COLUMN = 11


def city_plan(*, households: int, seed: int) -> CityPlan:
    rng = random.Random(seed)
    names = _Names(rng)

    community_target = max(1, round(households / HOUSEHOLDS_PER_COMMUNITY))
    office_count = min(sum(len(d[3]) for d in DISTRICTS), max(3, ceil(community_target / COMMUNITIES_PER_OFFICE)))
    # Offices round-robin over the districts so that every district has some.
    chosen: list[tuple[str, tuple[str, str, tuple[str, ...]]]] = []
    depth = 0
    while len(chosen) < office_count:
        for district_code, _name, _hotline, offices in DISTRICTS:
            if depth < len(offices) and len(chosen) < office_count:
                chosen.append((district_code, offices[depth]))
        depth += 1
    offices = [(district_code, code, name) for district_code, (code, name, _communities) in chosen]

    community_count = max(2 * office_count, community_target)
    communities: list[_Community] = []
    per_office: Counter[str] = Counter()
    for i in range(community_count):
        district_code, (office_code, _office_name, community_names) = chosen[i % office_count]
        k = per_office[office_code]
        per_office[office_code] += 1
        if k < len(community_names):
            name = community_names[k]
        else:
            base = community_names[k % len(community_names)].removesuffix("社区")
            split = COMMUNITY_SPLITS[(k // len(community_names) - 1) % len(COMMUNITY_SPLITS)]
            round_ = (k // len(community_names) - 1) // len(COMMUNITY_SPLITS)
            name = f"{base}{split}{'' if round_ == 0 else round_ + 1}社区"
        communities.append(
            _Community(
                office_code=office_code,
                code=f"{office_code}-{k + 1:02d}",
                name=name,
                receiving_point=f"{name}{rng.choice(COMMUNITY_POINTS)}",
                district_code=district_code,
                worker_name=names.person(),
            )
        )
    demo = communities[0]

    shares = _split(households, community_count, rng, 0.35)
    return CityPlan(offices=offices, communities=communities, demo=demo, shares=shares, rng=rng, names=names)


def _community_fill(community: _Community, share: int, *, demo: bool, rng: random.Random, names: _Names) -> None:
    """Plan one community's compounds, buildings and households (the next draws of the city's stream)."""
    compound_count = min(share, max(3, round(share / HOUSEHOLDS_PER_COMPOUND)))
    sizes = _split(share, compound_count, rng, 0.5)
    street = community.name.removesuffix("社区")
    if not street.endswith(("路", "街")):
        street = rng.choice(STREETS)
    day_offset = rng.randrange(3)
    estate_share = 0.75 if community.district_code == "gaoxin" else 0.35
    for k, size in enumerate(sizes):
        roll = rng.random()
        kind = "estate" if roll < estate_share else ("work_unit" if roll < estate_share + 0.2 else "yard")
        name = names.compound(kind=kind, street=street if rng.random() < 0.6 else rng.choice(STREETS))
        level = _pick_level(rng)
        if demo and k < 3:
            # The demo community shows every level: the resident's compound is stay-at-home.
            level = (LockdownLevel.STAY_AT_HOME, LockdownLevel.STAY_IN_COMPOUND, LockdownLevel.OPEN)[k]
        compound = _Compound(
            code=f"{k + 1:03d}",
            name=name,
            level=level,
            delivery_day=(day_offset + k) % 3,
            receiving_point=f"{rng.choice(GATES)}{rng.choice(COMPOUND_POINTS)}",
        )
        layouts = _layouts(size, "estate" if kind == "estate" else "yard", rng)
        slots = [
            (b, unit, floor, room)
            for b, (units, floors, rooms) in enumerate(layouts)
            for unit in range(1, max(1, units) + 1)
            for floor in range(1, floors + 1)
            for room in range(1, rooms + 1)
        ]
        taken = sorted(rng.sample(range(len(slots)), size))
        rows_by_building: list[list[list]] = [[] for _layout in layouts]
        for index in taken:
            b, unit, floor, room = slots[index]
            unit_text = str(unit) if layouts[b][0] else ""
            rows_by_building[b].append(_household_row(names, rng, unit_text, floor, f"{floor}{room:02d}"))
        for b, rows in enumerate(rows_by_building):
            if not rows:
                continue  # no registered flat: the register does not list the building
            sealed = level < LockdownLevel.STAY_AT_HOME and rng.random() < SEALED_BUILDING_RATE
            compound.buildings.append(
                (f"{b + 1}号楼", LockdownLevel.STAY_AT_HOME if sealed else LockdownLevel.OPEN, rows)
            )
        community.compounds.append(compound)


def _ensure_care_examples(demo: _Community, communities: list[_Community]) -> None:
    """Small cities still show every care flag, and the demo worker has a ledger household.

    ``communities`` is the first batch (see ``CityPlan.batches``): the whole city when it is small.
    """
    resident_row = demo.compounds[0].buildings[0][2][0]
    demo_rows = [
        row
        for compound in demo.compounds
        for _n, _l, rows in compound.buildings
        for row in rows
        if row is not resident_row
    ]
    all_rows = (
        row
        for community in communities
        for compound in community.compounds
        for _n, _l, rows in compound.buildings
        for row in rows
    )
    present = {flag for row in all_rows for flag, column in _FLAG_COLUMNS.items() if row[column]}
    has_note = any(row[_NOTE_COLUMN] for row in demo_rows)

    def mark(row: list, flag: str) -> None:
        row[_FLAG_COLUMNS[flag]] = True
        if flag == "elderly_alone":
            row[4] = 1
            row[_FLAG_COLUMNS["pregnant"]] = False
        elif flag == "pregnant":
            row[4] = max(row[4], 2)
            row[_FLAG_COLUMNS["elderly_alone"]] = False

    if not any(row[_FLAG_COLUMNS["elderly_alone"]] for row in demo_rows):
        mark(demo_rows[0], "elderly_alone")
        present.add("elderly_alone")
    # Flags still missing go to distinct demo households (never the elderly one just marked).
    spare = [row for row in demo_rows if not any(row[c] for c in _FLAG_COLUMNS.values())]
    for flag in _FLAG_COLUMNS:
        if flag not in present and spare:
            mark(spare.pop(), flag)
    if not has_note and spare:
        spare.pop()[_NOTE_COLUMN] = CARE_NOTES[0]
