"""Rounds split among teams (issue 16): whole buildings, every door once, balanced."""

import datetime
import statistics
from collections import Counter

import pytest
from django.utils import timezone

from core.errors import NotFound
from deliveries.models import Package, RoundAssignment
from deliveries.volunteers import rounds
from tests.deliveries.volunteers import community_of_doors, teams_of


@pytest.fixture
def big_community(city, shop):
    day = timezone.localdate() + datetime.timedelta(days=1)
    made = community_of_doors(city.a, households=4000, cycle=shop.cycle, day=day)
    assert made == 4000
    return day


def test_a_4000_household_community_split_among_8_teams(city, big_community, django_assert_max_num_queries):
    day = big_community
    crew = teams_of(city.a, city.users.worker, 8)
    with django_assert_max_num_queries(12):
        split = rounds.rounds_split(community_id=city.a.pk, day=day, by=city.users.worker)

    packages = list(Package.objects.filter(community=city.a, delivery_date=day).values_list("pk", "building_id"))
    team_of = dict(RoundAssignment.objects.filter(day=day).values_list("building_id", "team_id"))
    # Every door package is in exactly one round, and no building is split between teams.
    assert all(building in team_of for _pk, building in packages)
    assert RoundAssignment.objects.filter(day=day).count() == len({b for _pk, b in packages})
    doors = Counter(team_of[building] for _pk, building in packages)
    assert sum(doors.values()) == 4000 == sum(r[0] for r in split.rounds.values())
    assert set(doors) == {t.pk for t in crew.teams}
    mean = statistics.mean(doors.values())
    assert max(doors.values()) <= mean * 1.15, doors
    # Stay-at-home buildings come first in each round.
    for team in crew.teams:
        sealed = [
            a.building.effective_level == 2
            for a in RoundAssignment.objects.filter(team=team, day=day)
            .order_by("position")
            .select_related("building__compound")
        ]
        assert sealed == sorted(sealed, reverse=True)


def test_a_second_split_replaces_the_first_and_a_building_moves_whole(city, big_community):
    day = big_community
    crew = teams_of(city.a, city.users.worker, 3)
    rounds.rounds_split(community_id=city.a.pk, day=day, by=city.users.worker)
    rounds.rounds_split(community_id=city.a.pk, day=day, by=city.users.worker)
    first = RoundAssignment.objects.filter(day=day, team=crew.teams[0]).order_by("position").first()
    moved = rounds.round_building_move(
        community_id=city.a.pk, day=day, building_id=first.building_id, team_id=crew.teams[2].pk, by=city.users.worker
    )
    assert moved.team_id == crew.teams[2].pk
    assert RoundAssignment.objects.filter(day=day, building_id=first.building_id).count() == 1


def test_only_the_community_s_worker_splits(city, big_community):
    teams_of(city.a, city.users.worker, 2)
    for user in (city.users.worker_b, city.users.office, city.users.resident, city.users.operator):
        with pytest.raises(NotFound):
            rounds.rounds_split(community_id=city.a.pk, day=big_community, by=user)
    assert not RoundAssignment.objects.exists()
