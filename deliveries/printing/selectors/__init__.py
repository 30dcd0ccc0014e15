"""Reads behind every printed list, and who may see which list.

Each ``*_data`` function returns the whole content of one list as plain data (dicts, lists,
strings, numbers, dates): the same data feeds the HTML page, the PDF, the spreadsheet and the
fingerprint that tells whether a kept file is still current. Each reads set-based, in a fixed
number of queries whatever the number of packages (pinned by the tests).

Lists hold packages of the cycle's delivery days; urgent packages travel on their own, same day,
and are not on them.
"""

from deliveries.printing.selectors.door_lists import (
    CARE_FLAGS,
    DATA,
    door_list_data,
    key_of,
    labels_data,
    list_data,
    packages_for_scan,
    pickup_notice_data,
)
from deliveries.printing.selectors.handover_lists import manifest_data, pick_list_data, receiving_data
from deliveries.printing.selectors.keys import (
    BLANK_ROWS,
    COMMUNITY_KINDS,
    ITEMS_PER_BAG,
    KIND_RULES,
    OFFICE_KINDS,
    PRINTABLE_STATUSES,
    SUPPLIER_KINDS,
    CycleUnits,
    ListKey,
    ListsProgress,
    community_keys,
    cycle_units,
    document_current,
    document_list,
    failure_list,
    kinds_for,
    list_allowed,
    lists_pending,
    lists_progress,
    office_keys,
    printable_cycles,
    supplier_keys,
)

__all__ = [
    "BLANK_ROWS",
    "CARE_FLAGS",
    "COMMUNITY_KINDS",
    "CycleUnits",
    "DATA",
    "ITEMS_PER_BAG",
    "KIND_RULES",
    "ListKey",
    "OFFICE_KINDS",
    "PRINTABLE_STATUSES",
    "SUPPLIER_KINDS",
    "community_keys",
    "cycle_units",
    "document_current",
    "document_list",
    "door_list_data",
    "failure_list",
    "key_of",
    "kinds_for",
    "labels_data",
    "list_allowed",
    "list_data",
    "ListsProgress",
    "lists_pending",
    "lists_progress",
    "manifest_data",
    "office_keys",
    "packages_for_scan",
    "pick_list_data",
    "pickup_notice_data",
    "printable_cycles",
    "receiving_data",
    "supplier_keys",
]
