"""Lockdown management: scheduled level changes, daily positive case reports, the 7-day rule."""

import datetime

import pytest
from django.utils import timezone

from core.errors import BaogongError
from households import selectors, services
from households.models import LockdownChange, LockdownLevel, PositiveCaseReport
from tests.factories import BuildingFactory

pytestmark = pytest.mark.django_db

TODAY = datetime.date(2026, 11, 29)


def report(place, *, days_ago, cases=0, building=None, today=TODAY):
    services.positive_cases_record(
        compound_id=place.compound.pk,
        building_id=building.pk if building else None,
        date=today - datetime.timedelta(days=days_ago),
        cases=cases,
        recorded_by=None,
        today=today,
    )


def status_of(city, compound, building=None):
    statuses = selectors.unsealing_list(user=city.users.city_taskforce, today=TODAY)
    return next(s for s in statuses if s.compound.pk == compound.pk and s.building == building)


@pytest.fixture
def sealed(city):
    """Community A's compound (stay at home)."""
    return city.places[city.a.pk]


def test_seven_negative_days_make_a_compound_eligible_six_do_not(city, sealed):
    for days_ago in range(1, 7):  # yesterday back to 6 days ago: 6 days
        report(sealed, days_ago=days_ago)
    status = status_of(city, sealed.compound)
    assert status.negative_days == 6 and not status.eligible
    report(sealed, days_ago=7)
    assert status_of(city, sealed.compound).eligible  # today not reported yet: counted from yesterday


def test_today_counts_once_reported_and_a_positive_today_resets(city, sealed):
    for days_ago in range(0, 7):
        report(sealed, days_ago=days_ago)
    assert status_of(city, sealed.compound).negative_days == 7
    report(sealed, days_ago=0, cases=1)  # today's report corrected: one positive
    status = status_of(city, sealed.compound)
    assert status.negative_days == 0 and not status.eligible
    assert PositiveCaseReport.objects.count() == 7  # corrected, not duplicated


def test_a_missing_day_breaks_the_run(city, sealed):
    for days_ago in (1, 2, 3, 5, 6, 7, 8):  # 4 days ago never reported
        report(sealed, days_ago=days_ago)
    assert status_of(city, sealed.compound).negative_days == 3


def test_a_positive_eight_days_ago_no_longer_matters(city, sealed):
    report(sealed, days_ago=8, cases=5)
    for days_ago in range(1, 8):
        report(sealed, days_ago=days_ago)
    assert status_of(city, sealed.compound).eligible


def test_a_positive_in_one_building_keeps_the_compound_but_not_its_neighbour_sealed(city, sealed):
    other = BuildingFactory(compound=sealed.compound, lockdown_level=LockdownLevel.STAY_AT_HOME)
    open_compound = city.places[city.b.pk]  # stay in compound
    tower = BuildingFactory(compound=open_compound.compound, lockdown_level=LockdownLevel.STAY_AT_HOME)
    for days_ago in range(1, 8):
        report(open_compound, days_ago=days_ago, building=tower)
        report(open_compound, days_ago=days_ago, building=open_compound.building, cases=1 if days_ago == 3 else 0)
    assert status_of(city, open_compound.compound, tower).eligible  # its own reports are all negative
    assert not status_of(city, open_compound.compound).eligible  # the compound had a positive 3 days ago
    assert other.lockdown_level == sealed.compound.lockdown_level  # not sealed beyond its compound: not listed
    statuses = selectors.unsealing_list(user=city.users.city_taskforce, today=TODAY)
    assert not [s for s in statuses if s.building == other]


def test_open_compounds_are_not_listed_and_scope_applies(city, sealed):
    statuses = selectors.unsealing_list(user=city.users.city_taskforce, today=TODAY)
    assert city.places[city.c.pk].compound.pk not in {s.compound.pk for s in statuses}  # open
    worker_b = selectors.unsealing_list(user=city.users.worker_b, today=TODAY)
    assert {s.compound.community_id for s in worker_b} == {city.b.pk}


def test_reports_refuse_the_future_other_compounds_buildings_and_negative_counts(city, sealed):
    with pytest.raises(BaogongError):
        report(sealed, days_ago=-1)
    with pytest.raises(BaogongError):
        report(sealed, days_ago=0, building=city.places[city.b.pk].building)
    with pytest.raises(BaogongError):
        report(sealed, days_ago=0, cases=-1)
    assert not PositiveCaseReport.objects.exists()


def test_a_scheduled_change_waits_for_its_time_then_applies_once(city, sealed, django_capture_on_commit_callbacks):
    now = timezone.now()
    compound = sealed.compound
    services.compound_set_lockdown_level(
        compound_id=compound.pk,
        level=LockdownLevel.STAY_IN_COMPOUND,
        reason="7天无新增",
        changed_by=city.users.taskforce,
        effective_at=now + datetime.timedelta(hours=2),
        now=now,
    )
    compound.refresh_from_db()
    assert compound.lockdown_level == LockdownLevel.STAY_AT_HOME
    change = LockdownChange.objects.get()
    assert change.is_scheduled
    assert services.lockdown_changes_apply_due(now=now + datetime.timedelta(hours=1)) == 0  # not yet
    with django_capture_on_commit_callbacks() as callbacks:
        assert services.lockdown_changes_apply_due(now=now + datetime.timedelta(hours=2)) == 1
    assert callbacks  # the compound's packages are recomputed after the commit
    assert services.lockdown_changes_apply_due(now=now + datetime.timedelta(hours=3)) == 0  # once
    compound.refresh_from_db()
    change.refresh_from_db()
    assert compound.lockdown_level == LockdownLevel.STAY_IN_COMPOUND
    assert change.applied_at == now + datetime.timedelta(hours=2) and change.from_level == LockdownLevel.STAY_AT_HOME


def test_a_scheduled_change_can_be_cancelled_until_it_applies(city, sealed):
    now = timezone.now()
    before = sealed.building.lockdown_level
    assert before != LockdownLevel.STAY_AT_HOME  # the building follows its compound
    services.building_set_lockdown_level(
        building_id=sealed.building.pk,
        level=LockdownLevel.STAY_AT_HOME,
        reason="楼栋封控",
        changed_by=None,
        effective_at=now + datetime.timedelta(hours=1),
        now=now,
    )
    change = LockdownChange.objects.get()
    services.lockdown_change_cancel(change_id=change.pk, cancelled_by=None)
    assert services.lockdown_changes_apply_due(now=now + datetime.timedelta(days=1)) == 0
    with pytest.raises(BaogongError):
        services.lockdown_change_cancel(change_id=change.pk, cancelled_by=None)
    sealed.building.refresh_from_db()
    assert sealed.building.lockdown_level == before


def test_pages_schedule_record_and_list(city, sealed, client):
    client.force_login(city.users.taskforce)
    url = f"/compounds/{sealed.compound.pk}/"
    later = timezone.localtime() + datetime.timedelta(days=1)
    response = client.post(
        url + "level/", {"level": 1, "reason": "连续7天无新增", "effective_at": later.strftime("%Y-%m-%dT%H:%M")}
    )
    assert response.status_code == 302
    change = LockdownChange.objects.get()
    assert change.is_scheduled
    page = client.get(url).content.decode()
    assert "已安排" in page or "Scheduled" in page
    client.post(f"{url}level/{change.pk}/cancel/")
    change.refresh_from_db()
    assert change.cancelled_at is not None

    client.force_login(city.users.worker)
    for days_ago in range(1, 8):
        day = timezone.localdate() - datetime.timedelta(days=days_ago)
        assert client.post(url + "cases/", {"building": "", "date": day.isoformat(), "cases": 0}).status_code == 302
    assert PositiveCaseReport.objects.count() == 7
    listing = client.get("/compounds/unsealing/").content.decode()
    assert sealed.compound.name in listing
    assert "7+" in listing

    client.force_login(city.users.worker_b)  # another community's worker cannot touch this compound
    assert (
        client.post(url + "cases/", {"building": "", "date": timezone.localdate().isoformat(), "cases": 3}).status_code
        == 404
    )
    client.force_login(city.users.resident)
    assert client.get("/compounds/unsealing/").status_code == 403
