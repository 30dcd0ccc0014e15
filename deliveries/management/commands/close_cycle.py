"""``python manage.py close_cycle [--cycle ID] [--json] [--wait SECONDS] [--no-paper]``: close a
cycle, build its packages, and wait for its printed lists.

It reports the two stages apart: packing (every community's packages built) and paper (every
community's, office's and supplier's lists drawn). On a terminal a progress line shows each stage
(``packing 3/5 communities``, ``drawing lists 12/39``); ``--json`` prints one line with the figures
(``packing_seconds``, ``paper_seconds``, ``lists_drawn``, ``lists_total``, ``lists_failed``,
``seconds`` for both).
"""

import json
import logging
import sys
import time

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from core.errors import BaogongError
from deliveries import services
from deliveries.models import BuildStatus, CommunityBuild
from deliveries.printing.selectors import ListsProgress, cycle_units, lists_progress
from supply.models import CycleStatus

QUIET_LOGGERS = ("celery.app.trace", "baogong.sms", "kombu.connection")


class Progress:
    """One status line on a terminal (rewritten in place); silent when not a terminal."""

    def __init__(self, stream, enabled: bool):
        self.stream, self.enabled, self.width = stream, enabled, 0

    def show(self, label: str, done: int, total: int) -> None:
        if not self.enabled:
            return
        filled = int(24 * done / total) if total else 24
        text = f"{label} [{'#' * filled}{'.' * (24 - filled)}] {done}/{total}"
        self.stream.write("\r" + text.ljust(self.width))
        self.stream.flush()
        self.width = len(text)

    def end(self) -> None:
        if self.enabled and self.width:
            self.stream.write("\n")
            self.stream.flush()
            self.width = 0


class Command(BaseCommand):
    help = (
        "Close the open (or given) cycle: one Celery task per community builds its packages, then its "
        "lists are drawn. Waits for both (the tasks run in-process when REDIS_URL is unset)."
    )

    def add_arguments(self, parser):
        parser.add_argument("--cycle", type=int, help="the cycle's id (default: the open cycle)")
        parser.add_argument("--json", action="store_true", help="print one JSON line with the figures")
        parser.add_argument("--wait", type=float, default=1800, help="seconds to wait for the workers (default 1800)")
        parser.add_argument("--no-paper", action="store_true", help="do not wait for the printed lists")

    def handle(self, *args, cycle: int | None, json: bool, wait: float, no_paper: bool, **options):
        if options["verbosity"] < 2:
            # Each task's "succeeded" line and each console text message (hundreds in the embedded
            # demo, where they are written to the log) are not news here; -v 2 shows them.
            for name in QUIET_LOGGERS:
                logging.getLogger(name).setLevel(logging.WARNING)
        progress = Progress(sys.stderr, enabled=sys.stderr.isatty() and options["verbosity"] > 0)
        started = time.monotonic()
        try:
            closed = services.cycle_close(cycle_id=cycle)
        except BaogongError as exc:
            raise CommandError(exc.message) from None
        builds = CommunityBuild.objects.filter(cycle_id=closed.pk)
        while True:
            closed.refresh_from_db(fields=["status"])
            progress.show("packing", builds.filter(status=BuildStatus.DONE).count(), builds.count())
            if closed.status != CycleStatus.CLOSING or time.monotonic() - started > wait:
                break
            time.sleep(0.2)
        progress.end()
        packing_seconds = round(time.monotonic() - started, 2)
        summary = services.cycle_summary(cycle_id=closed.pk)
        if summary.status == CycleStatus.CLOSING:
            raise CommandError(
                f"cycle {closed.pk} is still closing after {wait:.0f} s: are Celery workers running? "
                f"({summary.packages} packages so far)"
            )
        paper_started = time.monotonic()
        lists = ListsProgress(drawn=0, total=0, failed=0)
        if settings.DELIVERIES_PRINT_ON_PACK and not no_paper:
            units = cycle_units(cycle_id=closed.pk)
            lists = lists_progress(cycle_id=closed.pk, units=units)
            while not lists.settled and time.monotonic() - started <= wait:
                progress.show("drawing lists", lists.drawn, lists.total)
                time.sleep(0.5)
                lists = lists_progress(cycle_id=closed.pk, units=units)
            progress.show("drawing lists", lists.drawn, lists.total)
            progress.end()
        paper_seconds = round(time.monotonic() - paper_started, 2)
        figures = {
            "cycle": summary.cycle,
            "orders": summary.orders,
            "packages": summary.packages,
            "households": summary.households,
            "packing_seconds": packing_seconds,
            "paper_seconds": paper_seconds,
            "lists_drawn": lists.drawn,
            "lists_total": lists.total,
            "lists_failed": lists.failed,
            "seconds": round(packing_seconds + paper_seconds, 2),
        }
        if json:
            self.stdout.write(_json(**figures))
            return
        self.stdout.write(
            f"cycle {summary.cycle}: {summary.status}; {summary.orders} orders in {summary.packages} packages "
            f"for {summary.households} households, packed in {packing_seconds} s"
        )
        if settings.DELIVERIES_PRINT_ON_PACK and not no_paper:
            failed = f", {lists.failed} could not be drawn (see the printed lists page)" if lists.failed else ""
            self.stdout.write(
                f"printed lists: {lists.drawn} of {lists.total} places drawn in {paper_seconds} s{failed}"
            )


def _json(**figures) -> str:
    return json.dumps(figures, ensure_ascii=False)
