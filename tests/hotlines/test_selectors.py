"""Look-up by phone, address and pinyin initials; scope across districts; the ledger's alert list."""

import datetime

import pytest
from django.utils import timezone

from hotlines import selectors, services
from hotlines.models import CheckIn
from households.models import Household
from supply import services as supply_services
from supply.models import Channel, Cycle, StandingOrder
from tests.factories import BuildingFactory, CompoundFactory, HouseholdFactory, HouseholdPhoneFactory

pytestmark = pytest.mark.django_db


def ids(qs) -> set[int]:
    return set(qs.values_list("pk", flat=True))


@pytest.fixture
def fengchan(city):
    """丰产路3号院 in community A: 3号楼 2单元 502, with a mobile and a landline."""
    compound = CompoundFactory(community=city.a, name="丰产路3号院", initials="fcl3hy")
    building = BuildingFactory(compound=compound, number="3号楼", sort_key=3)
    household = HouseholdFactory(building=building, unit="2", room="502", floor=5, contact_name="王秀英")
    HouseholdPhoneFactory(household=household, number="+8613712345502", is_primary=True)
    HouseholdPhoneFactory(household=household, number="+8637166112233", is_primary=False)
    # A neighbour whose room differs, so the look-up must use every part of the address.
    HouseholdFactory(building=building, unit="2", room="501", floor=5)
    return household


@pytest.mark.parametrize(
    "typed", ["13712345502", "137 1234 5502", "+86 137-1234-5502", "0371-6611 2233", "037166112233", "5502", "66112233"]
)
def test_look_up_by_any_phone_number_or_its_last_digits(city, fengchan, typed):
    assert ids(selectors.household_lookup(user=city.users.operator, search=typed)) == {fengchan.pk}


@pytest.mark.parametrize(
    "typed", ["丰产路3号院 3号楼 2单元 502", "丰产路3号院 3 502", "fcl 3 2 502", "FCL3 3 502", "fcl3hy 502"]
)
def test_look_up_by_address_with_chinese_or_pinyin_initials(city, fengchan, typed):
    assert ids(selectors.household_lookup(user=city.users.operator, search=typed)) == {fengchan.pk}


def test_pinyin_initials_alone_find_the_compounds_households(city, fengchan):
    found = ids(selectors.household_lookup(user=city.users.operator, search="fcl3"))
    assert fengchan.pk in found and len(found) == 2


def test_look_up_by_contact_name(city, fengchan):
    assert ids(selectors.household_lookup(user=city.users.operator, search="王秀英")) == {fengchan.pk}


def test_the_caller_households_are_those_with_the_number(city, fengchan):
    assert ids(selectors.caller_households(user=city.users.operator, phone="+8637166112233")) == {fengchan.pk}


def test_an_operator_never_finds_another_districts_households(city, fengchan):
    other = city.users.operator2  # district 2: community C only
    phone = fengchan.phones.filter(is_primary=True).get().number
    for typed in (phone, phone[-4:], "fcl 3 502", "王秀英", "丰产路3号院"):
        assert ids(selectors.household_lookup(user=other, search=typed)) == set(), typed
    assert ids(selectors.caller_households(user=other, phone=phone)) == set()
    own = city.household_c.phones.get().number
    assert ids(selectors.caller_households(user=other, phone=own)) == {city.household_c.pk}
    assert ids(selectors.caller_households(user=city.users.operator, phone=own)) == set()


def test_the_same_number_in_two_districts_shows_each_operator_only_their_own(city):
    shared = "+8613800000099"
    HouseholdPhoneFactory(household=city.household_a, number=shared, is_primary=False)
    HouseholdPhoneFactory(household=city.household_c, number=shared, is_primary=False)
    assert ids(selectors.caller_households(user=city.users.operator, phone=shared)) == {city.household_a.pk}
    assert ids(selectors.caller_households(user=city.users.operator2, phone=shared)) == {city.household_c.pk}


def test_household_panel_404s_outside_the_scope(city):
    from django.http import Http404

    with pytest.raises(Http404):
        selectors.household_panel(user=city.users.operator2, household_id=city.household_a.pk)


def test_tickets_are_seen_in_their_community_office_and_district_only(city):
    ticket = services.ticket_open(
        household_id=city.household_a.pk, category="medicine", summary="降压药", opened_by=None
    )
    can = [city.users.worker, city.users.office, city.users.operator, city.users.taskforce, city.users.city_taskforce]
    cannot = [city.users.worker_b, city.users.operator2, city.users.supplier]
    for user in can:
        assert ids(selectors.ticket_list(user=user)) == {ticket.pk}, user.username
    for user in cannot:
        assert ids(selectors.ticket_list(user=user)) == set(), user.username


# --- the alert list -------------------------------------------------------------------------------


def alert_ids(user, **kwargs) -> set[int]:
    return ids(selectors.ledger_alerts(user=user, **kwargs)[1])


def test_ledger_households_without_order_or_check_in_this_cycle_are_alerts(shop, city):
    ledger = city.household_a  # elderly living alone
    plain = city.places[city.a.pk].households[1]
    assert not Household.objects.get(pk=plain.pk).needs_care
    assert alert_ids(city.users.worker) == {ledger.pk}, "a household not on the ledger is never an alert"

    services.checkin_record(household_id=ledger.pk, worker=city.users.worker, kind="call", outcome="well")
    assert alert_ids(city.users.worker) == set()


def test_an_order_someone_chose_clears_the_alert_but_baseline_and_standing_orders_do_not(shop, city):
    ledger = city.household_a
    StandingOrder.objects.create(household=ledger, product=shop.masks, quantity=1)
    Cycle.objects.filter(pk=shop.cycle.pk).update(baseline_at=None)  # place this cycle's standing orders now
    supply_services.cycle_baseline_orders(cycle_id=shop.cycle.pk)
    assert ledger.orders.filter(standing_order__isnull=False).exists()
    assert alert_ids(city.users.worker) == {ledger.pk}

    supply_services.order_place(
        household_id=ledger.pk,
        lines=[{"product": shop.cabbage.pk, "quantity": 1}],
        placed_by=city.users.operator,
        channel=Channel.HOTLINE,
    )
    assert alert_ids(city.users.worker) == set()


def test_a_cancelled_order_does_not_count(shop, city):
    placed = supply_services.order_place(
        household_id=city.household_a.pk,
        lines=[{"product": shop.cabbage.pk, "quantity": 1}],
        placed_by=city.users.worker,
        channel=Channel.WORKER,
    )
    assert alert_ids(city.users.worker) == set()
    supply_services.order_cancel(order_id=placed.order.pk, by=city.users.worker)
    assert alert_ids(city.users.worker) == {city.household_a.pk}


def test_a_check_in_before_the_cycle_opened_does_not_count(shop, city):
    checkin = services.checkin_record(
        household_id=city.household_a.pk, worker=city.users.worker, kind="visit", outcome="well"
    )
    CheckIn.objects.filter(pk=checkin.pk).update(at=shop.cycle.opens_at - datetime.timedelta(seconds=1))
    assert alert_ids(city.users.worker) == {city.household_a.pk}
    CheckIn.objects.filter(pk=checkin.pk).update(at=shop.cycle.opens_at)
    assert alert_ids(city.users.worker) == set()


def test_alerts_per_assigned_worker_and_within_scope(shop, city):
    mine = city.household_a
    Household.objects.filter(pk=mine.pk).update(assigned_worker=city.users.worker)
    other = city.places[city.a.pk].households[1]
    Household.objects.filter(pk=other.pk).update(disabled=True)  # on the ledger, nobody assigned
    assert alert_ids(city.users.worker) == {mine.pk, other.pk}
    assert alert_ids(city.users.worker, worker_id=city.users.worker.pk) == {mine.pk}
    assert alert_ids(city.users.worker_b) == {city.household_b.pk}, "community B's own ledger household only"
    assert {mine.pk, other.pk, city.household_b.pk} <= alert_ids(city.users.office)
    assert city.household_c.pk not in alert_ids(city.users.office)


def test_without_any_cycle_the_last_three_days_count(city):
    assert alert_ids(city.users.worker) == {city.household_a.pk}
    checkin = services.checkin_record(
        household_id=city.household_a.pk, worker=city.users.worker, kind="call", outcome="well"
    )
    assert alert_ids(city.users.worker) == set()
    CheckIn.objects.filter(pk=checkin.pk).update(at=timezone.now() - datetime.timedelta(days=4))
    assert alert_ids(city.users.worker) == {city.household_a.pk}


def test_ledger_rows_carry_cadence_and_last_check_in(shop, city):
    services.checkin_cadence_set(household_id=city.household_b.pk, every_days=7, by=city.users.worker_b)
    services.checkin_record(household_id=city.household_a.pk, worker=city.users.worker, kind="call", outcome="well")
    rows = {h.pk: h for h in selectors.ledger_households(user=city.users.office, cycle=shop.cycle)}
    assert rows[city.household_a.pk].cadence_days == 1, "elderly living alone: daily by default"
    assert rows[city.household_a.pk].last_checkin_at is not None
    assert rows[city.household_b.pk].cadence_days == 7 and rows[city.household_b.pk].last_checkin_at is None
