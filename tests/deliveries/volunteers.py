"""Shared by the volunteers' tests: a community of door packages at city scale, written in bulk,
and approved volunteers in teams."""

import datetime
import random
from decimal import Decimal
from types import SimpleNamespace

from django.utils import timezone

from deliveries.models import Package, TeamMember
from deliveries.volunteers import teams as team_services
from households.models import (
    Building,
    Compound,
    DeliveryMode,
    Household,
    LockdownLevel,
    Role,
    Volunteer,
    VolunteerStatus,
)
from supply.models import Cycle
from tests.factories import UserFactory

# Walk-ups (no lift): 2 units × 6 floors × 2 rooms; high-rises (lift): 2 units × 18 floors × 4 rooms.
WALK_UP = (2, 6, 2, False)
HIGH_RISE = (2, 18, 4, True)


def community_of_doors(community, *, households: int, cycle: Cycle, day: datetime.date, seed: int = 7):
    """``households`` households with a door package each on ``day``, in compounds of about 300
    households mixing walk-ups and high-rises, a few compounds stay-at-home. Bulk-written."""
    rng = random.Random(seed)
    made = 0
    compound_no = 0
    package_rows = []
    while made < households:
        compound_no += 1
        level = LockdownLevel.STAY_AT_HOME if compound_no % 4 == 0 else LockdownLevel.STAY_IN_COMPOUND
        compound = Compound.objects.create(
            community=community, name=f"测试小区{compound_no}", code=f"t{compound_no}", lockdown_level=level
        )
        in_compound = 0
        building_no = 0
        while in_compound < 300 and made < households:
            building_no += 1
            units, floors, rooms, lift = HIGH_RISE if rng.random() < 0.4 else WALK_UP
            building = Building.objects.create(compound=compound, number=f"{building_no}号楼", has_lift=lift)
            rows = []
            for unit in range(1, units + 1):
                for floor in range(1, floors + 1):
                    for room in range(1, rooms + 1):
                        if made + len(rows) >= households:
                            break
                        rows.append(
                            Household(
                                building=building,
                                unit=str(unit),
                                floor=floor,
                                room=f"{floor}{room:02d}",
                                contact_name="住户",
                            )
                        )
            Household.objects.bulk_create(rows)
            for household in rows:
                package_rows.append(
                    Package(
                        cycle=cycle,
                        household=household,
                        community=community,
                        compound=compound,
                        building=building,
                        code=f"T-{household.pk}",
                        mode=DeliveryMode.DOOR,
                        delivery_date=day,
                        dispatch_date=day,
                        orders_count=1,
                        item_count=2,
                        item_summary="大白菜×2",
                        total=Decimal("13.00"),
                        to_collect=Decimal("0.00"),
                    )
                )
            made += len(rows)
            in_compound += len(rows)
    Package.objects.bulk_create(package_rows, batch_size=2000)
    return made


def volunteer(community, *, name: str, phone: str, approved: bool = True, **extra) -> Volunteer:
    user = UserFactory(
        role=Role.VOLUNTEER, community=community, phone=phone, username=phone, first_name=name, is_active=approved
    )
    return Volunteer.objects.create(
        user=user,
        community=community,
        name=name,
        status=VolunteerStatus.APPROVED if approved else VolunteerStatus.PENDING,
        decided_at=timezone.now() if approved else None,
        **extra,
    )


def teams_of(community, worker, count: int, *, size: int = 2) -> SimpleNamespace:
    """``count`` teams of ``size`` approved volunteers each."""
    teams, people = [], []
    for t in range(count):
        team = team_services.team_create(community_id=community.pk, name=f"第{t + 1}专班", by=worker)
        for m in range(size):
            v = volunteer(community, name=f"志愿者{t + 1}-{m + 1}", phone=f"+861370000{t:02d}{m:02d}")
            team_services.team_member_add(team_id=team.pk, user_id=v.user_id, by=worker, leader=m == 0)
            people.append(v)
        teams.append(team)
    assert TeamMember.objects.filter(team__in=teams).count() == count * size
    return SimpleNamespace(teams=teams, volunteers=people)
