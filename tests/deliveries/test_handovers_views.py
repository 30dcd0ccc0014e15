"""The handover pages: the scan page's buttons and history, the worker's round, receiving, where is
my package, what is still open; scope (another community's package is 404) and pinned query counts."""

import datetime

import pytest
from django.urls import reverse
from django.utils.translation import gettext as _

from deliveries import handovers
from deliveries.models import Consignment, ExceptionReason, HandoverEvent, Hop, Package, PackageStatus
from supply.models import CycleStatus
from tests.factories import HouseholdFactory, HouseholdPhoneFactory

pytestmark = pytest.mark.django_db


def scan_url(package):
    return reverse("package_scan", args=[package.code]) + f"?cycle={package.cycle.number}"


def test_the_scan_page_marks_delivered_and_shows_the_history(arrived, city, client):
    client.force_login(city.users.worker)
    page = client.get(scan_url(arrived.a1))
    assert page.status_code == 200
    html = page.content.decode()
    assert reverse("deliveries:package_delivered", args=[arrived.a1.pk]) in html
    assert _("Arrived at the community") in html and _("Delivered") not in html.split('id="history"', 1)[-1]

    answer = client.post(
        reverse("deliveries:package_delivered", args=[arrived.a1.pk]),
        {"location": "3号楼门口", "next": scan_url(arrived.a1)},
    )
    assert answer.status_code == 302 and answer["Location"] == scan_url(arrived.a1)
    client.post(reverse("deliveries:package_delivered", args=[arrived.a1.pk]))  # a second tap
    assert HandoverEvent.objects.filter(package=arrived.a1).count() == 1
    html = client.get(scan_url(arrived.a1)).content.decode()
    assert "已送达" in html and "3号楼门口" in html and city.a.name in html


def test_the_scan_page_query_count_does_not_grow_with_the_history(arrived, city, client, django_assert_num_queries):
    """Nine queries, and a tenth for the lines paid online that staff may refund as not supplied."""
    client.force_login(city.users.worker)
    client.get(scan_url(arrived.a1))
    with django_assert_num_queries(10) as before:
        client.get(scan_url(arrived.a1))
    handovers.round_start(
        by=city.users.worker, compound_id=arrived.a1.compound_id, delivery_date=arrived.a1.delivery_date
    )
    handovers.package_exception(package_id=arrived.a1.pk, by=city.users.worker, reason=ExceptionReason.NOT_HOME)
    handovers.package_deliver(package_id=arrived.a1.pk, by=city.users.worker)
    with django_assert_num_queries(len(before.captured_queries)):
        html = client.get(scan_url(arrived.a1)).content.decode()
    assert str(ExceptionReason.NOT_HOME.label) in html and _("Arrived at the compound") in html


def test_another_communitys_package_is_not_found(packed, city, client):
    client.force_login(city.users.worker_b)
    assert client.get(scan_url(packed.a1)).status_code == 404
    assert client.post(reverse("deliveries:package_delivered", args=[packed.a1.pk])).status_code == 404
    assert (
        client.post(reverse("deliveries:package_missed", args=[packed.a1.pk]), {"reason": "not_home"}).status_code
        == 404
    )
    client.force_login(city.users.resident)
    assert client.post(reverse("deliveries:package_delivered", args=[packed.a1.pk])).status_code == 403
    assert Package.objects.get(pk=packed.a1.pk).status == PackageStatus.PACKED
    assert not HandoverEvent.objects.exists()


def test_bad_input_gets_a_message_and_changes_nothing(arrived, city, client):
    client.force_login(city.users.worker)
    answer = client.post(reverse("deliveries:package_missed", args=[arrived.a1.pk]), {"reason": "lost"}, follow=True)
    assert _("Choose why the package could not be delivered.") in answer.content.decode()
    answer = client.post(
        reverse("deliveries:package_missed", args=[arrived.a1.pk]), {"reason": "not_home", "day": "昨天"}
    )
    assert answer.status_code == 400 and "2022-04-25" in answer.content.decode()  # how a date is written
    consignment = Consignment.objects.get(cycle=arrived.cycle, hop=Hop.COMMUNITY_COMPOUND, compound=arrived.a1.compound)
    answer = client.post(
        reverse("deliveries:consignment_receive", args=[consignment.pk]),
        {"packages_received": "1", "items_received": consignment.item_count},
    )
    assert answer.status_code == 400
    assert (
        _("%(packages)d packages and %(items)d items are expected: note what is missing or extra.")
        % {"packages": consignment.package_count, "items": consignment.item_count}
        in answer.content.decode()
    )
    assert not HandoverEvent.objects.filter(package__isnull=False).exists()
    assert not HandoverEvent.objects.filter(consignment=consignment).exists()
    answer = client.get(reverse("deliveries:package_find"), {"code": "<script>"}, follow=True)
    assert answer.status_code == 200 and "<script>" not in answer.content.decode()
    found = client.get(reverse("deliveries:package_find"), {"code": arrived.a1.code.lower()})
    assert found.status_code == 302 and found["Location"] == reverse("package_scan", args=[arrived.a1.code])


def test_the_round_marks_doors_and_keeps_the_missed_ones_in_view(arrived, city, client):
    worker, day = city.users.worker, arrived.a1.delivery_date
    client.force_login(worker)
    url = reverse("deliveries:round") + f"?date={day.isoformat()}"
    html = client.get(url).content.decode()
    assert arrived.a1.code in html and arrived.a2.code in html and arrived.b.code not in html
    assert html.index(arrived.a1.code) < html.index(arrived.a2.code), "room 301 before 1201"
    door_list = reverse("deliveries:print_list", args=[arrived.cycle.pk, "doors", str(city.a.pk), day.isoformat()])
    assert f"{door_list}?format=pdf" in html

    client.post(reverse("deliveries:round_start"), {"compound": arrived.a1.compound_id, "date": day.isoformat()})
    assert Package.objects.get(pk=arrived.a1.pk).status == PackageStatus.AT_COMPOUND
    client.post(reverse("deliveries:package_delivered", args=[arrived.a1.pk]), {"next": url})
    answer = client.post(
        reverse("deliveries:package_missed", args=[arrived.a2.pk]),
        {"reason": "not_home", "day": day.isoformat(), "next": url},
        follow=True,
    )
    html = answer.content.decode()
    tomorrow = (day + datetime.timedelta(days=1)).isoformat()
    assert arrived.a2.code in html and tomorrow in html, "the missed package stays on today's round"
    assert str(ExceptionReason.NOT_HOME.label) in html
    assert Package.objects.get(pk=arrived.a2.pk).delivery_date.isoformat() == tomorrow
    assert arrived.a2.code in client.get(reverse("deliveries:round") + f"?date={tomorrow}").content.decode()
    assert client.get(reverse("deliveries:round") + f"?date={day.isoformat()}&compound=999999").status_code == 404


def test_the_round_page_query_count_does_not_grow_with_packages(
    arrived, city, shop, client, django_assert_num_queries, django_capture_on_commit_callbacks
):
    day = arrived.a1.delivery_date
    url = reverse("deliveries:round") + f"?date={day.isoformat()}&compound={arrived.a1.compound_id}"
    client.force_login(city.users.worker)
    client.get(url)
    handovers.package_deliver(package_id=arrived.a1.pk, by=city.users.worker)
    with django_assert_num_queries(8) as small:
        client.get(url)
    # Ten more households of the same compound: their packages are added the way the build adds them.
    building = city.places[city.a.pk].building
    for n in range(10):
        household = HouseholdFactory(building=building, room=f"{n + 20}02", floor=n + 20)
        HouseholdPhoneFactory(household=household)
        Package.objects.create(
            cycle=arrived.cycle,
            household=household,
            community=city.a,
            compound=building.compound,
            building=building,
            code=f"X-{n}",
            mode="door",
            delivery_date=day,
            dispatch_date=day,
            orders_count=1,
            item_count=1,
            item_summary="大白菜 ×1颗",
            total="6.50",
            to_collect="0.00",
        )
    with django_assert_num_queries(len(small.captured_queries)):
        html = client.get(url).content.decode()
    assert "X-9" in html


def test_receiving_page_lists_the_hops_of_the_role_and_confirms(due_today, city, client, django_assert_num_queries):
    day = due_today.a1.delivery_date
    client.force_login(city.users.office)
    url = reverse("deliveries:receiving") + f"?date={day.isoformat()}"
    html = client.get(url).content.decode()
    supplier_legs = Consignment.objects.filter(
        cycle=due_today.cycle, hop=Hop.SUPPLIER_OFFICE, office=city.offices[0], delivery_date=day
    )
    assert supplier_legs.exists()
    for leg in supplier_legs:
        assert reverse("deliveries:consignment_receive", args=[leg.pk]) in html
    community_leg = Consignment.objects.get(cycle=due_today.cycle, hop=Hop.OFFICE_COMMUNITY, community=city.a)
    assert reverse("deliveries:consignment_receive", args=[community_leg.pk]) not in html
    assert (
        client.post(
            reverse("deliveries:consignment_receive", args=[community_leg.pk]),
            {"packages_received": 2, "items_received": 4},
        ).status_code
        == 404
    )

    for leg in supplier_legs.filter(built_by=city.a):
        client.post(
            reverse("deliveries:consignment_receive", args=[leg.pk]),
            {"packages_received": leg.package_count, "items_received": leg.item_count, "next": url},
        )
    client.force_login(city.users.worker)
    client.post(
        reverse("deliveries:consignment_receive", args=[community_leg.pk]),
        {"packages_received": community_leg.package_count, "items_received": community_leg.item_count, "next": url},
    )
    assert Package.objects.get(pk=due_today.a1.pk).status == PackageStatus.AT_COMMUNITY
    with django_assert_num_queries(7):
        html = client.get(url).content.decode()
    assert _("Received") in html


def test_the_resident_sees_the_status_and_history_of_the_own_package_only(
    arrived, city, client, django_assert_num_queries
):
    handovers.round_start(
        by=city.users.worker, compound_id=arrived.a1.compound_id, delivery_date=arrived.a1.delivery_date
    )
    handovers.package_exception(package_id=arrived.a1.pk, by=city.users.worker, reason=ExceptionReason.DAMAGED)
    client.force_login(city.users.resident)
    url = reverse("deliveries:my_packages")
    with django_assert_num_queries(7):
        html = client.get(url).content.decode()
    assert arrived.a1.code in html and arrived.a2.code not in html
    assert "在社区" in html or str(PackageStatus.AT_COMMUNITY.label) in html
    assert str(ExceptionReason.DAMAGED.label) in html and "配送中" in html
    assert city.users.worker.display_name not in html, "residents do not see who carried it"
    partial = client.get(url + f"?cycle={arrived.cycle.pk}", headers={"HX-Request": "true"}).content.decode()
    assert "<html" not in partial and arrived.a1.code in partial
    order_page = client.get(
        reverse("supply:order_detail", args=[arrived.a1.order_links.get().order_id])
    ).content.decode()
    assert f"{url}?cycle={arrived.cycle.pk}" in order_page
    assert url in client.get(reverse("home")).content.decode()
    client.force_login(city.users.worker)
    assert client.get(url).status_code == 403


def test_reconciliation_lists_what_is_open_and_completes_the_cycle(
    arrived, city, client, django_assert_num_queries, django_capture_on_commit_callbacks
):
    client.force_login(city.users.city_taskforce)
    url = reverse("deliveries:reconciliation", args=[arrived.cycle.pk])
    with django_assert_num_queries(4):
        html = client.get(url).content.decode()
    for community in (city.a, city.b, city.c):
        assert f"?community={community.pk}" in html
    drill = client.get(url, {"community": city.a.pk}).content.decode()
    assert arrived.a1.code in drill and arrived.a2.code in drill and arrived.b.code not in drill
    client.post(reverse("deliveries:cycle_complete", args=[arrived.cycle.pk]))
    arrived.cycle.refresh_from_db()
    assert arrived.cycle.status == CycleStatus.PACKED, "packages are open"

    worker_c = city.users.worker.__class__.objects.create(username="worker_c", role="worker", community=city.c)
    for package, user in (
        (arrived.a1, city.users.worker),
        (arrived.a2, city.users.worker),
        (arrived.b, city.users.worker_b),
        (arrived.c, worker_c),
    ):
        handovers.package_deliver(package_id=package.pk, by=user)
    client.post(reverse("deliveries:cycle_complete", args=[arrived.cycle.pk]))
    arrived.cycle.refresh_from_db()
    assert arrived.cycle.status == CycleStatus.COMPLETE
    html = client.get(url).content.decode()
    assert str(CycleStatus.COMPLETE.label) in html and "?community=" not in html

    client.force_login(city.users.worker_b)
    html = client.get(url).content.decode()
    assert city.b.name in html and city.a.name not in html
    assert client.get(url, {"community": city.a.pk}).status_code == 404
    assert client.post(reverse("deliveries:cycle_complete", args=[arrived.cycle.pk])).status_code == 403


def test_an_empty_round_points_to_the_next_delivery_day(packed, city, client):
    import datetime as dt

    from deliveries.models import Package

    client.force_login(city.users.worker)
    first = Package.objects.order_by("delivery_date").values_list("delivery_date", flat=True).first()
    before = first - dt.timedelta(days=3)
    page = client.get(f"/rounds/?date={before.isoformat()}")
    assert page.context["next_day"] == first
    assert f"?date={first.isoformat()}" in page.content.decode()


def test_a_door_tap_on_the_round_answers_with_its_row_and_can_be_undone(arrived, city, client):
    worker, day = city.users.worker, arrived.a1.delivery_date
    client.force_login(worker)
    handovers.round_start(by=worker, compound_id=arrived.a1.compound_id, delivery_date=day)
    html = client.get(reverse("deliveries:round") + f"?date={day.isoformat()}").content.decode()
    assert 'id="round-start"' not in html and 'id="round-started"' in html, (
        "no start button once the round is under way"
    )
    assert 'href="tel:' in html, "tap to call"
    answer = client.post(
        reverse("deliveries:package_delivered", args=[arrived.a1.pk]),
        {"row": day.isoformat()},
        headers={"HX-Request": "true"},
    )
    row = answer.content.decode()
    assert answer.status_code == 200 and row.lstrip().startswith(f'<tr id="p-{arrived.a1.pk}"') and "<html" not in row
    assert "已送达" in row and _("Undo (recorded by mistake)") in row
    event = HandoverEvent.objects.get(package=arrived.a1, kind="delivered")
    row = client.post(
        reverse("deliveries:handover_undo", args=[event.pk]), {"row": day.isoformat()}, headers={"HX-Request": "true"}
    ).content.decode()
    assert Package.objects.get(pk=arrived.a1.pk).status == PackageStatus.AT_COMPOUND
    assert (
        _("Undo (recorded by mistake)") not in row
        and reverse("deliveries:package_delivered", args=[arrived.a1.pk]) in row
    )
    client.force_login(city.users.worker_b)
    assert client.post(reverse("deliveries:handover_undo", args=[event.pk])).status_code == 404


def test_a_package_not_yet_arrived_offers_only_a_stated_override(due_today, city, client):
    client.force_login(city.users.worker)
    day = due_today.a1.delivery_date
    html = client.get(reverse("deliveries:round") + f"?date={day.isoformat()}").content.decode()
    assert 'id="not-arrived"' in html and 'name="override"' in html and 'id="round-start"' not in html
    answer = client.post(
        reverse("deliveries:package_delivered", args=[due_today.a1.pk]),
        {"row": day.isoformat()},
        headers={"HX-Request": "true"},
    )
    assert due_today.a1.code in answer.content.decode() and Package.objects.get(pk=due_today.a1.pk).status == "packed"
    client.post(reverse("deliveries:package_delivered", args=[due_today.a1.pk]), {"override": "办事处未录入，实物已到"})
    assert HandoverEvent.objects.get(package=due_today.a1).override == "办事处未录入，实物已到"
