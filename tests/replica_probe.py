"""Run by tests/test_replica.py in its own process, against a private primary and its streaming
replica (DATABASE_URL, DATABASE_REPLICA_URL): which database each request's queries went to.
Prints one JSON line."""

import json
import os
import time

import django

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
django.setup()

from django.contrib.sessions.models import Session  # noqa: E402
from django.db import connections  # noqa: E402
from django.test import Client  # noqa: E402
from django.test.utils import CaptureQueriesContext  # noqa: E402

from households.models import User  # noqa: E402


def until_replicated(check, seconds: float = 30) -> None:
    deadline = time.monotonic() + seconds
    while not check():
        assert time.monotonic() < deadline, "the replica did not catch up"
        time.sleep(0.1)


def measure(client: Client, path: str) -> dict:
    with (
        CaptureQueriesContext(connections["default"]) as primary,
        CaptureQueriesContext(connections["replica"]) as replica,
    ):
        response = client.get(path)
    return {
        "status": response.status_code,
        "primary": [query["sql"] for query in primary.captured_queries],
        "replica": len(replica.captured_queries),
    }


def main() -> None:
    with connections["replica"].cursor() as cursor:
        cursor.execute("SELECT pg_is_in_recovery()")
        standby = cursor.fetchone()[0]
    client = Client()
    client.force_login(User.objects.get(username="taskforce"))  # the session is written on the primary
    key = client.session.session_key
    until_replicated(lambda: Session.objects.using("replica").filter(session_key=key).exists())
    result = {
        "standby": standby,
        "dashboard": measure(client, "/dashboard/"),
        "dashboard_api": measure(client, "/api/v1/dashboard/"),
        "statements": measure(client, "/statements/"),
        "unmarked": measure(client, "/"),  # not a replica page: the primary
    }
    # read-your-writes: after a POST the person reads the primary for a while
    client.post("/i18n/setlang/", {"language": "zh-hans", "next": "/"})
    result["after_a_write"] = measure(client, "/dashboard/")
    print(json.dumps(result))


if __name__ == "__main__":
    main()
