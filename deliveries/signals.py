"""What deliveries tells the apps above it (they connect; deliveries imports none of them)."""

from django.dispatch import Signal

# A package could not be delivered at the door. Sent after the exception is committed, with
# ``package_id``, ``household_id``, ``code``, ``reason`` (an ExceptionReason value), ``reason_label``,
# ``day`` (the day it was missed), ``requeued_to`` (its new day, None when refused), ``by`` and ``at``.
door_exception = Signal()
