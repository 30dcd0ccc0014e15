"""Handovers: the chain of custody from the supplier to the door, and the end of a cycle.

At each hop of the route the receiving person confirms a :class:`Consignment` (the counts that
arrived, a note when they differ from the list); confirming moves that hop's packages on, in one
UPDATE. At the door the worker marks each package delivered or not delivered (not at home,
refused, damaged, item missing). Every step is a :class:`HandoverEvent` row: who, when, where.

The custody rules live here and nowhere else (:func:`custody_check_door`, :func:`consignments_expected`):
- a hop is confirmed only after the hop before it (the office receives from the supplier before
  the community can receive from the office, the community before its compounds);
- a door outcome only for a package that reached its community, on or after its first delivery
  day; staff may override either rule only by stating why, and the reason is kept on the event;
- counts flow downstream: each hop expects what the previous hop actually received, and a
  shortfall noted upstream is carried, not asked about again;
- a door outcome can be undone by the person who recorded it within ``UNDO_MINUTES``; the undo is
  an event of its own and restores exactly the state before.

Every service here:
- acts only on what the acting user may see (``households.access``): anything else is "not found";
- is idempotent: repeating a step (a double tap, a retried request) returns the first event and
  changes nothing, backed by the partial unique constraints of :class:`HandoverEvent`;
- tells residents through ``households.services.notifications_create`` inside its transaction, so
  a step that fails tells nobody, and each thing is told once.

One module per concern: ``common`` (the rules' constants), ``hops`` (consignments, the round),
``doors`` (door outcomes, undo, the end of a cycle). Callers use ``from deliveries import
handovers`` and the names below.
"""

from deliveries.handovers.common import AT_THE_COMMUNITY, CARRIED_MARK, RECEIVERS, TEXT_LIMIT, UNDO_MINUTES
from deliveries.handovers.doors import (
    custody_check_door,
    cycle_complete_if_done,
    cycles_complete_due,
    handover_undo,
    package_deliver,
    package_exception,
)
from deliveries.handovers.hops import (
    Expected,
    consignment_receive,
    consignments_expected,
    round_start,
)

__all__ = [
    "AT_THE_COMMUNITY",
    "CARRIED_MARK",
    "RECEIVERS",
    "TEXT_LIMIT",
    "UNDO_MINUTES",
    "Expected",
    "consignment_receive",
    "consignments_expected",
    "custody_check_door",
    "cycle_complete_if_done",
    "cycles_complete_due",
    "handover_undo",
    "package_deliver",
    "package_exception",
    "round_start",
]
