"""The handover pages: the scan page's buttons and history, the worker's round, receiving, where is
my package, what is still open; scope (another community's package is 404) and pinned query counts."""

import datetime

import pytest
from django.urls import reverse
from django.utils.translation import gettext as _

from deliveries import handovers
from deliveries.models import Consignment, ExceptionReason, HandoverEvent, Hop, Package, PackageStatus
from supply.models import CycleStatus
from tests.deliveries.test_handovers import order, packed  # noqa: F401  (the fixture)
from tests.factories import HouseholdFactory, HouseholdPhoneFactory

pytestmark = pytest.mark.django_db


def scan_url(package):
    return reverse("package_scan", args=[package.code]) + f"?cycle={package.cycle.number}"


def test_the_scan_page_marks_delivered_and_shows_the_history(packed, city, client):
    client.force_login(city.users.worker)
    page = client.get(scan_url(packed.a1))
    assert page.status_code == 200
    html = page.content.decode()
    assert reverse("deliveries:package_delivered", args=[packed.a1.pk]) in html
    assert _("No handover recorded yet.") in html

    answer = client.post(reverse("deliveries:package_delivered", args=[packed.a1.pk]),
                         {"location": "3号楼门口", "next": scan_url(packed.a1)})
    assert answer.status_code == 302 and answer["Location"] == scan_url(packed.a1)
    client.post(reverse("deliveries:package_delivered", args=[packed.a1.pk]))  # a second tap
    assert HandoverEvent.objects.filter(package=packed.a1).count() == 1
    html = client.get(scan_url(packed.a1)).content.decode()
    assert "已送达" in html and "3号楼门口" in html and city.a.name in html


def test_the_scan_page_query_count_does_not_grow_with_the_history(packed, city, client, django_assert_num_queries):
    client.force_login(city.users.worker)
    client.get(scan_url(packed.a1))
    with django_assert_num_queries(8) as before:
        client.get(scan_url(packed.a1))
    handovers.round_start(by=city.users.worker, compound_id=packed.a1.compound_id, delivery_date=packed.a1.delivery_date)
    handovers.package_exception(package_id=packed.a1.pk, by=city.users.worker, reason=ExceptionReason.NOT_HOME)
    handovers.package_deliver(package_id=packed.a1.pk, by=city.users.worker)
    with django_assert_num_queries(len(before.captured_queries)):
        html = client.get(scan_url(packed.a1)).content.decode()
    assert str(ExceptionReason.NOT_HOME.label) in html and _("Arrived at the compound") in html


def test_another_communitys_package_is_not_found(packed, city, client):
    client.force_login(city.users.worker_b)
    assert client.get(scan_url(packed.a1)).status_code == 404
    assert client.post(reverse("deliveries:package_delivered", args=[packed.a1.pk])).status_code == 404
    assert client.post(reverse("deliveries:package_missed", args=[packed.a1.pk]), {"reason": "not_home"}).status_code == 404
    client.force_login(city.users.resident)
    assert client.post(reverse("deliveries:package_delivered", args=[packed.a1.pk])).status_code == 403
    assert Package.objects.get(pk=packed.a1.pk).status == PackageStatus.PACKED
    assert not HandoverEvent.objects.exists()


def test_bad_input_gets_a_message_and_changes_nothing(packed, city, client):
    client.force_login(city.users.worker)
    answer = client.post(reverse("deliveries:package_missed", args=[packed.a1.pk]), {"reason": "lost"}, follow=True)
    assert _("Choose why the package could not be delivered.") in answer.content.decode()
    answer = client.post(reverse("deliveries:package_missed", args=[packed.a1.pk]), {"reason": "not_home", "day": "昨天"})
    assert answer.status_code == 400 and "2022-04-25" in answer.content.decode()  # how a date is written
    consignment = Consignment.objects.get(cycle=packed.cycle, hop=Hop.OFFICE_COMMUNITY, community=city.a)
    answer = client.post(reverse("deliveries:consignment_receive", args=[consignment.pk]),
                         {"packages_received": "1", "items_received": consignment.item_count}, follow=True)
    assert answer.status_code == 200
    assert _("The list says %(packages)d packages and %(items)d items: note what is missing or extra.") % {
        "packages": consignment.package_count, "items": consignment.item_count} in answer.content.decode()
    assert not HandoverEvent.objects.exists()
    answer = client.get(reverse("deliveries:package_find"), {"code": "<script>"}, follow=True)
    assert answer.status_code == 200 and "<script>" not in answer.content.decode()
    found = client.get(reverse("deliveries:package_find"), {"code": packed.a1.code.lower()})
    assert found.status_code == 302 and found["Location"] == reverse("package_scan", args=[packed.a1.code])


def test_the_round_marks_doors_and_keeps_the_missed_ones_in_view(packed, city, client):
    worker, day = city.users.worker, packed.a1.delivery_date
    client.force_login(worker)
    url = reverse("deliveries:round") + f"?date={day.isoformat()}"
    html = client.get(url).content.decode()
    assert packed.a1.code in html and packed.a2.code in html and packed.b.code not in html
    assert html.index(packed.a1.code) < html.index(packed.a2.code), "room 301 before 1201"
    door_list = reverse("deliveries:print_list", args=[packed.cycle.pk, "doors", str(city.a.pk), day.isoformat()])
    assert f"{door_list}?format=pdf" in html

    client.post(reverse("deliveries:round_start"), {"compound": packed.a1.compound_id, "date": day.isoformat()})
    assert Package.objects.get(pk=packed.a1.pk).status == PackageStatus.AT_COMPOUND
    client.post(reverse("deliveries:package_delivered", args=[packed.a1.pk]), {"next": url})
    answer = client.post(reverse("deliveries:package_missed", args=[packed.a2.pk]),
                         {"reason": "not_home", "day": day.isoformat(), "next": url}, follow=True)
    html = answer.content.decode()
    tomorrow = (day + datetime.timedelta(days=1)).isoformat()
    assert packed.a2.code in html and tomorrow in html, "the missed package stays on today's round"
    assert str(ExceptionReason.NOT_HOME.label) in html
    assert Package.objects.get(pk=packed.a2.pk).delivery_date.isoformat() == tomorrow
    assert packed.a2.code in client.get(reverse("deliveries:round") + f"?date={tomorrow}").content.decode()
    assert client.get(reverse("deliveries:round") + f"?date={day.isoformat()}&compound=999999").status_code == 404


def test_the_round_page_query_count_does_not_grow_with_packages(packed, city, shop, client, django_assert_num_queries,
                                                                django_capture_on_commit_callbacks):
    day = packed.a1.delivery_date
    url = reverse("deliveries:round") + f"?date={day.isoformat()}&compound={packed.a1.compound_id}"
    client.force_login(city.users.worker)
    client.get(url)
    handovers.package_deliver(package_id=packed.a1.pk, by=city.users.worker)
    with django_assert_num_queries(6) as small:
        client.get(url)
    # Ten more households of the same compound: their packages are added the way the build adds them.
    building = city.places[city.a.pk].building
    for n in range(10):
        household = HouseholdFactory(building=building, room=f"{n + 20}02", floor=n + 20)
        HouseholdPhoneFactory(household=household)
        Package.objects.create(
            cycle=packed.cycle, household=household, community=city.a, compound=building.compound, building=building,
            code=f"X-{n}", mode="door", delivery_date=day, orders_count=1, item_count=1, item_summary="大白菜 ×1颗",
            total="6.50", to_collect="0.00",
        )
    with django_assert_num_queries(len(small.captured_queries)):
        html = client.get(url).content.decode()
    assert "X-9" in html


def test_receiving_page_lists_the_hops_of_the_role_and_confirms(packed, city, client, django_assert_num_queries):
    day = packed.a1.delivery_date
    client.force_login(city.users.office)
    url = reverse("deliveries:receiving") + f"?date={day.isoformat()}"
    html = client.get(url).content.decode()
    supplier_legs = Consignment.objects.filter(cycle=packed.cycle, hop=Hop.SUPPLIER_OFFICE, office=city.offices[0], delivery_date=day)
    assert supplier_legs.exists()
    for leg in supplier_legs:
        assert reverse("deliveries:consignment_receive", args=[leg.pk]) in html
    community_leg = Consignment.objects.get(cycle=packed.cycle, hop=Hop.OFFICE_COMMUNITY, community=city.a)
    assert reverse("deliveries:consignment_receive", args=[community_leg.pk]) not in html
    assert client.post(reverse("deliveries:consignment_receive", args=[community_leg.pk]),
                       {"packages_received": 2, "items_received": 4}).status_code == 404

    client.force_login(city.users.worker)
    client.post(reverse("deliveries:consignment_receive", args=[community_leg.pk]),
                {"packages_received": community_leg.package_count, "items_received": community_leg.item_count, "next": url})
    assert Package.objects.get(pk=packed.a1.pk).status == PackageStatus.AT_COMMUNITY
    with django_assert_num_queries(6):
        html = client.get(url).content.decode()
    assert _("Received") in html


def test_the_resident_sees_the_status_and_history_of_the_own_package_only(packed, city, client, django_assert_num_queries):
    handovers.round_start(by=city.users.worker, compound_id=packed.a1.compound_id, delivery_date=packed.a1.delivery_date)
    handovers.package_exception(package_id=packed.a1.pk, by=city.users.worker, reason=ExceptionReason.DAMAGED)
    client.force_login(city.users.resident)
    url = reverse("deliveries:my_packages")
    with django_assert_num_queries(7):
        html = client.get(url).content.decode()
    assert packed.a1.code in html and packed.a2.code not in html
    assert "在社区" in html or str(PackageStatus.AT_COMMUNITY.label) in html
    assert str(ExceptionReason.DAMAGED.label) in html and "配送中" in html
    assert city.users.worker.display_name not in html, "residents do not see who carried it"
    partial = client.get(url + f"?cycle={packed.cycle.pk}", headers={"HX-Request": "true"}).content.decode()
    assert "<html" not in partial and packed.a1.code in partial
    order_page = client.get(reverse("supply:order_detail", args=[packed.a1.order_links.get().order_id])).content.decode()
    assert f"{url}?cycle={packed.cycle.pk}" in order_page
    assert url in client.get(reverse("home")).content.decode()
    client.force_login(city.users.worker)
    assert client.get(url).status_code == 403


def test_reconciliation_lists_what_is_open_and_completes_the_cycle(packed, city, client, django_assert_num_queries,
                                                                    django_capture_on_commit_callbacks):
    client.force_login(city.users.city_taskforce)
    url = reverse("deliveries:reconciliation", args=[packed.cycle.pk])
    with django_assert_num_queries(4):
        html = client.get(url).content.decode()
    for community in (city.a, city.b, city.c):
        assert f"?community={community.pk}" in html
    drill = client.get(url, {"community": city.a.pk}).content.decode()
    assert packed.a1.code in drill and packed.a2.code in drill and packed.b.code not in drill
    client.post(reverse("deliveries:cycle_complete", args=[packed.cycle.pk]))
    packed.cycle.refresh_from_db()
    assert packed.cycle.status == CycleStatus.PACKED, "packages are open"

    worker_c = city.users.worker.__class__.objects.create(username="worker_c", role="worker", community=city.c)
    for package, user in ((packed.a1, city.users.worker), (packed.a2, city.users.worker), (packed.b, city.users.worker_b),
                          (packed.c, worker_c)):
        handovers.package_deliver(package_id=package.pk, by=user)
    client.post(reverse("deliveries:cycle_complete", args=[packed.cycle.pk]))
    packed.cycle.refresh_from_db()
    assert packed.cycle.status == CycleStatus.COMPLETE
    html = client.get(url).content.decode()
    assert str(CycleStatus.COMPLETE.label) in html and "?community=" not in html

    client.force_login(city.users.worker_b)
    html = client.get(url).content.decode()
    assert city.b.name in html and city.a.name not in html
    assert client.get(url, {"community": city.a.pk}).status_code == 404
    assert client.post(reverse("deliveries:cycle_complete", args=[packed.cycle.pk])).status_code == 403


def test_an_empty_round_points_to_the_next_delivery_day(packed, city, client):
    import datetime as dt

    from deliveries.models import Package

    client.force_login(city.users.worker)
    first = Package.objects.order_by("delivery_date").values_list("delivery_date", flat=True).first()
    before = first - dt.timedelta(days=3)
    page = client.get(f"/rounds/?date={before.isoformat()}")
    assert page.context["next_day"] == first
    assert f"?date={first.isoformat()}" in page.content.decode()
