from celery import shared_task

from supply import services
from supply.services import payments


@shared_task(acks_late=True, autoretry_for=(ConnectionError,), retry_backoff=True, max_retries=5)
def cycle_open_due_task() -> int | None:
    """Beat: open the next cycle when its time has come (idempotent: one open cycle at most)."""
    cycle = services.cycle_open_due()
    return cycle.pk if cycle else None


@shared_task(acks_late=True)
def orders_confirmed_notify_task() -> int:
    """Beat: tell households their new orders are confirmed (each at most once)."""
    return services.orders_confirmed_notify()


@shared_task(acks_late=True)
def payments_expire_task() -> int:
    """Beat: orders not paid in time give their items back (each provider asked first)."""
    return payments.payments_expire()


@shared_task(acks_late=True)
def refunds_send_task() -> int:
    """After a refund is decided, and on the beat: send pending refunds and record how they ended."""
    return payments.refunds_send()


@shared_task(acks_late=True)
def restock_alerts_send_task() -> int:
    """Beat: tell households waiting for a sold-out product that some is back."""
    return services.restock_alerts_send()
