"""How a text message leaves the building: the SMS backends (``settings.SMS_BACKEND``).

- ``console``: writes each message to the log (the default; the demo and tests use it);
- ``http``: POSTs ``{"to", "text"}`` as JSON to ``SMS_GATEWAY_URL`` with ``SMS_GATEWAY_TOKEN`` as a
  bearer token: the adapter for a provider's HTTP gateway;
- any dotted path to a class with ``send(to, text)``.
A backend raises :class:`SmsError` when a message was not accepted; the sender retries it later.
What residents are told, in words, is households.notifications' business.
"""

import logging

import requests
from django.conf import settings
from django.utils.module_loading import import_string

logger = logging.getLogger("baogong.sms")


class SmsError(Exception):
    """The gateway did not accept the message (it may accept it on a later attempt)."""


class ConsoleSmsBackend:
    """Writes messages to the log instead of sending them."""

    def send(self, to: str, text: str) -> None:
        logger.info("SMS to %s: %s", to, text)


class HttpSmsBackend:
    """A provider's HTTP gateway: POST JSON, any 2xx is accepted, anything else is an error."""

    def __init__(self, url: str | None = None, token: str | None = None, timeout: float | None = None):
        self.url = url or settings.SMS_GATEWAY_URL
        self.token = token if token is not None else settings.SMS_GATEWAY_TOKEN
        self.timeout = timeout or settings.SMS_GATEWAY_TIMEOUT
        if not self.url:
            raise SmsError("SMS_GATEWAY_URL is not set")

    def send(self, to: str, text: str) -> None:
        headers = {"Authorization": f"Bearer {self.token}"} if self.token else {}
        try:
            response = requests.post(self.url, json={"to": to, "text": text}, headers=headers, timeout=self.timeout)
        except requests.RequestException as exc:
            raise SmsError(f"gateway unreachable: {exc.__class__.__name__}") from exc
        if not 200 <= response.status_code < 300:
            raise SmsError(f"gateway answered {response.status_code}")


BACKENDS = {"console": ConsoleSmsBackend, "http": HttpSmsBackend}


def sms_backend():
    name = settings.SMS_BACKEND
    return (BACKENDS.get(name) or import_string(name))()


def sms_send_now(to: str, text: str) -> bool:
    """Send one message at once (a one-time code cannot wait for the beat); False if not accepted."""
    try:
        sms_backend().send(to, text)
    except SmsError as exc:
        logger.error("SMS to %s not accepted: %s", to, exc)
        return False
    return True
