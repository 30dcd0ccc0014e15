"""Timed work runs wherever the app runs (issue 14): the embedded demo's run_schedule applies a
due lockdown change (it never did under make run), each job's last run is recorded and shown,
and a change past its time without the schedule running says so."""

import datetime
import io

import pytest
from django.core.management import call_command
from django.urls import reverse
from django.utils import timezone

from households import services
from households.models import Compound, LockdownChange, LockdownLevel, ScheduledRun
from households.schedule import jobs_status

pytestmark = pytest.mark.django_db


def test_run_schedule_applies_a_due_change_and_the_pages_say_what_ran(city, client):
    compound = city.places[city.b.pk].compound
    soon = timezone.now() + datetime.timedelta(minutes=5)
    services.compound_set_lockdown_level(
        compound_id=compound.pk,
        level=LockdownLevel.STAY_AT_HOME,
        reason="夜间封控",
        changed_by=city.users.taskforce,
        effective_at=soon,
    )
    change = LockdownChange.objects.get(compound=compound)
    LockdownChange.objects.filter(pk=change.pk).update(effective_at=timezone.now() - datetime.timedelta(minutes=10))
    client.force_login(city.users.taskforce)
    page = client.get(reverse("households:compound_detail", args=[compound.pk])).content.decode()
    assert "overdue-change" in page and "定时任务没有运行" in page
    assert client.get(reverse("households:schedule")).content.decode().count('class="late"') == len(jobs_status())

    out = io.StringIO()
    call_command("run_schedule", once=True, stdout=out)
    assert "apply-due-lockdown-changes" in out.getvalue()
    compound.refresh_from_db()
    change.refresh_from_db()
    assert compound.lockdown_level == LockdownLevel.STAY_AT_HOME and change.applied_at is not None
    run = ScheduledRun.objects.get(job="apply-due-lockdown-changes")
    assert (run.last_ok, run.runs, run.task) == (True, 1, "households.tasks.lockdown_changes_apply_due_task")
    status = {s.job: s for s in jobs_status()}
    assert not status["apply-due-lockdown-changes"].late
    assert set(status) == set(ScheduledRun.objects.values_list("job", flat=True)), "every job ran and was recorded"
    html = client.get(reverse("households:schedule")).content.decode()
    assert 'id="schedule-late"' not in html and "apply-due-lockdown-changes" in html
    assert (
        "overdue-change" not in client.get(reverse("households:compound_detail", args=[compound.pk])).content.decode()
    )


def test_a_job_not_run_for_three_intervals_is_late(city):
    call_command("run_schedule", once=True, stdout=io.StringIO())
    later = timezone.now() + datetime.timedelta(minutes=4)
    late = {s.job for s in jobs_status(now=later) if s.late}
    assert "send-due-sms" in late and "open-due-cycle" not in late  # every 30 s vs every 15 min
    assert Compound.objects.exists()


def test_a_job_recorded_by_another_run_first_is_updated_not_lost(city, monkeypatch):
    """Two runs of a job start together (the demo's background threads): the second to write finds
    the row the first created and updates it, instead of failing on the unique job."""
    from households import schedule

    real_update = ScheduledRun.objects.filter(job="send-due-sms").update
    calls = []

    def first_update_misses(*args, **kwargs):
        calls.append(1)
        if len(calls) == 1:  # as if the other run's row did not exist yet when this one looked
            ScheduledRun.objects.create(job="send-due-sms", task="households.tasks.sms_send_due_task", runs=5)
            return 0
        return real_update(*args, **kwargs)

    monkeypatch.setattr(
        ScheduledRun.objects, "filter", lambda **kw: type("Q", (), {"update": staticmethod(first_update_misses)})()
    )
    schedule._record("households.tasks.sms_send_due_task", counted=True, last_finished_at=timezone.now())
    monkeypatch.undo()
    run = ScheduledRun.objects.get(job="send-due-sms")
    assert run.runs == 6 and run.last_finished_at is not None


def test_every_timed_job_says_what_it_does():
    from django.conf import settings

    from households.schedule import JOB_LABELS

    assert set(settings.CELERY_BEAT_SCHEDULE) <= set(JOB_LABELS)
