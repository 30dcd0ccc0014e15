import pytest
from django.urls import reverse

from core.dates import moment_text
from deliveries.models import Package
from supply import services as supply_services
from supply.models import Cycle, CycleStatus

pytestmark = pytest.mark.django_db


def test_task_force_closes_the_cycle_from_the_page(shop, city, client, django_capture_on_commit_callbacks):
    supply_services.order_place(
        household_id=city.household_a.pk,
        lines=[{"product": shop.masks.pk, "quantity": 1}],
        placed_by=None,
        channel="web",
    )
    client.force_login(city.users.city_taskforce)
    page = client.get(reverse("deliveries:cycle_list"))
    assert page.status_code == 200 and reverse("deliveries:cycle_close", args=[shop.cycle.pk]) in page.content.decode()
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(reverse("deliveries:cycle_close", args=[shop.cycle.pk]))
    assert response.status_code == 302
    assert Cycle.objects.get(pk=shop.cycle.pk).status == CycleStatus.PACKED
    assert Package.objects.filter(cycle=shop.cycle).count() == 1
    # closed before its cutoff: the page says when ordering stopped, not the cutoff that never came
    closed = Cycle.objects.get(pk=shop.cycle.pk)
    page = client.get(reverse("deliveries:cycle_list")).content.decode()
    assert "停止下单时间：" + moment_text(closed.closed_at) in page
    assert moment_text(closed.cutoff_at) not in page


@pytest.mark.parametrize("role", ["worker", "office", "operator", "resident", "supplier"])
def test_only_the_task_force_closes(shop, city, client, role):
    client.force_login(getattr(city.users, role))
    assert client.post(reverse("deliveries:cycle_close", args=[shop.cycle.pk])).status_code == 403
    assert Cycle.objects.get(pk=shop.cycle.pk).status == CycleStatus.OPEN


def test_office_levels_delivery_days_of_its_communities(shop, city, client):
    client.force_login(city.users.office)
    response = client.post(reverse("deliveries:delivery_days_level"))
    assert response.status_code == 302
    assert client.get(reverse("deliveries:cycle_list")).status_code == 200


def test_cycle_page_counts_only_the_scope(shop, city, client, django_capture_on_commit_callbacks):
    for household in (city.household_a, city.household_c):
        supply_services.order_place(
            household_id=household.pk, lines=[{"product": shop.masks.pk, "quantity": 1}], placed_by=None, channel="web"
        )
    client.force_login(city.users.worker)
    progress = client.get(reverse("deliveries:cycle_list")).context["progress"][0]
    assert progress.orders == 1
