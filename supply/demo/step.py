"""Supply's steps of ``seed_demo`` (see ``core.demo``): the suppliers before the city, the catalog after it."""

from django.utils import timezone

from core.demo import DemoRun, DemoSection
from supply.demo.writing import demo_catalog_seed, demo_suppliers_seed
from supply.models import (
    Category,
)

# --- supply's steps of seed_demo (see core.demo) -----------------------------------------------------


def demo_suppliers_step(run: DemoRun) -> list[DemoSection]:
    """The suppliers, before the city: the demo ``supplier`` account works for the first one."""
    suppliers, made = demo_suppliers_seed()
    run.shared.update(supplier_id=suppliers[0].pk, suppliers=len(suppliers), suppliers_made=made)
    return []


def demo_catalog_step(run: DemoRun) -> list[DemoSection]:
    """The catalog, the open cycle and a few orders, after the city and its accounts."""
    catalog = demo_catalog_seed(seed=run.seed)
    labels = dict(Category.choices)
    lines = [
        f"  {'suppliers':<12}{run.shared.get('suppliers', 0):>9}  ({run.shared.get('suppliers_made', 0)} new)",
        f"  {'products':<12}{catalog.products:>9}  ({catalog.products_created} new)",
        "  " + ", ".join(f"{labels.get(code, code)} {n}" for code, n in catalog.by_category.items()),
        f"  {catalog.reference_caps} reference caps set by the task force",
    ]
    lines += [
        f"  waiting for the task force: {name} {price} above its cap {cap}"
        for name, price, cap in catalog.pending_prices
    ]
    cutoff = timezone.localtime(catalog.cycle_cutoff).strftime("%Y-%m-%d %H:%M")
    cycle = [
        f"  cycle {catalog.cycle_number}{' (opened now)' if catalog.cycle_created else ''}: orders until {cutoff}, "
        f"deliveries from {catalog.cycle_first_delivery:%Y-%m-%d}; stock for {catalog.stock_rows} products",
        f"  {'demo orders':<12}{catalog.orders:>9}  ({catalog.orders_created} new)",
    ]
    if catalog.scarce:
        name, left, capacity = catalog.scarce
        cycle.append(f"  scarcest product: {name}, {left} of {capacity} left")
    return [
        DemoSection("Demo catalog", tuple(lines)),
        DemoSection(
            "Open cycle", tuple(cycle), warnings=tuple(f"  skipped demo order {r}" for r in catalog.orders_skipped)
        ),
    ]
