"""``{% load baogong %}``: the filters every page may use (phone numbers, query strings).

The households' own (lockdown level badges, the named rules, care flags) are in ``households_tags``."""

from django import template
from django.utils.translation import pgettext

from core.dates import day_text, moment_text
from core.phones import phone_display, phone_masked

register = template.Library()


@register.filter
def phone(value: str) -> str:
    return phone_display(value)


@register.filter
def masked(value: str) -> str:
    return phone_masked(value)


@register.simple_tag
def query_except(query, *names) -> str:
    """The query string of ``query`` (request.GET) without ``names``, ending in "&" when not empty,
    for links that change one parameter. Not ``query.items`` in a template: a parameter named
    "items" would shadow it."""
    kept = query.copy()
    for name in names:
        kept.pop(name, None)
    encoded = kept.urlencode()
    return f"{encoded}&" if encoded else ""


@register.filter
def day(value) -> str:
    """A day on a page: 12月7日 this year, 2026年12月7日 another (core.dates)."""
    return day_text(value)


@register.filter
def moment(value) -> str:
    """A moment on a page: 12月7日 09:30 (core.dates)."""
    return moment_text(value)


@register.simple_tag
def colon() -> str:
    """A label's colon in the page's language: "：" in Chinese, ": " in English (CONTRIBUTING.md)."""
    return pgettext("after a label", ": ")
