"""``python manage.py seed_demo [--households N] [--seed S] [--quiet]``: the demo city, catalog, cycle and accounts.

It lives in ``hotlines``, the top of the dependency chain (households ← supply ← deliveries ←
hotlines), so it may seed every app in order: the city and accounts, then the suppliers' catalog,
the open cycle and a few orders, and later deliveries and hotline data.
"""

import time

from django.core.management.base import BaseCommand, CommandError
from django.db import transaction
from django.utils import timezone

from core.errors import BaogongError
from hotlines.demo import demo_hotline_seed
from households.demo import demo_city_seed, demo_registration_example
from supply.demo import demo_catalog_seed, demo_suppliers_seed
from supply.models import Category


class Command(BaseCommand):
    help = (
        "Build the demo city (the three supply districts, offices, communities, compounds at every "
        "lockdown level, households, suppliers with a priced catalog, an open cycle with a few orders) "
        "and the demo accounts. Running it twice changes nothing."
    )

    def add_arguments(self, parser):
        parser.add_argument("--households", type=int, default=2000, help="households in the city (default 2000)")
        parser.add_argument("--seed", type=int, default=2022, help="random seed (default 2022)")
        parser.add_argument("--quiet", action="store_true", help="print nothing")

    def handle(self, *args, households: int, seed: int, quiet: bool, **options):
        started = time.monotonic()
        try:
            # One transaction: a failure in the catalog leaves no half-seeded city behind.
            with transaction.atomic():
                suppliers, suppliers_made = demo_suppliers_seed()
                result = demo_city_seed(households=households, seed=seed, supplier_id=suppliers[0].pk)
                catalog = demo_catalog_seed(seed=seed)
                hotline = demo_hotline_seed()
        except BaogongError as exc:
            raise CommandError(exc.message) from None
        if quiet or options["verbosity"] == 0:
            return
        rows = [("username", "role", "scope", "password")]
        rows += [(a.username, a.role, a.scope, a.password) for a in result.accounts]
        widths = [max(_width(row[i]) for row in rows) for i in range(4)]
        self.stdout.write(self.style.MIGRATE_HEADING("Demo accounts"))
        for n, row in enumerate(rows):
            self.stdout.write("  " + "  ".join(_pad(cell, widths[i]) for i, cell in enumerate(row)).rstrip())
            if n == 0:
                self.stdout.write("  " + "  ".join("-" * w for w in widths))
        workers = result.community_workers
        self.stdout.write(
            f"  and {len(workers)} community workers ({workers[0]} … {workers[-1]}), password {result.accounts[0].password}"
        )
        example = demo_registration_example()
        if example:
            self.stdout.write(
                f"  to try registering: phone {example[0]}, address {example[1]} (no account yet); "
                "the text-message code is shown on the page and in the server log"
            )
        self.stdout.write(self.style.MIGRATE_HEADING("Demo city"))
        for label, total in result.totals.items():
            self.stdout.write(f"  {label:<12}{total:>9}  ({result.created[label]} new)")

        self.stdout.write(self.style.MIGRATE_HEADING("Demo catalog"))
        self.stdout.write(f"  {'suppliers':<12}{len(suppliers):>9}  ({suppliers_made} new)")
        self.stdout.write(f"  {'products':<12}{catalog.products:>9}  ({catalog.products_created} new)")
        labels = dict(Category.choices)
        self.stdout.write("  " + ", ".join(f"{labels.get(code, code)} {n}" for code, n in catalog.by_category.items()))
        self.stdout.write(f"  {catalog.reference_caps} reference caps set by the task force")
        for name, price, cap in catalog.pending_prices:
            self.stdout.write(f"  waiting for the task force: {name} {price} above its cap {cap}")

        self.stdout.write(self.style.MIGRATE_HEADING("Open cycle"))
        cutoff = timezone.localtime(catalog.cycle_cutoff).strftime("%Y-%m-%d %H:%M")
        self.stdout.write(
            f"  cycle {catalog.cycle_number}{' (opened now)' if catalog.cycle_created else ''}: orders until {cutoff}, "
            f"deliveries from {catalog.cycle_first_delivery:%Y-%m-%d}; stock for {catalog.stock_rows} products"
        )
        self.stdout.write(f"  {'demo orders':<12}{catalog.orders:>9}  ({catalog.orders_created} new)")
        if catalog.scarce:
            name, left, capacity = catalog.scarce
            self.stdout.write(f"  scarcest product: {name}, {left} of {capacity} left")
        for reason in catalog.orders_skipped:
            self.stdout.write(self.style.WARNING(f"  skipped demo order {reason}"))
        self.stdout.write(self.style.MIGRATE_HEADING("Demo hotline"))
        self.stdout.write(
            f"  {hotline.calls} calls, {hotline.tickets} tickets in the worker's queue, {hotline.checkins} check-ins"
            f"{' (new)' if hotline.created else ' (already there)'}"
        )
        self.stdout.write(self.style.SUCCESS(f"Done in {time.monotonic() - started:.1f} s."))


def _width(text: str) -> int:
    """Columns on a terminal: CJK characters take two."""
    return sum(2 if ord(ch) > 0x2E80 else 1 for ch in text)


def _pad(text: str, width: int) -> str:
    return text + " " * (width - _width(text))
