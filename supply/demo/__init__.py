"""The demo catalog for ``seed_demo``: the three demo suppliers' priced catalogs, an open cycle, a few orders.

:func:`demo_suppliers_seed` runs first (the ``supplier`` demo account works for the first one),
the catalog after :func:`households.demo.demo_city_seed` (which creates the city and the accounts). Products are found by their natural key (supplier, name, size) and only the
missing ones are created, through the same services a supplier and the task force use, so the
price history and the cycle's stock are written the usual way. Existing rows are never updated.
"""

from supply.demo.plan import (
    BASELINE,
    CATALOG,
    DEMO_ORDERS,
    SCARCE,
    SUPPLIER_DISTRICTS,
    SUPPLIERS,
    DemoCatalogResult,
    DemoProduct,
    demo_capacity,
)
from supply.demo.step import demo_catalog_step, demo_suppliers_step
from supply.demo.writing import demo_catalog_seed, demo_suppliers_seed

__all__ = [
    "BASELINE",
    "CATALOG",
    "DEMO_ORDERS",
    "DemoCatalogResult",
    "DemoProduct",
    "SCARCE",
    "SUPPLIERS",
    "SUPPLIER_DISTRICTS",
    "demo_capacity",
    "demo_catalog_seed",
    "demo_catalog_step",
    "demo_suppliers_seed",
    "demo_suppliers_step",
]
