import datetime

from celery import shared_task
from django.db import OperationalError

from deliveries import services


@shared_task(acks_late=True, autoretry_for=(OperationalError, ConnectionError), retry_backoff=True, max_retries=8)
def community_build_task(cycle_id: int, community_id: int) -> dict:
    """Build one community's packages, then mark the cycle packed if it was the last (both idempotent)."""
    build = services.community_build(cycle_id=cycle_id, community_id=community_id)
    services.cycle_finish_if_built(cycle_id=cycle_id)
    return {"community": community_id, "packages": build.packages}


@shared_task(acks_late=True)
def cycle_close_due_task() -> int | None:
    """Beat: close the open cycle once its cutoff has passed."""
    cycle = services.cycle_close_due()
    return cycle.pk if cycle else None


@shared_task(acks_late=True)
def builds_requeue_stale_task() -> int:
    """Beat: queue again builds whose message was lost or whose worker died."""
    return services.builds_requeue_stale(older_than=datetime.timedelta(seconds=90))


@shared_task(acks_late=True, autoretry_for=(OperationalError, ConnectionError), retry_backoff=True, max_retries=8)
def urgent_package_task(order_id: int) -> str | None:
    """Build a same-day urgent package for one urgent order (idempotent)."""
    package = services.urgent_package_build(order_id=order_id)
    return package.code if package else None


@shared_task(acks_late=True)
def urgent_packages_sweep_task() -> int:
    """Beat: build urgent packages whose message was lost."""
    return services.urgent_packages_sweep()


@shared_task(acks_late=True, autoretry_for=(OperationalError, ConnectionError), retry_backoff=True, max_retries=8)
def packages_recompute_task(compound_id: int) -> int:
    """A compound's or building's lockdown level changed: its undelivered packages follow it."""
    return services.compound_packages_recompute(compound_id=compound_id)


# --- notifications to residents --------------------------------------------------------------------


@shared_task(acks_late=True)
def cycle_packages_notify_task(cycle_id: int) -> int:
    """A cycle was packed: tell every household its package's date and mode, one task per community."""
    from deliveries.models import Package

    communities = list(Package.objects.filter(cycle_id=cycle_id).values_list("community_id", flat=True).distinct())
    for community_id in communities:
        community_packages_notify_task.delay(cycle_id, community_id)
    return len(communities)


@shared_task(acks_late=True, autoretry_for=(OperationalError, ConnectionError), retry_backoff=True, max_retries=5)
def community_packages_notify_task(cycle_id: int, community_id: int) -> int:
    """Tell one community's households about their packages (each at most once)."""
    return services.community_packages_notify(cycle_id=cycle_id, community_id=community_id)
