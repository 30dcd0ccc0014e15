"""What supply shows about an order's package, without reading the deliveries app's tables.

Packages are built by deliveries, which depends on supply (not the reverse). At start-up
deliveries registers its reader here; supply's pages, API and the hotline ask through
:func:`attach`. Without a reader (supply alone), orders simply show no package.
"""

import datetime
from collections.abc import Callable, Iterable
from dataclasses import dataclass


@dataclass(frozen=True)
class PackageView:
    """An order's package as people see it (codes and statuses are deliveries' own)."""

    code: str
    status: str
    status_label: str
    delivery_date: datetime.date
    mode: str
    mode_label: str
    pickup_slot: str | None


_reader: Callable[[list[int]], dict[int, PackageView]] | None = None


def register(reader: Callable[[list[int]], dict[int, PackageView]]) -> None:
    """Called once by the deliveries app: ``reader(order_ids)`` → {order id: its package}."""
    global _reader
    _reader = reader


def attach(orders: Iterable) -> list:
    """Give each order ``package``: its :class:`PackageView`, or None before its cycle is packed
    (one query for any number of orders). Returns the orders as a list."""
    orders = list(orders)
    found = _reader([o.pk for o in orders]) if _reader and orders else {}
    for order in orders:
        order.package = found.get(order.pk)
    return orders
