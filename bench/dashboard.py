"""Time the dashboards (city, a district, an office, a community) on a 250,000-household city.

    .venv/bin/python bench/dashboard.py [--households 250000] [--repeat 15] [--keep | --reuse] \\
        [--database-url postgres://postgres@127.0.0.1:5432/baogong_bench_dashboard] [--redis-url redis://127.0.0.1:6379/12] \\
        [--out /tmp/bench_dashboard.md]

What it does, all on 127.0.0.1:
1. drop and create a scratch PostgreSQL database, migrate, ``seed_demo --households N``;
2. write the cycle's orders set-based with bench/packaging.py's SQL (about 85 % of the households
   order, about 4 lines per household in all), then ``close_cycle --json`` with one Celery worker
   (bench/packaging.py's ``measure``, on ``--redis-url``) so
   that every household with orders has its package and the route legs exist;
3. move packages along set-based (an md5 of the id decides: about 40 % delivered, 3 % not
   delivered, the rest spread over the route), mark the legs of half the offices received, open
   tickets for about 1 % of the households (a third of them overdue); ``VACUUM ANALYZE``;
4. for each dashboard, as the user who opens it (``admin`` for the city and the district, the
   demo ``office`` and ``worker``), compute ``households.dashboard.dashboard()`` and its JSON form
   ``--repeat`` times after one warm-up and report the median, p95 and max, and the queries;
5. drop the database (unless ``--keep``).

Target: every median under 500 ms.
"""

import argparse
import importlib.util
import json
import os
import platform
import statistics
import sys
import time
from pathlib import Path
from urllib.parse import urlsplit

ROOT = Path(__file__).resolve().parent.parent
TARGET_MS = 500.0

_spec = importlib.util.spec_from_file_location("bench_packaging", ROOT / "bench" / "packaging.py")
packaging_bench = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(packaging_bench)

PROGRESS_SQL = """
UPDATE deliveries_package SET status = CASE
    WHEN r < 40 THEN 'delivered' WHEN r < 43 THEN 'exception' WHEN r < 55 THEN 'at_compound'
    WHEN r < 67 THEN 'at_community' WHEN r < 79 THEN 'at_office' WHEN r < 90 THEN 'dispatched' ELSE 'packed' END
FROM (SELECT id, ('x' || substr(md5('package:' || id), 1, 8))::bit(32)::bigint %% 100 AS r FROM deliveries_package
      WHERE cycle_id = %(cycle)s) x
WHERE deliveries_package.id = x.id;
UPDATE deliveries_consignment SET received_at = now() WHERE cycle_id = %(cycle)s AND office_id %% 2 = 0;
INSERT INTO hotlines_ticket (household_id, community_id, category, priority, summary, status, level, due_at,
                             destination, need, resolution, created_at, product_id)
SELECT h.id, c.community_id, 'other', 1, 'bench', 'open', 0,
       CASE WHEN h.id %% 3 = 0 THEN now() - interval '2 hours' ELSE now() + interval '20 hours' END, '', '', '', now(), NULL
FROM households_household h JOIN households_building b ON b.id = h.building_id JOIN households_compound c ON c.id = b.compound_id
WHERE ('x' || substr(md5('ticket:' || h.id), 1, 8))::bit(32)::bigint %% 100 = 0;
"""


def _ticket_columns(url: str) -> set[str]:
    row = packaging_bench._one(
        url, "SELECT string_agg(column_name, ',') FROM information_schema.columns WHERE table_name = 'hotlines_ticket'"
    )
    return set(row[0].split(","))


def _progress(url: str, cycle: int) -> None:
    sql = PROGRESS_SQL
    if "product_id" not in _ticket_columns(url):
        sql = sql.replace(", product_id)", ")").replace(", now(), NULL\n", ", now()\n")
    connection = packaging_bench._connect(url)
    try:
        with connection, connection.cursor() as cursor:
            cursor.execute(sql, {"cycle": cycle})
    finally:
        connection.close()


def _measure(url: str, repeat: int) -> dict:
    os.environ["DATABASE_URL"] = url
    os.environ.pop("REDIS_URL", None)
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
    sys.path.insert(0, str(ROOT))
    import django

    django.setup()
    from django.db import connection
    from django.test.utils import CaptureQueriesContext
    from django.utils import translation

    from households import dashboard as dash
    from households.models import Household, User

    users = {u.username: u for u in User.objects.filter(username__in=["admin", "office", "worker"])}
    office, worker = users["office"], users["worker"]
    district_id = office.office.district_id
    cases = {
        "city (admin)": (users["admin"], None),
        "district (admin, ?place=district:ID)": (users["admin"], f"district:{district_id}"),
        "office (office)": (office, None),
        "community (worker)": (worker, None),
    }
    with connection.cursor() as cursor:
        cursor.execute("SELECT version()")
        server = cursor.fetchone()[0]
    results = {}
    with translation.override("zh-hans"):
        for name, (user, place) in cases.items():
            for key in ("_baogong_scope",):
                user.__dict__.pop(key, None)
            dash.dashboard(user=user, place=place).as_data()  # warm-up
            with CaptureQueriesContext(connection) as queries:
                board = dash.dashboard(user=user, place=place)
                board.as_data()
            times = []
            for _ in range(repeat):
                user.__dict__.pop("_baogong_scope", None)
                started = time.perf_counter()
                dash.dashboard(user=user, place=place).as_data()
                times.append((time.perf_counter() - started) * 1000)
            times.sort()
            results[name] = {
                "median_ms": round(statistics.median(times), 1),
                "p95_ms": round(times[min(len(times) - 1, int(0.95 * len(times)))], 1),
                "max_ms": round(times[-1], 1),
                "queries": len(queries),
                "children": len(board.rows),
                "households": board.totals.values["households"],
                "orders": board.totals.values["orders"],
                "packages": board.totals.values["packages"],
            }
    return {"server": server, "results": results, "households": Household.objects.count()}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--households", type=int, default=250_000)
    parser.add_argument("--repeat", type=int, default=15)
    parser.add_argument("--database-url", default="postgres://postgres@127.0.0.1:5432/baogong_bench_dashboard")
    parser.add_argument(
        "--redis-url", default="redis://127.0.0.1:6379/12", help="broker of the worker that closes the cycle"
    )
    parser.add_argument("--keep", action="store_true", help="keep the scratch database (drop it yourself)")
    parser.add_argument("--reuse", action="store_true", help="measure a database a --keep run left")
    parser.add_argument("--out", type=Path, help="also write the figures as Markdown to this file")
    args = parser.parse_args()
    if urlsplit(args.database_url).scheme not in ("postgres", "postgresql"):
        parser.error("--database-url must be a PostgreSQL URL")
    url = args.database_url
    setup = {}
    if not args.reuse:
        packaging_bench._recreate(url)
    try:
        if not args.reuse:
            setup["migrate_s"] = round(packaging_bench._manage(url, "migrate", "--noinput")[0], 1)
            setup["seed_demo_s"] = round(
                packaging_bench._manage(url, "seed_demo", "--households", str(args.households), "--quiet")[0], 1
            )
            cycle = packaging_bench._open_cycle(url)
            orders = packaging_bench.orders_generate(
                url, cycle=cycle, households=args.households, lines_per_household=4.0, share=0.85
            )
            print(f"orders    {orders}", flush=True)
            closed = packaging_bench.measure(url, args.redis_url, cycle=cycle, mode="1 worker (solo)")
            setup["close_cycle_s"] = closed["seconds"]
            print(f"close     {closed['close']}", flush=True)
            _progress(url, cycle)
            connection = packaging_bench._connect(url, autocommit=True)
            with connection.cursor() as cursor:
                cursor.execute("VACUUM ANALYZE")
            connection.close()
        figures = _measure(url, args.repeat)
    finally:
        if not args.keep:
            from django.db import connections

            connections.close_all()
            packaging_bench._recreate(url, drop_only=True)

    machine = f"{platform.node()} · {platform.processor() or platform.machine()} · {os.cpu_count()} CPUs · Python {platform.python_version()}"
    worst = max(r["median_ms"] for r in figures["results"].values())
    verdict = "met" if worst < TARGET_MS else "MISSED"
    print(f"machine   {machine}\nserver    {figures['server']}\nsetup     {setup}")
    for name, r in figures["results"].items():
        print(
            f"{name:<40}{r['median_ms']:>9.1f}ms{r['p95_ms']:>9.1f}ms{r['max_ms']:>9.1f}ms  {r['queries']} queries, "
            f"{r['children']} children, {r['households']} households, {r['orders']} orders, {r['packages']} packages"
        )
    print(f"target: every median under {TARGET_MS:.0f} ms: {verdict} (worst median {worst:.1f} ms)")
    if args.out:
        lines = [
            "## Dashboards (issue 7)",
            "",
            f"Command: `.venv/bin/python bench/dashboard.py --households {args.households} --repeat {args.repeat}`",
            "",
            f"Machine: {machine}; {figures['server'].split(',')[0]}.",
            f"Data: {figures['households']:,} households (seed_demo), the cycle's orders written set-based (85 % of the "
            "households order, ≈ 4 lines per household), closed into packages by `close_cycle`; packages moved along "
            "(≈ 40 % delivered, 3 % not delivered), half the offices' legs received, tickets for ≈ 1 % of the households. "
            f"Setup: {setup}.",
            f"Each dashboard: `households.dashboard.dashboard()` and its JSON form, {args.repeat} runs after a warm-up.",
            "",
            "| dashboard | median | p95 | max | queries | child rows | households | orders | packages |",
            "|---|---:|---:|---:|---:|---:|---:|---:|---:|",
        ]
        for name, r in figures["results"].items():
            lines.append(
                f"| {name} | {r['median_ms']:.1f} ms | {r['p95_ms']:.1f} ms | {r['max_ms']:.1f} ms | {r['queries']} | "
                f"{r['children']} | {r['households']:,} | {r['orders']:,} | {r['packages']:,} |"
            )
        lines += ["", f"Target: under {TARGET_MS:.0f} ms — {verdict} (worst median {worst:.1f} ms).", ""]
        args.out.write_text("\n".join(lines), encoding="utf-8")
    print(
        json.dumps(
            {"worst_median_ms": worst, "target_met": worst < TARGET_MS, "results": figures["results"]},
            ensure_ascii=False,
        )
    )
    return 0 if worst < TARGET_MS else 1


if __name__ == "__main__":
    sys.exit(main())
