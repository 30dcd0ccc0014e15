from celery import shared_task

from supply import services


@shared_task(acks_late=True, autoretry_for=(ConnectionError,), retry_backoff=True, max_retries=5)
def cycle_open_due_task() -> int | None:
    """Beat: open the next cycle when its time has come (idempotent: one open cycle at most)."""
    cycle = services.cycle_open_due()
    return cycle.pk if cycle else None


@shared_task(acks_late=True)
def orders_confirmed_notify_task() -> int:
    """Beat: tell households their new orders are confirmed (each at most once)."""
    return services.orders_confirmed_notify()
