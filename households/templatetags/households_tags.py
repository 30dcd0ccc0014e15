"""``{% load households_tags %}``: lockdown level badges, the named rules (``user|can:"app.rule"``)
and who sees care flags."""

from django import template
from django.utils.html import format_html

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
def can(user, rule: str) -> bool:
    """``{% if user|can:"deliveries.round" %}``: does the named rule let this user in?"""
    from households.permissions import allows

    return allows(user, rule)


@register.filter
def sees_care(user) -> bool:
    """``{% if user|sees_care %}``: may this user see households' care flags (households.access)."""
    return access.sees_care(user)
