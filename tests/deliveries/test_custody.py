"""The custody rules (issue 14): hops in order, door outcomes only for packages that reached their
community on or after their day (or with a stated override, kept), counts flowing downstream, an
undo window, and supplier paper that a re-queue never changes."""

import datetime

import pytest
from django.utils import timezone

from core.errors import BaogongError, Conflict, NotFound
from deliveries import handovers
from deliveries.models import Consignment, ExceptionReason, HandoverEvent, HandoverKind, Hop, PackageStatus
from deliveries.printing import selectors as printing
from tests.deliveries.custody import leg, receive, receive_upstream, status

pytestmark = pytest.mark.django_db


def on(day: datetime.date, hour: int = 10, minute: int = 0) -> datetime.datetime:
    return timezone.make_aware(datetime.datetime.combine(day, datetime.time(hour, minute)))


# --- a door outcome only for a package at its community, on or after its day ----------------------


def test_a_packed_package_cannot_be_delivered_or_missed(due_today, city):
    worker, package = city.users.worker, due_today.a1
    with pytest.raises(Conflict) as error:
        handovers.package_deliver(package_id=package.pk, by=worker)
    assert package.code in error.value.message
    with pytest.raises(Conflict):
        handovers.package_exception(package_id=package.pk, by=worker, reason=ExceptionReason.NOT_HOME)
    assert status(package) == PackageStatus.PACKED and not HandoverEvent.objects.exists()
    assert package.delivery_date == due_today.a1.delivery_date


def test_an_override_needs_a_reason_and_keeps_it(due_today, city):
    worker, package = city.users.worker, due_today.a1
    event = handovers.package_deliver(package_id=package.pk, by=worker, override="实物已到社区，办事处尚未录入")
    assert event.override == "实物已到社区，办事处尚未录入" and event.status_before == PackageStatus.PACKED
    assert status(package) == PackageStatus.DELIVERED


def test_a_package_at_the_community_waits_for_its_day(packed, city):
    receive_upstream(packed.cycle, city.users.admin)
    worker, package = city.users.worker, packed.a1
    assert status(package) == PackageStatus.AT_COMMUNITY and package.delivery_date > timezone.localdate()
    with pytest.raises(Conflict) as error:
        handovers.package_deliver(package_id=package.pk, by=worker)
    assert package.delivery_date.isoformat() in error.value.message
    event = handovers.package_deliver(package_id=package.pk, by=worker, now=on(package.delivery_date))
    assert event.override == "" and status(package) == PackageStatus.DELIVERED


# --- hops in order -------------------------------------------------------------------------------


def test_no_hop_is_confirmed_before_the_hop_before_it(due_today, city, shop):
    users, cycle = city.users, due_today.cycle
    office_leg = leg(cycle, Hop.OFFICE_COMMUNITY, community=city.a)
    with pytest.raises(Conflict):
        receive(office_leg, users.worker)
    receive(leg(cycle, Hop.SUPPLIER_OFFICE, supplier=shop.supplier, built_by=city.a), users.office)
    with pytest.raises(Conflict):  # the rice has not come yet
        receive(office_leg, users.worker)
    compound_leg = leg(cycle, Hop.COMMUNITY_COMPOUND, compound=city.places[city.a.pk].compound)
    with pytest.raises(Conflict):
        receive(compound_leg, users.worker)
    with pytest.raises(Conflict):
        handovers.round_start(
            by=users.worker, compound_id=compound_leg.compound_id, delivery_date=compound_leg.delivery_date
        )
    assert not Consignment.objects.filter(
        hop__in=[Hop.OFFICE_COMMUNITY, Hop.COMMUNITY_COMPOUND], received_at__isnull=False
    ).exists()
    assert {status(due_today.a1), status(due_today.a2)} == {PackageStatus.PACKED, PackageStatus.AT_OFFICE}


def test_the_round_takes_out_only_what_reached_the_community(due_today, city, shop):
    users, cycle = city.users, due_today.cycle
    for supplier_leg in Consignment.objects.filter(cycle=cycle, hop=Hop.SUPPLIER_OFFICE, built_by=city.a):
        receive(supplier_leg, users.office)
    receive(leg(cycle, Hop.OFFICE_COMMUNITY, community=city.a), users.worker)
    compound = city.places[city.a.pk].compound
    assert (
        handovers.round_start(by=users.worker, compound_id=compound.pk, delivery_date=due_today.a1.delivery_date) == 2
    )
    assert {status(due_today.a1), status(due_today.a2)} == {PackageStatus.AT_COMPOUND}


# --- counts flow downstream ----------------------------------------------------------------------


def test_a_shortfall_upstream_is_what_the_next_hop_expects(due_today, city, shop):
    users, cycle = city.users, due_today.cycle
    first = leg(cycle, Hop.SUPPLIER_OFFICE, supplier=shop.supplier, built_by=city.a)
    assert (first.package_count, first.item_count) == (2, 3)
    receive(first, users.office, items_received=2, note="少一颗白菜")
    receive(leg(cycle, Hop.SUPPLIER_OFFICE, supplier=due_today.second_supplier, built_by=city.a), users.office)
    office_leg = leg(cycle, Hop.OFFICE_COMMUNITY, community=city.a)
    assert (office_leg.package_count, office_leg.item_count) == (2, 4)
    expected = handovers.consignments_expected([office_leg])[office_leg.pk]
    assert (expected.packages, expected.items, expected.carried) == (2, 3, ("少一颗白菜",))
    with pytest.raises(BaogongError) as error:  # the list's 4 items cannot have arrived
        receive(office_leg, users.worker, packages_received=2, items_received=4)
    assert "note" in error.value.errors
    event = receive(office_leg, users.worker, packages_received=2, items_received=3)
    assert "少一颗白菜" in event.note, "the shortfall noted upstream is carried, not asked again"
    compound_leg = leg(cycle, Hop.COMMUNITY_COMPOUND, compound=city.places[city.a.pk].compound)
    expected = handovers.consignments_expected([compound_leg])[compound_leg.pk]
    assert (expected.packages, expected.items) == (2, 3), "the community's only compound expects what it got"
    assert expected.carried == ("少一颗白菜",), "carried once, as it was written"
    last = receive(compound_leg, users.worker, packages_received=2, items_received=3)
    assert last.note.count("少一颗白菜") == 1 and last.note.count(handovers.CARRIED_MARK) == 1


def test_the_receiving_page_is_prefilled_with_what_is_expected(due_today, city, shop, client):
    users, cycle = city.users, due_today.cycle
    receive(
        leg(cycle, Hop.SUPPLIER_OFFICE, supplier=shop.supplier, built_by=city.a),
        users.office,
        packages_received=1,
        items_received=1,
        note="少一箱",
    )
    receive(leg(cycle, Hop.SUPPLIER_OFFICE, supplier=due_today.second_supplier, built_by=city.a), users.office)
    client.force_login(users.worker)
    html = client.get(f"/receiving/?date={due_today.a1.delivery_date.isoformat()}").content.decode()
    office_leg = leg(cycle, Hop.OFFICE_COMMUNITY, community=city.a)
    form = html[html.index(f'id="c-{office_leg.pk}"') :]
    assert 'name="packages_received" type="number" min="0" inputmode="numeric" value="1"' in form
    assert 'name="items_received" type="number" min="0" inputmode="numeric" value="2"' in form
    assert "少一箱" in form


def test_a_refused_receipt_shows_what_was_typed(due_today, city, shop, client):
    users, cycle = city.users, due_today.cycle
    first = leg(cycle, Hop.SUPPLIER_OFFICE, supplier=shop.supplier, built_by=city.a)
    client.force_login(users.office)
    answer = client.post(
        f"/receiving/{first.pk}/",
        {
            "packages_received": "2",
            "items_received": "1",
            "note": "",
            "next": f"/receiving/?date={first.delivery_date.isoformat()}",
        },
    )
    assert answer.status_code == 400
    html = answer.content.decode()
    form = html[html.index(f'id="c-{first.pk}"') :]
    assert 'value="1"' in form.split("items_received", 1)[1][:120], "the counts typed, not the list's"
    first.refresh_from_db()
    assert first.received_at is None


# --- undo ----------------------------------------------------------------------------------------


def test_a_mistaken_delivery_is_undone_within_the_window_and_delivered_again(arrived, city):
    worker, package = city.users.worker, arrived.a1
    now = timezone.now()
    event = handovers.package_deliver(package_id=package.pk, by=worker, now=now)
    with pytest.raises(NotFound):  # not the worker's own record
        handovers.handover_undo(event_id=event.pk, by=city.users.admin, now=now)
    undo = handovers.handover_undo(event_id=event.pk, by=worker, now=now + datetime.timedelta(minutes=5))
    assert (undo.kind, undo.undoes_id) == (HandoverKind.UNDONE, event.pk)
    assert handovers.handover_undo(event_id=event.pk, by=worker, now=now).pk == undo.pk, "undone once"
    package.refresh_from_db()
    assert (package.status, package.attempt) == (PackageStatus.AT_COMMUNITY, 1)
    again = handovers.package_deliver(package_id=package.pk, by=worker, now=now + datetime.timedelta(minutes=6))
    assert again.pk != event.pk and status(package) == PackageStatus.DELIVERED
    with pytest.raises(Conflict):  # too late
        handovers.handover_undo(event_id=again.pk, by=worker, now=now + datetime.timedelta(minutes=30))
    assert status(package) == PackageStatus.DELIVERED


def test_undoing_a_requeue_puts_the_package_back_on_its_day(arrived, city):
    worker, package = city.users.worker, arrived.a1
    compound = city.places[city.a.pk].compound
    day = package.delivery_date
    handovers.round_start(by=worker, compound_id=compound.pk, delivery_date=day)
    event = handovers.package_exception(package_id=package.pk, by=worker, reason=ExceptionReason.NOT_HOME)
    tomorrow = leg(arrived.cycle, Hop.COMMUNITY_COMPOUND, compound=compound, delivery_date=event.requeued_to)
    assert tomorrow.package_count == 1
    handovers.handover_undo(event_id=event.pk, by=worker)
    package.refresh_from_db()
    tomorrow.refresh_from_db()
    assert (package.delivery_date, package.status) == (day, PackageStatus.AT_COMPOUND)
    assert (tomorrow.package_count, tomorrow.item_count) == (0, 0)
    handovers.package_exception(package_id=package.pk, by=worker, reason=ExceptionReason.REFUSED)
    assert status(package) == PackageStatus.EXCEPTION


# --- supplier paper is frozen at dispatch ----------------------------------------------------------


def _pick_items(cycle, supplier, district, day) -> int:
    key = printing.ListKey(
        kind="pick", cycle_id=cycle.pk, delivery_date=day, place_id=supplier.pk, district_id=district.pk
    )
    data = printing.pick_list_data(key=key)
    return data["quantity"]


def test_a_requeue_never_changes_the_suppliers_pick_list(arrived, city, shop):
    worker, package = city.users.worker, arrived.a1
    day, district = package.delivery_date, city.districts[0]
    tomorrow = day + datetime.timedelta(days=1)
    before = (
        _pick_items(arrived.cycle, shop.supplier, district, day),
        _pick_items(arrived.cycle, shop.supplier, district, tomorrow),
    )
    handovers.round_start(by=worker, compound_id=package.compound_id, delivery_date=day)
    handovers.package_exception(package_id=package.pk, by=worker, reason=ExceptionReason.NOT_HOME)
    after = (
        _pick_items(arrived.cycle, shop.supplier, district, day),
        _pick_items(arrived.cycle, shop.supplier, district, tomorrow),
    )
    assert after == before
    assert printing.supplier_keys(cycle_id=arrived.cycle.pk, supplier_id=shop.supplier.pk) == [
        k
        for k in printing.supplier_keys(cycle_id=arrived.cycle.pk, supplier_id=shop.supplier.pk)
        if k.delivery_date == day
    ]


def test_the_receiving_page_lists_hops_in_route_order_and_says_which_wait(due_today, city, client):
    client.force_login(city.users.worker)
    day = due_today.a1.delivery_date.isoformat()
    html = client.get(f"/receiving/?date={day}").content.decode()
    office_leg = leg(due_today.cycle, Hop.OFFICE_COMMUNITY, community=city.a)
    compound_leg = leg(due_today.cycle, Hop.COMMUNITY_COMPOUND, compound=city.places[city.a.pk].compound)
    assert html.index(f'id="c-{office_leg.pk}"') < html.index(f'id="c-{compound_leg.pk}"'), "the route's order"
    office_card = html[html.index(f'id="c-{office_leg.pk}"') : html.index(f'id="c-{compound_leg.pk}"')]
    assert 'class="notice waiting"' in office_card and "<form" not in office_card, "nothing to confirm yet"
