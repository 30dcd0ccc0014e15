"""Volunteers at the doors (issue 16): teams, shifts with a waiting list, the team's round and
nothing else, door outcomes recorded in the volunteer's name, progress and the service record."""

import datetime

import pytest
from django.utils import timezone

from core.errors import BaogongError, Conflict, NotFound
from deliveries import handovers
from deliveries.models import HandoverEvent, Package, PackageStatus, RoundAssignment, ShiftSignup, SignupStatus
from deliveries.volunteers import rounds, selectors, teams
from households.access import restrict
from households.models import Building, Community, Household, HouseholdPhone, LockdownChange
from households.volunteers import health_declare
from tests.deliveries.custody import leg, receive
from tests.deliveries.volunteers import volunteer


@pytest.fixture
def crew(city):
    """Community A's volunteer in team 1 (its leader), another volunteer in team 2."""
    one = teams.team_create(community_id=city.a.pk, name="一组", by=city.users.worker)
    two = teams.team_create(community_id=city.a.pk, name="二组", by=city.users.worker)
    teams.team_member_add(team_id=one.pk, user_id=city.users.volunteer.pk, by=city.users.worker, leader=True)
    other = volunteer(city.a, name="李二", phone="+8613700000222")
    teams.team_member_add(team_id=two.pk, user_id=other.user_id, by=city.users.worker)
    return one, two, other.user


def _shift(city, *, kind="unloading", needed=1, team=None, day=None):
    return teams.shift_create(
        community_id=city.a.pk,
        day=day or timezone.localdate() + datetime.timedelta(days=1),
        kind=kind,
        starts=datetime.time(8),
        ends=datetime.time(11, 30),
        needed=needed,
        team_id=team.pk if team else None,
        by=city.users.worker,
    )


def test_sign_ups_fill_the_shift_then_wait_and_a_cancel_promotes_the_first(city, crew):
    one, two, other = crew
    shift = _shift(city, needed=1)
    first = teams.shift_signup(shift_id=shift.pk, user=city.users.volunteer)
    second = teams.shift_signup(shift_id=shift.pk, user=other)
    assert (first.status, second.status) == (SignupStatus.CONFIRMED, SignupStatus.WAITING)
    assert teams.shift_signup(shift_id=shift.pk, user=other).pk == second.pk  # twice: the same sign-up
    teams.shift_cancel(shift_id=shift.pk, user=city.users.volunteer)
    second.refresh_from_db()
    assert second.status == SignupStatus.CONFIRMED
    assert ShiftSignup.objects.filter(shift=shift, status=SignupStatus.CONFIRMED).count() == 1


def test_a_door_round_is_the_team_s_and_shifts_are_checked(city, crew):
    one, two, other = crew
    door = _shift(city, kind="doors", needed=3, team=one)
    with pytest.raises(Conflict):
        teams.shift_signup(shift_id=door.pk, user=other)
    assert teams.shift_signup(shift_id=door.pk, user=city.users.volunteer).status == SignupStatus.CONFIRMED
    for bad in (
        {"kind": "doors", "team": None},
        {"needed": 0},
        {"day": timezone.localdate() - datetime.timedelta(days=1)},
    ):
        with pytest.raises(BaogongError):
            _shift(city, **bad)
    with pytest.raises(NotFound):
        teams.shift_signup(shift_id=door.pk, user=city.users.resident)
    with pytest.raises(NotFound):
        teams.team_create(community_id=city.a.pk, name="x", by=city.users.worker_b)


def test_a_call_for_help_texts_available_volunteers_once_per_half_hour(
    city, crew, sms_outbox, django_capture_on_commit_callbacks
):
    one, two, other = crew
    day = timezone.localdate() + datetime.timedelta(days=1)
    bit = 1 << (day.weekday() * 2)
    type(other.volunteer).objects.filter(user=other).update(availability=bit)
    shift = _shift(city, needed=2, day=day)
    teams.shift_signup(shift_id=shift.pk, user=city.users.volunteer)
    with django_capture_on_commit_callbacks(execute=True):
        assert teams.shift_call_for_help(shift_id=shift.pk, by=city.users.worker) == 1
    assert [to for to, _text in sms_outbox] == [other.phone] and "志愿者" in sms_outbox[0][1]
    with pytest.raises(Conflict):
        teams.shift_call_for_help(shift_id=shift.pk, by=city.users.worker)


@pytest.fixture
def round_today(city, arrived, crew):
    """Community A's two door packages of today, received at the community, in team 1's round."""
    one, two, other = crew
    receive(leg(arrived.cycle, "community_compound", compound=city.places[city.a.pk].compound), city.users.worker)
    split = rounds.rounds_split(
        community_id=city.a.pk, day=timezone.localdate(), by=city.users.worker, team_ids=[one.pk]
    )
    assert split.rounds[one.pk][0] == 2
    return arrived


def test_a_volunteer_sees_its_team_s_round_and_nothing_else(city, round_today, crew):
    one, two, other = crew
    user = city.users.volunteer
    mine = set(restrict(Package.objects.all(), user).values_list("pk", flat=True))
    assert mine == {round_today.a1.pk, round_today.a2.pk}
    assert not restrict(Package.objects.all(), other).exists()  # team 2 has no round today
    for model in (Household, HouseholdPhone, LockdownChange):
        assert not restrict(model.objects.all(), user).exists(), model
    assert set(restrict(Community.objects.all(), user)) == {city.a}
    assert set(restrict(Building.objects.all(), user)) == {city.places[city.a.pk].building}
    doors = selectors.volunteer_round(user=user, day=timezone.localdate())
    assert [p.pk for p in doors] == [round_today.a1.pk, round_today.a2.pk]  # floor 3 before floor 12


def test_doors_are_recorded_in_the_volunteer_s_name_after_the_health_declaration(city, round_today, crew):
    user = city.users.volunteer
    with pytest.raises(Conflict):
        handovers.package_deliver(package_id=round_today.a1.pk, by=user)
    health_declare(user=user, well=True)
    event = handovers.package_deliver(package_id=round_today.a1.pk, by=user)
    assert event.by == user and Package.objects.get(pk=round_today.a1.pk).status == PackageStatus.DELIVERED
    missed = handovers.package_exception(package_id=round_today.a2.pk, by=user, reason="not_home")
    assert missed.by == user
    # another community's package is not found for the volunteer
    with pytest.raises(NotFound):
        handovers.package_deliver(package_id=round_today.b.pk, by=user)
    progress = {
        row.team.name: row
        for row in selectors.team_progress(user=city.users.worker, community_id=city.a.pk, day=timezone.localdate())
    }
    assert (progress["一组"].doors, progress["一组"].delivered, progress["一组"].exceptions) == (2, 1, 1)
    record = selectors.service_record(
        user=city.users.worker, community_id=city.a.pk, start=timezone.localdate(), end=timezone.localdate()
    )
    assert [(r.name, r.doors) for r in record] == [("红马甲", 1)]


def test_the_volunteer_pages(city, round_today, crew, client):
    one, two, other = crew
    health_declare(user=city.users.volunteer, well=True)
    client.force_login(city.users.volunteer)
    page = client.get("/volunteer/round/").content.decode()
    assert round_today.a1.code in page and round_today.b.code not in page
    phone = round_today.a1.household.phones.first().number
    assert f'href="tel:{phone}"' in page and "****" in page  # masked, with the call button
    other_building = city.places[city.b.pk].building.pk
    assert client.get(f"/volunteer/round/?building={other_building}").status_code == 404
    response = client.post(
        f"/packages/{round_today.a1.pk}/delivered/", {"row": timezone.localdate().isoformat()}, HTTP_HX_REQUEST="true"
    )
    assert response.status_code == 200 and "已送达" in response.content.decode()
    assert HandoverEvent.objects.get(package=round_today.a1, kind="delivered").by == city.users.volunteer
    shift = _shift(city)
    assert client.post(f"/volunteer/shifts/{shift.pk}/sign-up/").status_code == 302
    assert ShiftSignup.objects.get(shift=shift).user == city.users.volunteer
    record = client.get("/volunteer/record/?format=pdf")
    assert record.status_code == 200 and record.content.startswith(b"%PDF")
    client.force_login(city.users.worker)
    rounds_page = client.get(f"/teams/rounds/?community={city.a.pk}").content.decode()
    assert "一组" in rounds_page and RoundAssignment.objects.count() == 1


def test_the_dashboards_count_volunteers_on_duty_and_their_doors(city, round_today, crew):
    from households import dashboard as dash

    one, two, other = crew
    today = timezone.localdate()
    shift = teams.shift_create(
        community_id=city.a.pk,
        day=today,
        kind="doors",
        starts=datetime.time(0, 0),
        ends=datetime.time(23, 59),
        needed=2,
        team_id=one.pk,
        by=city.users.worker,
    )
    teams.shift_signup(shift_id=shift.pk, user=city.users.volunteer)
    health_declare(user=city.users.volunteer, well=True)
    handovers.package_deliver(package_id=round_today.a1.pk, by=city.users.volunteer)
    handovers.package_deliver(package_id=round_today.a2.pk, by=city.users.volunteer)
    for user in (city.users.worker, city.users.taskforce, city.users.admin):
        board = dash.dashboard(user=user)
        assert board.totals.values["volunteers_on_duty"] == 1, user.role
        assert board.totals.values["volunteer_doors"] == 2, user.role
        assert board.table_rows["volunteers"] == [{"on_duty": 1, "doors": 2, "per_volunteer": "2.0"}]
    # another office's dashboard has none of them
    assert dash.dashboard(user=city.users.admin, place=f"community:{city.c.pk}").totals.values["volunteer_doors"] == 0


def test_the_worker_sees_who_declared_itself_not_well(city, crew, client):
    health_declare(user=city.users.volunteer, well=False)
    rows = {
        r.team.name: r
        for r in selectors.team_progress(user=city.users.worker, community_id=city.a.pk, day=timezone.localdate())
    }
    assert rows["一组"].unwell == ["红马甲"] and rows["二组"].unwell == []
    client.force_login(city.users.worker)
    assert "红马甲" in client.get(f"/teams/rounds/?community={city.a.pk}").content.decode()
