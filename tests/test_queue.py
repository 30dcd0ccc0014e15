"""households.queue: work is queued after commit without failing the request when the broker is
down; in the embedded demo, long work runs in a thread of its own."""

import threading

from celery import shared_task

from households.queue import enqueue

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
