"""Pages of the supply hotline (operator console, call log), tickets and the care ledger.

Views check the role, call a selector or a service, render. Phone orders are not made here: the
console links to the on-behalf order page of supply (read-back, warning about existing orders),
which places them through ``supply.services.order_place``.
"""

from hotlines.views.console import (
    CALL_CATEGORY_OF_TICKET,
    PAGE_SIZE,
    PRINT_LIMIT,
    SEARCH_LIMIT,
    call,
    call_finish,
    call_household,
    call_log,
    call_start,
    call_ticket,
    console,
)
from hotlines.views.ledger import (
    ledger,
    ledger_alerts,
    ledger_assisted_order,
    ledger_cadence,
    ledger_checkin,
    ledger_household,
    ledger_standing_add,
    ledger_standing_stop,
)
from hotlines.views.lists import offline, offline_download, price_complaints, unsealing_list
from hotlines.views.tickets import ticket_detail, ticket_list, ticket_note, ticket_resolve

__all__ = [
    "CALL_CATEGORY_OF_TICKET",
    "PAGE_SIZE",
    "PRINT_LIMIT",
    "SEARCH_LIMIT",
    "call",
    "call_finish",
    "call_household",
    "call_log",
    "call_start",
    "call_ticket",
    "console",
    "ledger",
    "ledger_alerts",
    "ledger_assisted_order",
    "ledger_cadence",
    "ledger_checkin",
    "ledger_household",
    "ledger_standing_add",
    "ledger_standing_stop",
    "offline",
    "offline_download",
    "price_complaints",
    "ticket_detail",
    "ticket_list",
    "ticket_note",
    "ticket_resolve",
    "unsealing_list",
]
