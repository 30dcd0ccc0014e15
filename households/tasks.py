from celery import shared_task

from households import services


@shared_task(acks_late=True, autoretry_for=(ConnectionError,), retry_backoff=True, max_retries=5)
def household_import_run_task(import_id: int) -> dict:
    """Run one uploaded household register (idempotent: a finished import is left as it is)."""
    household_import = services.household_import_run(import_id=import_id)
    return {"id": household_import.pk, "status": household_import.status}


@shared_task(acks_late=True)
def sms_send_due_task() -> dict:
    """Send the text messages that are due (beat every 30 s, and after notifications are made)."""
    return services.sms_send_due(budget_seconds=25)


@shared_task(bind=True, acks_late=True, max_retries=3)
def sms_code_send_task(self, phone: str, text: str) -> bool:
    """Send one text message carrying a one-time code; retried a few times within its lifetime."""
    from core.sms import sms_send_now

    if not sms_send_now(phone, text):
        if self.request.is_eager:  # in-process (the demo): the resident can ask for a new code
            return False
        raise self.retry(countdown=10 * (self.request.retries + 1))
    return True


@shared_task(acks_late=True)
def lockdown_changes_apply_due_task() -> int:
    """Apply the scheduled lockdown level changes whose time has come (beat, every minute)."""
    return services.lockdown_changes_apply_due()
