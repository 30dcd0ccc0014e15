"""How long a community's door list and labels take to draw, per engine, in the same run (issue 19).

Seeds the demo city into a scratch SQLite file, closes its cycle without drawing the paper, takes
the largest community-day's door list and labels and grows them to ``--rows`` packages (copies
of real rows with their own codes and rooms, so the text and the QR codes are real), then draws
each ``--runs`` times with Typst (PAPER_ENGINE=typst, the default) and with WeasyPrint (the
baseline, as every list was drawn before). Prints one JSON line: medians in seconds, ms per row,
and the speed-up.

    .venv/bin/python bench/paper.py [--rows 1000] [--runs 3] [--households 2000]
"""

from __future__ import annotations

import argparse
import copy
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def _grown(data: dict, rows: int, run: int = 0) -> dict:
    """The list with ``rows`` packages: its real rows repeated, each copy with its own code and room
    (new ones on each run: Typst remembers what it laid out before, and a city's lists all differ)."""
    data = copy.deepcopy(data)
    if data["kind"] == "labels":
        real = data["labels"]
        data["labels"] = [
            {**real[i % len(real)], "code": f"{real[i % len(real)]['code']}-{run}-{i}", "room": str(100 + i)}
            for i in range(rows)
        ]
        return data
    real = [package for section in data["sections"] for package in section["packages"]]
    packages = []
    for i in range(rows):
        package = {**real[i % len(real)], "code": f"{real[i % len(real)]['code']}-{run}-{i}", "room": str(100 + i)}
        package.pop("subtotal", None)
        packages.append(package)
    data["sections"] = [{**data["sections"][0], "packages": packages}]
    return data


def _pages(pdf: bytes, scratch: Path) -> int | None:
    """The PDF's page count (poppler's pdfinfo), None without it."""
    path = scratch / "list.pdf"
    path.write_bytes(pdf)
    try:
        info = subprocess.run(["pdfinfo", str(path)], capture_output=True, text=True, check=True).stdout
    except (OSError, subprocess.CalledProcessError):
        return None
    return int(next(line.split()[-1] for line in info.splitlines() if line.startswith("Pages:")))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=1000)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--households", type=int, default=2000)
    args = parser.parse_args()

    scratch = Path(tempfile.mkdtemp(prefix="baogong-paper-"))
    os.environ.update(
        {
            "DJANGO_SETTINGS_MODULE": "config.settings",
            "DATABASE_URL": f"sqlite:///{scratch / 'db.sqlite3'}",
            "REDIS_URL": "",
            "DELIVERIES_PRINT_ON_PACK": "false",
            "EAGER_TASKS_IN_THREADS": "false",
            "MEDIA_ROOT": str(scratch / "media"),
        }
    )
    manage = [sys.executable, str(ROOT / "manage.py")]
    subprocess.run([*manage, "migrate", "-v0"], check=True, cwd=ROOT)
    subprocess.run([*manage, "seed_demo", "--households", str(args.households), "--quiet"], check=True, cwd=ROOT)
    subprocess.run([*manage, "close_cycle", "--json"], check=True, cwd=ROOT, stdout=subprocess.DEVNULL)

    # the project, not bench/ (whose packaging.py would hide the packaging library)
    sys.path[:] = [str(ROOT), *(p for p in sys.path if Path(p or ".").resolve() != ROOT / "bench")]
    import django

    django.setup()
    from django.conf import settings
    from django.db.models import Count
    from django.utils import translation

    from deliveries.models import ListKind, Package
    from deliveries.printing import rendering, selectors
    from deliveries.printing.selectors import ListKey

    translation.activate(settings.LANGUAGE_CODE)
    top = Package.objects.values("cycle_id", "community_id", "delivery_date").annotate(n=Count("id")).order_by("-n")[0]
    result: dict = {"rows": args.rows, "runs": args.runs, "source_rows": top["n"]}
    for kind in (ListKind.DOOR_LIST, ListKind.LABELS):
        key = ListKey(
            kind=kind, cycle_id=top["cycle_id"], delivery_date=top["delivery_date"], place_id=top["community_id"]
        )
        source = selectors.list_data(key=key)
        for engine in ("typst", "weasyprint"):
            settings.PAPER_ENGINE = engine
            times = []
            for run in range(args.runs):
                data = _grown(source, args.rows, run)
                fingerprint = rendering.fingerprint(data)
                started = time.perf_counter()
                pdf = rendering.pdf(data, fingerprint_value=fingerprint)
                times.append(time.perf_counter() - started)
            median = statistics.median(times)
            result[f"{kind}_{engine}_s"] = round(median, 3)
            result[f"{kind}_{engine}_ms_per_row"] = round(1000 * median / args.rows, 2)
            result[f"{kind}_{engine}_bytes"] = len(pdf)
            result[f"{kind}_{engine}_pages"] = _pages(pdf, scratch)
        result[f"{kind}_speedup"] = round(result[f"{kind}_weasyprint_s"] / result[f"{kind}_typst_s"], 1)
    print(json.dumps(result))


if __name__ == "__main__":
    main()
