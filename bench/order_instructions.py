"""The cost of ``order_place`` and of packing a cycle in CPU instructions (valgrind's callgrind), not
seconds: the same figure whatever else the machine is doing, so two versions of the code compare on
a busy machine.

    .venv/bin/python bench/order_instructions.py [--orders 200] [--tree PATH] [--what orders|close]

For the tree (default: this checkout): a scratch SQLite database is migrated and seeded
(``seed_demo --households 600``) outside valgrind; then, under ``valgrind --tool=callgrind``, two
runs load Django and place 0 and ``--orders`` orders through ``supply.services.order_place`` (one
per household, two lines each, placed by nobody, on the web channel). The difference divided by the
orders is the instructions per order: the Python and SQLite work of the order path.

``--what close``: the orders are placed outside valgrind (one per household of the seeded city, as
above); under valgrind, one run only loads Django, the other closes the cycle (``cycle_close``: every
community built in-process, the printed lists off). The difference is the packing's instructions.
"""

import argparse
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

RUN = r"""
import os, sys, django
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
django.setup()
from supply import services
from supply.models import CycleStock
from households.models import Household
n = int(sys.argv[1])
stock = CycleStock.objects.filter(
    cycle__status="open", product__household_limit=None, product__supplier__name="郑州丹尼斯生鲜超市", product__category="vegetables"
)
products = list(stock.order_by("product_id").values_list("product_id", flat=True)[:2])
stock.filter(product_id__in=products).update(capacity=1_000_000)  # in both runs: cancels out
households = list(Household.objects.order_by("pk").values_list("pk", flat=True)[:n])
for household_id in households:
    services.order_place(household_id=household_id, lines=[{"product": p, "quantity": 1} for p in products],
                         placed_by=None, channel="web", payment_method="on_delivery")
print(len(households))
"""


CLOSE = r"""
import os, sys, django
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
django.setup()
from deliveries import services
from supply.models import Cycle
if sys.argv[1] != "0":
    services.cycle_close(cycle_id=Cycle.objects.get(status="open").pk)
    print(Cycle.objects.get(status="packed").number)
print(sys.argv[1])
"""


def _env(tree: Path, database: Path) -> dict:
    env = {
        **os.environ,
        "DATABASE_URL": f"sqlite:///{database}",
        "DEBUG": "false",
        "PYTHONMALLOC": "malloc",
        "EAGER_TASKS_IN_THREADS": "false",
        "DELIVERIES_PRINT_ON_PACK": "false",
    }
    env.pop("REDIS_URL", None)
    env["PYTHONPATH"] = str(tree)
    return env


def _instructions(tree: Path, database: Path, orders: int, work: Path, script: str = RUN) -> int:
    copy = work / f"run-{orders}.sqlite3"
    shutil.copyfile(database, copy)
    out = work / f"callgrind-{orders}.out"
    done = subprocess.run(
        ["valgrind", "--tool=callgrind", f"--callgrind-out-file={out}", sys.executable, "-c", script, str(orders)],
        cwd=tree,
        env=_env(tree, copy),
        capture_output=True,
        text=True,
        check=True,
    )
    placed = int(done.stdout.strip().splitlines()[-1])
    if placed != orders:
        raise SystemExit(f"placed {placed} orders, wanted {orders}")
    match = re.search(r"Collected : (\d+)", done.stderr)
    if not match:
        raise SystemExit(done.stderr[-2000:])
    return int(match.group(1))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--orders", type=int, default=200)
    parser.add_argument("--tree", type=Path, default=Path(__file__).resolve().parent.parent)
    parser.add_argument("--what", choices=("orders", "close"), default="orders")
    args = parser.parse_args()
    tree = args.tree.resolve()
    with tempfile.TemporaryDirectory() as scratch:
        work = Path(scratch)
        database = work / "seeded.sqlite3"
        env = {**_env(tree, database), "PYTHONMALLOC": ""}
        for command in (["migrate", "-v", "0"], ["seed_demo", "--households", "600", "--quiet"]):
            subprocess.run([sys.executable, "manage.py", *command], cwd=tree, env=env, check=True)
        if args.what == "close":
            subprocess.run(
                [sys.executable, "-c", RUN, str(args.orders)], cwd=tree, env=env, check=True, capture_output=True
            )
            empty = _instructions(tree, database, 0, work, CLOSE)
            full = _instructions(tree, database, 1, work, CLOSE)
            print(
                json.dumps(
                    {"tree": str(tree), "what": "close", "orders": args.orders, "close_instructions": full - empty}
                )
            )
            return
        empty = _instructions(tree, database, 0, work)
        full = _instructions(tree, database, args.orders, work)
    per_order = (full - empty) / args.orders
    print(
        json.dumps(
            {"tree": str(tree), "orders": args.orders, "setup_instructions": empty, "per_order": round(per_order)}
        )
    )


if __name__ == "__main__":
    main()
