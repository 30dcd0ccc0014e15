import datetime
import logging

from celery import shared_task
from django.db import OperationalError

from core.errors import Conflict, NotFound
from core.queue import enqueue
from core.sms import sms_send_now
from deliveries import services
from deliveries.volunteers.teams import shift_call_text

logger = logging.getLogger("baogong.deliveries")


@shared_task(acks_late=True, autoretry_for=(OperationalError, ConnectionError), retry_backoff=True, max_retries=8)
def community_build_task(cycle_id: int, community_id: int) -> dict:
    """Build one community's packages, then mark the cycle packed if it was the last (both idempotent).
    A stale message (no such build, or its cycle no longer closing) is dropped with a warning."""
    try:
        build = services.community_build(cycle_id=cycle_id, community_id=community_id)
    except (NotFound, Conflict) as stale:
        logger.warning("build of community %s in cycle %s dropped: %s", community_id, cycle_id, stale)
        return {"community": community_id, "packages": 0, "dropped": True}
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
    """A compound's or building's lockdown level changed: its undelivered packages follow it, and
    households now at home that must be fed this cycle get their baseline package."""
    changed = services.compound_packages_recompute(compound_id=compound_id)
    services.sealed_households_feed(compound_id=compound_id)
    return changed


# --- printed lists (deliveries.printing) -----------------------------------------------------------

_PRINT_RETRY = {
    "acks_late": True,
    "autoretry_for": (OperationalError, ConnectionError),
    "retry_backoff": True,
    "max_retries": 5,
}


@shared_task(**_PRINT_RETRY)
def cycle_lists_print_task(cycle_id: int) -> int:
    """A cycle was packed: queue the generation of its lists, one task per community, office, supplier."""
    from deliveries.printing import services as printing

    units = printing.cycle_lists_queue(cycle_id=cycle_id)
    return 0 if units is None else len(units.communities) + len(units.offices) + len(units.suppliers)


@shared_task(**_PRINT_RETRY)
def community_lists_print_task(cycle_id: int, community_id: int) -> int:
    """Keep a community's receiving list, door list, labels and pick-up notices current."""
    from deliveries.printing import services as printing

    return printing.community_lists_generate(cycle_id=cycle_id, community_id=community_id)


@shared_task(**_PRINT_RETRY)
def office_lists_print_task(cycle_id: int, office_id: int) -> int:
    """Keep an office's dispatch manifests current."""
    from deliveries.printing import services as printing

    return printing.office_lists_generate(cycle_id=cycle_id, office_id=office_id)


@shared_task(**_PRINT_RETRY)
def supplier_lists_print_task(cycle_id: int, supplier_id: int) -> int:
    """Keep a supplier's pick lists current."""
    from deliveries.printing import services as printing

    return printing.supplier_lists_generate(cycle_id=cycle_id, supplier_id=supplier_id)


@shared_task(acks_late=True)
def stale_lists_refresh_task() -> int:
    """Beat: regenerate the lists of communities whose packages were recomputed after a late change."""
    from deliveries.printing import services as printing

    return printing.stale_lists_refresh()


# --- notifications to residents --------------------------------------------------------------------


@shared_task(acks_late=True)
def cycle_packages_notify_task(cycle_id: int) -> int:
    """A cycle was packed: tell every household its package's date and mode, one task per community."""
    from deliveries.models import Package

    # order_by(): the model's default ordering would make DISTINCT run over (community, cycle, code)
    communities = sorted(
        set(Package.objects.filter(cycle_id=cycle_id).order_by().values_list("community_id", flat=True).distinct())
    )
    for community_id in communities:
        enqueue(community_packages_notify_task, cycle_id, community_id, background=True)
    return len(communities)


@shared_task(acks_late=True, autoretry_for=(OperationalError, ConnectionError), retry_backoff=True, max_retries=5)
def community_packages_notify_task(cycle_id: int, community_id: int) -> int:
    """Tell one community's households about their packages (each at most once)."""
    return services.community_packages_notify(cycle_id=cycle_id, community_id=community_id)


# --- handovers (deliveries.handovers) ---------------------------------------------------------------


@shared_task(acks_late=True, autoretry_for=(OperationalError, ConnectionError), retry_backoff=True, max_retries=5)
def cycle_complete_task(cycle_id: int) -> str:
    """A community has nothing open any more: mark the cycle complete if no package is open anywhere."""
    from deliveries import handovers

    return handovers.cycle_complete_if_done(cycle_id=cycle_id).status


@shared_task(acks_late=True)
def cycles_complete_due_task() -> int:
    """Beat: complete the packed cycles whose packages all have their outcome."""
    from deliveries import handovers

    return handovers.cycles_complete_due()


@shared_task(acks_late=True)
def volunteer_call_task(shift_id: int, phones: list[str]) -> int:
    """Text each available volunteer a call for help for a shift short of people; returns how many were accepted."""
    text = shift_call_text(shift_id)
    return sum(sms_send_now(phone, text) for phone in phones)
