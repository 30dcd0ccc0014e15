"""Who may do what in hotlines (households.permissions): declared here, nowhere else."""

from households.models import Role
from households.permissions import rule

CONSOLE = rule("hotlines.console", Role.OPERATOR)
# A resident reports an item of a delivered package missing or damaged: a ticket to the community.
REPORT_ITEM = rule("hotlines.report_item", Role.RESIDENT)
CALL_LOG = rule("hotlines.call_log", Role.OPERATOR, Role.OFFICE, Role.TASKFORCE, Role.ADMIN)
TICKETS = rule("hotlines.tickets", Role.WORKER, Role.OFFICE, Role.OPERATOR, Role.TASKFORCE, Role.ADMIN)
# Operators see every ticket of their district; others open their own queue by default.
ALL_TICKETS_BY_DEFAULT = rule("hotlines.all_tickets_by_default", Role.OPERATOR, Role.ADMIN)
RESOLVE = rule("hotlines.resolve", Role.WORKER, Role.OFFICE, Role.TASKFORCE, Role.ADMIN)
# Care flags are seen by the household's community and the hotline only (not offices, not task forces).
LEDGER = rule("hotlines.ledger", Role.WORKER, Role.ADMIN)
LEDGER_WRITE = rule("hotlines.ledger_write", Role.WORKER, Role.ADMIN)
# Orders from the ledger are placed by the household's community worker.
LEDGER_ORDER = rule("hotlines.ledger_order", Role.WORKER)
PRICE_COMPLAINTS = rule("hotlines.price_complaints", Role.TASKFORCE, Role.OFFICE, Role.OPERATOR, Role.ADMIN)
PRODUCTS = rule("hotlines.products", Role.TASKFORCE, Role.ADMIN)
UNSEALING = rule("hotlines.unsealing", Role.WORKER, Role.OFFICE, Role.OPERATOR, Role.TASKFORCE, Role.ADMIN)
OFFLINE = rule("hotlines.offline", Role.WORKER, Role.ADMIN)
# Django's admin: calls, tickets and check-ins to look at for staff in scope.
ADMIN_LOOK = rule("hotlines.admin_look", Role.WORKER, Role.OFFICE, Role.OPERATOR, Role.TASKFORCE, Role.ADMIN)
