"""Issue 19: Celery queues per kind of work (ordering side effects, packing, paper, notifications),
so each can get its own workers on other machines. A worker started without -Q takes them all."""

import pytest
from celery import current_app

from tests.workers import Worker, wait_for

QUEUES = {"celery", "orders", "packing", "paper", "notify"}
EXPECTED = {
    "deliveries.tasks.urgent_package_task": "orders",
    "supply.tasks.payments_expire_task": "orders",
    "supply.tasks.refunds_send_task": "orders",
    "deliveries.tasks.community_build_task": "packing",
    "deliveries.tasks.cycle_close_due_task": "packing",
    "deliveries.tasks.community_lists_print_task": "paper",
    "deliveries.tasks.stale_lists_refresh_task": "paper",
    "households.tasks.sms_send_due_task": "notify",
    "deliveries.tasks.community_packages_notify_task": "notify",
    "households.tasks.household_import_run_task": "celery",
}


def queue_of(name: str) -> str:
    return current_app.amqp.router.route({}, name)["queue"].name


def test_every_task_of_the_project_has_its_queue():
    current_app.loader.import_default_modules()
    ours = [
        name for name in current_app.tasks if name.split(".")[0] in {"supply", "deliveries", "households", "hotlines"}
    ]
    assert len(ours) > 20
    assert {name: queue_of(name) for name in EXPECTED} == EXPECTED
    assert {queue_of(name) for name in ours} <= QUEUES
    assert {q.name for q in current_app.conf.task_queues} == QUEUES  # a worker without -Q takes them all


@pytest.mark.redis
@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_a_paper_worker_takes_the_paper_and_leaves_the_packing():
    import redis
    from django.conf import settings

    current_app.control.purge()
    worker = Worker("pytest-paper", queues="paper")
    try:
        worker.wait_ready()
        current_app.send_task(
            "deliveries.tasks.builds_requeue_stale_task", queue=queue_of("deliveries.tasks.builds_requeue_stale_task")
        )
        current_app.send_task(
            "deliveries.tasks.stale_lists_refresh_task", queue=queue_of("deliveries.tasks.stale_lists_refresh_task")
        )
        wait_for(
            lambda: "stale_lists_refresh_task" in worker.log() and "succeeded" in worker.log(),
            seconds=60,
            what="the paper task",
            worker=worker,
        )
        assert "deliveries.tasks.stale_lists_refresh_task[" in worker.log()
        assert "deliveries.tasks.builds_requeue_stale_task[" not in worker.log()  # no task of that name ran
        assert redis.Redis.from_url(settings.REDIS_URL).llen("packing") == 1  # waiting for a packing worker
    finally:
        worker.stop()
        current_app.control.purge()
