"""``python manage.py archive_cycle --cycle NUMBER --to DIRECTORY [--json]``: write a complete
cycle's orders, packages and money to files and drop them from the database (PostgreSQL, where
those tables are partitioned by cycle). See ``deliveries.services.archive``."""

import json
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from core.errors import BaogongError
from deliveries.services.archive import cycle_archive
from supply.models import Cycle


class Command(BaseCommand):
    help = "Write a complete cycle's rows to files (gzipped CSV and a manifest), then drop them from the database."

    def add_arguments(self, parser):
        parser.add_argument("--cycle", type=int, required=True, help="the cycle's number")
        parser.add_argument("--to", type=Path, required=True, help="the directory the archive is written under")
        parser.add_argument("--json", action="store_true", help="print one JSON line")

    def handle(self, *args, cycle: int, to: Path, **options):
        found = Cycle.objects.filter(number=cycle).values_list("pk", flat=True).first()
        if found is None:
            raise CommandError(f"no cycle numbered {cycle}")
        try:
            summary = cycle_archive(cycle_id=found, to=to)
        except BaogongError as error:
            raise CommandError(str(error)) from error
        if options["json"]:
            self.stdout.write(json.dumps(summary.as_json(), ensure_ascii=False))
        else:
            self.stdout.write(f"cycle {summary.cycle_number} archived in {summary.directory}")
            for table, rows in summary.rows.items():
                self.stdout.write(f"  {table}: {rows} rows")
