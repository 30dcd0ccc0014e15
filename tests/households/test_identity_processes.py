"""The bounds on guessing hold across processes: two gunicorn servers (separate processes) on the
test's PostgreSQL database share their counts through Redis. A guesser alternates between them
and rotates X-Forwarded-For; after the configured number of wrong answers every further guess is
refused, whichever server it reaches — a password, and a text-message code.

Bounded: two servers of one worker each, 100 guesses of each kind, under a minute.
"""

import json
import os
import subprocess
import sys
import urllib.error
import urllib.request

import pytest
from django.conf import settings

from households.models import PhoneCode, Role
from tests import workers
from tests.factories import UserFactory
from tests.workers import answers, free_port, wait_for

pytestmark = [pytest.mark.postgres, pytest.mark.redis, pytest.mark.django_db(transaction=True)]


def _post(base: str, path: str, body: dict, forwarded_for: str) -> tuple[int, dict]:
    request = urllib.request.Request(
        base + path,
        method="POST",
        data=json.dumps(body).encode(),
        headers={"Content-Type": "application/json", "X-Forwarded-For": forwarded_for},
    )
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            return response.status, json.loads(response.read() or b"null")
    except urllib.error.HTTPError as error:
        return error.code, json.loads(error.read() or b"null")


@pytest.fixture
def two_servers(city):
    import redis

    redis.Redis.from_url(settings.REDIS_URL).flushdb()
    env = {k: v for k, v in os.environ.items() if k != "DJANGO_SETTINGS_MODULE"}
    env.update(
        DATABASE_URL=workers.test_database_url(),
        REDIS_URL=settings.REDIS_URL,
        DJANGO_SETTINGS_MODULE="config.settings",
        DEBUG="false",
        SHOW_SMS_CODES="false",
        SIGN_IN_RATE="100000/m",  # only the guard limits here
        PYTHONUNBUFFERED="1",
    )
    servers, bases = [], []
    try:
        for _ in range(2):
            port = free_port()
            servers.append(
                subprocess.Popen(
                    [
                        sys.executable,
                        "-m",
                        "gunicorn",
                        "config.wsgi",
                        "--bind",
                        f"127.0.0.1:{port}",
                        "--workers",
                        "1",
                        "--log-level",
                        "warning",
                    ],
                    cwd=settings.BASE_DIR,
                    env=env,
                    stdout=subprocess.DEVNULL,
                    stderr=subprocess.DEVNULL,
                )
            )
            bases.append(f"http://127.0.0.1:{port}")
        for base in bases:
            wait_for(lambda base=base: answers(base + "/healthz/"), seconds=60, what=f"gunicorn up at {base}")
        yield bases
    finally:
        for server in servers:
            server.terminate()
            server.wait(timeout=20)
        redis.Redis.from_url(settings.REDIS_URL).flushdb()


def test_password_and_code_guesses_are_bounded_across_processes(city, two_servers):
    free = settings.GUARD_FREE_FAILURES_PER_ACCOUNT
    statuses = [
        _post(
            two_servers[n % 2],
            "/api/v1/auth/token/",
            {"username": "13900000001", "password": f"guess-{n}"},
            f"198.51.100.{n}",
        )[0]
        for n in range(100)
    ]
    assert statuses.count(400) == free, statuses
    assert statuses.count(429) == 100 - free

    # another resident's sign-in code, guessed the same way
    UserFactory(role=Role.RESIDENT, household=city.household_b, phone="+8613900000002")
    asked, body = _post(two_servers[0], "/api/v1/auth/code/", {"phone": "13900000002"}, "198.51.100.200")
    assert asked == 202, body
    statuses = [
        _post(
            two_servers[n % 2], "/api/v1/auth/token/", {"phone": "13900000002", "code": "%06d" % n}, f"198.51.100.{n}"
        )[0]
        for n in range(100)
    ]
    assert 0 < statuses.count(400) <= min(free, settings.PHONE_CODE_MAX_TRIES), statuses
    assert statuses.count(200) == 0 and statuses.count(429) >= 100 - free
    assert 0 < PhoneCode.objects.get(phone="+8613900000002").attempts <= settings.PHONE_CODE_MAX_TRIES
