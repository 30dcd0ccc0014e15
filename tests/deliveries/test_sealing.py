"""Every household that must be fed this cycle is (issue 14): a compound sealed before the close
gets its baseline orders in the normal build; one sealed after the close gets urgent-lane baseline
packages on the next delivery day, routed (supplement legs) and on the supplier's supplement list."""

import datetime

import pytest
from django.utils import timezone

from deliveries import services
from deliveries.models import Consignment, Hop, Package
from deliveries.printing import selectors as printing
from households import services as household_services
from households.models import LockdownLevel
from supply.models import BaselineItem, Channel, Cycle, CycleStatus, Order
from tests.deliveries.custody import order
from tests.factories import BuildingFactory, HouseholdFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def sealed_later(city, shop):
    """Community B's compound (stay in compound) grows to five households, and the district has a
    baseline package (2 cabbages, 1 box of masks)."""
    BaselineItem.objects.create(district=city.districts[0], product=shop.cabbage, quantity=2)
    BaselineItem.objects.create(district=city.districts[0], product=shop.masks, quantity=1)
    place = city.places[city.b.pk]
    building = BuildingFactory(compound=place.compound, number="10号楼")
    more = [HouseholdFactory(building=building, room=f"{n}01", floor=n) for n in range(1, 4)]
    return place.compound, place.households + more


def _seal(compound, by):
    household_services.compound_set_lockdown_level(
        compound_id=compound.pk, level=LockdownLevel.STAY_AT_HOME, reason="发现阳性病例", changed_by=by
    )


def test_sealed_before_the_close_the_normal_build_has_their_baseline(
    city, shop, sealed_later, django_capture_on_commit_callbacks
):
    compound, households = sealed_later
    with django_capture_on_commit_callbacks(execute=True):
        _seal(compound, city.users.taskforce)
    assert Order.objects.filter(cycle=shop.cycle, channel=Channel.BASELINE, household__in=households).count() == 5
    with django_capture_on_commit_callbacks(execute=True):
        services.cycle_close(cycle_id=shop.cycle.pk)
    packages = Package.objects.filter(cycle=shop.cycle, household__in=households)
    assert packages.count() == 5 and not packages.filter(urgent=True).exists()
    assert {p.mode for p in packages} == {"door"}


def test_sealed_after_the_close_each_household_gets_a_package_on_the_next_delivery_day(
    city,
    shop,
    sealed_later,
    django_capture_on_commit_callbacks,
):
    compound, households = sealed_later
    order(households[0], (shop.eggs, 1))
    Cycle.objects.filter(pk=shop.cycle.pk).update(first_delivery_date=timezone.localdate())
    with django_capture_on_commit_callbacks(execute=True):
        services.cycle_close(cycle_id=shop.cycle.pk)
    assert Cycle.objects.get(pk=shop.cycle.pk).status == CycleStatus.PACKED
    with django_capture_on_commit_callbacks(execute=True):
        _seal(compound, city.users.taskforce)
    tomorrow = timezone.localdate() + datetime.timedelta(days=1)
    baseline = Package.objects.filter(cycle=shop.cycle, household__in=households, urgent=True)
    assert sorted(baseline.values_list("household_id", flat=True)) == sorted(h.pk for h in households)
    assert {(p.delivery_date, p.mode, p.item_count) for p in baseline} == {(tomorrow, "door", 3)}
    # Told, like every household at the close: the package's code and day.
    from households.models import Notification

    told = Notification.objects.filter(household__in=households, params__code__in=[p.code for p in baseline])
    assert told.count() == 5
    # Routed: supplement legs at every hop, counting them.
    legs = Consignment.objects.filter(cycle=shop.cycle, supplement=True, delivery_date=tomorrow)
    assert {leg.hop: leg.package_count for leg in legs} == {
        Hop.SUPPLIER_OFFICE: 5,
        Hop.OFFICE_COMMUNITY: 5,
        Hop.COMMUNITY_COMPOUND: 5,
    }
    # Printed: the supplier's supplement list for tomorrow, and the door list has them.
    keys = printing.supplier_keys(cycle_id=shop.cycle.pk, supplier_id=shop.supplier.pk)
    supplement = [k for k in keys if k.kind == "supplement"]
    assert [(k.delivery_date, k.district_id) for k in supplement] == [(tomorrow, city.districts[0].pk)]
    assert printing.list_data(key=supplement[0])["quantity"] == 15
    manifests = printing.office_keys(cycle_id=shop.cycle.pk, office_id=city.b.office_id)
    extra = [k for k in manifests if k.kind == "supp_manifest"]
    assert [k.delivery_date for k in extra] == [tomorrow], "the office gets paper for the urgent lane too"
    assert printing.list_data(key=extra[0])["packages"] == 5
    assert "补充" in printing.list_data(key=extra[0])["title"]
    doors = printing.door_list_data(
        key=printing.ListKey(kind="doors", cycle_id=shop.cycle.pk, delivery_date=tomorrow, place_id=city.b.pk)
    )
    assert len([p for s in doors["sections"] for p in s["packages"]]) == 5
    # The task force sees who the change covered.
    from django.test import Client
    from django.urls import reverse

    from households.models import LockdownChange

    client = Client()
    client.force_login(city.users.taskforce)
    change = LockdownChange.objects.get(compound=compound)
    html = client.get(reverse("deliveries:change_coverage", args=[change.pk])).content.decode()
    assert html.count('class="coverage-covered"') == 5 and "coverage-waiting" not in html
    assert "5户中有5户" in html or "5 of 5" in html
    # Sealing again (or the task running twice) builds nothing more.
    with django_capture_on_commit_callbacks(execute=True):
        services.sealed_households_feed(compound_id=compound.pk)
    assert baseline.count() == 5
