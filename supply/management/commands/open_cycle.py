"""``python manage.py open_cycle``: open the next 3-day cycle now (the demo's stand-in for the beat schedule)."""

from django.core.management.base import BaseCommand
from django.utils import timezone
from django.utils.formats import date_format

from supply.services import cycle_open


class Command(BaseCommand):
    help = "Open the next ordering cycle now, unless one is open already."

    def handle(self, *args, **options):
        cycle = cycle_open()
        self.stdout.write(
            f"cycle {cycle.number} (id {cycle.pk}): open, cutoff {date_format(timezone.localtime(cycle.cutoff_at), 'Y-m-d H:i')}, "
            f"deliveries from {cycle.first_delivery_date:%Y-%m-%d}"
        )
