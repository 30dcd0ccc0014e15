"""Who may do what in supply (households.permissions): declared here, nowhere else."""

from households.models import Role
from households.permissions import allows, role_of, rule
from supply.models import Channel

# Residents order for their own household (web); workers and hotline operators on behalf.
ORDER_OWN = rule("supply.order_own", Role.RESIDENT)
ORDER_ON_BEHALF = rule("supply.order_on_behalf", Role.OPERATOR, Role.WORKER)
ORDER_ANY = rule("supply.order", Role.RESIDENT, Role.OPERATOR, Role.WORKER)
# A line that could not be supplied, of an order paid online: refunded by staff of its area.
REFUND_LINE = rule("supply.refund_line", Role.WORKER, Role.OFFICE, Role.TASKFORCE, Role.ADMIN)
# The catalog: suppliers keep their own; the task force sets caps and approves prices; offices,
# operators and the task force watch prices.
CATALOG_OWN = rule("supply.catalog_own", Role.SUPPLIER)
CATALOG_KEEP = rule("supply.catalog_keep", Role.SUPPLIER, Role.ADMIN)
CATALOG_VIEW = rule("supply.catalog_view", Role.SUPPLIER, Role.TASKFORCE, Role.ADMIN)
CATALOG_HOME = rule("supply.catalog_home", Role.SUPPLIER, Role.TASKFORCE, Role.ADMIN, Role.OFFICE, Role.OPERATOR)
PRICE_WATCH = rule("supply.price_watch", Role.TASKFORCE, Role.ADMIN, Role.OFFICE, Role.OPERATOR)
TASK_FORCE = rule("supply.task_force", Role.TASKFORCE, Role.ADMIN)

_CHANNELS = {Role.RESIDENT: Channel.WEB, Role.WORKER: Channel.WORKER, Role.OPERATOR: Channel.HOTLINE}


def channel_of(user) -> str | None:
    """The channel an order this user places comes in by (None: the user does not order)."""
    return _CHANNELS.get(role_of(user)) if allows(user, ORDER_ANY) else None


# Django's admin: supply's rows to look at for staff in scope; cycles edited by the task force.
ADMIN_LOOK = rule(
    "supply.admin_look", Role.SUPPLIER, Role.OFFICE, Role.OPERATOR, Role.TASKFORCE, Role.WORKER, Role.ADMIN
)
ADMIN_EDIT_CYCLES = rule("supply.admin_edit_cycles", Role.TASKFORCE, Role.ADMIN)
# Orders name households: never for supplier staff.
ADMIN_LOOK_ORDERS = rule(
    "supply.admin_look_orders", Role.WORKER, Role.OFFICE, Role.OPERATOR, Role.TASKFORCE, Role.ADMIN
)
