"""Closing a cycle: one build per community queued, the cycle packed when all are done, every
household told its package's day; the figures of a close."""

import datetime
from dataclasses import dataclass

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from core.errors import BaogongError
from core.queue import enqueue
from deliveries.models import (
    BuildStatus,
    CommunityBuild,
    Package,
)
from households.models import Community, DeliveryMode
from supply.models import Cycle, CycleStatus, Order, OrderStatus
from supply.services import cycle_step

# Pick-up at the receiving point (错时领取): half-hour slots from 08:00, so many packages each.


@transaction.atomic
def cycle_close(*, cycle_id: int | None = None, now: datetime.datetime | None = None) -> Cycle:
    """Stop taking orders for a cycle and queue the build of every community's packages.

    Guarantees: the cycle row is locked FOR UPDATE, so orders still in flight (they hold a share
    lock) commit first and later ones are refused; closing an already closing or packed cycle
    only re-queues what is still pending; one build row per community, never two.
    """
    now = now or timezone.now()
    qs = Cycle.objects.select_for_update()
    cycle = qs.filter(pk=cycle_id).first() if cycle_id else qs.filter(status=CycleStatus.OPEN).first()
    if cycle is None:
        raise BaogongError(_("There is no open cycle to close."), status_code=404)
    cycle_step(cycle=cycle, step="close", now=now)
    if cycle.status == CycleStatus.CLOSING:
        CommunityBuild.objects.bulk_create(
            [CommunityBuild(cycle=cycle, community_id=pk) for pk in Community.objects.values_list("pk", flat=True)],
            ignore_conflicts=True,
        )
        pending = list(
            CommunityBuild.objects.filter(cycle=cycle, status=BuildStatus.PENDING).values_list(
                "community_id", flat=True
            )
        )
        CommunityBuild.objects.filter(cycle=cycle, status=BuildStatus.PENDING).update(queued_at=now)
        cycle_pk = cycle.pk
        transaction.on_commit(
            lambda: [
                enqueue("deliveries.tasks.community_build_task", cycle_pk, community_id) for community_id in pending
            ]
        )
        if not pending:
            transaction.on_commit(lambda: cycle_finish_if_built(cycle_id=cycle_pk))
    return cycle


def cycle_close_due(*, now: datetime.datetime | None = None) -> Cycle | None:
    """For the beat schedule: close the open cycle once its cutoff has passed."""
    now = now or timezone.now()
    cycle = Cycle.objects.filter(status=CycleStatus.OPEN, cutoff_at__lte=now).first()
    return cycle_close(cycle_id=cycle.pk, now=now) if cycle else None


def builds_requeue_stale(*, older_than: datetime.timedelta, now: datetime.datetime | None = None) -> int:
    """For the beat schedule: queue again the builds still pending long after they were queued
    (their message was lost, or the worker running them died). Running one twice is harmless."""
    now = now or timezone.now()
    stale = list(
        CommunityBuild.objects.filter(
            status=BuildStatus.PENDING, cycle__status=CycleStatus.CLOSING, queued_at__lt=now - older_than
        ).values_list("pk", "cycle_id", "community_id")
    )
    CommunityBuild.objects.filter(pk__in=[pk for pk, _c, _m in stale]).update(queued_at=now)
    for _pk, cycle_id, community_id in stale:
        enqueue("deliveries.tasks.community_build_task", cycle_id, community_id)
    return len(stale)


@transaction.atomic
def cycle_finish_if_built(*, cycle_id: int) -> Cycle:
    """Mark a closing cycle packed once every community's build is done (idempotent)."""
    cycle = Cycle.objects.select_for_update().get(pk=cycle_id)
    if (
        cycle.status == CycleStatus.CLOSING
        and not CommunityBuild.objects.filter(cycle=cycle, status=BuildStatus.PENDING).exists()
        and cycle_step(cycle=cycle, step="pack")
    ):
        transaction.on_commit(lambda: enqueue("deliveries.tasks.cycle_lists_print_task", cycle_id, background=True))
        # In a thread in the embedded demo (with retries on a busy SQLite), like the lists.
        transaction.on_commit(lambda: enqueue("deliveries.tasks.cycle_packages_notify_task", cycle_id, background=True))
    return cycle


@dataclass(frozen=True)
class CloseSummary:
    cycle: int
    status: str
    orders: int
    packages: int
    households: int


def cycle_summary(*, cycle_id: int) -> CloseSummary:
    """Figures of a cycle's packaging, for ``close_cycle --json`` and the task force."""
    cycle = Cycle.objects.get(pk=cycle_id)
    packages = Package.objects.filter(cycle=cycle)
    return CloseSummary(
        cycle=cycle.pk,
        status=cycle.status,
        orders=Order.objects.filter(cycle=cycle, status=OrderStatus.PLACED).count(),
        packages=packages.count(),
        households=packages.order_by().values("household_id").distinct().count(),
    )


def community_packages_notify(*, cycle_id: int, community_id: int) -> int:
    """Tell each household of a community its package's code, date and mode or pick-up slot.

    Guarantees: at most once per package (households.services.notifications_create ignores
    repeats), urgent packages included; set-based: one query for the packages, batched inserts.
    Returns how many packages were told about.
    """
    from households.services import Tell, notifications_create

    rows = (
        Package.objects.filter(cycle_id=cycle_id, community_id=community_id)
        .values_list(
            "pk",
            "household_id",
            "code",
            "delivery_date",
            "mode",
            "pickup_slot__starts_at",
            "pickup_slot__ends_at",
            "compound__receiving_point",
            "community__receiving_point",
        )
        .order_by("pk")
    )
    tells = []
    for pk, household_id, code, date, mode, starts, ends, compound_point, community_point in rows.iterator(
        chunk_size=5000
    ):
        params = {"code": code, "date": date.isoformat(), "mode": mode}
        if mode == DeliveryMode.PICKUP and starts:
            params |= {"slot": f"{starts:%H:%M}–{ends:%H:%M}", "point": compound_point or community_point}
        tells.append(Tell(household_id=household_id, key=f"package:{pk}", params=params))
    with transaction.atomic():
        notifications_create(kind="package_scheduled", tells=tells)
    return len(tells)
