"""Handovers: consignments confirmed at each hop, doors marked delivered or not, exceptions
re-queued to the next day, the event history, scope, idempotence and the end of a cycle."""

import datetime

import pytest
from django.db import DatabaseError, IntegrityError, connection, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from core.errors import BaogongError, Conflict, NotFound
from deliveries import handovers, selectors
from deliveries.models import (
    Consignment,
    ExceptionReason,
    HandoverEvent,
    HandoverKind,
    Hop,
    PackageStatus,
)
from deliveries.printing import selectors as printing
from households.models import Notification
from supply.models import CycleStatus
from tests.deliveries.custody import leg, receive, status

pytestmark = pytest.mark.django_db


# --- hops ------------------------------------------------------------------------------------------


def test_each_hop_moves_its_packages_and_keeps_the_counts(packed, city, shop):
    users, day = city.users, packed.a1.delivery_date
    a2_day = packed.a2.delivery_date
    assert day == a2_day, "one compound, one day"
    first = leg(packed.cycle, Hop.SUPPLIER_OFFICE, supplier=shop.supplier, built_by=city.a, delivery_date=day)
    second = leg(packed.cycle, Hop.SUPPLIER_OFFICE, supplier=packed.second_supplier, built_by=city.a, delivery_date=day)
    assert (first.package_count, first.item_count) == (2, 3) and (second.package_count, second.item_count) == (1, 1)

    event = receive(first, users.office, location="办事处院内")
    assert (event.kind, event.packages_received, event.items_received, event.by, event.location) == (
        HandoverKind.RECEIVED,
        2,
        3,
        users.office,
        "办事处院内",
    )
    first.refresh_from_db()
    assert first.received_at == event.at
    # a2 holds only the first supplier's goods: at the office; a1 waits for the rice.
    assert (status(packed.a2), status(packed.a1)) == (PackageStatus.AT_OFFICE, PackageStatus.PACKED)
    receive(second, users.office)
    assert status(packed.a1) == PackageStatus.AT_OFFICE
    assert status(packed.b) == PackageStatus.PACKED, "another community's packages stay where they are"

    receive(leg(packed.cycle, Hop.OFFICE_COMMUNITY, community=city.a), users.worker)
    assert {status(packed.a1), status(packed.a2)} == {PackageStatus.AT_COMMUNITY}

    compound = city.places[city.a.pk].compound
    receive(leg(packed.cycle, Hop.COMMUNITY_COMPOUND, compound=compound), users.worker)
    assert {status(packed.a1), status(packed.a2)} == {PackageStatus.AT_COMPOUND}
    told = Notification.objects.filter(kind="out_for_delivery").order_by("household_id")
    assert [n.household_id for n in told] == sorted([packed.a1.household_id, packed.a2.household_id])
    assert told[0].params["code"] in (packed.a1.code, packed.a2.code)
    assert HandoverEvent.objects.filter(kind=HandoverKind.OUT_FOR_DELIVERY).count() == 2


def test_a_receipt_with_other_counts_needs_a_note_and_is_kept_once(packed, city):
    for supplier_leg in Consignment.objects.filter(cycle=packed.cycle, hop=Hop.SUPPLIER_OFFICE):
        receive(supplier_leg, city.users.office if supplier_leg.office == city.offices[0] else city.users.admin)
    consignment = leg(packed.cycle, Hop.OFFICE_COMMUNITY, community=city.a)
    with pytest.raises(BaogongError) as error:
        receive(consignment, city.users.worker, packages_received=1)
    assert "note" in error.value.errors and "2" in error.value.message
    with pytest.raises(BaogongError) as error:
        receive(consignment, city.users.worker, packages_received="两")
    assert "packages_received" in error.value.errors
    consignment.refresh_from_db()
    assert consignment.received_at is None and not HandoverEvent.objects.filter(consignment=consignment).exists()
    assert status(packed.a1) == PackageStatus.AT_OFFICE, "bad input changes nothing"

    first = receive(consignment, city.users.worker, packages_received=1, note="少一箱，已电话办事处")
    again = receive(consignment, city.users.worker)
    assert again.pk == first.pk and again.packages_received == 1 and again.note == "少一箱，已电话办事处"
    assert HandoverEvent.objects.filter(consignment=consignment).count() == 1


def test_only_the_receiving_place_confirms_a_hop(packed, city, shop):
    users = city.users
    office_leg = leg(packed.cycle, Hop.OFFICE_COMMUNITY, community=city.a)
    supplier_leg = Consignment.objects.filter(cycle=packed.cycle, hop=Hop.SUPPLIER_OFFICE, built_by=city.a).first()
    for user, consignment in (
        (users.worker_b, office_leg),
        (users.worker, supplier_leg),
        (users.resident, office_leg),
        (users.supplier, supplier_leg),
        (users.operator, office_leg),
    ):
        with pytest.raises(NotFound):
            receive(consignment, user)
    other_office = Consignment.objects.filter(cycle=packed.cycle, hop=Hop.SUPPLIER_OFFICE, built_by=city.c).first()
    with pytest.raises(NotFound):
        receive(other_office, users.office)
    assert not HandoverEvent.objects.exists()
    for supplier_leg in Consignment.objects.filter(cycle=packed.cycle, hop=Hop.SUPPLIER_OFFICE, built_by=city.a):
        receive(supplier_leg, users.taskforce)  # the district's task force may stand in
    receive(office_leg, users.taskforce)


# --- doors ---------------------------------------------------------------------------------------


def test_delivering_twice_is_one_event_and_one_notification(arrived, city):
    first = handovers.package_deliver(package_id=arrived.a1.pk, by=city.users.worker, location="3号楼门口")
    second = handovers.package_deliver(package_id=arrived.a1.pk, by=city.users.worker)
    assert first.pk == second.pk
    assert status(arrived.a1) == PackageStatus.DELIVERED
    assert HandoverEvent.objects.filter(package=arrived.a1).count() == 1
    told = Notification.objects.get(kind="delivered")
    assert told.household_id == arrived.a1.household_id and told.params["code"] == arrived.a1.code
    assert told.params["time"] == f"{timezone.localtime(first.at):%H:%M}"
    assert first.place == city.a.name, "where: the worker's place"
    with pytest.raises(Conflict):
        handovers.package_exception(package_id=arrived.a1.pk, by=city.users.worker, reason=ExceptionReason.NOT_HOME)


def test_workers_act_only_on_their_own_community(packed, city):
    users = city.users
    for user in (users.worker_b, users.resident, users.supplier, users.operator):
        with pytest.raises(NotFound):
            handovers.package_deliver(package_id=packed.a1.pk, by=user)
        with pytest.raises(NotFound):
            handovers.package_exception(package_id=packed.a1.pk, by=user, reason=ExceptionReason.NOT_HOME)
    with pytest.raises(NotFound):
        handovers.package_deliver(package_id=packed.c.pk, by=users.office)  # another district's office
    assert status(packed.a1) == PackageStatus.PACKED and not HandoverEvent.objects.exists()


def test_an_exception_requeues_the_package_to_the_next_day_and_counts_it_again(
    arrived, city, django_capture_on_commit_callbacks
):
    worker, package = city.users.worker, arrived.a1
    day = package.delivery_date
    now = timezone.make_aware(datetime.datetime.combine(day, datetime.time(10, 30)))
    compound = city.places[city.a.pk].compound
    handovers.round_start(by=worker, compound_id=compound.pk, delivery_date=day, now=now)
    event = handovers.package_exception(
        package_id=package.pk,
        by=worker,
        reason=ExceptionReason.NOT_HOME,
        for_date=day,
        note="敲门无人",
        now=now,
    )
    package.refresh_from_db()
    tomorrow = day + datetime.timedelta(days=1)
    assert (package.delivery_date, package.status) == (tomorrow, PackageStatus.AT_COMMUNITY)
    assert (event.delivery_date, event.requeued_to, event.outcome, event.note) == (
        day,
        tomorrow,
        "not_home",
        "敲门无人",
    )
    again = handovers.package_exception(package_id=package.pk, by=worker, reason=ExceptionReason.DAMAGED, for_date=day)
    assert again.pk == event.pk, "a second tap for the same day is the same event"
    assert HandoverEvent.objects.filter(package=package, kind=HandoverKind.EXCEPTION).count() == 1

    next_leg = leg(arrived.cycle, Hop.COMMUNITY_COMPOUND, compound=compound, delivery_date=tomorrow)
    assert (next_leg.package_count, next_leg.item_count) == (1, package.item_count)
    told = Notification.objects.get(kind="exception")
    assert told.params == {
        "code": package.code,
        "reason": str(ExceptionReason.NOT_HOME.label),
        "date": tomorrow.isoformat(),
    }
    # Tomorrow's door list has it; today's round still shows it, as not delivered.
    doors = printing.door_list_data(
        key=printing.ListKey(kind="doors", cycle_id=arrived.cycle.pk, delivery_date=tomorrow, place_id=city.a.pk)
    )
    assert [p["code"] for s in doors["sections"] for p in s["packages"]] == [package.code]
    shown = {p.code: p.missed_reason for p in selectors.round_packages(user=worker, day=day, compound_id=compound.pk)}
    assert shown == {arrived.a1.code: "not_home", arrived.a2.code: None}

    # Tomorrow: out again, and delivered.
    later = now + datetime.timedelta(days=1)
    assert handovers.round_start(by=worker, compound_id=compound.pk, delivery_date=tomorrow, now=later) == 1
    assert Notification.objects.filter(kind="out_for_delivery", household_id=package.household_id).count() == 2
    with django_capture_on_commit_callbacks(execute=True):
        handovers.package_deliver(package_id=package.pk, by=worker, now=later)
    assert status(package) == PackageStatus.DELIVERED
    stale = handovers.package_exception
    with pytest.raises(Conflict):
        stale(package_id=arrived.a2.pk, by=worker, reason=ExceptionReason.NOT_HOME, for_date=tomorrow)


def test_a_pickup_package_not_collected_frees_its_slot(arrived, city):
    package = arrived.b
    slot = package.pickup_slot
    assert slot is not None and slot.assigned == 1
    handovers.package_exception(
        package_id=package.pk, by=city.users.worker_b, reason=ExceptionReason.NOT_HOME, for_date=package.delivery_date
    )
    slot.refresh_from_db()
    package.refresh_from_db()
    assert slot.assigned == 0 and package.pickup_slot_id is None


def test_refused_is_a_final_outcome(arrived, city):
    event = handovers.package_exception(package_id=arrived.a2.pk, by=city.users.worker, reason=ExceptionReason.REFUSED)
    arrived.a2.refresh_from_db()
    assert (arrived.a2.status, event.requeued_to, arrived.a2.delivery_date) == (
        PackageStatus.EXCEPTION,
        None,
        event.delivery_date,
    )
    with pytest.raises(Conflict):
        handovers.package_deliver(package_id=arrived.a2.pk, by=city.users.worker)
    with pytest.raises(BaogongError) as error:
        handovers.package_exception(package_id=arrived.a1.pk, by=city.users.worker, reason="lost")
    assert "reason" in error.value.errors


def test_round_start_is_idempotent_and_confirms_the_compound_leg(arrived, city):
    compound, day = city.places[city.a.pk].compound, arrived.a1.delivery_date
    assert handovers.round_start(by=city.users.worker, compound_id=compound.pk, delivery_date=day) == 2
    handovers.round_start(by=city.users.worker, compound_id=compound.pk, delivery_date=day)
    assert HandoverEvent.objects.filter(kind=HandoverKind.OUT_FOR_DELIVERY).count() == 2
    assert Notification.objects.filter(kind="out_for_delivery").count() == 2
    assert leg(arrived.cycle, Hop.COMMUNITY_COMPOUND, compound=compound).received_at is not None
    with pytest.raises(NotFound):
        handovers.round_start(by=city.users.worker_b, compound_id=compound.pk, delivery_date=day)


# --- the history is kept in the database ---------------------------------------------------------


def test_events_are_append_only_and_unique_in_the_database(arrived, city):
    event = handovers.package_deliver(package_id=arrived.a1.pk, by=city.users.worker)
    with pytest.raises(DatabaseError), transaction.atomic():
        HandoverEvent.objects.filter(pk=event.pk).update(note="changed")
    with pytest.raises(IntegrityError), transaction.atomic():
        HandoverEvent.objects.create(
            package=arrived.a1,
            kind=HandoverKind.DELIVERED,
            delivery_date=event.delivery_date,
            by=city.users.worker,
            at=timezone.now(),
        )
    with pytest.raises(IntegrityError), transaction.atomic():
        HandoverEvent.objects.create(
            package=arrived.a2,
            kind=HandoverKind.EXCEPTION,
            outcome="",
            delivery_date=event.delivery_date,
            by=city.users.worker,
            at=timezone.now(),
        )
    with pytest.raises(IntegrityError), transaction.atomic():
        HandoverEvent.objects.create(
            kind=HandoverKind.DELIVERED, delivery_date=event.delivery_date, by=city.users.worker, at=timezone.now()
        )
    if connection.vendor == "postgresql":  # SQLite keeps DELETE for the test flush
        with pytest.raises(DatabaseError), transaction.atomic():
            HandoverEvent.objects.filter(pk=event.pk).delete()
    assert HandoverEvent.objects.get(pk=event.pk).note == ""


def test_the_history_of_a_package_has_every_hop_and_door(due_today, city, shop):
    users, day = city.users, due_today.a2.delivery_date
    receive(leg(due_today.cycle, Hop.SUPPLIER_OFFICE, supplier=shop.supplier, built_by=city.a), users.office)
    receive(
        leg(due_today.cycle, Hop.SUPPLIER_OFFICE, supplier=due_today.second_supplier, built_by=city.a), users.office
    )
    receive(leg(due_today.cycle, Hop.OFFICE_COMMUNITY, community=city.a), users.worker)
    handovers.round_start(by=users.worker, compound_id=due_today.a2.compound_id, delivery_date=day)
    handovers.package_exception(package_id=due_today.a2.pk, by=users.worker, reason=ExceptionReason.DAMAGED)
    handovers.package_deliver(package_id=due_today.a2.pk, by=users.worker)
    due_today.a2.refresh_from_db()
    history = selectors.package_history(packages=[due_today.a2, due_today.c])
    assert [row["what"] for row in history[due_today.a2.pk]] == [
        _("Arrived at the office"),
        _("Arrived at the community"),
        _("Arrived at the compound"),
        "配送中",
        "未送达",
        "已送达",
    ]
    assert history[due_today.a2.pk][4]["reason"] == _("Damaged")
    assert history[due_today.c.pk] == []
    # The second supplier's leg holds nothing of a2's: it is not in a2's history (one office row above).


# --- reconciliation -------------------------------------------------------------------------------


def test_the_cycle_is_complete_when_every_package_has_its_outcome(arrived, city, django_capture_on_commit_callbacks):
    users = city.users
    rows = {r.community: r for r in selectors.reconciliation(user=users.city_taskforce, cycle=arrived.cycle)}
    assert {name: (r.total, r.open) for name, r in rows.items()} == {
        city.a.name: (2, 2),
        city.b.name: (1, 1),
        city.c.name: (1, 1),
    }
    assert [r.community for r in selectors.reconciliation(user=users.worker, cycle=arrived.cycle)] == [city.a.name]

    worker_c = city.users.worker_b.__class__.objects.create(username="worker_c", role="worker", community=city.c)
    with django_capture_on_commit_callbacks(execute=True):
        handovers.package_deliver(package_id=arrived.a1.pk, by=users.worker)
        handovers.package_exception(package_id=arrived.a2.pk, by=users.worker, reason=ExceptionReason.REFUSED)
        handovers.package_deliver(package_id=arrived.c.pk, by=worker_c)
        handovers.package_exception(package_id=arrived.b.pk, by=users.worker_b, reason=ExceptionReason.NOT_HOME)
    arrived.cycle.refresh_from_db()
    assert arrived.cycle.status == CycleStatus.PACKED, "b's package comes again tomorrow: still open"
    rows = {r.community: r for r in selectors.reconciliation(user=users.city_taskforce, cycle=arrived.cycle)}
    assert (rows[city.a.name].delivered, rows[city.a.name].refused, rows[city.a.name].open) == (1, 1, 0)
    assert rows[city.b.name].open == 1
    assert [
        p.code for p in selectors.open_packages(user=users.city_taskforce, cycle=arrived.cycle, community_id=city.b.pk)
    ] == [arrived.b.code]
    assert list(selectors.open_packages(user=users.worker, cycle=arrived.cycle, community_id=city.b.pk)) == []

    assert handovers.cycle_complete_if_done(cycle_id=arrived.cycle.pk).status == CycleStatus.PACKED
    with django_capture_on_commit_callbacks(execute=True):
        handovers.package_deliver(package_id=arrived.b.pk, by=users.worker_b)
    arrived.cycle.refresh_from_db()
    assert arrived.cycle.status == CycleStatus.COMPLETE
    assert handovers.cycle_complete_if_done(cycle_id=arrived.cycle.pk).status == CycleStatus.COMPLETE
    assert handovers.cycles_complete_due() == 0
