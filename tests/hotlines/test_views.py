"""Hotline console, call log, ticket queues and the care ledger pages."""

import datetime
import re

import pytest
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext

from hotlines import services
from hotlines.models import Call, CheckIn, Ticket, TicketLevel, TicketStatus
from households.models import Household
from supply import services as supply_services
from supply.models import Channel, Order, WhenOut
from tests.factories import HouseholdFactory, HouseholdPhoneFactory

pytestmark = pytest.mark.django_db

CONSOLE = reverse("hotlines:console")
START = reverse("hotlines:call_start")
TICKETS = reverse("hotlines:tickets")
LEDGER = reverse("hotlines:ledger")
ALERTS = reverse("hotlines:ledger_alerts")


def html(response) -> str:
    return response.content.decode()


def messages_of(response) -> list[str]:
    return [str(m) for m in response.context["messages"]] if response.context else []


def start_call(client, phone: str) -> Call:
    response = client.post(START, {"phone": phone})
    assert response.status_code == 302, html(response)
    return Call.objects.latest("id")


# --- the console ----------------------------------------------------------------------------------


def test_a_call_from_a_known_number_shows_the_household_at_once(shop, city, client):
    household = city.household_a
    supply_services.order_place(
        household_id=household.pk,
        lines=[{"product": shop.cabbage.pk, "quantity": 1}],
        placed_by=city.users.resident,
        channel=Channel.WEB,
    )
    services.ticket_open(household_id=household.pk, category="medicine", summary="降压药吃完了", opened_by=None)
    client.force_login(city.users.operator)
    call = start_call(client, household.phones.get().number[3:])
    assert call.household_id == household.pk
    page = html(client.get(reverse("hotlines:call", args=[call.pk])))
    assert household.address in page
    assert "足不出户" in page and "独居老人" in page  # lockdown level and care flag
    assert "大白菜" in page and "尚未打包" in page or "not packed yet" in page  # this cycle's order, no package yet
    assert "降压药吃完了" in page  # open ticket
    assert reverse("supply:order_new", args=[household.pk]) in page


def test_a_malformed_number_is_refused_on_the_console_and_logs_nothing(city, client):
    client.force_login(city.users.operator)
    response = client.post(START, {"phone": "12345"})
    assert response.status_code == 400
    assert "12345" in html(response) and not Call.objects.exists()


def test_only_operators_open_the_console(city, client):
    for user in (city.users.worker, city.users.office, city.users.resident):
        client.force_login(user)
        assert client.get(CONSOLE).status_code == 403
        assert client.post(START, {"phone": "13812345678"}).status_code == 403
    assert not Call.objects.exists()


def test_the_operator_finds_an_unknown_caller_by_address_and_attaches_the_household(city, client):
    client.force_login(city.users.operator)
    call = start_call(client, "0371-67180381")
    assert call.household_id is None
    compound = city.places[city.b.pk].compound
    page = html(client.get(reverse("hotlines:call", args=[call.pk]), {"q": f"fcl {city.household_b.room}"}))
    assert city.household_b.address in page
    response = client.post(reverse("hotlines:call_household", args=[call.pk]), {"household": city.household_b.pk})
    assert response.status_code == 302
    call.refresh_from_db()
    assert call.household_id == city.household_b.pk
    assert compound.name in html(client.get(reverse("hotlines:call", args=[call.pk])))


def test_an_operator_cannot_attach_another_districts_household(city, client):
    client.force_login(city.users.operator)
    call = start_call(client, "13812345678")
    response = client.post(
        reverse("hotlines:call_household", args=[call.pk]), {"household": city.household_c.pk}, follow=True
    )
    call.refresh_from_db()
    assert call.household_id is None
    assert city.household_c.address not in html(response)


def test_another_districts_call_is_not_found(city, client):
    client.force_login(city.users.operator)
    call = start_call(client, city.household_a.phones.get().number)
    client.force_login(city.users.operator2)
    assert client.get(reverse("hotlines:call", args=[call.pk])).status_code == 404
    assert (
        client.post(
            reverse("hotlines:call_finish", args=[call.pk]), {"category": "other", "outcome": "dropped"}
        ).status_code
        == 404
    )


def test_a_medical_transport_ticket_from_a_call_reaches_the_workers_queue(city, client):
    client.force_login(city.users.operator)
    call = start_call(client, city.household_a.phones.get().number)
    appointment = (timezone.localtime() + datetime.timedelta(days=1)).strftime("%Y-%m-%dT%H:%M")
    url = reverse("hotlines:call_ticket", args=[call.pk])
    missing = client.post(
        url, {"category": "transport", "summary": "透析", "appointment_at": appointment, "need": "dialysis"}
    )
    assert missing.status_code == 400 and not Ticket.objects.exists()
    response = client.post(
        url,
        {
            "category": "transport",
            "summary": "周三透析，需要闭环车辆",
            "appointment_at": appointment,
            "destination": "郑大一附院",
            "need": "dialysis",
        },
    )
    assert response.status_code == 302
    ticket = Ticket.objects.get()
    assert ticket.call == call and ticket.community == city.a and ticket.need == "dialysis"

    page = html(client.get(reverse("hotlines:call", args=[call.pk])))
    assert 'value="ticket" selected' in page and 'value="transport" selected' in page, "the wrap-up is suggested"
    assert (
        client.post(
            reverse("hotlines:call_finish", args=[call.pk]),
            {"category": "transport", "outcome": "ticket", "summary": "已派单"},
        ).status_code
        == 302
    )

    client.force_login(city.users.worker)
    queue = html(client.get(TICKETS))
    assert "周三透析，需要闭环车辆" in queue and "郑大一附院" in queue
    client.force_login(city.users.worker_b)
    assert "周三透析" not in html(client.get(TICKETS))
    assert client.get(reverse("hotlines:ticket", args=[ticket.pk])).status_code == 404


def test_finishing_needs_category_and_outcome(city, client):
    client.force_login(city.users.operator)
    call = start_call(client, "13812345678")
    response = client.post(reverse("hotlines:call_finish", args=[call.pk]), {"category": "", "outcome": "answered"})
    assert response.status_code == 400
    call.refresh_from_db()
    assert call.ended_at is None
    response = client.post(
        reverse("hotlines:call_finish", args=[call.pk]), {"category": "enquiry", "outcome": "answered"}
    )
    assert response.status_code == 302 and response["Location"] == CONSOLE
    call.refresh_from_db()
    assert call.ended_at is not None


def test_the_console_leads_back_to_each_open_call_and_stale_ones_close_themselves(city, client):
    """With two calls open the console offered only the newest (the wrong caller); now each, by
    its number. A call nobody finished closes itself after CALL_ABANDON_MINUTES as not finished."""
    client.force_login(city.users.operator)
    first = start_call(client, "13812345678")
    second = start_call(client, "13912345678")
    page = html(client.get(CONSOLE))
    for call in (first, second):
        assert reverse("hotlines:call", args=[call.pk]) in page
    assert "138 1234 5678" in page and "139 1234 5678" in page
    Call.objects.filter(pk=first.pk).update(started_at=timezone.now() - datetime.timedelta(minutes=61))
    assert services.calls_abandon_stale() == 1
    first.refresh_from_db()
    assert first.ended_at is not None and first.outcome == "abandoned" and first.category == "other"
    page = html(client.get(CONSOLE))
    still_open = page[page.index('id="open-calls"') : page.index("</div>", page.index('id="open-calls"'))]
    assert reverse("hotlines:call", args=[first.pk]) not in still_open
    assert reverse("hotlines:call", args=[second.pk]) in still_open
    assert services.calls_abandon_stale() == 0


def test_a_phone_order_taken_on_a_call_returns_to_that_call(shop, city, client):
    client.force_login(city.users.operator)
    household = city.household_a
    call = start_call(client, household.phones.get().number)
    call_page = html(client.get(reverse("hotlines:call", args=[call.pk])))
    order_url = reverse("supply:order_new", args=[household.pk]) + f"?call={call.pk}"
    assert order_url in call_page
    entry = html(client.get(order_url))
    key = re.search(r'name="idempotency_key" value="([^"]+)"', entry).group(1)
    fields = {
        "payment_method": "on_delivery",
        "when_out": "substitute",  # the operator asks what to do if an item is out
        "idempotency_key": key,
        f"qty_{shop.masks.pk}": "1",
        "call": call.pk,
    }
    read_back = html(client.post(reverse("supply:order_new", args=[household.pk]), fields))
    assert f'name="call" value="{call.pk}"' in read_back
    assert str(WhenOut.SUBSTITUTE.label) in read_back
    hidden = dict(re.findall(r'<input type="hidden" name="([^"]+)" value="([^"]*)"', read_back))
    placed = client.post(reverse("supply:order_new_confirm", args=[household.pk]), {**hidden, "action": "confirm"})
    assert placed.status_code == 302 and placed["Location"].endswith(f"?call={call.pk}")
    assert f'href="{reverse("hotlines:call", args=[call.pk])}"' in html(client.get(placed["Location"]))
    assert Order.objects.get(household=household).when_out == WhenOut.SUBSTITUTE


def test_call_page_query_count_does_not_grow_with_history(shop, city, client, django_assert_max_num_queries):
    household = city.household_a
    supply_services.order_place(
        household_id=household.pk,
        lines=[{"product": shop.eggs.pk, "quantity": 1}],
        placed_by=city.users.resident,
        channel=Channel.WEB,
    )
    client.force_login(city.users.operator)
    call = start_call(client, household.phones.get().number)
    url = reverse("hotlines:call", args=[call.pk])
    client.get(url)
    with django_assert_max_num_queries(30) as small:
        client.get(url)
    for n in range(5):
        supply_services.order_place(
            household_id=household.pk,
            lines=[{"product": shop.masks.pk, "quantity": 1}],
            placed_by=city.users.operator,
            channel=Channel.HOTLINE,
        )
        services.ticket_open(household_id=household.pk, category="other", summary=f"来电求助第{n}件", opened_by=None)
        Call.objects.create(
            district=city.districts[0],
            operator=city.users.operator,
            caller_number="+8613812345678",
            household=household,
        )
        HouseholdPhoneFactory(
            household=HouseholdFactory(building=household.building),
            number=household.phones.get().number,
            is_primary=False,
        )
    with django_assert_max_num_queries(30) as large:
        page = html(client.get(url, {"q": "fcl"}))
    assert len(large.captured_queries) == len(small.captured_queries) + 2  # the address search: rows and phones
    assert page.count("来电求助第") == 5


def test_call_log_lists_the_districts_calls_only(city, client):
    client.force_login(city.users.operator)
    start_call(client, "13812345678")
    client.force_login(city.users.operator2)
    start_call(client, "13912345678")
    page = html(client.get(reverse("hotlines:call_log")))
    assert "139 1234 5678" in page and "138 1234 5678" not in page
    client.force_login(city.users.taskforce)
    page = html(client.get(reverse("hotlines:call_log")))
    assert "138 1234 5678" in page and "139 1234 5678" not in page


# --- tickets --------------------------------------------------------------------------------------


def test_office_queue_shows_what_was_escalated_to_it(city, client):
    late = services.ticket_open(
        household_id=city.household_a.pk,
        category="medicine",
        summary="逾期的药",
        opened_by=None,
        now=timezone.now() - datetime.timedelta(hours=5),
    )
    services.ticket_open(household_id=city.household_b.pk, category="medicine", summary="刚来的药", opened_by=None)
    services.tickets_escalate_due()
    client.force_login(city.users.office)
    queue = html(client.get(TICKETS))
    assert "逾期的药" in queue and "刚来的药" not in queue
    everything = html(client.get(TICKETS, {"all": "1"}))
    assert "逾期的药" in everything and "刚来的药" in everything
    client.force_login(city.users.worker)
    assert "逾期的药" in html(client.get(TICKETS)), "the community still sees its escalated ticket"
    detail = html(client.get(reverse("hotlines:ticket", args=[late.pk])))
    assert gettext("Escalated") in detail and str(TicketLevel.OFFICE.label) in detail


def test_a_worker_resolves_a_ticket_and_the_trail_keeps_it(city, client):
    ticket = services.ticket_open(
        household_id=city.household_a.pk, category="unsealing", summary="已连续7天阴性", opened_by=None
    )
    client.force_login(city.users.worker)
    url = reverse("hotlines:ticket_resolve", args=[ticket.pk])
    assert client.post(url, {"resolution": ""}).status_code == 400
    assert client.post(reverse("hotlines:ticket_note", args=[ticket.pk]), {"note": "已报办事处"}).status_code == 302
    assert client.post(url, {"resolution": "已提交解封申请"}).status_code == 302
    ticket.refresh_from_db()
    assert ticket.status == TicketStatus.RESOLVED and ticket.resolved_by == city.users.worker
    detail = html(client.get(reverse("hotlines:ticket", args=[ticket.pk])))
    assert "已报办事处" in detail and "已提交解封申请" in detail
    client.force_login(city.users.operator)
    assert client.post(url, {"resolution": "x"}).status_code == 403


def test_ticket_queue_query_count_does_not_grow(city, client, django_assert_max_num_queries):
    client.force_login(city.users.worker)
    services.ticket_open(household_id=city.household_a.pk, category="other", summary="一", opened_by=None)
    client.get(TICKETS)
    with django_assert_max_num_queries(15) as small:
        client.get(TICKETS)
    for n in range(20):
        services.ticket_open(household_id=city.household_a.pk, category="complaint", summary=f"投诉{n}", opened_by=None)
    with django_assert_max_num_queries(15) as large:
        page = html(client.get(TICKETS))
    assert len(large.captured_queries) == len(small.captured_queries)
    assert page.count("投诉") >= 20


# --- the care ledger ------------------------------------------------------------------------------


def test_ledger_and_alerts_query_counts_do_not_grow(shop, city, client, django_assert_max_num_queries):
    client.force_login(city.users.worker)
    for url in (LEDGER, ALERTS):
        client.get(url, {"mine": "0"})
        with django_assert_max_num_queries(15) as small:
            client.get(url, {"mine": "0"})
        building = city.places[city.a.pk].building
        for _ in range(10):
            HouseholdPhoneFactory(household=HouseholdFactory(building=building, elderly_alone=True))
        with django_assert_max_num_queries(15) as large:
            page = html(client.get(url, {"mine": "0"}))
        assert len(large.captured_queries) == len(small.captured_queries), url
        assert page.count("独居老人") >= 11


def test_the_worker_checks_in_from_the_alert_list(shop, city, client):
    household = city.household_a
    client.force_login(city.users.worker)
    assert household.address in html(client.get(ALERTS, {"mine": "0"}))
    url = reverse("hotlines:ledger_checkin", args=[household.pk])
    assert client.post(url, {"kind": "visit", "outcome": "help", "note": ""}).status_code == 400
    assert not CheckIn.objects.exists()
    assert client.post(url, {"kind": "visit", "outcome": "help", "note": "需要买药"}).status_code == 302
    assert household.address not in html(client.get(ALERTS, {"mine": "0"}))
    assert "需要买药" in html(client.get(reverse("hotlines:ledger_household", args=[household.pk])))


def test_assisted_order_in_one_step_from_the_alert_list(shop, city, client):
    household = city.household_a
    earlier = supply_services.order_place(
        household_id=household.pk,
        lines=[{"product": shop.masks.pk, "quantity": 2}],
        placed_by=city.users.worker,
        channel=Channel.WORKER,
    )
    supply_services.order_cancel(order_id=earlier.order.pk, by=city.users.worker)
    # A cancelled order is not a usual order; a standing order is.
    supply_services.standing_order_save(
        household_id=household.pk, product_id=shop.cabbage.pk, quantity=1, by=city.users.worker
    )
    client.force_login(city.users.worker)
    page = html(client.get(ALERTS, {"mine": "0"}))
    key = re.search(rf'ledger/{household.pk}/order/".*?name="idempotency_key" value="([0-9a-f]+)"', page, re.S).group(1)
    url = reverse("hotlines:ledger_assisted_order", args=[household.pk])
    response = client.post(url, {"idempotency_key": key}, follow=True)
    order = Order.objects.get(household=household, status="placed")
    assert order.channel == Channel.WORKER and list(order.lines.values_list("product_id", "quantity")) == [
        (shop.cabbage.pk, 1)
    ]
    assert any(str(order.pk) in m for m in messages_of(response))
    assert f'id="alert-{household.pk}"' not in html(response), "off the alert list"
    client.post(url, {"idempotency_key": key})
    assert Order.objects.filter(household=household, status="placed").count() == 1, "a double click places one order"


def test_ledger_pages_are_scoped(city, client):
    client.force_login(city.users.worker_b)
    assert client.get(reverse("hotlines:ledger_household", args=[city.household_a.pk])).status_code == 404
    assert (
        client.post(
            reverse("hotlines:ledger_checkin", args=[city.household_a.pk]), {"kind": "call", "outcome": "well"}
        ).status_code
        == 404
    )
    plain = city.places[city.a.pk].households[1]
    client.force_login(city.users.worker)
    assert client.get(reverse("hotlines:ledger_household", args=[plain.pk])).status_code == 404, "not on the ledger"
    client.force_login(city.users.operator)
    assert client.get(LEDGER).status_code == 403
    assert not CheckIn.objects.exists()


def test_mine_shows_the_workers_assigned_households(shop, city, client):
    Household.objects.filter(pk=city.household_a.pk).update(assigned_worker=city.users.worker)
    other = city.places[city.a.pk].households[1]
    Household.objects.filter(pk=other.pk).update(pregnant=True)
    client.force_login(city.users.worker)
    mine = html(client.get(LEDGER))
    assert city.household_a.address in mine and other.address not in mine
    everyone = html(client.get(LEDGER, {"mine": "0"}))
    assert other.address in everyone


def test_standing_orders_from_the_ledger_page(shop, city, client):
    client.force_login(city.users.worker)
    url = reverse("hotlines:ledger_standing_add", args=[city.household_a.pk])
    assert client.post(url, {"product": shop.masks.pk, "quantity": "0"}).status_code == 400
    assert client.post(url, {"product": "999999", "quantity": "1"}).status_code == 400
    assert client.post(url, {"product": shop.masks.pk, "quantity": "2", "note": "常备"}).status_code == 302
    page = html(client.get(reverse("hotlines:ledger_household", args=[city.household_a.pk])))
    assert "医用口罩" in page and "常备" in page


def test_a_caller_not_on_the_register_gets_a_ticket_by_address(city, client):
    """Issue 18: a caller with no household on the register could not get a ticket at all. Now the
    operator says where they live and which community it goes to."""
    client.force_login(city.users.operator)
    call = start_call(client, "13700001111")
    assert call.household_id is None
    page = html(client.get(reverse("hotlines:call", args=[call.pk])))
    assert 'name="caller_address"' in page and f'value="{city.a.pk}"' in page
    url = reverse("hotlines:call_ticket", args=[call.pk])
    missing = client.post(url, {"category": "other", "summary": "家中老人需要药品", "community": city.a.pk})
    assert missing.status_code == 400 and not Ticket.objects.exists()
    elsewhere = client.post(
        url, {"category": "other", "summary": "家中老人需要药品", "community": city.c.pk, "caller_address": "某小区"}
    )
    assert elsewhere.status_code == 400 and not Ticket.objects.exists()  # community C is another district's
    sent = client.post(
        url,
        {
            "category": "other",
            "summary": "家中老人需要药品",
            "community": city.a.pk,
            "caller_address": "丰产路9号院 3号楼 东门旁",
        },
    )
    assert sent.status_code == 302
    ticket = Ticket.objects.get()
    assert ticket.household is None and ticket.community_id == city.a.pk and ticket.call_id == call.pk
    client.force_login(city.users.worker)
    queue = html(client.get(reverse("hotlines:tickets")))
    assert "丰产路9号院 3号楼 东门旁" in queue
    detail = html(client.get(reverse("hotlines:ticket", args=[ticket.pk])))
    assert "丰产路9号院 3号楼 东门旁" in detail and "137 0000 1111" in detail


def test_a_caller_not_on_the_register_can_complain_about_a_price(shop, city, client):
    """Found by the review of issue 18: the product list of a price complaint was empty for a
    caller with no household on the register. It lists the products sold in the operator's district."""
    client.force_login(city.users.operator)
    call = start_call(client, "13700002222")
    page = html(client.get(reverse("hotlines:call", args=[call.pk])))
    products = page[page.index('name="product"') : page.index("</select>", page.index('name="product"'))]
    assert f'<option value="{shop.cabbage.pk}">' in products
    sent = client.post(
        reverse("hotlines:call_ticket", args=[call.pk]),
        {
            "category": "complaint",
            "summary": "大白菜太贵",
            "product": shop.cabbage.pk,
            "community": city.a.pk,
            "caller_address": "丰产路9号院",
        },
    )
    assert sent.status_code == 302, html(sent)
    assert Ticket.objects.get().product_id == shop.cabbage.pk


def test_a_ticket_refused_says_why_once_at_its_field(shop, city, client):
    """Found by the review of issue 18: the field's error was repeated at the top of the form."""
    client.force_login(city.users.operator)
    call = start_call(client, city.household_a.phones.get().number)
    url = reverse("hotlines:call_ticket", args=[call.pk])
    for fields, field in (
        ({"category": "other", "summary": ""}, "summary"),
        (
            {"category": "transport", "summary": "透析", "destination": "省人民医院", "need": "dialysis"},
            "appointment_at",
        ),
    ):
        page = html(client.post(url, fields))
        errors = re.findall(r'<ul class="errorlist[^"]*"[^>]*>\s*<li>([^<]+)</li>', page)
        assert len(errors) == 1 and page.count(errors[0]) == 1, errors
        assert f'id="ticket_{field}_error"' in page
    assert not Ticket.objects.exists()


def test_the_call_page_says_what_of_an_order_was_not_supplied(shop, city, client):
    """The operator answering "where are my cabbages?" sees the cut and what the household got back."""
    from supply.services.shortfalls import stock_shortfall_record

    household = city.household_a
    supply_services.order_place(
        household_id=household.pk,
        lines=[{"product": shop.cabbage.pk, "quantity": 3}, {"product": shop.masks.pk, "quantity": 1}],
        placed_by=city.users.resident,
        channel=Channel.WEB,
    )
    stock_shortfall_record(product_id=shop.cabbage.pk, available=1, by=None)
    client.force_login(city.users.operator)
    call = start_call(client, household.phones.get().number)
    page = html(client.get(reverse("hotlines:call", args=[call.pk])))
    orders = page[page.index('id="orders"') :]
    shortfall = orders[orders.index("existing-shortfall") :]
    assert shortfall.index("缺货") < shortfall.index("大白菜 约2kg × 2颗") < shortfall.index("少收¥13.00")
