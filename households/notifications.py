"""What residents are told, in words, and how an SMS leaves the building.

Texts are drawn from a notification's kind and parameters in the active language, so the same
notification reads in Chinese on the phone and in English for an English-speaking reader.

SMS backends (``settings.SMS_BACKEND``):
- ``console``: writes each message to the log (the default; the demo and tests use it);
- ``http``: POSTs ``{"to", "text"}`` as JSON to ``SMS_GATEWAY_URL`` with ``SMS_GATEWAY_TOKEN`` as a
  bearer token: the adapter for a provider's HTTP gateway;
- any dotted path to a class with ``send(to, text)``.
A backend raises :class:`SmsError` when a message was not accepted; the sender retries it later.
"""

import logging

import requests
from django.conf import settings
from django.utils.module_loading import import_string
from django.utils.translation import gettext as _

logger = logging.getLogger("baogong.sms")


def message_text(kind: str, params: dict) -> str:
    """One notification's text in the active language."""
    p = params
    if kind == "order_confirmed":
        return (
            _("Order %(order)s confirmed: %(items)s items, ¥%(total)s. It comes with your package of this cycle.") % p
        )
    if kind == "package_scheduled":
        if p.get("slot"):
            return (
                _("Package %(code)s: collect it at %(point)s on %(date)s between %(slot)s (stay-in-compound pick-up).")
                % p
            )
        return _("Package %(code)s will be brought to your door on %(date)s.") % p
    if kind == "out_for_delivery":
        return _("Package %(code)s is on its way to you today.") % p
    if kind == "delivered":
        return _("Package %(code)s was delivered at %(time)s.") % p
    if kind == "exception":
        return _("Package %(code)s could not be delivered (%(reason)s); it comes again on %(date)s.") % p
    return _("Notice about %(key)s") % {"key": p.get("key", kind)}


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
