"""Suite-wide test setup.

Markers (declared in pyproject.toml) say what a test needs from the machine:
``postgres`` (DATABASE_URL pointing at PostgreSQL), ``redis`` (REDIS_URL set and answering),
``browser`` (Debian's /usr/bin/chromium and Playwright). On a developer's machine a test whose
need is not met is skipped with the reason; on CI (env ``CI`` non-empty) it fails instead, because
CI provides all of them and a skip there would hide a test that never ran.
"""

import functools
import importlib.util
import os
from pathlib import Path
from types import SimpleNamespace

import pytest

from households.models import LockdownLevel, Role
from tests.factories import (
    BuildingFactory,
    CommunityFactory,
    CompoundFactory,
    DistrictFactory,
    HouseholdFactory,
    HouseholdPhoneFactory,
    OfficeFactory,
    SupplierFactory,
    UserFactory,
)

CHROMIUM = Path("/usr/bin/chromium")


def _on_ci() -> bool:
    return bool(os.environ.get("CI"))


@functools.cache
def _redis_problem() -> str | None:
    from django.conf import settings

    if not settings.REDIS_URL:
        return "needs Redis: set REDIS_URL (e.g. redis://127.0.0.1:6379/15)"
    import redis

    try:
        redis.Redis.from_url(settings.REDIS_URL, socket_connect_timeout=2, socket_timeout=2).ping()
    except redis.RedisError as exc:
        return f"needs Redis: REDIS_URL={settings.REDIS_URL} does not answer ({exc})"
    return None


def _postgres_problem() -> str | None:
    from django.db import connection

    if connection.vendor != "postgresql":
        return (
            "needs PostgreSQL: set DATABASE_URL (e.g. postgres://postgres@127.0.0.1:5432/baogong); "
            f"the database in use is {connection.vendor}"
        )
    return None


def _browser_problem() -> str | None:
    if not CHROMIUM.exists():
        return f"needs Chromium at {CHROMIUM} (Debian package chromium)"
    if importlib.util.find_spec("playwright") is None:
        return "needs Playwright (pip install -e '.[test]')"
    return None


_NEEDS = {"postgres": _postgres_problem, "redis": _redis_problem, "browser": _browser_problem}


@pytest.hookimpl(tryfirst=True)
def pytest_runtest_setup(item: pytest.Item) -> None:
    for marker, problem_of in _NEEDS.items():
        if item.get_closest_marker(marker) is None:
            continue
        problem = problem_of()
        if problem is None:
            continue
        if _on_ci():
            pytest.fail(f"[{marker}] {problem}. CI is set, so this test must run here, not skip.", pytrace=False)
        pytest.skip(f"[{marker}] {problem}")


@pytest.fixture(autouse=True)
def _celery_eager():
    """Tasks run in-process and raise their errors, whatever the broker settings say.

    A test that needs a real worker sets ``celery_app.conf.task_always_eager = False`` itself;
    the old values are restored afterwards either way.
    """
    from config import celery_app

    conf = celery_app.conf
    saved = (conf.task_always_eager, conf.task_eager_propagates)
    conf.task_always_eager = True
    conf.task_eager_propagates = True
    yield
    conf.task_always_eager, conf.task_eager_propagates = saved


@pytest.fixture(autouse=True)
def _chinese():
    """Simplified Chinese is the project's default language; tests see what users see.

    Only the active translation changes; ``settings.LANGUAGE_CODE`` is left as configured.
    """
    from django.utils import translation

    with translation.override("zh-hans"):
        yield


@pytest.fixture(autouse=True)
def _empty_cache():
    """Throttle counters and cached figures must not leak from one test into the next."""
    from django.core.cache import cache

    cache.clear()
    yield


@pytest.fixture(autouse=True)
def _fast_password_hasher(settings):
    """Hashing with the real PBKDF2 work factor would dominate the suite's time."""
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture(autouse=True)
def _printing_off(settings, tmp_path_factory):
    """Drawing every list's PDF on each packed cycle would dominate the suite's time: the printing
    tests turn it on themselves (``settings.DELIVERIES_PRINT_ON_PACK = True``). Kept files go to a
    temporary MEDIA_ROOT, never into the work tree."""
    settings.DELIVERIES_PRINT_ON_PACK = False
    settings.EAGER_TASKS_IN_THREADS = False  # a test sees the work of its tasks when they return
    settings.MEDIA_ROOT = str(tmp_path_factory.mktemp("media"))


@pytest.fixture
def sms_outbox(settings):
    """Text messages are kept in ``tests.sms.SENT`` instead of logged (the real sending path otherwise)."""
    from tests import sms

    sms.SENT.clear()
    settings.SMS_BACKEND = "tests.sms.Outbox"
    yield sms.SENT
    sms.SENT.clear()


@pytest.fixture
def api_client():
    from rest_framework.test import APIClient

    return APIClient()


# --- a small city with one user of every role ----------------------------------------------


@pytest.fixture
def city(db):
    """Two districts; district 1 has an office with communities A and B, district 2 one community C.

    Each community has one compound with one building and two households, and a worker.
    Users: one of every role, scoped to community A's chain where a place is needed.
    """
    d1, d2 = (
        DistrictFactory(name="中原区", hotline="0371-67635762"),
        DistrictFactory(name="二七区", hotline="0371-68812345"),
    )
    o1, o2 = OfficeFactory(district=d1), OfficeFactory(district=d2)
    a, b, c = CommunityFactory(office=o1), CommunityFactory(office=o1), CommunityFactory(office=o2)
    places = {}
    for community, level in (
        (a, LockdownLevel.STAY_AT_HOME),
        (b, LockdownLevel.STAY_IN_COMPOUND),
        (c, LockdownLevel.OPEN),
    ):
        compound = CompoundFactory(community=community, lockdown_level=level)
        building = BuildingFactory(compound=compound)
        first = HouseholdFactory(building=building, room="301", floor=3, elderly_alone=True)
        second = HouseholdFactory(building=building, room="1201", floor=12)
        HouseholdPhoneFactory(household=first)
        HouseholdPhoneFactory(household=second)
        places[community.pk] = SimpleNamespace(compound=compound, building=building, households=[first, second])
    supplier = SupplierFactory()
    users = SimpleNamespace(
        resident=UserFactory(role=Role.RESIDENT, household=places[a.pk].households[0], phone="+8613900000001"),
        worker=UserFactory(role=Role.WORKER, community=a, is_staff=True),
        worker_b=UserFactory(role=Role.WORKER, community=b, is_staff=True),
        office=UserFactory(role=Role.OFFICE, office=o1, is_staff=True),
        operator=UserFactory(role=Role.OPERATOR, district=d1, is_staff=True),
        operator2=UserFactory(role=Role.OPERATOR, district=d2, is_staff=True),
        taskforce=UserFactory(role=Role.TASKFORCE, district=d1, is_staff=True),
        city_taskforce=UserFactory(role=Role.TASKFORCE, is_staff=True),
        supplier=UserFactory(role=Role.SUPPLIER, supplier=supplier),
        admin=UserFactory(role=Role.ADMIN, is_staff=True, is_superuser=True),
        volunteer=UserFactory(role=Role.VOLUNTEER, community=a, phone="+8613900000009", username="+8613900000009"),
    )
    from django.utils import timezone

    from households.models import Volunteer, VolunteerStatus

    Volunteer.objects.create(
        user=users.volunteer, community=a, name="红马甲", status=VolunteerStatus.APPROVED, decided_at=timezone.now()
    )
    return SimpleNamespace(
        districts=(d1, d2),
        offices=(o1, o2),
        a=a,
        b=b,
        c=c,
        places=places,
        supplier=supplier,
        users=users,
        household_a=places[a.pk].households[0],
        household_b=places[b.pk].households[0],
        household_c=places[c.pk].households[0],
    )


@pytest.fixture
def shop(city):
    """City suppliers serving both districts, a small catalog and an open cycle."""
    from supply import services
    from tests.factories import ProductFactory

    supplier = city.supplier
    supplier.districts.set(city.districts)
    cabbage = ProductFactory(supplier=supplier, name="大白菜", unit="颗", size="约2kg", price="6.50", capacity=20)
    eggs = ProductFactory(
        supplier=supplier,
        name="鸡蛋",
        category="meat_eggs",
        unit="盒",
        size="30枚",
        price="28.00",
        capacity=100,
        household_limit=2,
    )
    masks = ProductFactory(
        supplier=supplier, name="医用口罩", category="epidemic", unit="盒", size="50只", price="19.90", capacity=100
    )
    cycle = services.cycle_open()
    return SimpleNamespace(supplier=supplier, cabbage=cabbage, eggs=eggs, masks=masks, cycle=cycle)


# --- one small packed cycle at three stages of custody (tests/deliveries/custody.py) ---------------


@pytest.fixture
def packed(city, shop, django_capture_on_commit_callbacks):
    """A packed cycle delivering in a few days, nothing received yet: both households of
    community A (door), one of B (pick-up), one of C; A's first household also buys from a
    second supplier."""
    from tests.deliveries.custody import pack

    return pack(city, shop, django_capture_on_commit_callbacks)


@pytest.fixture
def due_today(city, shop, django_capture_on_commit_callbacks):
    """The same cycle, delivering today, nothing received yet."""
    from tests.deliveries.custody import pack

    return pack(city, shop, django_capture_on_commit_callbacks, today=True)


@pytest.fixture
def arrived(due_today, city):
    """The same cycle, delivering today, its goods at every community (not yet at the compounds)."""
    from tests.deliveries.custody import receive_upstream

    receive_upstream(due_today.cycle, city.users.admin)
    return due_today
