"""The timed schedule (``CELERY_BEAT_SCHEDULE``): which job ran when, wherever it runs.

In production Celery beat queues the jobs and workers run them; in the embedded demo there is
no beat, so ``manage.py run_schedule`` (started by ``make run``) runs the same schedule in its
own process. Both record each job's last run in :class:`ScheduledRun` (through Celery's task
signals, which fire for eager runs too), so the schedule page can say what ran, what failed and
what has not run for too long.
"""

import datetime
import logging
import time
from dataclasses import dataclass

from celery import current_app
from celery.signals import task_failure, task_postrun, task_prerun
from django.conf import settings
from django.db import DatabaseError, IntegrityError, transaction
from django.db.models import F
from django.utils import timezone
from django.utils.translation import gettext_lazy, ngettext

from households.models import ScheduledRun

log = logging.getLogger("baogong.schedule")
# A job whose last run is older than this many of its intervals is reported as not running.
LATE_AFTER_INTERVALS = 3
# What each job of CELERY_BEAT_SCHEDULE does, as people say it.
JOB_LABELS = {
    "open-due-cycle": gettext_lazy("Open the next cycle on time"),
    "close-due-cycle": gettext_lazy("Close the cycle at its cutoff and pack it"),
    "requeue-stale-builds": gettext_lazy("Restart packing that stalled"),
    "urgent-packages": gettext_lazy("Build urgent packages whose message was lost"),
    "refresh-stale-lists": gettext_lazy("Draw again the printed lists whose packages changed"),
    "complete-done-cycles": gettext_lazy("Complete cycles where every package has its outcome"),
    "escalate-overdue-tickets": gettext_lazy("Escalate overdue tickets"),
    "send-due-sms": gettext_lazy("Send text messages"),
    "notify-confirmed-orders": gettext_lazy("Tell residents their order is confirmed"),
    "apply-due-lockdown-changes": gettext_lazy("Apply scheduled lockdown changes"),
    "expire-unpaid-orders": gettext_lazy("Cancel online orders not paid in time"),
    "send-refunds": gettext_lazy("Send refunds to the payment provider"),
    "abandon-stale-calls": gettext_lazy("Close hotline calls left unfinished"),
    "restock-alerts": gettext_lazy("Tell residents a sold-out product is back"),
}


def every_text(every: datetime.timedelta) -> str:
    """An interval as people say it: every 30 seconds, every 15 minutes."""
    seconds = int(every.total_seconds())
    if seconds % 60:
        return ngettext("every %(n)d second", "every %(n)d seconds", seconds) % {"n": seconds}
    minutes = seconds // 60
    return ngettext("every %(n)d minute", "every %(n)d minutes", minutes) % {"n": minutes}


def _jobs_of(task_name: str) -> list[str]:
    return [job for job, entry in settings.CELERY_BEAT_SCHEDULE.items() if entry["task"] == task_name]


def _record(task_name: str, *, counted: bool = False, **fields) -> None:
    """Record a run of a scheduled task (never fails the task: a lost record is only logged)."""
    for job in _jobs_of(task_name):
        try:
            changes = {"task": task_name, **fields, **({"runs": F("runs") + 1} if counted else {})}
            if not ScheduledRun.objects.filter(job=job).update(**changes):
                try:
                    with transaction.atomic():
                        ScheduledRun.objects.create(job=job, task=task_name, runs=int(counted), **fields)
                except IntegrityError:  # another run of the job recorded itself first: update that row
                    ScheduledRun.objects.filter(job=job).update(**changes)
        except DatabaseError:
            log.warning("could not record the run of %s", job, exc_info=True)


@task_prerun.connect
def _started(sender=None, **_kwargs) -> None:
    if sender is not None and _jobs_of(sender.name):
        _record(sender.name, last_started_at=timezone.now())


@task_postrun.connect
def _finished(sender=None, state=None, **_kwargs) -> None:
    if sender is None or not _jobs_of(sender.name):
        return
    ok = state == "SUCCESS"
    _record(
        sender.name, counted=True, last_finished_at=timezone.now(), last_ok=ok, **({"last_error": ""} if ok else {})
    )


@task_failure.connect
def _failed(sender=None, exception=None, **_kwargs) -> None:
    if sender is not None and _jobs_of(sender.name):
        _record(sender.name, last_ok=False, last_error=f"{type(exception).__name__}: {exception}"[:300])


def run_due(*, last: dict[str, float], clock: float | None = None) -> list[str]:
    """Run, in this process, every job of the schedule whose interval has passed since ``last``
    (job → monotonic time of its last run, updated here); returns the jobs run. A failing job is
    logged and recorded, and never stops the others."""
    clock = time.monotonic() if clock is None else clock
    ran = []
    for job, entry in settings.CELERY_BEAT_SCHEDULE.items():
        if job in last and clock - last[job] < float(entry["schedule"]):
            continue
        last[job] = clock
        if entry["task"] not in current_app.tasks:
            current_app.loader.import_default_modules()
        try:
            current_app.tasks[entry["task"]].apply(throw=True)
        except Exception:  # noqa: BLE001  (one job's failure must not stop the schedule)
            log.exception("scheduled job %s failed", job)
        ran.append(job)
    return ran


@dataclass(frozen=True)
class JobStatus:
    job: str
    label: str
    task: str
    every: datetime.timedelta
    every_text: str
    last_started_at: datetime.datetime | None
    last_finished_at: datetime.datetime | None
    last_ok: bool | None
    last_error: str
    runs: int
    late: bool  # never ran, or not for LATE_AFTER_INTERVALS intervals


def jobs_status(*, now: datetime.datetime | None = None) -> list[JobStatus]:
    """Every job of the schedule with its last run, and whether it is late (one query)."""
    now = now or timezone.now()
    runs = {r.job: r for r in ScheduledRun.objects.all()}
    rows = []
    for job, entry in settings.CELERY_BEAT_SCHEDULE.items():
        every = datetime.timedelta(seconds=float(entry["schedule"]))
        run = runs.get(job)
        started = run.last_started_at if run else None
        rows.append(
            JobStatus(
                job=job,
                label=str(JOB_LABELS.get(job, job)),
                task=entry["task"],
                every=every,
                every_text=every_text(every),
                last_started_at=started,
                last_finished_at=run.last_finished_at if run else None,
                last_ok=run.last_ok if run else None,
                last_error=run.last_error if run else "",
                runs=run.runs if run else 0,
                late=started is None or now - started > every * LATE_AFTER_INTERVALS,
            )
        )
    return rows


def schedule_running(*, job: str, now: datetime.datetime | None = None) -> bool:
    """Has this job run recently enough (within LATE_AFTER_INTERVALS of its interval)?"""
    return not next((s.late for s in jobs_status(now=now) if s.job == job), True)
