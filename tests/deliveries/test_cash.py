"""Cash at the door (issue 17): a delivered package with an amount to collect records the cash in
the deliverer's name; "not paid" is an exception that brings the package again; each person's cash
of the day adds up on the community's sheet and is confirmed once, by someone else."""

from decimal import Decimal

import pytest
from django.utils import timezone

from core.errors import Conflict, NotFound
from deliveries import handovers
from deliveries.handovers import cash
from deliveries.models import CashHandover, Package
from tests.factories import UserFactory


@pytest.fixture
def doors(arrived, city):
    """Community A's two packages of today delivered by the worker (cash on delivery)."""
    for package in (arrived.a1, arrived.a2):
        handovers.package_deliver(package_id=package.pk, by=city.users.worker, override="测试：当日送达")
    return arrived


def test_cash_taken_at_the_door_adds_up_on_the_day_s_sheet(doors, city):
    due = sum(
        Package.objects.filter(pk__in=[doors.a1.pk, doors.a2.pk]).values_list("to_collect", flat=True), Decimal(0)
    )
    assert due > 0
    [row] = cash.cash_sheet(user=city.users.worker, community_id=city.a.pk, day=timezone.localdate())
    assert (row.collector_id, row.doors, row.amount, row.handover) == (city.users.worker.pk, 2, due, None)
    # someone else of the community confirms; never one's own cash; once
    with pytest.raises(Conflict):
        cash.cash_handover_confirm(
            community_id=city.a.pk, collector_id=city.users.worker.pk, day=timezone.localdate(), by=city.users.worker
        )
    second = UserFactory(role="worker", community=city.a, is_staff=True)
    handover = cash.cash_handover_confirm(
        community_id=city.a.pk, collector_id=city.users.worker.pk, day=timezone.localdate(), by=second
    )
    assert handover.amount == due and handover.doors == 2
    with pytest.raises(Conflict):
        cash.cash_handover_confirm(
            community_id=city.a.pk, collector_id=city.users.worker.pk, day=timezone.localdate(), by=second
        )
    # another community's worker neither sees nor confirms it
    assert cash.cash_sheet(user=city.users.worker_b, community_id=city.a.pk, day=timezone.localdate()) == []
    with pytest.raises(NotFound):
        cash.cash_handover_confirm(
            community_id=city.a.pk, collector_id=city.users.worker.pk, day=timezone.localdate(), by=city.users.worker_b
        )
    assert CashHandover.objects.count() == 1


def test_an_undone_delivery_leaves_the_sheet_and_not_paid_comes_again(arrived, city):
    event = handovers.package_deliver(package_id=arrived.a1.pk, by=city.users.worker, override="测试：当日送达")
    assert event.cash_collected == arrived.a1.to_collect
    handovers.handover_undo(event_id=event.pk, by=city.users.worker)
    assert cash.cash_sheet(user=city.users.worker, community_id=city.a.pk, day=timezone.localdate()) == []
    missed = handovers.package_exception(
        package_id=arrived.a1.pk, by=city.users.worker, reason="not_paid", override="测试"
    )
    assert missed.requeued_to is not None and missed.cash_collected is None


def test_the_cash_page(doors, city, client):
    client.force_login(city.users.worker)
    page = client.get(f"/cash/?community={city.a.pk}").content.decode()
    assert city.users.worker.display_name in page and "¥" in page
    second = UserFactory(role="worker", community=city.a, is_staff=True)
    client.force_login(second)
    response = client.post(
        "/cash/confirm/",
        {"community": city.a.pk, "collector": city.users.worker.pk, "date": timezone.localdate().isoformat()},
    )
    assert response.status_code == 302 and CashHandover.objects.get().confirmed_by == second
