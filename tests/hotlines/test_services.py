"""Hotline services: calls, tickets with their deadlines and escalation, the care ledger's writes."""

import datetime

import pytest
from django.utils import timezone

from core.errors import BaogongError, Conflict
from core.phones import InvalidPhone
from hotlines import services
from hotlines.models import (
    Call,
    CheckIn,
    Priority,
    Ticket,
    TicketEvent,
    TicketEventKind,
    TicketLevel,
    TicketStatus,
)
from supply import services as supply_services
from supply.models import Channel, Order, StandingOrder
from tests.factories import ProductFactory

pytestmark = pytest.mark.django_db

HOUR = datetime.timedelta(hours=1)
SECOND = datetime.timedelta(seconds=1)


def transport(city, *, now=None, **overrides):
    now = now or timezone.now()
    details = dict(
        household_id=city.household_a.pk,
        category="transport",
        summary="每周三次透析",
        opened_by=city.users.operator,
        appointment_at=now + datetime.timedelta(days=1),
        destination="郑州大学第一附属医院",
        need="dialysis",
        now=now,
    )
    return services.ticket_open(**{**details, **overrides})


# --- calls ----------------------------------------------------------------------------------------


def test_a_call_is_logged_with_the_number_in_e164_and_the_operators_district(city):
    phone = city.household_a.phones.get().number
    call = services.call_start(
        operator=city.users.operator,
        phone=f"{phone[3:6]} {phone[6:10]}-{phone[10:]}",
        household_ids=[city.household_a.pk],
    )
    assert call.caller_number == phone
    assert call.district == city.districts[0] and call.operator == city.users.operator
    assert call.household == city.household_a and call.ended_at is None


def test_a_call_with_several_households_is_not_attached_to_one(city):
    call = services.call_start(
        operator=city.users.operator, phone="13812345678", household_ids=[city.household_a.pk, city.household_b.pk]
    )
    assert call.household is None


@pytest.mark.parametrize("phone", ["", "12345", "abc", "+1 202 555 0100", "1381234567"])
def test_a_malformed_number_logs_nothing(city, phone):
    with pytest.raises(InvalidPhone):
        services.call_start(operator=city.users.operator, phone=phone)
    assert not Call.objects.exists()


def test_only_an_operator_takes_calls(city):
    with pytest.raises(BaogongError) as raised:
        services.call_start(operator=city.users.worker, phone="13812345678")
    assert raised.value.status_code == 403
    assert not Call.objects.exists()


def test_finishing_a_call_keeps_category_and_outcome_and_happens_once(city):
    call = services.call_start(operator=city.users.operator, phone="13812345678")
    with pytest.raises(BaogongError):
        services.call_finish(call_id=call.pk, by=city.users.operator, category="nonsense", outcome="answered")
    call.refresh_from_db()
    assert call.ended_at is None
    services.call_finish(
        call_id=call.pk, by=city.users.operator, category="enquiry", outcome="answered", summary="问配送日"
    )
    call.refresh_from_db()
    assert (call.category, call.outcome, call.summary) == ("enquiry", "answered", "问配送日") and call.ended_at
    with pytest.raises(Conflict):
        services.call_finish(call_id=call.pk, by=city.users.operator, category="other", outcome="dropped")
    with pytest.raises(Conflict):
        services.call_household_set(call_id=call.pk, household_id=city.household_a.pk, by=city.users.operator)


def test_another_operators_call_cannot_be_changed(city):
    call = services.call_start(operator=city.users.operator, phone="13812345678")
    with pytest.raises(BaogongError) as raised:
        services.call_finish(call_id=call.pk, by=city.users.operator2, category="other", outcome="dropped")
    assert raised.value.status_code == 404


# --- tickets --------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "category, priority, hours",
    [
        ("transport", Priority.URGENT, 2),
        ("medicine", Priority.HIGH, 4),
        ("unsealing", Priority.NORMAL, 24),
        ("complaint", Priority.NORMAL, 24),
        ("other", Priority.NORMAL, 24),
    ],
)
def test_a_ticket_goes_to_the_households_community_with_its_categorys_priority_and_deadline(
    city, category, priority, hours
):
    now = timezone.now()
    if category == "transport":
        ticket = transport(city, now=now)
    else:
        ticket = services.ticket_open(
            household_id=city.household_b.pk,
            category=category,
            summary="需要帮助",
            opened_by=city.users.operator,
            now=now,
        )
    assert ticket.priority == priority
    assert ticket.due_at == now + datetime.timedelta(hours=hours)
    assert ticket.level == TicketLevel.COMMUNITY and ticket.status == TicketStatus.OPEN
    assert ticket.community == ticket.household.building.compound.community
    assert list(ticket.events.values_list("kind", "level")) == [(TicketEventKind.OPENED, TicketLevel.COMMUNITY)]


@pytest.mark.parametrize(
    "overrides, field",
    [
        ({"appointment_at": None}, "appointment_at"),
        ({"destination": " "}, "destination"),
        ({"need": ""}, "need"),
        ({"need": "massage"}, "need"),
        ({"appointment_at": "past"}, "appointment_at"),
    ],
)
def test_a_medical_transport_needs_appointment_destination_and_treatment(city, overrides, field):
    now = timezone.now()
    if overrides.get("appointment_at") == "past":
        overrides = {"appointment_at": now - datetime.timedelta(days=1)}
    with pytest.raises(BaogongError) as raised:
        transport(city, now=now, **overrides)
    assert field in raised.value.errors
    assert not Ticket.objects.exists() and not TicketEvent.objects.exists()


def test_transport_details_are_not_kept_on_other_tickets(city):
    ticket = services.ticket_open(
        household_id=city.household_a.pk,
        category="medicine",
        summary="降压药",
        opened_by=None,
        appointment_at=timezone.now(),
        destination="医院",
        need="dialysis",
    )
    assert (ticket.appointment_at, ticket.destination, ticket.need) == (None, "", "")


@pytest.mark.parametrize("summary", ["", "   ", "x" * 501, 42])
def test_a_ticket_needs_a_request_of_reasonable_length(city, summary):
    with pytest.raises(BaogongError):
        services.ticket_open(household_id=city.household_a.pk, category="other", summary=summary, opened_by=None)
    assert not Ticket.objects.exists()


def test_escalation_happens_at_the_deadline_not_a_second_before(city):
    opened = timezone.now() - datetime.timedelta(days=1)
    ticket = transport(city, now=opened)  # due two hours after it was opened
    due = ticket.due_at

    assert services.tickets_escalate_due(now=due - SECOND) == 0
    ticket.refresh_from_db()
    assert ticket.level == TicketLevel.COMMUNITY and ticket.due_at == due

    assert services.tickets_escalate_due(now=due) == 1
    ticket.refresh_from_db()
    assert ticket.level == TicketLevel.OFFICE
    assert ticket.due_at == due + 2 * HOUR, "the office gets the category's window again"

    office_due = ticket.due_at
    assert services.tickets_escalate_due(now=office_due - SECOND) == 0
    assert services.tickets_escalate_due(now=office_due) == 1
    ticket.refresh_from_db()
    assert ticket.level == TicketLevel.TASKFORCE

    assert services.tickets_escalate_due(now=office_due + datetime.timedelta(days=30)) == 0, "the task force is the top"
    ticket.refresh_from_db()
    assert ticket.level == TicketLevel.TASKFORCE

    trail = list(ticket.events.order_by("at", "id").values_list("kind", "level", "at"))
    assert trail == [
        (TicketEventKind.OPENED, TicketLevel.COMMUNITY, opened),
        (TicketEventKind.ESCALATED, TicketLevel.OFFICE, due),
        (TicketEventKind.ESCALATED, TicketLevel.TASKFORCE, office_due),
    ]


def test_a_ticket_late_by_days_climbs_one_level_per_run(city):
    ticket = services.ticket_open(
        household_id=city.household_a.pk,
        category="complaint",
        summary="菜不新鲜",
        opened_by=None,
        now=timezone.now() - datetime.timedelta(days=10),
    )
    assert services.tickets_escalate_due() == 1
    ticket.refresh_from_db()
    assert ticket.level == TicketLevel.OFFICE
    assert services.tickets_escalate_due() == 0, "the office has a fresh day to answer"


def test_escalating_twice_at_the_same_moment_records_one_step(city):
    ticket = services.ticket_open(
        household_id=city.household_a.pk,
        category="medicine",
        summary="胰岛素",
        opened_by=None,
        now=timezone.now() - 5 * HOUR,
    )
    now = timezone.now()
    assert services.tickets_escalate_due(now=now) == 1
    assert services.tickets_escalate_due(now=now) == 0
    assert ticket.events.filter(kind=TicketEventKind.ESCALATED).count() == 1


def test_resolved_tickets_never_escalate_and_resolve_once(city):
    ticket = services.ticket_open(
        household_id=city.household_a.pk,
        category="medicine",
        summary="胰岛素",
        opened_by=None,
        now=timezone.now() - 5 * HOUR,
    )
    services.ticket_resolve(ticket_id=ticket.pk, by=city.users.worker, resolution="已送药")
    assert services.tickets_escalate_due() == 0
    ticket.refresh_from_db()
    assert ticket.status == TicketStatus.RESOLVED and ticket.level == TicketLevel.COMMUNITY and ticket.resolved_at
    with pytest.raises(Conflict):
        services.ticket_resolve(ticket_id=ticket.pk, by=city.users.worker, resolution="again")
    with pytest.raises(Conflict):
        services.ticket_note(ticket_id=ticket.pk, by=city.users.worker, note="late note")
    assert list(ticket.events.values_list("kind", flat=True)) == [TicketEventKind.OPENED, TicketEventKind.RESOLVED]


def test_many_overdue_tickets_escalate_in_chunks(city, monkeypatch):
    monkeypatch.setattr(services, "ESCALATION_CHUNK", 3)
    past = timezone.now() - datetime.timedelta(days=2)
    for n in range(7):
        services.ticket_open(
            household_id=city.household_c.pk, category="other", summary=f"请求{n}", opened_by=None, now=past
        )
    assert services.tickets_escalate_due() == 7
    assert set(Ticket.objects.values_list("level", flat=True)) == {TicketLevel.OFFICE}
    assert TicketEvent.objects.filter(kind=TicketEventKind.ESCALATED).count() == 7


# --- the care ledger ------------------------------------------------------------------------------


def test_a_check_in_that_needs_help_says_what(city):
    with pytest.raises(BaogongError) as raised:
        services.checkin_record(
            household_id=city.household_a.pk, worker=city.users.worker, kind="visit", outcome="help"
        )
    assert "note" in raised.value.errors and not CheckIn.objects.exists()
    services.checkin_record(
        household_id=city.household_a.pk, worker=city.users.worker, kind="visit", outcome="help", note="药快吃完了"
    )
    services.checkin_record(household_id=city.household_a.pk, worker=city.users.worker, kind="call", outcome="well")
    assert CheckIn.objects.count() == 2


@pytest.mark.parametrize("days", [0, 31, "x", None, -1])
def test_cadence_is_1_to_30_days(city, days):
    with pytest.raises(BaogongError):
        services.checkin_cadence_set(household_id=city.household_a.pk, every_days=days, by=city.users.worker)


def test_standing_orders_only_for_orderable_products_and_once_per_product(shop, city):
    other_supplier_product = ProductFactory(name="不在本区销售")  # its supplier serves no district
    with pytest.raises(BaogongError):
        supply_services.standing_order_save(
            household_id=city.household_a.pk, product_id=other_supplier_product.pk, quantity=1, by=city.users.worker
        )
    with pytest.raises(BaogongError):
        supply_services.standing_order_save(
            household_id=city.household_a.pk, product_id=shop.masks.pk, quantity=0, by=city.users.worker
        )
    supply_services.standing_order_save(
        household_id=city.household_a.pk, product_id=shop.masks.pk, quantity=1, by=city.users.worker
    )
    standing = supply_services.standing_order_save(
        household_id=city.household_a.pk, product_id=shop.masks.pk, quantity=2, note="每周期", by=city.users.worker
    )
    assert StandingOrder.objects.get().quantity == 2
    supply_services.standing_order_stop(standing_order_id=standing.pk, by=city.users.worker)
    assert not StandingOrder.objects.get().is_active


def test_the_assisted_order_repeats_the_households_last_chosen_order(shop, city):
    household = city.household_a
    with pytest.raises(BaogongError):
        services.assisted_order_place(household_id=household.pk, by=city.users.worker, idempotency_key="k0")
    supply_services.order_place(
        household_id=household.pk,
        lines=[{"product": shop.cabbage.pk, "quantity": 2}, {"product": shop.masks.pk, "quantity": 1}],
        placed_by=city.users.resident,
        channel=Channel.WEB,
        payment_method="on_delivery",
    )
    placed = services.assisted_order_place(household_id=household.pk, by=city.users.worker, idempotency_key="k1")
    assert placed.created and placed.order.channel == Channel.WORKER and placed.order.placed_by == city.users.worker
    assert sorted(placed.order.lines.values_list("product_id", "quantity")) == sorted(
        [(shop.cabbage.pk, 2), (shop.masks.pk, 1)]
    )
    again = services.assisted_order_place(household_id=household.pk, by=city.users.worker, idempotency_key="k1")
    assert not again.created and again.order.pk == placed.order.pk
    assert Order.objects.filter(household=household).count() == 2


def test_the_assisted_order_falls_back_to_the_standing_orders(shop, city):
    supply_services.standing_order_save(
        household_id=city.household_a.pk, product_id=shop.masks.pk, quantity=3, by=city.users.worker
    )
    placed = services.assisted_order_place(household_id=city.household_a.pk, by=city.users.worker, idempotency_key="s")
    assert list(placed.order.lines.values_list("product_id", "quantity")) == [(shop.masks.pk, 3)]
