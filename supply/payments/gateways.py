"""One interface to the payment providers residents use, chosen by ``PAYMENT_GATEWAY``.

A :class:`Gateway` opens a trade (``checkout``: where the resident pays), verifies a provider's
signed notification (``verify_notice``), asks about a trade (``query``) and sends a refund
(``refund``). Each adapter uses its provider's own SDK and signed protocol:

- ``wechat``: WeChat Pay API v3 through ``wechatpayv3`` (RSA-SHA256 request signatures, signed
  and AES-256-GCM encrypted notifications);
- ``alipay``: Alipay's open API through ``python-alipay-sdk`` (RSA2 signatures both ways);
- ``fake``: the demo's cashier in this site (``/pay/fake/<trade>/``); its notifications are signed
  with HMAC-SHA256 (``FAKEPAY_SECRET``) over the same ``timestamp\\nnonce\\nbody\\n`` string WeChat
  Pay signs, carry an id and a timestamp, and are verified like the real ones.

Adapters raise :class:`NoticeRefused` for a notification that fails verification and
:class:`GatewayError` when the provider cannot be reached or answers with an error.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import secrets
import time
from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal
from functools import cache

from django.conf import settings
from django.core.cache import cache as django_cache
from django.http import HttpResponse, JsonResponse
from django.urls import reverse


class GatewayError(Exception):
    """The provider could not be reached, or refused the request."""


class NoticeRefused(Exception):
    """A notification whose signature, timestamp or content does not check out."""


@dataclass(frozen=True)
class Trade:
    """What a provider says about one of our trades."""

    out_trade_no: str
    paid: bool
    transaction_id: str = ""
    amount: Decimal | None = None
    notice_id: str = ""  # set for a notification, the provider's id for it


@dataclass(frozen=True)
class RefundResult:
    status: str  # "succeeded", "pending" or "failed" (RefundStatus values)
    provider_refund_id: str = ""
    error: str = ""


def cents(amount: Decimal) -> int:
    """Yuan to fen, exactly (amounts have two decimals)."""
    return int((amount * 100).to_integral_value())


def yuan(fen: int | str) -> Decimal:
    return (Decimal(int(fen)) / 100).quantize(Decimal("0.01"))


def key_text(value: str) -> str:
    """A key from the environment: PEM text, or ``@/path/to/file.pem``."""
    if value.startswith("@"):
        with open(value[1:], encoding="utf-8") as f:
            return f.read()
    return value.replace("\\n", "\n")


def notify_url(provider: str) -> str:
    """Where the provider posts its notifications: an absolute URL on SITE_URL."""
    base = (settings.SITE_URL or "http://127.0.0.1:8000").rstrip("/")
    return base + reverse("supply:payment_notify", args=[provider])


def fresh(timestamp: str) -> bool:
    """Whether a notification's timestamp (seconds) is within PAYMENT_NOTICE_MAX_AGE_SECONDS of now."""
    try:
        sent = int(timestamp)
    except (TypeError, ValueError):
        return False
    return abs(time.time() - sent) <= settings.PAYMENT_NOTICE_MAX_AGE_SECONDS


def header(headers: Mapping[str, str], name: str) -> str:
    """A request header by its HTTP name, from Django's ``request.headers`` or a plain dict."""
    for key in (name, name.lower(), "HTTP_" + name.upper().replace("-", "_")):
        if key in headers:
            return headers[key]
    return ""


class Gateway:
    provider = ""

    def checkout(self, *, out_trade_no: str, amount: Decimal, description: str, return_url: str) -> str:
        """Open the trade; returns where the resident pays (a URL to open, or a QR code's content)."""
        raise NotImplementedError

    def checkout_is_qr(self) -> bool:
        """Whether ``checkout`` gives a code to scan rather than a page to open."""
        return False

    def verify_notice(self, headers: Mapping[str, str], body: bytes) -> Trade:
        raise NotImplementedError

    def query(self, out_trade_no: str) -> Trade:
        raise NotImplementedError

    def refund(
        self, *, out_trade_no: str, out_refund_no: str, amount: Decimal, total: Decimal, reason: str
    ) -> RefundResult:
        raise NotImplementedError

    def acknowledge(self, ok: bool, message: str = "") -> HttpResponse:
        """The answer the provider expects to a notification (it retries until told ``ok``)."""
        return JsonResponse({"code": "SUCCESS" if ok else "FAIL", "message": message}, status=200 if ok else 400)


# --- the demo's cashier --------------------------------------------------------------------------


def fake_sign(timestamp: str, nonce: str, body: str) -> str:
    message = f"{timestamp}\n{nonce}\n{body}\n".encode()
    return base64.b64encode(hmac.new(settings.FAKEPAY_SECRET.encode(), message, hashlib.sha256).digest()).decode()


class FakeGateway(Gateway):
    """The demo's own cashier. Its ledger (what the "provider" knows) lives in the cache, apart
    from our Payment rows, so a query can disagree with us exactly as a real provider can."""

    provider = "fake"
    LEDGER_SECONDS = 7 * 24 * 3600

    @staticmethod
    def _key(out_trade_no: str) -> str:
        return f"fakepay:trade:{out_trade_no}"

    def checkout(self, *, out_trade_no: str, amount: Decimal, description: str, return_url: str) -> str:
        django_cache.set(
            self._key(out_trade_no),
            {"amount": cents(amount), "description": description, "return_url": return_url, "paid": False},
            self.LEDGER_SECONDS,
        )
        return reverse("supply:fakepay_cashier", args=[out_trade_no])

    def ledger(self, out_trade_no: str) -> dict | None:
        return django_cache.get(self._key(out_trade_no))

    def pay(self, out_trade_no: str) -> tuple[dict[str, str], bytes] | None:
        """The resident pays at the cashier: the ledger says paid, and the signed notification the
        provider sends is returned (headers, body). None for an unknown trade."""
        trade = self.ledger(out_trade_no)
        if trade is None:
            return None
        if not trade["paid"]:
            trade.update(paid=True, transaction_id=f"FAKE{secrets.token_hex(8).upper()}")
            django_cache.set(self._key(out_trade_no), trade, self.LEDGER_SECONDS)
        return self.notice(out_trade_no, trade["transaction_id"], trade["amount"])

    @staticmethod
    def notice(out_trade_no: str, transaction_id: str, amount: int) -> tuple[dict[str, str], bytes]:
        body = json.dumps(
            {
                "id": secrets.token_hex(16),
                "event_type": "TRANSACTION.SUCCESS",
                "out_trade_no": out_trade_no,
                "transaction_id": transaction_id,
                "trade_state": "SUCCESS",
                "amount": amount,
            }
        )
        timestamp, nonce = str(int(time.time())), secrets.token_hex(16)
        headers = {
            "Fakepay-Timestamp": timestamp,
            "Fakepay-Nonce": nonce,
            "Fakepay-Signature": fake_sign(timestamp, nonce, body),
        }
        return headers, body.encode()

    def verify_notice(self, headers: Mapping[str, str], body: bytes) -> Trade:
        text = body.decode("utf-8", errors="replace")
        timestamp, nonce = header(headers, "Fakepay-Timestamp"), header(headers, "Fakepay-Nonce")
        signature = header(headers, "Fakepay-Signature")
        if not hmac.compare_digest(signature.encode(), fake_sign(timestamp, nonce, text).encode()):
            raise NoticeRefused("bad signature")
        if not fresh(timestamp):
            raise NoticeRefused("stale timestamp")
        try:
            data = json.loads(text)
            return Trade(
                out_trade_no=str(data["out_trade_no"]),
                paid=data["trade_state"] == "SUCCESS",
                transaction_id=str(data["transaction_id"]),
                amount=yuan(data["amount"]),
                notice_id=str(data["id"]),
            )
        except (ValueError, KeyError, TypeError) as exc:
            raise NoticeRefused("malformed") from exc

    def query(self, out_trade_no: str) -> Trade:
        trade = self.ledger(out_trade_no) or {"paid": False}
        return Trade(
            out_trade_no=out_trade_no,
            paid=trade["paid"],
            transaction_id=trade.get("transaction_id", ""),
            amount=yuan(trade["amount"]) if "amount" in trade else None,
        )

    def refund(
        self, *, out_trade_no: str, out_refund_no: str, amount: Decimal, total: Decimal, reason: str
    ) -> RefundResult:
        trade = self.ledger(out_trade_no)
        if trade is None or not trade["paid"]:
            return RefundResult(status="failed", error="trade not paid")
        refunds = trade.setdefault("refunds", {})
        if out_refund_no not in refunds:
            if sum(refunds.values()) + cents(amount) > trade["amount"]:
                return RefundResult(status="failed", error="refund exceeds the payment")
            refunds[out_refund_no] = cents(amount)
            django_cache.set(self._key(out_trade_no), trade, self.LEDGER_SECONDS)
        return RefundResult(status="succeeded", provider_refund_id=f"FAKER{out_refund_no}")


@cache
def _gateway(name: str) -> Gateway:
    if name == "wechat":
        from supply.payments.wechat import WeChatGateway

        return WeChatGateway()
    if name == "alipay":
        from supply.payments.alipay import AlipayGateway

        return AlipayGateway()
    if name == "fake":
        return FakeGateway()
    raise GatewayError(f"unknown PAYMENT_GATEWAY {name!r}")


def gateway(name: str | None = None) -> Gateway:
    """The configured gateway (or the one a payment was made with, by name)."""
    return _gateway(name or settings.PAYMENT_GATEWAY)


def gateways_reset() -> None:
    """Forget the adapters built so far (the tests change settings)."""
    _gateway.cache_clear()
