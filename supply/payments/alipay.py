"""Alipay's open API (phone website pay, 手机网站支付) through ``python-alipay-sdk``.

The SDK signs every request with the app's key (RSA2) and verifies every answer with Alipay's
public key; notifications (form posts) are verified here with the same SDK. Alipay retries a
notification for a day with the same ``notify_id``, so replay safety is the id, not the clock.
``ALIPAY_GATEWAY_URL`` replaces the SDK's gateway attribute (the tests' local server).
"""

from __future__ import annotations

from collections.abc import Mapping
from decimal import Decimal, InvalidOperation
from urllib.parse import parse_qsl

from alipay import AliPay
from django.conf import settings

from supply.payments.gateways import Gateway, GatewayError, NoticeRefused, RefundResult, Trade, key_text, notify_url

_PAID = ("TRADE_SUCCESS", "TRADE_FINISHED")


class AlipayGateway(Gateway):
    provider = "alipay"

    def __init__(self) -> None:
        try:
            self.client = AliPay(
                appid=settings.ALIPAY_APPID,
                app_notify_url=notify_url(self.provider),
                app_private_key_string=key_text(settings.ALIPAY_PRIVATE_KEY),
                alipay_public_key_string=key_text(settings.ALIPAY_PUBLIC_KEY),
                sign_type="RSA2",
            )
        except Exception as exc:  # a key that does not load
            raise GatewayError(f"Alipay is not configured: {exc}") from exc
        self.client._gateway = settings.ALIPAY_GATEWAY_URL
        self.client._config.timeout = settings.PAYMENT_TIMEOUT_SECONDS

    def _call(self, method, **kwargs) -> dict:
        try:
            return method(**kwargs)
        except Exception as exc:  # network errors, error answers, and answers whose signature fails
            raise GatewayError(f"Alipay: {exc}") from exc

    def checkout(self, *, out_trade_no: str, amount: Decimal, description: str, return_url: str) -> str:
        signed = self.client.api_alipay_trade_wap_pay(
            subject=description[:256], out_trade_no=out_trade_no, total_amount=f"{amount:.2f}", return_url=return_url
        )
        return f"{settings.ALIPAY_GATEWAY_URL}?{signed}"

    def verify_notice(self, headers: Mapping[str, str], body: bytes) -> Trade:
        data = dict(parse_qsl(body.decode("utf-8", errors="replace"), keep_blank_values=True))
        signature = data.pop("sign", "")
        data.pop("sign_type", None)
        try:
            ok = bool(signature) and self.client.verify(data, signature)
        except Exception as exc:  # a signature that is not base64
            raise NoticeRefused(str(exc)) from exc
        if not ok:
            raise NoticeRefused("bad signature")
        if data.get("app_id") != settings.ALIPAY_APPID:
            raise NoticeRefused("another app's notification")
        try:
            return Trade(
                out_trade_no=data["out_trade_no"],
                paid=data.get("trade_status") in _PAID,
                transaction_id=data.get("trade_no", ""),
                amount=Decimal(data["total_amount"]),
                notice_id=data["notify_id"],
            )
        except (KeyError, InvalidOperation) as exc:
            raise NoticeRefused("malformed") from exc

    def acknowledge(self, ok: bool, message: str = ""):
        from django.http import HttpResponse

        return HttpResponse("success" if ok else "fail", content_type="text/plain", status=200 if ok else 400)

    def query(self, out_trade_no: str) -> Trade:
        data = self._call(self.client.api_alipay_trade_query, out_trade_no=out_trade_no)
        if data.get("code") != "10000":
            # 40004 ACQ.TRADE_NOT_EXIST: the resident has not opened the cashier yet
            return Trade(out_trade_no=out_trade_no, paid=False)
        return Trade(
            out_trade_no=out_trade_no,
            paid=data.get("trade_status") in _PAID,
            transaction_id=data.get("trade_no", ""),
            amount=Decimal(data["total_amount"]) if data.get("total_amount") else None,
        )

    def refund(
        self, *, out_trade_no: str, out_refund_no: str, amount: Decimal, total: Decimal, reason: str
    ) -> RefundResult:
        try:
            data = self._call(
                self.client.api_alipay_trade_refund,
                refund_amount=f"{amount:.2f}",
                out_trade_no=out_trade_no,
                out_request_no=out_refund_no,
                refund_reason=reason[:256],
            )
        except GatewayError as exc:
            return RefundResult(status="pending", error=str(exc)[:300])
        if data.get("code") != "10000":
            return RefundResult(status="failed", error=f"{data.get('sub_code', '')} {data.get('sub_msg', '')}"[:300])
        # fund_change "N" answers a repeated request for a refund already made
        return RefundResult(status="succeeded", provider_refund_id=data.get("trade_no", ""))
