"""Deliveries' step of ``seed_demo`` (see ``core.demo``): the demo community's volunteer teams and
the shifts of the open cycle's delivery days, with sign-ups, so the ``volunteer`` account's team
has a door round on the first delivery day (its doors are divided among the teams when the cycle
is packed). Written only when the community has no team yet: running it twice changes nothing."""

import datetime

from django.db import transaction
from django.utils import timezone

from core.demo import DemoRun, DemoSection
from deliveries.models import Shift, ShiftKind, ShiftSignup, SignupStatus, Team, TeamMember
from households.models import User, Volunteer, VolunteerStatus
from supply.models import Cycle, CycleStatus

TEAMS = ("专班一组", "专班二组", "专班三组")
# (work, from, until, needed) at the receiving point on each delivery day; door rounds per team.
RECEIVING = (
    (ShiftKind.UNLOADING, datetime.time(7, 30), datetime.time(9, 30), 4),
    (ShiftKind.SORTING, datetime.time(9), datetime.time(11), 3),
)
DOORS = (datetime.time(9, 30), datetime.time(12), 4)


@transaction.atomic
def demo_step(run: DemoRun) -> list[DemoSection]:
    worker = User.objects.filter(username="worker").first()
    leader = User.objects.filter(username="volunteer").first()
    cycle = Cycle.objects.filter(status=CycleStatus.OPEN).order_by("-number").first()
    if worker is None or leader is None or cycle is None:
        return []
    community_id = worker.community_id
    if Team.objects.filter(community_id=community_id).exists():
        return [
            DemoSection(
                "Demo volunteers",
                (f"  {Team.objects.filter(community_id=community_id).count()} teams (already there)",),
            )
        ]
    people = list(
        Volunteer.objects.filter(community_id=community_id, status=VolunteerStatus.APPROVED)
        .exclude(user=leader)
        .order_by("user__username")
        .values_list("user_id", flat=True)
    )
    members = [[leader.pk], [], []]
    for index, user_id in enumerate(people):
        members[index % len(TEAMS)].append(user_id)
    teams = []
    for name, ids in zip(TEAMS, members, strict=True):
        team = Team.objects.create(community_id=community_id, name=name, leader_id=ids[0] if ids else None)
        TeamMember.objects.bulk_create([TeamMember(team=team, user_id=user_id) for user_id in ids])
        teams.append((team, ids))
    shifts = signups = 0
    for offset in range(3):
        day = cycle.first_delivery_date + datetime.timedelta(days=offset)
        for kind, starts, ends, needed in RECEIVING:
            shift = Shift.objects.create(
                community_id=community_id,
                day=day,
                kind=kind,
                starts=starts,
                ends=ends,
                needed=needed,
                created_by=worker,
            )
            shifts += 1
            # The first day's sorting stays short of people: the gap the worker's board shows.
            takers = people[: needed - 1] if kind == ShiftKind.SORTING and offset == 0 else people[:needed]
            ShiftSignup.objects.bulk_create(
                [
                    ShiftSignup(
                        shift=shift, user_id=u, status=SignupStatus.CONFIRMED, created_at=shift_time(day, starts)
                    )
                    for u in takers
                ]
            )
            signups += len(takers)
        for team, ids in teams:
            starts, ends, needed = DOORS
            shift = Shift.objects.create(
                community_id=community_id,
                day=day,
                kind=ShiftKind.DOORS,
                starts=starts,
                ends=ends,
                needed=needed,
                team=team,
                created_by=worker,
            )
            shifts += 1
            ShiftSignup.objects.bulk_create(
                [
                    ShiftSignup(
                        shift=shift, user_id=u, status=SignupStatus.CONFIRMED, created_at=shift_time(day, starts)
                    )
                    for u in ids[:needed]
                ]
            )
            signups += min(len(ids), needed)
    return [
        DemoSection(
            "Demo volunteers",
            (
                f"  {len(teams)} teams of {sum(len(ids) for _t, ids in teams)} volunteers; {shifts} shifts, {signups} sign-ups",
                f"  the volunteer account leads {TEAMS[0]}: its door round is on {cycle.first_delivery_date:%Y-%m-%d}",
            ),
        )
    ]


def shift_time(day: datetime.date, starts: datetime.time) -> datetime.datetime:
    """When a demo sign-up was made: the evening before the shift."""
    return timezone.make_aware(datetime.datetime.combine(day - datetime.timedelta(days=1), datetime.time(20)))
