from celery import shared_task
from django.db import OperationalError

from hotlines import services


@shared_task(acks_late=True, autoretry_for=(OperationalError, ConnectionError), retry_backoff=True, max_retries=5)
def tickets_escalate_due_task() -> int:
    """Beat: move overdue open tickets one level up (community → office → task force); idempotent."""
    return services.tickets_escalate_due()


@shared_task(acks_late=True)
def calls_abandon_stale_task() -> int:
    """Beat: close hotline calls left unfinished for too long (as "not finished")."""
    return services.calls_abandon_stale()
