"""A text-message backend for tests: keeps what it was asked to send (``SMS_BACKEND = "tests.sms.Outbox"``)."""

import re

SENT: list[tuple[str, str]] = []


class Outbox:
    def send(self, to: str, text: str) -> None:
        SENT.append((to, text))


def codes_sent_to(phone: str) -> list[str]:
    """The 6-digit codes in the messages sent to ``phone`` (E.164), oldest first."""
    return [m.group() for to, text in SENT if to == phone for m in [re.search(r"\b\d{6}\b", text)] if m]
