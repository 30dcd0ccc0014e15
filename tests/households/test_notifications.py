"""Notifications to residents: told at most once, in the app and by SMS; a failed SMS is retried,
then reported, never lost silently."""

import datetime
import threading
from http.server import BaseHTTPRequestHandler, HTTPServer

import pytest
from django.utils import timezone

from core.dates import day_text
from core.sms import HttpSmsBackend, SmsError
from deliveries import services as delivery_services
from deliveries import tasks as delivery_tasks
from deliveries.models import Package
from households import services
from households.models import Notification, SmsStatus
from households.services import Tell
from supply import services as supply_services

pytestmark = pytest.mark.django_db

SENT: list[tuple[str, str]] = []


class RecordingSmsBackend:
    """A backend that keeps what it was asked to send (configured by its dotted path)."""

    def send(self, to: str, text: str) -> None:
        SENT.append((to, text))


@pytest.fixture
def recording(settings):
    SENT.clear()
    settings.SMS_BACKEND = "tests.households.test_notifications.RecordingSmsBackend"
    return SENT


def test_the_same_event_is_told_once_and_texted_only_where_there_is_a_phone(
    city, recording, django_capture_on_commit_callbacks
):
    with_phone, without_phone = city.places[city.a.pk].households
    without_phone.phones.all().delete()
    tells = [
        Tell(household_id=h.pk, key="package:1", params={"code": "ZY-1-1-001", "date": "2026-12-01", "mode": "door"})
        for h in (with_phone, without_phone)
    ]
    with django_capture_on_commit_callbacks(execute=True):
        services.notifications_create(kind="package_scheduled", tells=tells)
        services.notifications_create(kind="package_scheduled", tells=tells)  # a task that ran twice
    assert Notification.objects.count() == 2
    told = {n.household_id: n for n in Notification.objects.all()}
    assert told[with_phone.pk].sms_status == SmsStatus.SENT  # the on-commit sender ran (eager Celery)
    assert told[without_phone.pk].sms_status == SmsStatus.NONE
    assert recording == [
        (
            with_phone.phones.get(is_primary=True).number,
            f"物资包 ZY-1-1-001 将于{day_text(datetime.date(2026, 12, 1))}送货上门。",
        )
    ]
    assert services.sms_send_due() == {"sent": 0, "retry": 0, "failed": 0}  # nothing is sent twice


def test_closing_a_cycle_tells_every_household_its_package_once(
    shop, city, recording, django_capture_on_commit_callbacks
):
    a1 = city.places[city.a.pk].households[0]
    b1 = city.places[city.b.pk].households[0]
    for household in (a1, b1):
        supply_services.order_place(
            household_id=household.pk, lines=[{"product": shop.masks.pk, "quantity": 1}], placed_by=None, channel="web"
        )
    with django_capture_on_commit_callbacks(execute=True):
        delivery_services.cycle_close()
    assert Package.objects.count() == 2
    told = Notification.objects.filter(kind="package_scheduled")
    assert told.count() == 2
    door = told.get(household=a1)
    assert door.params["mode"] == "door" and "送货上门" in door.text
    pickup = told.get(household=b1)
    assert pickup.params["slot"] == "08:00–08:30" and "领取" in pickup.text
    for community in (city.a, city.b):  # the task delivered twice changes nothing
        delivery_tasks.community_packages_notify_task(shop.cycle.pk, community.pk)
    assert told.count() == 2
    assert len([text for _to, text in recording if "物资包" in text]) == 2


class _Gateway(BaseHTTPRequestHandler):
    """A provider's HTTP gateway that refuses the first ``fail`` messages."""

    fail = 0
    received: list = []

    def do_POST(self):  # noqa: N802 (http.server's name)
        body = self.rfile.read(int(self.headers["Content-Length"]))
        type(self).received.append((self.headers.get("Authorization"), body))
        if len(type(self).received) <= type(self).fail:
            self.send_response(503)
        else:
            self.send_response(200)
        self.end_headers()

    def log_message(self, *args):
        pass


@pytest.fixture
def gateway(settings):
    _Gateway.received = []
    server = HTTPServer(("127.0.0.1", 0), _Gateway)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    settings.SMS_BACKEND = "http"
    settings.SMS_GATEWAY_URL = f"http://127.0.0.1:{server.server_port}/send"
    settings.SMS_GATEWAY_TOKEN = "secret-token"
    settings.SMS_MAX_ATTEMPTS = 3
    yield _Gateway
    server.shutdown()


def _one_pending(city) -> Notification:
    household = city.household_a
    services.notifications_create(
        kind="order_confirmed",
        tells=[Tell(household_id=household.pk, key="order:9", params={"order": 9, "items": 3, "total": "19.90"})],
    )
    return Notification.objects.get()


def test_the_http_gateway_is_retried_with_a_growing_delay_until_it_accepts(city, gateway):
    gateway.fail = 2
    notification = _one_pending(city)
    now = timezone.now()
    assert services.sms_send_due(now=now) == {"sent": 0, "retry": 1, "failed": 0}
    notification.refresh_from_db()
    assert notification.sms_status == SmsStatus.PENDING and notification.sms_error == "gateway answered 503"
    assert services.sms_send_due(now=now) == {"sent": 0, "retry": 0, "failed": 0}  # not due yet
    first_delay = notification.sms_next_at
    assert services.sms_send_due(now=first_delay + datetime.timedelta(seconds=1))["retry"] == 1
    notification.refresh_from_db()
    assert notification.sms_next_at - first_delay > datetime.timedelta(seconds=50)  # 30 s, then 60 s
    assert services.sms_send_due(now=notification.sms_next_at + datetime.timedelta(seconds=1))["sent"] == 1
    notification.refresh_from_db()
    assert notification.sms_status == SmsStatus.SENT and notification.sms_attempts == 3
    assert len(gateway.received) == 3
    assert gateway.received[-1][0] == "Bearer secret-token"
    assert "订单 9 已确认".encode() in gateway.received[-1][1] or b"\\u8ba2\\u5355" in gateway.received[-1][1]


def test_a_message_the_gateway_never_accepts_is_marked_failed_and_logged(city, gateway, caplog):
    gateway.fail = 100
    notification = _one_pending(city)
    moment = timezone.now()
    for _ in range(3):
        services.sms_send_due(now=moment)
        moment += datetime.timedelta(hours=2)
    notification.refresh_from_db()
    assert notification.sms_status == SmsStatus.FAILED and notification.sms_attempts == 3
    assert "failed after 3 attempts" in caplog.text
    assert services.sms_send_due(now=moment) == {"sent": 0, "retry": 0, "failed": 0}  # reported, not resent


def test_an_unreachable_gateway_is_an_sms_error():
    backend = HttpSmsBackend(url="http://127.0.0.1:9/closed", token="", timeout=1)
    with pytest.raises(SmsError, match="unreachable"):
        backend.send("+8613800000000", "测试")


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_two_senders_at_once_send_each_message_once(city, recording):
    from django.db import connection

    household = city.household_a
    later = timezone.now() + datetime.timedelta(hours=1)  # not yet due for the sender queued on commit
    services.notifications_create(
        kind="order_confirmed",
        now=later,
        tells=[
            Tell(household_id=household.pk, key=f"order:{i}", params={"order": i, "items": 1, "total": "1.00"})
            for i in range(40)
        ],
    )
    assert not recording
    results = []

    def sender():
        try:
            results.append(services.sms_send_due(limit=25, now=later))
        finally:
            connection.close()

    threads = [threading.Thread(target=sender) for _ in range(3)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sum(r["sent"] for r in results) == 40
    assert len(recording) == 40 and len(set(recording)) == 40
    assert Notification.objects.filter(sms_status=SmsStatus.SENT).count() == 40


def test_residents_see_their_own_notifications_only_and_opening_marks_them_read(city, client):
    services.notifications_create(
        kind="order_confirmed",
        tells=[
            Tell(household_id=city.household_a.pk, key="order:1", params={"order": 1, "items": 2, "total": "13.00"}),
            Tell(household_id=city.household_b.pk, key="order:2", params={"order": 2, "items": 5, "total": "99.00"}),
        ],
    )
    client.force_login(city.users.resident)
    home = client.get("/")
    assert "订单 1 已确认" in home.content.decode()
    page = client.get("/notifications/")
    body = page.content.decode()
    assert page.status_code == 200 and "订单 1 已确认" in body and "订单 2" not in body
    assert Notification.objects.get(household=city.household_a).read_at is not None
    assert Notification.objects.get(household=city.household_b).read_at is None
    client.force_login(city.users.worker)
    assert client.get("/notifications/").status_code == 403


def test_new_orders_are_confirmed_once_by_the_beat_and_baseline_orders_are_not(
    shop, city, recording, django_capture_on_commit_callbacks
):
    from supply.models import Order

    placed = supply_services.order_place(
        household_id=city.household_a.pk,
        placed_by=None,
        channel="web",
        lines=[{"product": shop.masks.pk, "quantity": 2}, {"product": shop.cabbage.pk, "quantity": 1}],
    ).order
    baseline = Order.objects.filter(channel="baseline")
    with django_capture_on_commit_callbacks(execute=True):
        assert supply_services.orders_confirmed_notify() == 1
        assert supply_services.orders_confirmed_notify() == 0  # the beat ran again: nothing twice
    notice = Notification.objects.get(kind="order_confirmed")
    assert notice.household_id == city.household_a.pk and notice.key == f"order:{placed.pk}"
    assert notice.params == {"order": placed.pk, "items": 3, "total": f"{placed.total:.2f}"}
    assert f"订单 {placed.pk} 已确认：共3件" in notice.text
    assert not Notification.objects.filter(
        key__in=[f"order:{pk}" for pk in baseline.values_list("pk", flat=True)]
    ).exists()
    assert len(recording) == 1


def test_a_notice_writes_its_day_as_people_read_it():
    """Found by a review: "将于 2026-12-11 送货上门" — the day is stored as ISO and was printed so."""
    from django.utils import timezone, translation

    from core.dates import day_text
    from households.notifications import message_text

    day = timezone.localdate()
    with translation.override("zh-hans"):
        text = message_text("package_scheduled", {"code": "1-ZH-1-1-001", "date": day.isoformat()})
        assert day_text(day) in text and day.isoformat() not in text
        text = message_text("exception", {"code": "1-ZH-1-1-001", "reason": "无人", "date": day.isoformat()})
        assert day_text(day) in text and day.isoformat() not in text
