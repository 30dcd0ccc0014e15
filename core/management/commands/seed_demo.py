"""``python manage.py seed_demo [--households N] [--seed S] [--quiet]``: the demo city, catalog, cycle and accounts.

The steps are the apps' own (see ``core.demo``): households, supply and hotlines each seed their rows.
"""

import time

from django.core.management.base import BaseCommand, CommandError

from core.demo import demo_seed
from core.errors import BaogongError


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
            sections = demo_seed(households=households, seed=seed)
        except BaogongError as exc:
            raise CommandError(exc.message) from None
        if quiet or options["verbosity"] == 0:
            return
        for section in sections:
            self.stdout.write(self.style.MIGRATE_HEADING(section.heading))
            for line in section.lines:
                self.stdout.write(line)
            for warning in section.warnings:
                self.stdout.write(self.style.WARNING(warning))
        self.stdout.write(self.style.SUCCESS(f"Done in {time.monotonic() - started:.1f} s."))
