"""Ordering pages: a resident's shop, basket and orders; orders placed on a household's behalf by
hotline operators (district) and community workers (community).

Views check the role, call a selector or a service, render. Prices never come from the session or
a form: pages price from the catalog, and ``services.order_place`` fixes the posted price.
"""

from supply.views.common import FEW_LEFT, PAST_ORDERS, Ordering
from supply.views.on_behalf import order_new, order_new_confirm, order_placed
from supply.views.orders import OrderRow, order_cancel, order_change, order_detail, order_list, order_repeat
from supply.views.payments import fakepay_cashier, order_line_refund, order_pay, order_pay_check, payment_notify
from supply.views.shop import (
    ShopItem,
    basket,
    basket_add,
    basket_confirm,
    basket_update,
    cycle_status,
    restock_alert,
    shop,
)

__all__ = [
    "FEW_LEFT",
    "OrderRow",
    "Ordering",
    "PAST_ORDERS",
    "ShopItem",
    "basket",
    "basket_add",
    "basket_confirm",
    "basket_update",
    "cycle_status",
    "fakepay_cashier",
    "order_cancel",
    "order_change",
    "order_pay",
    "order_pay_check",
    "order_repeat",
    "payment_notify",
    "order_detail",
    "order_line_refund",
    "order_list",
    "order_new",
    "order_new_confirm",
    "order_placed",
    "restock_alert",
    "shop",
]
