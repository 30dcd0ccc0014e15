"""Each delivery day's door packages of a community divided among its teams (rounds).

A round is a list of whole buildings. The split is set-based: one aggregate query gives each
building's doors and effort, the division runs in memory, one DELETE and one bulk INSERT store it.
"""

from __future__ import annotations

import datetime
from dataclasses import dataclass

from django.conf import settings
from django.db import transaction
from django.db.models import Count, F, Q, Sum, Value
from django.db.models.functions import Greatest
from django.utils.translation import gettext as _

from core.errors import BaogongError, NotFound
from deliveries import rules
from deliveries.models import Package, RoundAssignment, ShiftKind, SignupStatus, Team
from households.access import restrict
from households.models import Community, DeliveryMode, LockdownLevel, User
from households.permissions import allows

# Effort in tenths of a door: a door counts 10, plus CLIMB for each floor above FREE_FLOORS in a
# building without a lift.
DOOR_EFFORT = 10


@dataclass(frozen=True)
class BuildingLoad:
    building_id: int
    doors: int
    effort: int
    sealed: bool  # stay-at-home: first in the round
    order: tuple  # walking order: compound, building


@dataclass(frozen=True)
class RoundSplit:
    day: datetime.date
    # team id → (doors, effort, building ids in walking order)
    rounds: dict[int, tuple[int, int, list[int]]]


def _community_for(by: User, community_id: int) -> Community:
    community = restrict(Community.objects.filter(pk=community_id), by).first()
    if community is None or not allows(by, rules.TEAMS):
        raise NotFound(_("Unknown community."))
    return community


def building_loads(*, community_id: int, day: datetime.date) -> list[BuildingLoad]:
    """Doors and effort of each building with door packages on ``day``, in walking order. One query."""
    free = settings.ROUND_FREE_FLOORS
    climb = settings.ROUND_CLIMB_PER_FLOOR
    above = Greatest(F("household__floor") - Value(free), Value(0))
    rows = (
        Package.objects.filter(community_id=community_id, delivery_date=day, mode=DeliveryMode.DOOR)
        .values(
            "building_id",
            "building__sort_key",
            "building__number",
            "compound__code",
            "building__lockdown_level",
            "compound__lockdown_level",
        )
        .annotate(
            doors=Count("id"),
            climbed=Sum(above, filter=Q(building__has_lift=False), default=0),
        )
    )
    loads = [
        BuildingLoad(
            building_id=row["building_id"],
            doors=row["doors"],
            effort=row["doors"] * DOOR_EFFORT + row["climbed"] * climb,
            sealed=max(row["building__lockdown_level"], row["compound__lockdown_level"]) == LockdownLevel.STAY_AT_HOME,
            order=(row["compound__code"], row["building__sort_key"], row["building__number"]),
        )
        for row in rows
    ]
    loads.sort(key=lambda load: load.order)
    return loads


def _cut(loads: list[BuildingLoad], parts: int) -> list[list[BuildingLoad]]:
    """Buildings in walking order cut into at most ``parts`` consecutive rounds whose largest effort
    is as small as possible (binary search on that largest effort; a greedy walk checks it), then
    as many rounds as there are teams while there are buildings to give them."""

    def rounds_for(limit: int, *, fill: bool) -> list[list[BuildingLoad]] | None:
        rounds: list[list[BuildingLoad]] = [[]]
        load = 0
        for index, building in enumerate(loads):
            if building.effort > limit:
                return None
            left = len(loads) - index  # this building included
            if rounds[-1] and (load + building.effort > limit or (fill and left <= parts - len(rounds))):
                rounds.append([])
                load = 0
            rounds[-1].append(building)
            load += building.effort
        return rounds if len(rounds) <= parts else None

    low = max((b.effort for b in loads), default=0)
    high = sum(b.effort for b in loads)
    while low < high:
        middle = (low + high) // 2
        if rounds_for(middle, fill=False) is None:
            low = middle + 1
        else:
            high = middle
    return [r for r in (rounds_for(high, fill=True) or []) if r]


def teams_present(*, community_id: int, day: datetime.date) -> list[Team]:
    """The teams with a door round that day and someone confirmed on it; if no team has one yet,
    every team of the community that has members."""
    present = list(
        Team.objects.filter(
            community_id=community_id,
            shifts__day=day,
            shifts__kind=ShiftKind.DOORS,
            shifts__signups__status=SignupStatus.CONFIRMED,
        )
        .distinct()
        .order_by("name")
    )
    return present or list(
        Team.objects.filter(community_id=community_id, members__isnull=False).distinct().order_by("name")
    )


def _split(community: Community, day: datetime.date, teams: list[Team]) -> RoundSplit:
    loads = building_loads(community_id=community.pk, day=day)
    rounds = _cut(loads, len(teams))
    assignments = []
    result: dict[int, tuple[int, int, list[int]]] = {team.pk: (0, 0, []) for team in teams}
    for team, stretch in zip(teams, rounds, strict=False):
        ordered = sorted(stretch, key=lambda b: (not b.sealed, b.order))
        assignments += [
            RoundAssignment(
                community=community,
                day=day,
                building_id=building.building_id,
                team=team,
                doors=building.doors,
                weight=building.effort,
                position=position,
            )
            for position, building in enumerate(ordered)
        ]
        result[team.pk] = (
            sum(b.doors for b in stretch),
            sum(b.effort for b in stretch),
            [b.building_id for b in ordered],
        )
    RoundAssignment.objects.filter(community=community, day=day).delete()
    RoundAssignment.objects.bulk_create(assignments, batch_size=2000)
    return RoundSplit(day=day, rounds=result)


@transaction.atomic
def rounds_split(*, community_id: int, day: datetime.date, by: User, team_ids: list[int] | None = None) -> RoundSplit:
    """Divide the community's door packages of ``day`` among its teams (those present that day, or
    ``team_ids``).

    Guarantees: every building with door packages that day goes to exactly one team, whole (never
    split); rounds are consecutive stretches of the walking order (compound, building), cut so the
    largest effort (doors, plus floors climbed without a lift) is as small as it can be; within a
    round stay-at-home buildings come first; a split replaces the day's earlier one. Only the
    community's worker (or an administrator). Set-based: one read, one delete, one bulk insert.
    """
    community = _community_for(by, community_id)
    teams = teams_present(community_id=community.pk, day=day)
    if team_ids is not None:
        teams = list(Team.objects.filter(community=community, pk__in=team_ids).order_by("name"))
    if not teams:
        raise BaogongError(_("Form at least one team with members before splitting the rounds."))
    return _split(community, day, teams)


def rounds_after_build(*, community_id: int, days) -> int:
    """After a community's packages are built: each delivery day's doors divided among the teams
    present that day, when the community has teams (one query when it has none). Returns the days split."""
    if not days or not Team.objects.filter(community_id=community_id, members__isnull=False).exists():
        return 0
    community = Community.objects.get(pk=community_id)
    for day in sorted(days):
        _split(community, day, teams_present(community_id=community_id, day=day))
    return len(days)


@transaction.atomic
def round_building_move(
    *, community_id: int, day: datetime.date, building_id: int, team_id: int, by: User
) -> RoundAssignment:
    """The worker moves a building (all its doors) to another team's round that day, at its end.

    Guarantees: only a building already in a round of that community and day, only to a team of
    the same community; the building stays whole.
    """
    community = _community_for(by, community_id)
    assignment = (
        RoundAssignment.objects.select_for_update()
        .filter(community=community, day=day, building_id=building_id)
        .first()
    )
    team = Team.objects.filter(community=community, pk=team_id).first()
    if assignment is None or team is None:
        raise NotFound(_("Unknown building or team."))
    if assignment.team_id != team.pk:
        last = (
            RoundAssignment.objects.filter(team=team, day=day)
            .order_by("-position")
            .values_list("position", flat=True)
            .first()
        )
        assignment.team = team
        assignment.position = (last + 1) if last is not None else 0
        assignment.save(update_fields=["team", "position"])
    return assignment
