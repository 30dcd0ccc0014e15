"""Package codes are unique for ever (issue 17): the code carries its cycle, the database refuses a
second package with the same code, and a label opens its own cycle's package — an old label by its
cycle, a code typed without its cycle when only one cycle has it (else a choice)."""

import datetime
from decimal import Decimal

import pytest
from django.db import IntegrityError, transaction
from django.urls import reverse

from deliveries.models import Package, package_code
from supply.models import Cycle, CycleStatus


def _copy_into_a_new_cycle(package: Package) -> Package:
    """The same household's package of the next cycle, whose code within the cycle is the same."""
    old = package.cycle
    cycle = Cycle.objects.create(
        number=old.number + 1,
        status=CycleStatus.PACKED,
        opens_at=old.opens_at + datetime.timedelta(days=3),
        cutoff_at=old.cutoff_at + datetime.timedelta(days=3),
        first_delivery_date=old.first_delivery_date + datetime.timedelta(days=3),
    )
    local = package.code.split("-", 1)[1]
    return Package.objects.create(
        cycle=cycle,
        household=package.household,
        community=package.community,
        compound=package.compound,
        building=package.building,
        code=package_code(cycle.number, local),
        mode=package.mode,
        delivery_date=cycle.first_delivery_date,
        dispatch_date=cycle.first_delivery_date,
        orders_count=1,
        item_count=1,
        item_summary="大白菜×1",
        total=Decimal("6.50"),
        to_collect=Decimal("6.50"),
    )


def test_no_two_packages_share_a_code(packed, city):
    package = packed.a1
    assert package.code.startswith(f"{packed.cycle.number}-")
    with pytest.raises(IntegrityError), transaction.atomic():
        Package.objects.filter(pk=Package.objects.exclude(pk=package.pk).first().pk).update(code=package.code)


def test_a_label_opens_its_own_cycle_s_package(packed, city, client):
    old = packed.a1
    new = _copy_into_a_new_cycle(old)
    local = old.code.split("-", 1)[1]
    client.force_login(city.users.worker)
    # the full code, each cycle's own
    for package in (old, new):
        page = client.get(reverse("package_scan", args=[package.code]))
        assert page.status_code == 200 and f"{package.code}</h1>" in page.content.decode()
    # an old label: the code within the cycle and ?cycle=
    page = client.get(reverse("package_scan", args=[local]) + f"?cycle={packed.cycle.number}")
    assert page.status_code == 200 and old.code in page.content.decode() and new.code not in page.content.decode()
    # typed without its cycle: both cycles have it, so the page asks which
    choose = client.get(reverse("package_scan", args=[local.lower()]))
    assert choose.status_code == 200
    assert old.code in choose.content.decode() and new.code in choose.content.decode()
    # another community's worker sees neither
    client.force_login(city.users.worker_b)
    assert client.get(reverse("package_scan", args=[local])).status_code == 404
    assert client.get(reverse("package_scan", args=[old.code])).status_code == 404


@pytest.mark.django_db(transaction=True)
def test_the_migration_gives_every_old_code_its_cycle():
    from django.db import connection
    from django.db.migrations.executor import MigrationExecutor

    from supply import services as supply_services
    from tests.factories import BuildingFactory, CommunityFactory, CompoundFactory, HouseholdFactory

    before, after = ("deliveries", "0009_volunteer_teams"), ("deliveries", "0010_package_codes_unique")
    MigrationExecutor(connection).migrate([before])
    try:
        cycle = supply_services.cycle_open()
        households = [
            HouseholdFactory(building=BuildingFactory(compound=CompoundFactory(community=CommunityFactory())))
        ]
        household = households[0]
        package = Package.objects.create(
            cycle=cycle,
            household=household,
            community=household.building.compound.community,
            compound=household.building.compound,
            building=household.building,
            code="ZH-1-1-001",  # a code of before: no cycle in it
            mode="door",
            delivery_date=cycle.first_delivery_date,
            dispatch_date=cycle.first_delivery_date,
            orders_count=1,
            item_count=1,
            item_summary="大白菜×1",
            total=Decimal("6.50"),
            to_collect=Decimal("0.00"),
        )
    finally:
        executor = MigrationExecutor(connection)
        executor.loader.build_graph()
        executor.migrate([after])
    try:
        package.refresh_from_db()
        assert package.code == f"{cycle.number}-ZH-1-1-001"
    finally:  # the tests after this one run on the whole schema (and, on PostgreSQL, its partitions)
        executor = MigrationExecutor(connection)
        executor.loader.build_graph()
        executor.migrate(executor.loader.graph.leaf_nodes())
