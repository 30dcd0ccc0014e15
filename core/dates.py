"""Dates and times as people read them on pages and in messages (CONTRIBUTING.md, writing rules):
"12月7日 09:30" within the current year, "2026年12月7日 09:30" otherwise. Paper, files and the
API use ISO 8601 instead."""

import datetime

from django.utils import timezone
from django.utils.formats import date_format


def day_text(value: datetime.date | datetime.datetime | None, *, today: datetime.date | None = None) -> str:
    """A day: 12月7日 this year, 2026年12月7日 another year; "" for no day."""
    if value is None or value == "":
        return ""
    if isinstance(value, datetime.datetime):
        value = timezone.localtime(value).date() if timezone.is_aware(value) else value.date()
    today = today or timezone.localdate()
    return date_format(value, "MONTH_DAY_FORMAT" if value.year == today.year else "DATE_FORMAT")


def moment_text(value: datetime.datetime | None, *, today: datetime.date | None = None) -> str:
    """A moment: its day (as :func:`day_text`) and the 24-hour time, 12月7日 09:30."""
    if value is None or value == "":
        return ""
    local = timezone.localtime(value) if timezone.is_aware(value) else value
    return f"{day_text(local, today=today)} {local:%H:%M}"
