from django import template
from django.utils.html import format_html

from core.phones import phone_display, phone_masked
from households import access
from households.models import LockdownLevel

register = template.Library()


@register.simple_tag
def level_badge(level) -> str:
    """A coloured badge for a lockdown level (0, 1, 2)."""
    try:
        label = LockdownLevel(int(level)).label
    except (TypeError, ValueError):
        return ""
    return format_html('<span class="level level-{}">{}</span>', int(level), label)


@register.filter
def phone(value: str) -> str:
    return phone_display(value)


@register.filter
def masked(value: str) -> str:
    return phone_masked(value)


@register.filter
def can(user, rule: str) -> bool:
    """``{% if user|can:"deliveries.round" %}``: does the named rule let this user in?"""
    from households.permissions import allows

    return allows(user, rule)


@register.filter
def sees_care(user) -> bool:
    """``{% if user|sees_care %}``: may this user see households' care flags (households.access)."""
    return access.sees_care(user)


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
