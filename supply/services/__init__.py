"""Writes for suppliers, posted prices, cycles and orders, one module per concern:
``prices`` (whitelist, posted prices, caps), ``cycles`` (opening, baseline and standing orders,
every status transition), ``orders`` (placing, cancelling, confirming), ``catalog`` (a product's
details by its supplier), ``standing`` (standing orders of ledger households).

Every service raises :class:`core.errors.BaogongError` (or a subclass carrying its HTTP
status) with a message a person can act on, and leaves the database unchanged when it does.
Callers use ``from supply import services`` and the names below.
"""

from supply.services.catalog import MAX_CAPACITY, PHOTO_MAX_BYTES, UNCHANGED, product_update
from supply.services.cycles import (
    baseline_orders_place,
    cycle_baseline_orders,
    cycle_open,
    cycle_open_due,
    cycle_step,
    next_opening,
)
from supply.services.limits import CYCLE_DAYS, MAX_LINES, MAX_NOTE, MAX_QUANTITY, ORDERING_HOURS
from supply.services.order_after import order_cancel, order_change, orders_confirmed_notify
from supply.services.order_sql import orderable_products
from supply.services.orders import PlacedOrder, order_check, order_place, request_fingerprint
from supply.services.prices import (
    price_change_decide,
    product_create,
    product_price_set,
    product_reference_cap_set,
    supplier_whitelist,
)
from supply.services.restock import restock_alert_set, restock_alerts_send
from supply.services.shortfalls import ShortfallOutcome, stock_shortfall_record
from supply.services.standing import standing_order_save, standing_order_stop

__all__ = [
    "CYCLE_DAYS",
    "MAX_CAPACITY",
    "MAX_LINES",
    "MAX_NOTE",
    "MAX_QUANTITY",
    "ORDERING_HOURS",
    "PHOTO_MAX_BYTES",
    "UNCHANGED",
    "PlacedOrder",
    "baseline_orders_place",
    "cycle_baseline_orders",
    "cycle_open",
    "cycle_open_due",
    "cycle_step",
    "next_opening",
    "order_cancel",
    "order_change",
    "order_check",
    "order_place",
    "orderable_products",
    "orders_confirmed_notify",
    "price_change_decide",
    "product_create",
    "product_price_set",
    "product_reference_cap_set",
    "product_update",
    "request_fingerprint",
    "restock_alert_set",
    "restock_alerts_send",
    "ShortfallOutcome",
    "stock_shortfall_record",
    "standing_order_save",
    "standing_order_stop",
    "supplier_whitelist",
]
