"""Time ``seed_demo`` on a fresh PostgreSQL database, and its idempotent re-run.

    .venv/bin/python bench/seed_demo_bench.py --households 250000 [--runs 3] \\
        [--database-url postgres://postgres@127.0.0.1:5432/baogong_bench_seed]

Each run: drop and create the database, migrate, time ``seed_demo`` twice in subprocesses (wall
clock, Django start-up included), check that the re-run changed no row (count and checksum of
every table), drop the database. Prints the figures per run and the medians, then one JSON line.
"""

import argparse
import json
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

import psycopg2
from psycopg2 import sql
from scratch import recreate_database as _recreate  # bench/scratch.py

ROOT = Path(__file__).resolve().parent.parent
TABLES = {
    "districts": "households_district",
    "offices": "households_office",
    "communities": "households_community",
    "compounds": "households_compound",
    "buildings": "households_building",
    "households": "households_household",
    "phones": "households_householdphone",
    "users": "households_user",
    "suppliers": "supply_supplier",
}


def _manage(url: str, *args: str) -> float:
    env = {**os.environ, "DATABASE_URL": url}
    started = time.perf_counter()
    subprocess.run([sys.executable, "manage.py", *args], cwd=ROOT, env=env, check=True, stdout=subprocess.DEVNULL)
    return time.perf_counter() - started


def _snapshot(url: str) -> tuple[dict[str, int], dict[str, str]]:
    """Row counts, and a checksum of every row's content, per table."""
    connection = psycopg2.connect(url)
    try:
        with connection.cursor() as cursor:
            counts, checksums = {}, {}
            for label, table in TABLES.items():
                cursor.execute(
                    sql.SQL(
                        "SELECT count(*), md5(coalesce(string_agg(t::text, ',' ORDER BY t.id), '')) FROM {} t"
                    ).format(sql.Identifier(table))
                )
                counts[label], checksums[label] = cursor.fetchone()
            return counts, checksums
    finally:
        connection.close()


def _server_version(url: str) -> str:
    connection = psycopg2.connect(url)
    try:
        with connection.cursor() as cursor:
            cursor.execute("SHOW server_version")
            return cursor.fetchone()[0]
    finally:
        connection.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--households", type=int, default=250_000)
    parser.add_argument("--seed", type=int, default=2022)
    parser.add_argument("--runs", type=int, default=1)
    parser.add_argument("--database-url", default="postgres://postgres@127.0.0.1:5432/baogong_bench_seed")
    args = parser.parse_args()
    url = args.database_url
    seed_args = ["seed_demo", "--households", str(args.households), "--seed", str(args.seed), "--quiet"]

    first_runs, second_runs, counts = [], [], {}
    try:
        for run in range(1, args.runs + 1):
            _recreate(url)
            _manage(url, "migrate", "-v", "0")
            first = _manage(url, *seed_args)
            after_first, sums_first = _snapshot(url)
            second = _manage(url, *seed_args)
            after_second, sums_second = _snapshot(url)
            changed = [label for label in TABLES if sums_first[label] != sums_second[label]]
            if changed:
                raise SystemExit(f"the re-run changed rows of {changed}: {after_first} → {after_second}")
            first_runs.append(first)
            second_runs.append(second)
            counts = after_first
            print(f"run {run}: seed_demo {first:.1f} s, re-run {second:.1f} s", flush=True)
        version = _server_version(url)
    finally:
        _recreate(url, drop_only=True)

    figures = {
        "households": args.households,
        "runs": args.runs,
        "first_seconds_median": round(statistics.median(first_runs), 1),
        "rerun_seconds_median": round(statistics.median(second_runs), 1),
        "first_seconds": [round(s, 1) for s in first_runs],
        "rerun_seconds": [round(s, 1) for s in second_runs],
        "rows": counts,
        "postgresql": version,
        "python": sys.version.split()[0],
        "cpus": os.cpu_count(),
    }
    print(
        f"median of {args.runs}: seed_demo {figures['first_seconds_median']} s, re-run {figures['rerun_seconds_median']} s"
    )
    print("rows: " + ", ".join(f"{label} {n}" for label, n in counts.items()))
    print(json.dumps(figures, ensure_ascii=False))


if __name__ == "__main__":
    main()
