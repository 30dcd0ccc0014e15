"""What hotlines does when the apps below it say something happened (connected in apps.ready)."""

from django.dispatch import receiver

from deliveries.signals import door_exception
from hotlines import services


@receiver(door_exception, dispatch_uid="hotlines.missed_delivery_ticket")
def _missed_delivery(sender, *, household_id, code, reason_label, day, requeued_to, by, at, **_details) -> None:
    """A care household's package came back from the door: its worker gets a ticket."""
    services.missed_delivery_ticket_open(
        household_id=household_id,
        code=code,
        reason_label=reason_label,
        day=day,
        requeued_to=requeued_to,
        by=by,
        now=at,
    )
