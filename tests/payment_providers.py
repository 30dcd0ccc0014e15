"""Local stand-ins for WeChat Pay (API v3) and Alipay's servers, speaking their signed protocols.

Each runs in a thread on 127.0.0.1, checks the signature of every request with the merchant's
public key (refusing it as the real server does), signs every answer with its own private key, and
can send the signed notification of a payment. The keys are made fresh for each test session:
nothing secret lives in the repository.
"""

from __future__ import annotations

import base64
import json
import secrets
import threading
import time
import uuid
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qsl, urlencode, urlsplit

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding, rsa
from cryptography.hazmat.primitives.ciphers.aead import AESGCM


@dataclass
class KeyPair:
    private: rsa.RSAPrivateKey

    @classmethod
    def new(cls) -> KeyPair:
        return cls(rsa.generate_private_key(public_exponent=65537, key_size=2048))

    @property
    def private_pem(self) -> str:
        return self.private.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
        ).decode()

    @property
    def public_pem(self) -> str:
        return (
            self.private.public_key()
            .public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
            .decode()
        )

    def sign(self, message: str) -> str:
        signature = self.private.sign(message.encode(), padding.PKCS1v15(), hashes.SHA256())
        return base64.b64encode(signature).decode()

    def verifies(self, message: str, signature: str) -> bool:
        try:
            self.private.public_key().verify(
                base64.b64decode(signature), message.encode(), padding.PKCS1v15(), hashes.SHA256()
            )
        except (InvalidSignature, ValueError):
            return False
        return True


@dataclass
class Provider:
    """What the provider knows: trades by our number, refunds by ours, requests it refused."""

    trades: dict[str, dict] = field(default_factory=dict)
    refunds: dict[str, dict] = field(default_factory=dict)
    refused: list[str] = field(default_factory=list)
    requests: int = 0

    def start(self, handler: type[BaseHTTPRequestHandler]) -> str:
        handler.provider = self  # type: ignore[attr-defined]
        self.server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        return f"http://127.0.0.1:{self.server.server_address[1]}"

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()


class _Handler(BaseHTTPRequestHandler):
    provider: Provider

    def log_message(self, *args) -> None:  # quiet
        pass

    def _answer(self, status: int, body: str, headers: dict[str, str] | None = None) -> None:
        raw = body.encode()
        self.send_response(status)
        for name, value in {"Content-Type": "application/json; charset=utf-8", **(headers or {})}.items():
            self.send_header(name, value)
        self.send_header("Content-Length", str(len(raw)))
        self.end_headers()
        self.wfile.write(raw)


# --- WeChat Pay API v3 ------------------------------------------------------------------------------


class WeChatPayServer(Provider):
    def __init__(self) -> None:
        super().__init__()
        self.merchant = KeyPair.new()  # the merchant's key: we sign with it, the server checks
        self.platform = KeyPair.new()  # the platform's key: the server signs, we check
        self.mchid, self.appid = "1900000109", "wxd678efh567hg6787"
        self.serial_no = secrets.token_hex(20).upper()
        self.public_key_id = "PUB_KEY_ID_" + secrets.token_hex(8).upper()
        self.apiv3_key = secrets.token_hex(16)  # 32 characters

    def settings(self, url: str) -> dict:
        return {
            "PAYMENT_GATEWAY": "wechat",
            "WECHATPAY_MCHID": self.mchid,
            "WECHATPAY_APPID": self.appid,
            "WECHATPAY_CERT_SERIAL_NO": self.serial_no,
            "WECHATPAY_PRIVATE_KEY": self.merchant.private_pem,
            "WECHATPAY_APIV3_KEY": self.apiv3_key,
            "WECHATPAY_PUBLIC_KEY": self.platform.public_pem,
            "WECHATPAY_PUBLIC_KEY_ID": self.public_key_id,
            "WECHATPAY_GATEWAY_URL": url,
        }

    def signed_headers(self, body: str, *, timestamp: int | None = None) -> dict[str, str]:
        stamp, nonce = str(timestamp or int(time.time())), secrets.token_hex(16)
        return {
            "Wechatpay-Timestamp": stamp,
            "Wechatpay-Nonce": nonce,
            "Wechatpay-Serial": self.public_key_id,
            "Wechatpay-Signature": self.platform.sign(f"{stamp}\n{nonce}\n{body}\n"),
            "Wechatpay-Signature-Type": "WECHATPAY2-SHA256-RSA2048",
        }

    def authorized(self, method: str, path: str, body: str, authorization: str) -> bool:
        scheme, _space, params = authorization.partition(" ")
        fields = dict(part.split("=", 1) for part in params.split(","))
        fields = {k: v.strip('"') for k, v in fields.items()}
        if scheme != "WECHATPAY2-SHA256-RSA2048" or fields.get("mchid") != self.mchid:
            return False
        message = f"{method}\n{path}\n{fields['timestamp']}\n{fields['nonce_str']}\n{body}\n"
        return self.merchant.verifies(message, fields["signature"])

    def pay(self, out_trade_no: str, *, timestamp: int | None = None) -> tuple[dict[str, str], bytes]:
        """The resident pays: the trade is paid, and here is the notification the server sends."""
        trade = self.trades[out_trade_no]
        trade.update(trade_state="SUCCESS", transaction_id=trade.get("transaction_id") or f"42{secrets.token_hex(10)}")
        resource = json.dumps(
            {
                "mchid": self.mchid,
                "appid": self.appid,
                "out_trade_no": out_trade_no,
                "transaction_id": trade["transaction_id"],
                "trade_state": "SUCCESS",
                "amount": {"total": trade["amount"]["total"], "payer_total": trade["amount"]["total"]},
            }
        )
        nonce = secrets.token_hex(6)
        ciphertext = AESGCM(self.apiv3_key.encode()).encrypt(nonce.encode(), resource.encode(), b"transaction")
        body = json.dumps(
            {
                "id": str(uuid.uuid4()),
                "event_type": "TRANSACTION.SUCCESS",
                "resource_type": "encrypt-resource",
                "summary": "支付成功",
                "resource": {
                    "original_type": "transaction",
                    "algorithm": "AEAD_AES_256_GCM",
                    "ciphertext": base64.b64encode(ciphertext).decode(),
                    "associated_data": "transaction",
                    "nonce": nonce,
                },
            }
        )
        return self.signed_headers(body, timestamp=timestamp), body.encode()


class _WeChatHandler(_Handler):
    provider: WeChatPayServer

    def _handle(self, method: str) -> None:
        server = self.provider
        server.requests += 1
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length).decode() if length else ""
        if not server.authorized(method, self.path, body, self.headers.get("Authorization", "")):
            server.refused.append(self.path)
            self._answer(401, json.dumps({"code": "SIGN_ERROR", "message": "签名错误"}))
            return
        path = urlsplit(self.path).path
        if method == "POST" and path == "/v3/pay/transactions/native":
            data = json.loads(body)
            assert data["mchid"] == server.mchid and data["appid"] == server.appid and data["notify_url"]
            server.trades.setdefault(data["out_trade_no"], {"amount": data["amount"], "trade_state": "NOTPAY"})
            answer = {"code_url": f"weixin://wxpay/bizpayurl?pr={secrets.token_urlsafe(8)}"}
        elif method == "GET" and path.startswith("/v3/pay/transactions/out-trade-no/"):
            out_trade_no = path.rsplit("/", 1)[1]
            trade = server.trades.get(out_trade_no)
            if trade is None:
                self._answer(404, json.dumps({"code": "ORDER_NOT_EXIST", "message": "订单不存在"}))
                return
            answer = {"out_trade_no": out_trade_no, **trade}
        elif method == "POST" and path == "/v3/refund/domestic/refunds":
            data = json.loads(body)
            trade = server.trades.get(data["out_trade_no"])
            if trade is None or trade["trade_state"] != "SUCCESS":
                self._answer(400, json.dumps({"code": "INVALID_REQUEST", "message": "订单未支付"}))
                return
            refund = server.refunds.setdefault(
                data["out_refund_no"], {"refund_id": f"50{secrets.token_hex(10)}", "amount": data["amount"]}
            )
            answer = {"refund_id": refund["refund_id"], "out_refund_no": data["out_refund_no"], "status": "SUCCESS"}
        else:
            self._answer(404, json.dumps({"code": "NOT_FOUND", "message": path}))
            return
        text = json.dumps(answer)
        self._answer(200, text, server.signed_headers(text))

    def do_GET(self) -> None:
        self._handle("GET")

    def do_POST(self) -> None:
        self._handle("POST")


def wechat_server() -> tuple[WeChatPayServer, str]:
    server = WeChatPayServer()
    return server, server.start(_WeChatHandler)


# --- Alipay ---------------------------------------------------------------------------------------------


class AlipayServer(Provider):
    def __init__(self) -> None:
        super().__init__()
        self.app = KeyPair.new()  # the app's key: we sign requests, the server checks
        self.alipay = KeyPair.new()  # Alipay's key: the server signs answers and notifications
        self.appid = "2021000000000001"

    def settings(self, url: str) -> dict:
        return {
            "PAYMENT_GATEWAY": "alipay",
            "ALIPAY_APPID": self.appid,
            "ALIPAY_PRIVATE_KEY": self.app.private_pem,
            "ALIPAY_PUBLIC_KEY": self.alipay.public_pem,
            "ALIPAY_GATEWAY_URL": url + "/gateway.do",
        }

    def request_ok(self, params: dict[str, str]) -> bool:
        signature = params.pop("sign", "")
        message = "&".join(f"{k}={v}" for k, v in sorted(params.items()))  # sign_type included
        return params.get("app_id") == self.appid and self.app.verifies(message, signature)

    def open_cashier(self, query: str) -> bool:
        """The resident's browser opens the checkout URL: a signed page-pay request opens the trade."""
        params = dict(parse_qsl(query, keep_blank_values=True))
        if not self.request_ok(params):
            return False
        biz = json.loads(params["biz_content"])
        self.trades.setdefault(
            biz["out_trade_no"],
            {"total_amount": biz["total_amount"], "trade_status": "WAIT_BUYER_PAY", "notify_url": params["notify_url"]},
        )
        return True

    def pay(self, out_trade_no: str) -> tuple[dict[str, str], bytes]:
        trade = self.trades[out_trade_no]
        trade.update(trade_status="TRADE_SUCCESS", trade_no=trade.get("trade_no") or f"2026{secrets.token_hex(12)}")
        params = {
            "notify_time": time.strftime("%Y-%m-%d %H:%M:%S"),
            "notify_type": "trade_status_sync",
            "notify_id": secrets.token_hex(16),
            "app_id": self.appid,
            "charset": "utf-8",
            "version": "1.0",
            "trade_no": trade["trade_no"],
            "out_trade_no": out_trade_no,
            "trade_status": "TRADE_SUCCESS",
            "total_amount": trade["total_amount"],
            "subject": "保供订单",
        }
        params["sign"] = self.alipay.sign("&".join(f"{k}={v}" for k, v in sorted(params.items())))
        params["sign_type"] = "RSA2"
        return {"Content-Type": "application/x-www-form-urlencoded"}, urlencode(params).encode()

    def signed_answer(self, name: str, answer: dict) -> str:
        inner = json.dumps(answer, ensure_ascii=False, separators=(",", ":"))
        return '{"%s":%s,"sign":"%s"}' % (name, inner, self.alipay.sign(inner))


class _AlipayHandler(_Handler):
    provider: AlipayServer

    def do_GET(self) -> None:
        server = self.provider
        server.requests += 1
        params = dict(parse_qsl(urlsplit(self.path).query, keep_blank_values=True))
        method = params.get("method", "")
        if method == "alipay.trade.wap.pay":
            self._answer(200 if server.open_cashier(urlsplit(self.path).query) else 400, "{}")
            return
        if not server.request_ok(dict(params)):
            server.refused.append(method)
            error = {"code": "40002", "msg": "Invalid Arguments", "sub_code": "isv.invalid-signature"}
            self._answer(200, json.dumps({"error_response": error}))
            return
        biz = json.loads(params["biz_content"])
        trade = server.trades.get(biz.get("out_trade_no", ""))
        if method == "alipay.trade.query":
            if trade is None:
                answer = {"code": "40004", "msg": "Business Failed", "sub_code": "ACQ.TRADE_NOT_EXIST"}
            else:
                answer = {"code": "10000", "msg": "Success", "out_trade_no": biz["out_trade_no"], **trade}
        elif method == "alipay.trade.refund":
            if trade is None or trade["trade_status"] != "TRADE_SUCCESS":
                answer = {"code": "40004", "msg": "Business Failed", "sub_code": "ACQ.TRADE_STATUS_ERROR"}
            else:
                server.refunds.setdefault(biz["out_request_no"], {"amount": biz["refund_amount"]})
                answer = {
                    "code": "10000",
                    "msg": "Success",
                    "trade_no": trade["trade_no"],
                    "out_trade_no": biz["out_trade_no"],
                    "refund_fee": biz["refund_amount"],
                    "fund_change": "Y",
                }
        else:
            answer = {"code": "40004", "msg": "Business Failed", "sub_code": "ACQ.UNKNOWN_METHOD"}
        self._answer(200, server.signed_answer(method.replace(".", "_") + "_response", answer))


def alipay_server() -> tuple[AlipayServer, str]:
    server = AlipayServer()
    return server, server.start(_AlipayHandler)
