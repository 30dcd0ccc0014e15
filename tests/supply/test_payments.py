"""Online payment end to end: the demo's cashier, and the WeChat Pay and Alipay adapters against
local servers that check their signatures (tests/payment_providers.py).

Run on PostgreSQL in CI's first pass and on SQLite in the second."""

import datetime
import json
from decimal import Decimal
from urllib.parse import urlsplit
from urllib.request import urlopen

import pytest
from django.test import override_settings
from django.urls import reverse
from django.utils import timezone

from core.errors import Conflict
from supply import services
from supply.models import CycleStock, Payment, PaymentNotice, Refund
from supply.payments.gateways import FakeGateway, gateway, gateways_reset
from supply.services import payments
from tests.payment_providers import alipay_server, wechat_server

pytestmark = pytest.mark.django_db


def place(shop, household, *lines, method="online"):
    return services.order_place(
        household_id=household.pk,
        lines=[{"product": p.pk, "quantity": q} for p, q in lines],
        placed_by=None,
        channel="web",
        payment_method=method,
    ).order


def reserved(shop, product) -> int:
    return CycleStock.objects.get(cycle=shop.cycle, product=product).reserved


def notify(client, provider, headers, body):
    content_type = headers.get("Content-Type", "application/json")
    extra = {k: v for k, v in headers.items() if k != "Content-Type"}
    return client.post(
        reverse("supply:payment_notify", args=[provider]), data=body, content_type=content_type, headers=extra
    )


def state(order):
    order.refresh_from_db()
    return order.status, order.payment_state


class Fake:
    """The demo's cashier as a provider: pays a trade and hands over its signed notification."""

    name = "fake"

    def __init__(self):
        self.gateway = gateway("fake")
        assert isinstance(self.gateway, FakeGateway)

    def open(self, payment):
        assert payment.checkout_url == reverse("supply:fakepay_cashier", args=[payment.out_trade_no])

    def pay(self, out_trade_no, **kwargs):
        return self.gateway.pay(out_trade_no)

    def refunds(self):
        return {}


@pytest.fixture
def provider(request):
    """Each provider in turn, configured as the site's gateway."""
    if request.param == "fake":
        with override_settings(PAYMENT_GATEWAY="fake"):
            gateways_reset()
            yield Fake()
        gateways_reset()
        return
    server, url = (wechat_server if request.param == "wechat" else alipay_server)()
    server.name = request.param
    with override_settings(**server.settings(url)):
        gateways_reset()
        if request.param == "wechat":
            server.open = lambda payment: None  # the resident scans code_url with WeChat
        else:
            server.open = lambda payment: urlopen(payment.checkout_url).read()  # the phone opens the page
        yield server
    gateways_reset()
    server.stop()


PROVIDERS = pytest.mark.parametrize("provider", ["fake", "wechat", "alipay"], indirect=True)


@PROVIDERS
def test_an_online_order_is_placed_only_when_the_signed_notification_says_paid(shop, city, client, provider):
    order = place(shop, city.household_a, (shop.masks, 2))
    assert state(order) == ("awaiting", "awaiting")
    assert reserved(shop, shop.masks) == 2  # held meanwhile
    payment = payments.payment_start(order=order, return_url="http://testserver/back/")
    provider.open(payment)
    assert payment.amount == Decimal("39.80") and payment.status == "pending"
    # the same order asks again: the same trade, not a second one
    assert payments.payment_start(order=order, return_url="http://testserver/back/").pk == payment.pk

    headers, body = provider.pay(payment.out_trade_no)
    # forged: the body changed after signing (a bigger amount, another trade…)
    forged = {
        "fake": lambda: body.replace(b'"amount": ', b'"amount": 1', 1),  # ten times more, or so
        "wechat": lambda: body.replace(b'"id": "', b'"id": "x', 1),
        "alipay": lambda: body + b"&total_amount=999.00",
    }[provider.name]()
    assert forged != body
    assert notify(client, provider.name, headers, forged).status_code == 400
    assert state(order) == ("awaiting", "awaiting") and not PaymentNotice.objects.exists()

    response = notify(client, provider.name, headers, body)
    assert response.status_code == 200
    assert state(order) == ("placed", "paid")
    payment.refresh_from_db()
    assert payment.status == "paid" and payment.transaction_id and payment.paid_at

    # the same notification again (a retry, or a replay): acknowledged, nothing changes
    assert notify(client, provider.name, headers, body).status_code == 200
    assert PaymentNotice.objects.count() == 1 and Payment.objects.filter(status="paid").count() == 1
    assert state(order) == ("placed", "paid") and reserved(shop, shop.masks) == 2


@PROVIDERS
def test_a_lost_notification_is_caught_by_asking_the_provider(shop, city, provider):
    order = place(shop, city.household_a, (shop.eggs, 1))
    payment = payments.payment_start(order=order, return_url="http://testserver/back/")
    provider.open(payment)
    assert payments.payment_check(order_id=order.pk).status == "awaiting"  # not paid yet: nothing changes
    provider.pay(payment.out_trade_no)  # paid, and the notification never arrives
    assert state(payments.payment_check(order_id=order.pk)) == ("placed", "paid")


@PROVIDERS
def test_cancelling_a_paid_order_refunds_it_through_the_provider(
    shop, city, client, provider, django_capture_on_commit_callbacks
):
    order = place(shop, city.household_a, (shop.masks, 1), (shop.cabbage, 2))
    payment = payments.payment_start(order=order, return_url="http://testserver/back/")
    provider.open(payment)
    notify(client, provider.name, *provider.pay(payment.out_trade_no))
    with django_capture_on_commit_callbacks(execute=True):  # the refund is sent after the commit
        services.order_cancel(order_id=order.pk, by=city.users.resident)
    refund = Refund.objects.get(order=order)
    assert refund.amount == Decimal("32.90") and refund.reason == "cancelled"
    assert refund.status == "succeeded" and refund.completed_at
    assert state(order) == ("cancelled", "refunded")
    assert reserved(shop, shop.masks) == 0 and reserved(shop, shop.cabbage) == 0
    if provider.name != "fake":
        assert list(provider.refunds) == [refund.out_refund_no] and not provider.refused
    # sending it again asks about the same refund: never a second one
    Refund.objects.filter(pk=refund.pk).update(status="pending")
    payments.refunds_send()
    if provider.name != "fake":
        assert len(provider.refunds) == 1


@PROVIDERS
def test_an_unpaid_order_expires_and_a_late_payment_is_refunded(
    shop, city, client, provider, django_capture_on_commit_callbacks
):
    order = place(shop, city.household_a, (shop.masks, 3))
    payment = payments.payment_start(order=order, return_url="http://testserver/back/")
    provider.open(payment)
    now = timezone.now()
    assert payments.payments_expire(now=now) == 0  # not yet due
    later = now + datetime.timedelta(minutes=16)
    assert payments.payments_expire(now=later) == 1
    assert state(order) == ("expired", "void") and reserved(shop, shop.masks) == 0
    payment.refresh_from_db()
    assert payment.status == "closed"
    with pytest.raises(Conflict):
        payments.payment_start(order=order, return_url="")
    # the resident had the cashier open and pays anyway: the money goes back
    with django_capture_on_commit_callbacks(execute=True):
        assert notify(client, provider.name, *provider.pay(payment.out_trade_no)).status_code == 200
    assert state(order) == ("expired", "refunded")
    refund = Refund.objects.get(order=order)
    assert refund.reason == "late_payment" and refund.amount == Decimal("59.70") and refund.status == "succeeded"


def test_a_paid_order_found_by_the_expiry_sweep_is_placed_not_expired(shop, city):
    order = place(shop, city.household_a, (shop.masks, 1))
    payment = payments.payment_start(order=order, return_url="")
    FakeGateway().pay(payment.out_trade_no)  # the notification was lost
    assert payments.payments_expire(now=timezone.now() + datetime.timedelta(hours=1)) == 0
    assert state(order) == ("placed", "paid")


def test_a_notification_too_old_or_for_another_amount_changes_nothing(shop, city, client):
    order = place(shop, city.household_a, (shop.masks, 1))
    payment = payments.payment_start(order=order, return_url="")
    fake = FakeGateway()
    fake.pay(payment.out_trade_no)
    headers, body = fake.notice(payment.out_trade_no, "FAKE1", 1)  # 0.01 yuan, correctly signed
    assert notify(client, "fake", headers, body).status_code == 200  # acknowledged, and ignored
    assert state(order) == ("awaiting", "awaiting")
    headers, body = fake.notice(payment.out_trade_no, "FAKE1", 1990)
    with override_settings(PAYMENT_NOTICE_MAX_AGE_SECONDS=-1):  # every timestamp is stale
        assert notify(client, "fake", headers, body).status_code == 400
    assert state(order) == ("awaiting", "awaiting")
    assert notify(client, "unknown", headers, body).status_code == 404


def test_the_cutoff_expires_what_is_unpaid_and_only_placed_orders_count(shop, city):
    unpaid = place(shop, city.household_a, (shop.masks, 1))
    paid = payments.payment_at_fake_cashier(order=place(shop, city.household_a, (shop.masks, 1)))
    cash = place(shop, city.household_a, (shop.masks, 1), method="on_delivery")
    from supply.models import Cycle
    from supply.services import cycle_step

    cycle = Cycle.objects.get(pk=shop.cycle.pk)
    assert cycle_step(cycle=cycle, step="close")
    assert state(unpaid) == ("expired", "void")
    assert state(paid) == ("placed", "paid") and state(cash) == ("placed", "to_collect")
    assert reserved(shop, shop.masks) == 2


def test_a_line_that_could_not_be_supplied_is_refunded_once(shop, city, django_capture_on_commit_callbacks):
    order = payments.payment_at_fake_cashier(order=place(shop, city.household_a, (shop.masks, 1), (shop.eggs, 2)))
    line = order.lines.get(product=shop.eggs)
    with django_capture_on_commit_callbacks(execute=True):
        refund = payments.order_line_refund(line_id=line.pk, by=city.users.worker)
    refund.refresh_from_db()
    assert refund.amount == line.line_total and refund.status == "succeeded" and refund.note == line.name
    assert state(order) == ("placed", "paid")  # the rest of the order still comes
    with pytest.raises(Conflict):
        payments.order_line_refund(line_id=line.pk, by=city.users.worker)
    cash = place(shop, city.household_a, (shop.masks, 1), method="on_delivery")
    with pytest.raises(Conflict):
        payments.order_line_refund(line_id=cash.lines.get().pk, by=city.users.worker)


def test_the_resident_pays_at_the_cashier_and_sees_the_true_state(shop, city, client):
    client.force_login(city.users.resident)
    order = place(shop, city.household_a, (shop.masks, 1))
    page = client.get(reverse("supply:order_detail", args=[order.pk])).content.decode()
    assert reverse("supply:order_pay", args=[order.pk]) in page and "待支付" in page
    response = client.post(reverse("supply:order_pay", args=[order.pk]))
    assert response.status_code == 302
    cashier = response["Location"]
    assert urlsplit(cashier).path.startswith("/pay/fake/")
    assert "¥19.90" in client.get(cashier).content.decode()
    back = client.post(cashier, {"action": "pay"})
    assert back.status_code == 302 and back["Location"].endswith(reverse("supply:order_detail", args=[order.pk]))
    said = [str(m) for m in client.get(back["Location"]).context["messages"]]
    assert any(str(order.pk) in m and "已下单" in m or "placed" in m for m in said), said
    assert state(order) == ("placed", "paid")
    page = client.get(reverse("supply:order_detail", args=[order.pk])).content.decode()
    assert "已支付" in page and reverse("supply:order_pay", args=[order.pk]) not in page


def test_the_fake_cashier_is_closed_with_a_real_gateway(shop, city, client):
    order = place(shop, city.household_a, (shop.masks, 1))
    payment = payments.payment_start(order=order, return_url="")
    with override_settings(PAYMENT_GATEWAY="alipay"):
        assert client.get(reverse("supply:fakepay_cashier", args=[payment.out_trade_no])).status_code == 404
    assert json.loads(notify(client, "fake", {}, b"{}").content)["code"] == "FAIL"


def test_the_api_opens_the_payment_and_the_order_follows_the_provider(shop, city, client):
    from households.identity import api_token_issue

    auth = {"HTTP_AUTHORIZATION": f"Token {api_token_issue(user=city.users.resident)[1]}"}
    body = {"lines": [{"product": shop.masks.pk, "quantity": 1}], "payment_method": "online"}
    created = client.post(
        "/api/v1/orders/", body, content_type="application/json", HTTP_IDEMPOTENCY_KEY="pay-1", **auth
    )
    assert created.status_code == 201 and created.json()["status"] == "awaiting"
    order_id = created.json()["id"]
    opened = client.post(f"/api/v1/orders/{order_id}/pay/", **auth)
    assert opened.status_code == 200, opened.content
    payment = opened.json()
    assert payment["provider"] == "fake" and payment["amount"] == "19.90" and payment["scan"] is False
    FakeGateway().pay(payment["out_trade_no"])  # paid; the notification is lost
    assert client.get(f"/api/v1/orders/{order_id}/", **auth).json()["status"] == "awaiting"
    payments.payment_check(order_id=order_id)
    assert client.get(f"/api/v1/orders/{order_id}/", **auth).json()["payment_state"] == "paid"
    again = client.post(f"/api/v1/orders/{order_id}/pay/", **auth)
    assert again.status_code == 409 and again.json()["detail"]
