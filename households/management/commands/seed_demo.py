"""``python manage.py seed_demo [--households N] [--seed S] [--quiet]``: the demo city and accounts."""

from django.core.management.base import BaseCommand, CommandError

from households.demo import demo_city_seed
from households.errors import BaogongError


class Command(BaseCommand):
    help = (
        "Build the demo city (the three supply districts, offices, communities, compounds at every "
        "lockdown level, households, suppliers) and the demo accounts. Running it twice changes nothing."
    )

    def add_arguments(self, parser):
        parser.add_argument("--households", type=int, default=2000, help="households in the city (default 2000)")
        parser.add_argument("--seed", type=int, default=2022, help="random seed (default 2022)")
        parser.add_argument("--quiet", action="store_true", help="print nothing")

    def handle(self, *args, households: int, seed: int, quiet: bool, **options):
        try:
            result = demo_city_seed(households=households, seed=seed)
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
        self.stdout.write(self.style.MIGRATE_HEADING("Demo city"))
        for label, total in result.totals.items():
            self.stdout.write(f"  {label:<12}{total:>9}  ({result.created[label]} new)")
        self.stdout.write(self.style.SUCCESS(f"Done in {result.seconds:.1f} s."))


def _width(text: str) -> int:
    """Columns on a terminal: CJK characters take two."""
    return sum(2 if ord(ch) > 0x2E80 else 1 for ch in text)


def _pad(text: str, width: int) -> str:
    return text + " " * (width - _width(text))
