"""Reads for volunteers and their worker: a volunteer's round and shifts, the teams' progress on a
day, the shift board with its gaps, and the service record (hours and doors per volunteer per day).
Each reads set-based, in a fixed number of queries."""

from __future__ import annotations

import datetime
from collections import defaultdict
from dataclasses import dataclass, field
from typing import Any

from django.db.models import Count, Q
from django.utils import timezone

from core.edges import natural_key
from deliveries.models import (
    HandoverEvent,
    HandoverKind,
    Package,
    PackageStatus,
    RoundAssignment,
    Shift,
    ShiftKind,
    ShiftSignup,
    SignupStatus,
    Team,
    TeamMember,
    shift_hours,
)
from deliveries.selectors import on_day, round_packages
from households.access import restrict
from households.models import DeliveryMode, HealthDeclaration, User, Volunteer, VolunteerStatus

# --- the volunteer's own -----------------------------------------------------------------------------


def team_of(user: User) -> Team | None:
    member = TeamMember.objects.filter(user_id=user.pk).select_related("team__leader").first()
    return member.team if member else None


def round_day(*, user: User, today: datetime.date | None = None) -> datetime.date | None:
    """The day of the volunteer's round: today if its team has one, else its team's next."""
    today = today or timezone.localdate()
    return (
        restrict(RoundAssignment.objects.filter(day__gte=today), user)
        .order_by("day")
        .values_list("day", flat=True)
        .first()
    )


def _door_counts(packages, *, day: datetime.date, building_ids: list[int]) -> dict[int, dict[str, int]]:
    """Per building, the door packages of ``day``'s round: doors, delivered, and not delivered
    (refused, or missed and re-queued to a later day). One query."""
    rows = (
        packages.filter(on_day(day), mode=DeliveryMode.DOOR, building_id__in=building_ids)
        .values("building_id")
        .annotate(
            doors=Count("id"),
            delivered=Count("id", filter=Q(status=PackageStatus.DELIVERED)),
            missed=Count("id", filter=Q(status=PackageStatus.EXCEPTION) | ~Q(delivery_date=day)),
        )
        .order_by()
    )
    return {row.pop("building_id"): {k: int(v) for k, v in row.items()} for row in rows}


def round_buildings(*, user: User, day: datetime.date) -> list[dict]:
    """The buildings of the volunteer's team round on ``day``, in the round's order, each with its
    doors, delivered and not delivered (two queries)."""
    assignments = list(
        restrict(RoundAssignment.objects.filter(day=day), user)
        .order_by("position")
        .values("building_id", "building__number", "building__compound__name")
    )
    counts = _door_counts(
        restrict(Package.objects.all(), user), day=day, building_ids=[a["building_id"] for a in assignments]
    )
    return [
        {
            "building_id": a["building_id"],
            "label": f"{a['building__compound__name']} {a['building__number']}",
            "doors": counts.get(a["building_id"], {}).get("doors", 0),
            "delivered": counts.get(a["building_id"], {}).get("delivered", 0),
            "missed": counts.get(a["building_id"], {}).get("missed", 0),
        }
        for a in assignments
    ]


def volunteer_round(
    *, user: User, day: datetime.date, building_id: int | None = None, package_id: int | None = None
) -> list[Any]:
    """The team's doors of ``day`` (of one of its buildings, ``building_id``) in walking order: the
    round's buildings in their order (stay-at-home first), then unit, floor and room. Only packages
    the volunteer may see (households.access)."""
    position = dict(restrict(RoundAssignment.objects.filter(day=day), user).values_list("building_id", "position"))
    packages = [
        p
        for p in round_packages(user=user, day=day, compound_id=None, package_id=package_id, building_id=building_id)
        if p.mode == DeliveryMode.DOOR
    ]
    packages.sort(
        key=lambda p: (
            position.get(p.building_id, len(position)),
            natural_key(p.household.unit),
            p.household.floor,
            natural_key(p.household.room),
            p.code,
        )
    )
    return packages


@dataclass
class ShiftRow:
    shift: Shift
    confirmed: int
    waiting: int
    mine: str = ""  # the volunteer's own sign-up status, if any
    volunteers: list[str] = field(default_factory=list)

    @property
    def gap(self) -> int:
        return max(self.shift.needed - self.confirmed, 0)


def _shift_rows(shifts, *, user: User | None = None, names: bool = False) -> list[ShiftRow]:
    shifts = list(
        shifts.select_related("team").annotate(
            confirmed=Count("signups", filter=Q(signups__status=SignupStatus.CONFIRMED)),
            waiting=Count("signups", filter=Q(signups__status=SignupStatus.WAITING)),
        )
    )
    mine: dict[int, str] = {}
    if user is not None:
        mine = dict(
            ShiftSignup.objects.filter(shift__in=[s.pk for s in shifts], user=user)
            .exclude(status=SignupStatus.CANCELLED)
            .values_list("shift_id", "status")
        )
    who: dict[int, list[str]] = defaultdict(list)
    if names:
        for shift_id, name, status in (
            ShiftSignup.objects.filter(shift__in=[s.pk for s in shifts])
            .exclude(status=SignupStatus.CANCELLED)
            .order_by("status", "created_at", "pk")
            .values_list("shift_id", "user__volunteer__name", "status")
        ):
            who[shift_id].append(name if status == SignupStatus.CONFIRMED else f"({name})")
    return [
        ShiftRow(shift=s, confirmed=s.confirmed, waiting=s.waiting, mine=mine.get(s.pk, ""), volunteers=who[s.pk])
        for s in shifts
    ]


def volunteer_shifts(*, user: User, today: datetime.date | None = None) -> list[ShiftRow]:
    """The shifts a volunteer may sign up for, from today: the receiving point's, and its own team's
    door rounds (three queries)."""
    today = today or timezone.localdate()
    team = TeamMember.objects.filter(user_id=user.pk).values_list("team_id", flat=True)
    shifts = (
        restrict(Shift.objects.filter(day__gte=today), user)
        .filter(~Q(kind=ShiftKind.DOORS) | Q(team_id__in=team))
        .order_by("day", "starts", "kind")[:60]
    )
    return _shift_rows(shifts, user=user)


# --- the worker's ------------------------------------------------------------------------------------


def shift_board(*, user: User, community_id: int, start: datetime.date, days: int = 3) -> list[ShiftRow]:
    """The community's shifts of ``days`` days from ``start``, with who is on them and the gaps."""
    shifts = restrict(
        Shift.objects.filter(community_id=community_id, day__gte=start, day__lt=start + datetime.timedelta(days=days)),
        user,
    ).order_by("day", "starts", "kind")
    return _shift_rows(shifts, names=True)


@dataclass
class TeamRow:
    team: Team
    members: list[str]
    confirmed: int  # volunteers confirmed on its door round that day
    buildings: list[dict]  # {building_id, label}, in the round's order
    doors: int
    delivered: int
    exceptions: int
    unwell: list[str] = field(default_factory=list)  # members who declared themselves not well that day

    @property
    def out(self) -> int:
        return self.doors - self.delivered - self.exceptions


def team_progress(*, user: User, community_id: int, day: datetime.date) -> list[TeamRow]:
    """Each team of the community on ``day``: its round's buildings and doors, delivered, not
    delivered and still out, who is on it and who declared itself not well (six queries, whatever
    the size)."""
    teams = list(restrict(Team.objects.filter(community_id=community_id), user).select_related("leader"))
    members: dict[int, list[str]] = defaultdict(list)
    for team_id, name in (
        TeamMember.objects.filter(team__in=teams)
        .order_by("user__volunteer__name")
        .values_list("team_id", "user__volunteer__name")
    ):
        members[team_id].append(name)
    unwell: dict[int, list[str]] = defaultdict(list)
    for team_id, name in HealthDeclaration.objects.filter(
        day=day, well=False, volunteer__user__team_member__team__in=teams
    ).values_list("volunteer__user__team_member__team_id", "volunteer__name"):
        unwell[team_id].append(name)
    confirmed = dict(
        ShiftSignup.objects.filter(
            shift__team__in=teams, shift__day=day, shift__kind=ShiftKind.DOORS, status=SignupStatus.CONFIRMED
        )
        .values("shift__team_id")
        .annotate(n=Count("user_id", distinct=True))
        .values_list("shift__team_id", "n")
    )
    buildings: dict[int, list[dict]] = defaultdict(list)
    team_of_building: dict[int, int] = {}
    for team_id, building_id, number, compound in (
        RoundAssignment.objects.filter(team__in=teams, day=day)
        .order_by("position")
        .values_list("team_id", "building_id", "building__number", "building__compound__name")
    ):
        buildings[team_id].append({"building_id": building_id, "label": f"{compound} {number}"})
        team_of_building[building_id] = team_id
    counts: dict[int, dict[str, int]] = defaultdict(lambda: {"doors": 0, "delivered": 0, "exceptions": 0})
    for building_id, figures in _door_counts(
        Package.objects.filter(community_id=community_id), day=day, building_ids=list(team_of_building)
    ).items():
        row = counts[team_of_building[building_id]]
        row["doors"] += figures["doors"]
        row["delivered"] += figures["delivered"]
        row["exceptions"] += figures["missed"]
    return [
        TeamRow(
            team=team,
            members=members[team.pk],
            confirmed=confirmed.get(team.pk, 0),
            buildings=buildings[team.pk],
            unwell=unwell[team.pk],
            **counts[team.pk],
        )
        for team in sorted(teams, key=lambda t: t.name)
    ]


# --- the service record ------------------------------------------------------------------------------


@dataclass
class ServiceDay:
    volunteer_id: int
    name: str
    day: datetime.date
    hours: float
    doors: int


def service_record(
    *, user: User, community_id: int, start: datetime.date, end: datetime.date, volunteer_id: int | None = None
) -> list[ServiceDay]:
    """Hours (confirmed shifts that day) and doors (packages it delivered that day) per volunteer per
    day, from ``start`` to ``end`` included. Two queries."""
    volunteers = restrict(Volunteer.objects.filter(community_id=community_id, status=VolunteerStatus.APPROVED), user)
    if volunteer_id is not None:
        volunteers = volunteers.filter(pk=volunteer_id)
    people = {user_id: (pk, name) for pk, user_id, name in volunteers.values_list("pk", "user_id", "name")}
    record: dict[tuple[int, datetime.date], list[float]] = defaultdict(lambda: [0.0, 0.0])
    for user_id, day, starts, ends in ShiftSignup.objects.filter(
        user_id__in=people, status=SignupStatus.CONFIRMED, shift__day__gte=start, shift__day__lte=end
    ).values_list("user_id", "shift__day", "shift__starts", "shift__ends"):
        record[(user_id, day)][0] += shift_hours(starts, ends)
    first = timezone.make_aware(datetime.datetime.combine(start, datetime.time.min))
    last = timezone.make_aware(datetime.datetime.combine(end + datetime.timedelta(days=1), datetime.time.min))
    delivered = (
        HandoverEvent.objects.filter(by_id__in=people, kind=HandoverKind.DELIVERED, at__gte=first, at__lt=last)
        .exclude(undone_by__isnull=False)
        .values_list("by_id", "at")
    )
    for user_id, at in delivered:
        record[(user_id, timezone.localdate(at))][1] += 1
    rows = [
        ServiceDay(
            volunteer_id=people[user_id][0], name=people[user_id][1], day=day, hours=round(hours, 2), doors=int(doors)
        )
        for (user_id, day), (hours, doors) in record.items()
    ]
    rows.sort(key=lambda r: (r.name, r.volunteer_id, r.day))
    return rows
