"""Real Celery workers close a cycle on PostgreSQL and Redis, and survive one killed half-way."""

import datetime
import os
import signal

import pytest

from deliveries import services
from deliveries.models import BuildStatus, CommunityBuild, Package, PackageOrder
from supply import services as supply_services
from supply.models import Cycle, CycleStatus, Order
from tests.factories import (
    BuildingFactory,
    CommunityFactory,
    HouseholdFactory,
    OfficeFactory,
    ProductFactory,
    SupplierFactory,
)
from tests.workers import Worker, wait_for

pytestmark = [pytest.mark.redis, pytest.mark.postgres, pytest.mark.django_db(transaction=True)]


def _city_with_orders(communities: int = 5, households: int = 12) -> Cycle:
    office = OfficeFactory()
    supplier = SupplierFactory()
    supplier.districts.add(office.district)
    product = ProductFactory(supplier=supplier, capacity=10_000)
    cycle = supply_services.cycle_open()
    for _ in range(communities):
        building = BuildingFactory(compound__community=CommunityFactory(office=office))
        for _ in range(households):
            household = HouseholdFactory(building=building)
            for quantity in (1, 2):
                supply_services.order_place(
                    household_id=household.pk,
                    lines=[{"product": product.pk, "quantity": quantity}],
                    placed_by=None,
                    channel="web",
                )
    return cycle


def _assert_one_package_per_household(cycle: Cycle) -> None:
    orders = Order.objects.filter(cycle=cycle)
    households = set(orders.values_list("household_id", flat=True))
    packages = Package.objects.filter(cycle=cycle)
    assert sorted(packages.values_list("household_id", flat=True)) == sorted(households)
    assert PackageOrder.objects.filter(package__cycle=cycle).count() == orders.count()


def test_a_real_worker_closes_a_cycle():
    from config import celery_app

    cycle = _city_with_orders(communities=3, households=5)
    celery_app.control.purge()
    worker = Worker("pytest-close")
    try:
        worker.wait_ready()
        celery_app.conf.task_always_eager = False
        services.cycle_close(cycle_id=cycle.pk)
        wait_for(
            lambda: Cycle.objects.get(pk=cycle.pk).status == CycleStatus.PACKED,
            seconds=60,
            what="cycle packed",
            worker=worker,
        )
        _assert_one_package_per_household(cycle)
        assert "community_build_task" in worker.log()
    finally:
        worker.stop()


def test_a_worker_killed_mid_close_is_replaced_and_the_cycle_still_packs_once():
    from config import celery_app

    cycle = _city_with_orders()
    celery_app.control.purge()
    slow = Worker("pytest-doomed", DELIVERIES_BUILD_PAUSE="1.5")
    replacement = None
    try:
        slow.wait_ready()
        celery_app.conf.task_always_eager = False
        services.cycle_close(cycle_id=cycle.pk)
        # kill it while it is inside a community's transaction, after at least one is done
        wait_for(
            lambda: CommunityBuild.objects.filter(cycle=cycle, status=BuildStatus.DONE).exists(),
            seconds=60,
            what="a first community built",
            worker=slow,
        )
        os.kill(slow.process.pid, signal.SIGKILL)
        slow.process.wait(timeout=10)
        assert Cycle.objects.get(pk=cycle.pk).status == CycleStatus.CLOSING
        pending = CommunityBuild.objects.filter(cycle=cycle, status=BuildStatus.PENDING).count()
        assert pending >= 1
        # the half-built community was rolled back with the dead connection: no package of it exists
        done_communities = set(
            CommunityBuild.objects.filter(cycle=cycle, status=BuildStatus.DONE).values_list("community_id", flat=True)
        )
        assert set(Package.objects.filter(cycle=cycle).values_list("community_id", flat=True)) <= done_communities

        # the beat task notices builds left pending and queues them again; a new worker takes them
        requeued = services.builds_requeue_stale(older_than=datetime.timedelta(0))
        assert requeued == pending
        replacement = Worker("pytest-replacement")
        replacement.wait_ready()
        wait_for(
            lambda: Cycle.objects.get(pk=cycle.pk).status == CycleStatus.PACKED,
            seconds=90,
            what="cycle packed after the crash",
            worker=replacement,
        )
        _assert_one_package_per_household(cycle)
        assert (
            CommunityBuild.objects.filter(cycle=cycle, status=BuildStatus.DONE).count()
            == CommunityBuild.objects.filter(cycle=cycle).count()
        )
    finally:
        slow.stop()
        if replacement is not None:
            replacement.stop()
