"""``python manage.py close_cycle [--cycle ID] [--json] [--wait SECONDS]``: close a cycle and build its packages."""

import json
import time

from django.core.management.base import BaseCommand, CommandError

from core.errors import BaogongError
from deliveries import services
from supply.models import CycleStatus


class Command(BaseCommand):
    help = (
        "Close the open (or given) cycle: one Celery task per community builds its packages. "
        "Waits until the cycle is packed (the tasks run in-process when REDIS_URL is unset)."
    )

    def add_arguments(self, parser):
        parser.add_argument("--cycle", type=int, help="the cycle's id (default: the open cycle)")
        parser.add_argument("--json", action="store_true", help="print one JSON line with the figures")
        parser.add_argument("--wait", type=float, default=1800, help="seconds to wait for the workers (default 1800)")

    def handle(self, *args, cycle: int | None, json: bool, wait: float, **options):
        started = time.monotonic()
        try:
            closed = services.cycle_close(cycle_id=cycle)
        except BaogongError as exc:
            raise CommandError(exc.message) from None
        while True:
            closed.refresh_from_db(fields=["status"])
            if closed.status != CycleStatus.CLOSING or time.monotonic() - started > wait:
                break
            time.sleep(0.2)
        seconds = round(time.monotonic() - started, 2)
        summary = services.cycle_summary(cycle_id=closed.pk)
        if summary.status == CycleStatus.CLOSING:
            raise CommandError(
                f"cycle {closed.pk} is still closing after {wait:.0f} s: are Celery workers running? "
                f"({summary.packages} packages so far)"
            )
        if json:
            self.stdout.write(
                _json(
                    cycle=summary.cycle,
                    orders=summary.orders,
                    packages=summary.packages,
                    households=summary.households,
                    seconds=seconds,
                )
            )
        else:
            self.stdout.write(
                f"cycle {summary.cycle}: {summary.status}; {summary.orders} orders in {summary.packages} packages "
                f"for {summary.households} households, {seconds} s"
            )


def _json(**figures) -> str:
    return json.dumps(figures, ensure_ascii=False)
