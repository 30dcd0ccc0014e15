"""Back in stock: a resident asks to be told when a sold-out product can be ordered again this
cycle (stock given back by a cancelled, changed or expired order, or capacity raised)."""

import datetime

from django.db import IntegrityError, transaction
from django.db.models import F
from django.utils import timezone

from core.dates import moment_text
from households.services import Tell, notifications_create
from supply.models import CycleStock, RestockAlert
from supply.services.cycles import _open_cycle_share_locked


def restock_alert_set(*, household_id: int, product_id: int, on: bool, now: datetime.datetime | None = None) -> bool:
    """Ask (or stop asking) to be told when the product is back in the open cycle. Returns whether
    an alert is now set; none outside an open cycle. Asking twice is one alert."""
    now = now or timezone.now()
    with transaction.atomic():
        cycle = _open_cycle_share_locked(now)
        if cycle is None:
            return False
        alerts = RestockAlert.objects.filter(household_id=household_id, product_id=product_id, cycle=cycle)
        if not on:
            alerts.delete()
            return False
        try:
            with transaction.atomic():
                RestockAlert.objects.create(household_id=household_id, product_id=product_id, cycle=cycle)
        except IntegrityError:
            pass
        return True


def restock_alerts_send(*, now: datetime.datetime | None = None) -> int:
    """For the beat: tell each household waiting for a product of the open cycle that has some
    left again, in the app and by SMS, once (the alert is marked told; notifications are unique per
    cycle and product). Set-based: one query for what is back, batched notices."""
    now = now or timezone.now()
    cycle = _open_cycle_share_locked(now)
    if cycle is None:
        return 0
    left = CycleStock.objects.filter(cycle=cycle, capacity__gt=F("reserved")).values("product_id")
    waiting = list(
        RestockAlert.objects.filter(cycle=cycle, notified_at__isnull=True, product_id__in=left)
        .select_related("product")
        .order_by("pk")[:5000]
    )
    if not waiting:
        return 0
    stock = dict(
        CycleStock.objects.filter(cycle=cycle, product_id__in={a.product_id for a in waiting}).values_list(
            "product_id", F("capacity") - F("reserved")
        )
    )
    cutoff = moment_text(cycle.cutoff_at)
    tells = [
        Tell(
            household_id=alert.household_id,
            key=f"restock:{cycle.pk}:{alert.product_id}",
            params={"product": str(alert.product), "left": stock.get(alert.product_id, 0), "cutoff": cutoff},
        )
        for alert in waiting
    ]
    with transaction.atomic():
        notifications_create(kind="restock", tells=tells, now=now)
        RestockAlert.objects.filter(pk__in=[a.pk for a in waiting]).update(notified_at=now)
    return len(waiting)
