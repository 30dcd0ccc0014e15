"""core.queue: work is queued after commit without failing the request when the broker is
down; in the embedded demo, long work runs in a thread of its own."""

import threading

from celery import shared_task

from core.queue import enqueue

DONE = []


@shared_task(name="tests.record")
def record(value):
    DONE.append((value, threading.current_thread().name))
    return value


def test_eager_background_work_runs_in_a_thread_and_the_caller_does_not_wait(settings):
    DONE.clear()
    settings.EAGER_TASKS_IN_THREADS = True
    assert enqueue(record, 1, background=True)
    for thread in threading.enumerate():
        if thread.name.startswith("eager-"):
            thread.join(10)
    assert DONE == [(1, "eager-tests.record")]
    assert enqueue(record, 2)  # not background: at once, in the caller
    assert DONE[-1] == (2, threading.current_thread().name)


def test_a_fresh_web_process_finds_tasks_by_name_and_every_beat_task_exists():
    """A gunicorn worker has not imported the apps' tasks modules when the first lockdown change
    queues deliveries' recompute by name (it was a 500 in the demo)."""
    import subprocess
    import sys

    from django.conf import settings

    script = (
        "import django; django.setup()\n"
        "from celery import current_app\n"
        "from django.conf import settings\n"
        "import core.queue as queue\n"
        "assert 'deliveries.tasks.packages_recompute_task' not in current_app.tasks\n"
        "print(queue._task_named('deliveries.tasks.packages_recompute_task').name)\n"
        "missing = [e['task'] for e in settings.CELERY_BEAT_SCHEDULE.values() if queue._task_named(e['task']).name != e['task']]\n"
        "assert not missing, missing\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", script],
        cwd=settings.BASE_DIR,
        capture_output=True,
        text=True,
        timeout=120,
        env={**__import__("os").environ, "DJANGO_SETTINGS_MODULE": "config.settings"},
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "deliveries.tasks.packages_recompute_task"
