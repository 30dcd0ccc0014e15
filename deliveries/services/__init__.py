"""Closing a cycle into door-to-door packages, one community at a time.

The shape (Read the Docs' builds, django-oscar's allocations): closing marks the cycle and writes
one :class:`CommunityBuild` row per community; a build turns that community's orders into
packages, pick-up slots and route legs in ONE transaction, set-based, and marks its row done; the
last build to finish marks the cycle packed. Everything is driven by those rows, so a task that
runs twice, or dies half-way, or is never delivered, changes nothing that a re-run cannot finish.

One module per concern: ``closing`` (close, pack, notify), ``building`` (one community's build),
``lanes`` (lockdown changes after the close, the urgent lane, sealed households). Callers use
``from deliveries import services`` and the names below.
"""

from deliveries.services.building import (
    FIRST_SLOT,
    SLOT_CAPACITY,
    SLOT_MINUTES,
    community_build,
    item_summary,
)
from deliveries.services.closing import (
    CloseSummary,
    builds_requeue_stale,
    community_packages_notify,
    cycle_close,
    cycle_close_due,
    cycle_finish_if_built,
    cycle_summary,
)
from deliveries.services.lanes import (
    compound_packages_recompute,
    sealed_households_feed,
    supplement_packages_build,
    urgent_package_build,
    urgent_packages_sweep,
)

__all__ = [
    "FIRST_SLOT",
    "SLOT_CAPACITY",
    "SLOT_MINUTES",
    "CloseSummary",
    "builds_requeue_stale",
    "community_build",
    "community_packages_notify",
    "compound_packages_recompute",
    "cycle_close",
    "cycle_close_due",
    "cycle_finish_if_built",
    "cycle_summary",
    "item_summary",
    "sealed_households_feed",
    "supplement_packages_build",
    "urgent_package_build",
    "urgent_packages_sweep",
]
