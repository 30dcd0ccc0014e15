"""WeChat Pay API v3 (Native: the resident scans a code) through the ``wechatpayv3`` SDK.

The SDK signs every request with the merchant's key and verifies every answer and notification
with the platform's public key (``WECHATPAY_PUBLIC_KEY``, "微信支付公钥" mode, so no platform
certificate is downloaded). It has no setting for the server it talks to; ``WECHATPAY_GATEWAY_URL``
replaces its gateway attribute (the tests point it at a local server that checks signatures).
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from decimal import Decimal

from django.conf import settings
from wechatpayv3 import WeChatPay, WeChatPayType

from supply.payments.gateways import (
    Gateway,
    GatewayError,
    NoticeRefused,
    RefundResult,
    Trade,
    cents,
    fresh,
    header,
    key_text,
    notify_url,
    yuan,
)

_REFUND_STATUS = {"SUCCESS": "succeeded", "PROCESSING": "pending", "ABNORMAL": "failed", "CLOSED": "failed"}


class WeChatGateway(Gateway):
    provider = "wechat"

    def __init__(self) -> None:
        try:
            self.client = WeChatPay(
                wechatpay_type=WeChatPayType.NATIVE,
                mchid=settings.WECHATPAY_MCHID,
                private_key=key_text(settings.WECHATPAY_PRIVATE_KEY),
                cert_serial_no=settings.WECHATPAY_CERT_SERIAL_NO,
                appid=settings.WECHATPAY_APPID,
                apiv3_key=settings.WECHATPAY_APIV3_KEY,
                notify_url=notify_url(self.provider),
                timeout=(3, settings.PAYMENT_TIMEOUT_SECONDS),
                public_key=key_text(settings.WECHATPAY_PUBLIC_KEY),
                public_key_id=settings.WECHATPAY_PUBLIC_KEY_ID,
            )
        except Exception as exc:  # the SDK raises bare Exceptions for bad keys
            raise GatewayError(f"WeChat Pay is not configured: {exc}") from exc
        self.client._core._gate_way = settings.WECHATPAY_GATEWAY_URL.rstrip("/")

    def checkout_is_qr(self) -> bool:
        return True

    def _call(self, method, **kwargs) -> dict:
        try:
            code, text = method(**kwargs)
        except Exception as exc:  # network errors, and a response whose signature fails
            raise GatewayError(f"WeChat Pay: {exc}") from exc
        try:
            data = json.loads(text) if text else {}
        except (TypeError, ValueError) as exc:
            raise GatewayError(f"WeChat Pay answered {code} with no JSON") from exc
        if not 200 <= code < 300:
            raise GatewayError(f"WeChat Pay answered {code}: {data.get('code', '')} {data.get('message', '')}")
        return data

    def checkout(self, *, out_trade_no: str, amount: Decimal, description: str, return_url: str) -> str:
        data = self._call(
            self.client.pay,
            description=description[:127],
            out_trade_no=out_trade_no,
            amount={"total": cents(amount), "currency": "CNY"},
        )
        if not data.get("code_url"):
            raise GatewayError("WeChat Pay gave no code to scan")
        return data["code_url"]

    def verify_notice(self, headers: Mapping[str, str], body: bytes) -> Trade:
        sdk_headers = {
            name: header(headers, name)
            for name in (
                "Wechatpay-Signature",
                "Wechatpay-Timestamp",
                "Wechatpay-Nonce",
                "Wechatpay-Serial",
                "Wechatpay-Signature-Type",
            )
        }
        if not fresh(sdk_headers["Wechatpay-Timestamp"]):
            raise NoticeRefused("stale timestamp")
        try:
            data = self.client.callback(sdk_headers, body.decode("utf-8"))
        except Exception as exc:  # an unknown signature type, or an unknown cipher
            raise NoticeRefused(str(exc)) from exc
        if not data:
            raise NoticeRefused("bad signature or undecryptable resource")
        try:
            resource = data["resource"]
            return Trade(
                out_trade_no=str(resource["out_trade_no"]),
                paid=resource["trade_state"] == "SUCCESS",
                transaction_id=str(resource.get("transaction_id", "")),
                amount=yuan(resource["amount"]["total"]),
                notice_id=str(data["id"]),
            )
        except (KeyError, TypeError, ValueError) as exc:
            raise NoticeRefused("malformed") from exc

    def query(self, out_trade_no: str) -> Trade:
        data = self._call(self.client.query, out_trade_no=out_trade_no)
        total = (data.get("amount") or {}).get("total")
        return Trade(
            out_trade_no=out_trade_no,
            paid=data.get("trade_state") == "SUCCESS",
            transaction_id=str(data.get("transaction_id", "")),
            amount=yuan(total) if total is not None else None,
        )

    def refund(
        self, *, out_trade_no: str, out_refund_no: str, amount: Decimal, total: Decimal, reason: str
    ) -> RefundResult:
        try:
            data = self._call(
                self.client.refund,
                out_refund_no=out_refund_no,
                out_trade_no=out_trade_no,
                amount={"refund": cents(amount), "total": cents(total), "currency": "CNY"},
                reason=reason[:80],
            )
        except GatewayError as exc:
            return RefundResult(status="pending", error=str(exc)[:300])
        return RefundResult(
            status=_REFUND_STATUS.get(data.get("status", ""), "pending"),
            provider_refund_id=str(data.get("refund_id", "")),
        )
