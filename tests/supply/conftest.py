from types import SimpleNamespace

import pytest

from supply import services
from tests.factories import ProductFactory


@pytest.fixture
def shop(city):
    """City suppliers serving both districts, a small catalog and an open cycle."""
    supplier = city.supplier
    supplier.districts.set(city.districts)
    cabbage = ProductFactory(supplier=supplier, name="大白菜", unit="颗", size="约2kg", price="6.50", capacity=20)
    eggs = ProductFactory(supplier=supplier, name="鸡蛋", category="meat_eggs", unit="盒", size="30枚", price="28.00",
                          capacity=100, household_limit=2)
    masks = ProductFactory(supplier=supplier, name="医用口罩", category="epidemic", unit="盒", size="50只", price="19.90",
                           capacity=100)
    cycle = services.cycle_open()
    return SimpleNamespace(supplier=supplier, cabbage=cabbage, eggs=eggs, masks=masks, cycle=cycle)
