"""Sending work to the Celery workers without making a request fail when the broker is down.

Every task here acts on database state that is already committed (an order, a build row, a
notification), and the beat schedule sweeps that state for work whose message never arrived
(``urgent_packages_sweep``, ``builds_requeue_stale``, ``sms_send_due``, ``lockdown_changes_apply_due``).
So when Redis cannot be reached, the message is dropped with a warning instead of turning a saved
order into an error page, and the work happens when Redis is back.
"""

import logging
import threading
import time
from importlib import import_module

from celery import current_app
from django.conf import settings
from django.db import connections
from kombu.exceptions import OperationalError as BrokerError

logger = logging.getLogger("baogong.queue")

try:  # the broker's client errors (Redis), when the redis package is there
    from redis.exceptions import RedisError
except ImportError:  # pragma: no cover
    RedisError = BrokerError  # type: ignore[misc, assignment]


def enqueue(task, *args, background: bool = False) -> bool:
    """Queue ``task(*args)``; False (and a warning) if the broker is unreachable. ``task`` is a
    task or its dotted name ("deliveries.tasks.community_build_task"): services name the tasks
    they queue, so no services module imports a tasks module (tasks import services, one way).

    With eager tasks (no Redis: the embedded demo) the task runs at once and its errors propagate
    as usual; a ``background`` task (long work nobody waits for, like drawing every printed list)
    runs in a thread of this process instead, so the page that caused it answers at once.
    """
    if isinstance(task, str):
        task = _task_named(task)
    if current_app.conf.task_always_eager:
        if background and settings.EAGER_TASKS_IN_THREADS:
            threading.Thread(target=_run_in_thread, args=(task, args), name=f"eager-{task.name}").start()
        else:
            task.apply_async(args=args)
        return True
    try:
        task.apply_async(args=args, retry=False)
    except (BrokerError, RedisError, ConnectionError, OSError) as exc:
        logger.warning("broker unreachable, %s%s not queued (the beat's sweep will do it): %s", task.name, args, exc)
        return False
    return True


def _task_named(name: str):
    """The task of a dotted name. A process that has not loaded the task's module yet imports that
    module alone: Celery's ``import_default_modules`` would also run Django's system checks (about a
    second, once per process, measured by bench/order_instructions.py --what close)."""
    task = current_app.tasks.get(name)
    if task is None:
        module, _dot, attribute = name.rpartition(".")
        task = getattr(import_module(module), attribute)
    return task


def _run_in_thread(task, args, attempts: int = 4) -> None:
    """Run a background task; on a busy database (SQLite's "database is locked" while a request
    writes) try again a few times, as a worker's retry would."""
    from django.db import OperationalError

    try:
        for attempt in range(1, attempts + 1):
            try:
                task.apply(args=args, throw=True)
                return
            except OperationalError as exc:
                if attempt == attempts:
                    raise
                logger.warning("background task %s%s: %s; trying again", task.name, args, exc)
                connections.close_all()
                time.sleep(2 * attempt)
    except Exception:  # logged, like a worker would; the state it acts on stays for a re-run
        logger.exception("background task %s%s failed", task.name, args)
    finally:
        connections.close_all()
