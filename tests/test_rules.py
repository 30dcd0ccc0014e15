"""Who may do what is decided in one place per app (issue 15): the named rules of each app's
rules.py. No view, API module or template names a role; every page's decision is a rule."""

import re
from pathlib import Path

import pytest
from django.urls import URLPattern, URLResolver, get_resolver

from households.models import Role
from households.permissions import RULES, allows

ROOT = Path(__file__).resolve().parent.parent
APPS = ("core", "households", "supply", "deliveries", "hotlines")
ROLE_WORDS = "|".join(Role.values)


def _view_modules():
    for app in APPS:
        for path in (ROOT / app).rglob("*.py"):
            if (
                path.name in ("views.py", "apis.py", "admin.py")
                or path.name.endswith(("_views.py", "_apis.py"))
                or "views" in path.parts
            ):
                yield path


def test_no_view_or_api_module_names_a_role():
    offenders = []
    for path in _view_modules():
        text = path.read_text(encoding="utf-8")
        for n, line in enumerate(text.splitlines(), start=1):
            if re.search(r"\bRole\.\w+|role_required\(|\brole\s*[!=]=|\brole in\b|_roles\s*=", line) or re.search(
                rf"(==|!=|\bin\s*[(\[{{])\s*[^\n]*[\"']({ROLE_WORDS})[\"']", line
            ):
                offenders.append(f"{path.relative_to(ROOT)}:{n}: {line.strip()}")
    assert not offenders, "decide through a named rule (<app>/rules.py):\n" + "\n".join(offenders)


def test_no_template_names_a_role():
    offenders = []
    for path in (ROOT / "templates").rglob("*.html"):
        for n, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
            if re.search(r"\.role\b|\brole\s*[!=]=|is_superuser", line):
                offenders.append(f"{path.relative_to(ROOT)}:{n}: {line.strip()}")
    assert not offenders, 'use {% if user|can:"app.rule" %}:\n' + "\n".join(offenders)


def _routes(patterns=None):
    for p in patterns if patterns is not None else get_resolver().url_patterns:
        if isinstance(p, URLResolver):
            if str(p.pattern) != "admin/":
                yield from _routes(p.url_patterns)
        elif isinstance(p, URLPattern):
            yield p


def test_every_page_that_checks_a_role_does_it_by_a_named_rule():
    unnamed = [
        p.name
        for p in _routes()
        if getattr(p.callback, "allowed_roles", None) and not getattr(p.callback, "rule", None)
    ]
    assert not unnamed


def test_rule_names_are_app_scoped_and_every_role_is_known():
    assert RULES, "the apps' rules.py are imported at start-up"
    for name, roles in RULES.items():
        assert re.fullmatch(r"(households|supply|deliveries|hotlines)\.[a-z_]+", name), name
        assert roles and roles <= set(Role.values), name


@pytest.mark.django_db
def test_a_superuser_is_an_administrator_for_every_rule(city):
    admin = city.users.admin
    assert allows(admin, "households.staff") and not allows(admin, "supply.order_own")
