"""Shared by the deliveries tests: a small packed cycle at three stages of custody (the fixtures
``packed``, ``due_today`` and ``arrived`` in this folder's conftest) and short helpers."""

from types import SimpleNamespace

from django.utils import timezone

from deliveries import handovers, services
from deliveries.models import Consignment, Hop, Package
from supply import services as supply_services
from supply.models import Cycle, CycleStatus, CycleStock
from tests.factories import ProductFactory, SupplierFactory


def order(household, *lines):
    return supply_services.order_place(
        household_id=household.pk,
        lines=[{"product": p.pk, "quantity": q} for p, q in lines],
        placed_by=None,
        channel="web",
        payment_method="on_delivery",
    ).order


def pack(city, shop, capture, *, today: bool = False) -> SimpleNamespace:
    second_supplier = SupplierFactory(name="第二保供超市")
    second_supplier.districts.set(city.districts)
    rice = ProductFactory(supplier=second_supplier, name="大米", unit="袋", size="5kg", price="39.90", capacity=50)
    CycleStock.objects.get_or_create(cycle=shop.cycle, product=rice, defaults={"capacity": 50})  # opened before it
    a1, a2 = city.places[city.a.pk].households
    order(a1, (shop.cabbage, 2), (rice, 1))
    order(a2, (shop.masks, 1))
    order(city.household_b, (shop.eggs, 2))
    order(city.household_c, (shop.masks, 3))
    if today:  # the cycle's first delivery day is today
        Cycle.objects.filter(pk=shop.cycle.pk).update(first_delivery_date=timezone.localdate())
    with capture(execute=True):
        services.cycle_close(cycle_id=shop.cycle.pk)
    cycle = shop.cycle
    cycle.refresh_from_db()
    assert cycle.status == CycleStatus.PACKED
    packages = {p.household_id: p for p in Package.objects.filter(cycle=cycle)}
    return SimpleNamespace(
        cycle=cycle,
        rice=rice,
        second_supplier=second_supplier,
        a1=packages[a1.pk],
        a2=packages[a2.pk],
        b=packages[city.household_b.pk],
        c=packages[city.household_c.pk],
    )


def receive_upstream(cycle, by) -> None:
    """The supplier legs, then the office legs, of every community and day received as listed."""
    for hop in (Hop.SUPPLIER_OFFICE, Hop.OFFICE_COMMUNITY):
        for consignment in Consignment.objects.filter(cycle=cycle, hop=hop, received_at__isnull=True):
            receive(consignment, by)


def leg(cycle, hop, **filters):
    return Consignment.objects.get(cycle=cycle, hop=hop, **filters)


def receive(consignment, by, **kwargs):
    kwargs.setdefault("packages_received", consignment.package_count)
    kwargs.setdefault("items_received", consignment.item_count)
    return handovers.consignment_receive(consignment_id=consignment.pk, by=by, **kwargs)


def status(package):
    package.refresh_from_db()
    return package.status
