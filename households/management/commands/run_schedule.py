"""``python manage.py run_schedule [--once] [--tick SECONDS]``: the timed schedule in this process.

For the embedded demo (``make run``), which has no Celery beat: scheduled lockdown changes, cycle
opening and closing at their times, list refreshes, escalations and text messages run here as
they would under beat. Each job's last run shows on the schedule page (/schedule/).
"""

import time

from django.core.management.base import BaseCommand

from households.schedule import run_due


class Command(BaseCommand):
    help = "Run the timed schedule (CELERY_BEAT_SCHEDULE) in this process, for the embedded demo."

    def add_arguments(self, parser):
        parser.add_argument("--once", action="store_true", help="run every job once and stop")
        parser.add_argument("--tick", type=float, default=5.0, help="seconds between looks at the schedule")

    def handle(self, *args, once: bool = False, tick: float = 5.0, **options):
        last: dict[str, float] = {}
        self.stdout.write("run_schedule: the timed jobs run in this process (no Celery beat here)")
        while True:
            ran = run_due(last=last)
            if once:
                self.stdout.write(f"ran {len(ran)} jobs: {', '.join(ran)}")
                return
            time.sleep(max(tick, 0.5))
