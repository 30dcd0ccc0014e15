"""Time the hotline operator's look-up with 250,000 households loaded.

    .venv/bin/python bench/hotline_lookup.py [--households 250000] [--repeat 25] \\
        [--database-url postgres://postgres@127.0.0.1:5432/baogong_bench_hotline] [--keep] [--out FILE]

Creates a scratch PostgreSQL database, migrates it, runs ``seed_demo --households N`` and at once
(planner statistics as fresh or as stale as autovacuum has left them), as the demo ``operator`` (one district's hotline), times
the console's look-ups: the caller's full number (as the telephone system sends it and as typed),
its last 4 and 6 digits, the address in Chinese, the address with pinyin initials, the pinyin
initials of a compound alone, and a contact name. Each look-up is run ``--repeat`` times for
20 different households (wall clock, the selector's query evaluated to a list of at most 20 rows,
as the console shows them; a broad search such as a compound's initials alone matches more than
20 households, so the one sampled is often not among them); medians and 95th percentiles are printed, with one JSON line at the
end. The database is dropped afterwards unless ``--keep``.

The target (issue 6): the look-up answers in under 100 ms.
"""

import argparse
import json
import os
import platform
import statistics
import subprocess
import sys
import time
from pathlib import Path
from urllib.parse import urlsplit

from scratch import recreate_database as _recreate  # bench/scratch.py

ROOT = Path(__file__).resolve().parent.parent
TARGET_MS = 100.0
SAMPLES = 20  # different households looked up per kind of search


def _manage(url: str, *args: str) -> float:
    started = time.perf_counter()
    subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=ROOT,
        env={**os.environ, "DATABASE_URL": url},
        check=True,
        stdout=subprocess.DEVNULL,
    )
    return time.perf_counter() - started


def _measure(url: str, repeat: int) -> dict:
    """Runs in this process against ``url`` (Django is set up here, after the seed)."""
    os.environ["DATABASE_URL"] = url
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
    sys.path.insert(0, str(ROOT))
    import django

    django.setup()
    from django.db import connection

    from hotlines import selectors
    from households.models import Household, HouseholdPhone, User

    operator = User.objects.get(username="operator")
    in_district = Household.objects.filter(
        building__compound__community__office__district_id=operator.district_id
    ).select_related("building__compound")
    total = in_district.count()
    step = max(total // SAMPLES, 1)
    sample_ids = list(in_district.order_by("id").values_list("id", flat=True)[::step][:SAMPLES])
    households = list(in_district.filter(pk__in=sample_ids).prefetch_related("phones"))

    def searches(h: Household) -> dict[str, str]:
        phone = next(iter(h.phones.all()), None)
        number = phone.number if phone else "+8613800000000"
        compound = h.building.compound
        return {
            "phone, E.164 (telephone system)": number,
            "phone as typed (138 1234 5678)": f"{number[3:6]} {number[6:10]} {number[10:]}",
            "last 4 digits": number[-4:],
            "last 6 digits": number[-6:],
            "address in Chinese": f"{compound.name} {h.building.number} {h.room}",
            "address with pinyin initials": f"{compound.initials} {h.building.sort_key} {h.room}",
            "pinyin initials of the compound": compound.initials,
            "contact name": h.contact_name,
        }

    kinds = list(searches(households[0]))
    timings: dict[str, list[float]] = {kind: [] for kind in kinds}
    found: dict[str, int] = {kind: 0 for kind in kinds}
    for household in households:
        for kind, text in searches(household).items():
            list(selectors.household_lookup(user=operator, search=text)[:20])  # warm the plan and the cache
            for _ in range(repeat):
                started = time.perf_counter()
                rows = list(selectors.household_lookup(user=operator, search=text)[:20])
                timings[kind].append((time.perf_counter() - started) * 1000)
            found[kind] += any(row.pk == household.pk for row in rows)
    counts = {
        "households": Household.objects.count(),
        "phones": HouseholdPhone.objects.count(),
        "households_in_operator_district": total,
    }
    with connection.cursor() as cursor:
        cursor.execute("SELECT version()")
        server = cursor.fetchone()[0]
    results = {}
    for kind in kinds:
        values = sorted(timings[kind])
        results[kind] = {
            "median_ms": round(statistics.median(values), 2),
            "p95_ms": round(values[int(len(values) * 0.95) - 1], 2),
            "max_ms": round(values[-1], 2),
            "found_the_household": f"{found[kind]}/{len(households)}",
        }
    return {"counts": counts, "server": server, "results": results}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--households", type=int, default=250_000)
    parser.add_argument("--repeat", type=int, default=25)
    parser.add_argument("--database-url", default="postgres://postgres@127.0.0.1:5432/baogong_bench_hotline")
    parser.add_argument("--keep", action="store_true", help="keep the scratch database (drop it yourself)")
    parser.add_argument("--out", type=Path, help="also write the figures as Markdown to this file")
    args = parser.parse_args()
    if urlsplit(args.database_url).scheme not in ("postgres", "postgresql"):
        parser.error("--database-url must be a PostgreSQL URL")
    if args.households < 1000 or args.repeat < 1:
        parser.error("--households must be at least 1000 and --repeat at least 1")

    _recreate(args.database_url)
    try:
        migrate = _manage(args.database_url, "migrate", "--noinput")
        seed = _manage(args.database_url, "seed_demo", "--households", str(args.households), "--quiet")
        figures = _measure(args.database_url, args.repeat)
    finally:
        if not args.keep:
            from django.db import connections

            connections.close_all()
            _recreate(args.database_url, drop_only=True)

    machine = f"{platform.node()} · {platform.processor() or platform.machine()} · {os.cpu_count()} CPUs · Python {platform.python_version()}"
    print(f"machine   {machine}")
    print(f"server    {figures['server']}")
    print(f"data      {figures['counts']}")
    print(f"setup     migrate {migrate:.1f} s, seed_demo {seed:.1f} s")
    print(f"{'look-up':<36}{'median':>10}{'p95':>10}{'max':>10}  household among the first 20 rows")
    worst = 0.0
    for kind, r in figures["results"].items():
        worst = max(worst, r["median_ms"])
        print(
            f"{kind:<36}{r['median_ms']:>8.1f}ms{r['p95_ms']:>8.1f}ms{r['max_ms']:>8.1f}ms  {r['found_the_household']}"
        )
    verdict = "met" if worst < TARGET_MS else "MISSED"
    print(f"target: every median under {TARGET_MS:.0f} ms: {verdict} (worst median {worst:.1f} ms)")
    if args.out:
        lines = [
            "## Hotline look-up (issue 6)",
            "",
            f"Command: `.venv/bin/python bench/hotline_lookup.py --households {args.households} --repeat {args.repeat}`",
            "",
            f"Machine: {machine}; {figures['server'].split(',')[0]}.",
            f"Data: {figures['counts']['households']:,} households, {figures['counts']['phones']:,} phone numbers; "
            f"the operator's district holds {figures['counts']['households_in_operator_district']:,}.",
            f"Each look-up: 20 different households × {args.repeat} runs, as the demo `operator`, "
            "the selector's rows (at most 20) read into a list.",
            "",
            "| look-up | median | p95 | max | household among the rows shown (≤ 20) |",
            "|---|---:|---:|---:|---:|",
        ]
        for kind, r in figures["results"].items():
            lines.append(
                f"| {kind} | {r['median_ms']:.1f} ms | {r['p95_ms']:.1f} ms | {r['max_ms']:.1f} ms | {r['found_the_household']} |"
            )
        lines += ["", f"Target: under {TARGET_MS:.0f} ms — {verdict} (worst median {worst:.1f} ms).", ""]
        args.out.write_text("\n".join(lines), encoding="utf-8")
    print(
        json.dumps(
            {
                "households": figures["counts"]["households"],
                "worst_median_ms": worst,
                "target_met": worst < TARGET_MS,
                "results": figures["results"],
            },
            ensure_ascii=False,
        )
    )
    return 0 if worst < TARGET_MS else 1


if __name__ == "__main__":
    sys.exit(main())
