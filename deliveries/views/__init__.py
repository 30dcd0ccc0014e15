"""Pages for the cycle's packaging (progress, closing, levelling delivery days), the printed lists,
and the handovers: rounds at the doors, consignments received, where a package is, what is still open."""

from deliveries.views.cycles import (
    change_coverage,
    cycle_close,
    cycle_complete,
    cycle_list,
    delivery_days_level,
    reconciliation_page,
)
from deliveries.views.paper import LABELS_PER_PAGE, package_scan, print_index, print_list
from deliveries.views.receiving import consignment_receive, my_packages, receiving_page
from deliveries.views.rounds import (
    OPEN_PER_PAGE,
    handover_undo,
    package_delivered,
    package_find,
    package_missed,
    round_page,
    round_start,
)

__all__ = [
    "LABELS_PER_PAGE",
    "OPEN_PER_PAGE",
    "change_coverage",
    "consignment_receive",
    "cycle_close",
    "cycle_complete",
    "cycle_list",
    "delivery_days_level",
    "handover_undo",
    "my_packages",
    "package_delivered",
    "package_find",
    "package_missed",
    "package_scan",
    "print_index",
    "print_list",
    "receiving_page",
    "reconciliation_page",
    "round_page",
    "round_start",
]
