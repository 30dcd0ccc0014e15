"""Time the division of a community's doors among its volunteer teams, and the volunteer's round page.

    .venv/bin/python bench/rounds.py [--households 4000] [--teams 8] [--repeat 7] \\
        [--database-url postgres://postgres@127.0.0.1:5432/baogong_bench_rounds] [--keep]

Creates a scratch PostgreSQL database and migrates it; writes one community of ``--households``
households in compounds of about 300 (walk-ups without a lift and high-rises with one, every fourth
compound stay-at-home), each with a door package due tomorrow (bulk inserts, as the tests do), and
``--teams`` teams of two volunteers. Then, in this process, times ``rounds_split`` (``--repeat``
times; each replaces the previous split) and the volunteer's round page (``GET /volunteer/round/``
through Django's test client, as a volunteer of the first team, its health declared), with the
queries each costs. Medians, with the balance of the last split, and one JSON line at the end.

The target (issue 16): splitting a community of 4,000 households takes under a second.
"""

import argparse
import datetime
import json
import os
import platform
import statistics
import subprocess
import sys
import time
from pathlib import Path

from scratch import recreate_database as _recreate  # bench/scratch.py

ROOT = Path(__file__).resolve().parent.parent
TARGET_SECONDS = 1.0


def _measure(url: str, *, households: int, teams: int, repeat: int) -> dict:
    os.environ["DATABASE_URL"] = url
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
    os.environ.pop("REDIS_URL", None)
    # bench/packaging.py would shadow the ``packaging`` library Django's apps import.
    sys.path[:] = [str(ROOT)] + [p for p in sys.path if Path(p or ".").resolve() != Path(__file__).resolve().parent]
    import django

    django.setup()
    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext, setup_test_environment
    from django.utils import timezone

    from deliveries.models import RoundAssignment
    from deliveries.volunteers import rounds
    from households.models import Role, Volunteer
    from households.volunteers import health_declare
    from supply import services as supply_services
    from tests.deliveries.volunteers import community_of_doors, teams_of
    from tests.factories import CommunityFactory, UserFactory

    setup_test_environment()
    day = timezone.localdate() + datetime.timedelta(days=1)
    community = CommunityFactory(name="基准社区")
    worker = UserFactory(username="bench-worker", role=Role.WORKER, community=community, is_staff=True)
    cycle = supply_services.cycle_open()
    community_of_doors(community, households=households, cycle=cycle, day=day)
    crew = teams_of(community, worker, teams)
    connection.cursor().execute("ANALYZE")

    split_seconds, split_queries = [], 0
    for _ in range(repeat):
        with CaptureQueriesContext(connection) as queries:
            started = time.perf_counter()
            split = rounds.rounds_split(community_id=community.pk, day=day, by=worker)
            split_seconds.append(time.perf_counter() - started)
        split_queries = len(queries)
    doors = sorted(d for d, _e, _b in split.rounds.values())
    volunteer = Volunteer.objects.get(pk=crew.volunteers[0].pk).user
    health_declare(user=volunteer, well=True)
    client = Client()
    client.force_login(volunteer)
    page_seconds, page_queries, rows = [], 0, 0
    for _ in range(repeat):
        with CaptureQueriesContext(connection) as queries:
            started = time.perf_counter()
            response = client.get(f"/volunteer/round/?date={day.isoformat()}")
            page_seconds.append(time.perf_counter() - started)
        assert response.status_code == 200, response.status_code
        page_queries = len(queries)
        rows = response.content.decode().count('<tr id="p-')
    return {
        "households": households,
        "teams": teams,
        "buildings": RoundAssignment.objects.filter(day=day).count(),
        "split_median_s": round(statistics.median(split_seconds), 3),
        "split_max_s": round(max(split_seconds), 3),
        "split_queries": split_queries,
        "doors_per_team": doors,
        "largest_over_mean": round(max(doors) / statistics.mean(doors) - 1, 3),
        "round_page_median_s": round(statistics.median(page_seconds), 3),
        "round_page_queries": page_queries,
        "round_page_doors": rows,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--households", type=int, default=4000)
    parser.add_argument("--teams", type=int, default=8)
    parser.add_argument("--repeat", type=int, default=7)
    parser.add_argument("--database-url", default="postgres://postgres@127.0.0.1:5432/baogong_bench_rounds")
    parser.add_argument("--keep", action="store_true")
    args = parser.parse_args()
    _recreate(args.database_url)
    try:
        subprocess.run(
            [sys.executable, "manage.py", "migrate", "-v", "0"],
            cwd=ROOT,
            env={**os.environ, "DATABASE_URL": args.database_url},
            check=True,
        )
        figures = _measure(args.database_url, households=args.households, teams=args.teams, repeat=args.repeat)
    finally:
        if not args.keep:
            from django.db import connections

            connections.close_all()
            _recreate(args.database_url, drop_only=True)
    figures["machine"] = f"{platform.machine()}, {os.cpu_count()} CPUs"
    print(
        f"split {figures['households']} households among {figures['teams']} teams: median {figures['split_median_s']} s "
        f"({figures['split_queries']} queries; target under {TARGET_SECONDS} s); doors per team {figures['doors_per_team']}; "
        f"round page median {figures['round_page_median_s']} s for {figures['round_page_doors']} doors "
        f"({figures['round_page_queries']} queries)"
    )
    print(json.dumps(figures))


if __name__ == "__main__":
    main()
