"""Care escalation (issue 14): a door exception for a ledger household (an elderly person living
alone with regular medicine) opens a ticket for its assigned worker with a deadline, and puts the
household on the alert list; a household not on the ledger opens nothing."""

import pytest
from django.urls import reverse

from deliveries import handovers
from deliveries.models import ExceptionReason
from hotlines.models import Ticket, TicketCategory, TicketStatus

pytestmark = pytest.mark.django_db


def test_a_missed_door_of_a_ledger_household_opens_a_ticket_for_its_worker(
    arrived,
    city,
    client,
    django_capture_on_commit_callbacks,
):
    worker = city.users.worker
    elderly = city.places[city.a.pk].households[0]  # room 301, elderly living alone (the fixture)
    elderly.chronic_medicine = True
    elderly.assigned_worker = worker
    elderly.save()
    package = arrived.a1
    assert package.household_id == elderly.pk
    client.force_login(worker)
    # The household had an order this cycle: not on the alert list before.
    assert f'id="alert-{elderly.pk}"' not in client.get(reverse("hotlines:ledger_alerts")).content.decode()
    with django_capture_on_commit_callbacks(execute=True):
        event = handovers.package_exception(package_id=package.pk, by=worker, reason=ExceptionReason.NOT_HOME)
    ticket = Ticket.objects.get(household=elderly)
    assert (ticket.category, ticket.status, ticket.assigned_to) == (
        TicketCategory.MISSED_DELIVERY,
        TicketStatus.OPEN,
        worker,
    )
    assert package.code in ticket.summary and event.requeued_to.isoformat() in ticket.summary
    assert (ticket.due_at - event.at).total_seconds() <= 4 * 3600, "a deadline within hours: medicine may be inside"
    html = client.get(reverse("hotlines:ledger_alerts")).content.decode()
    assert f'id="alert-{elderly.pk}"' in html and "未送达" in html
    # The same miss recorded again opens nothing more; the neighbour (not on the ledger) opens nothing.
    with django_capture_on_commit_callbacks(execute=True):
        handovers.package_exception(package_id=package.pk, by=worker, reason=ExceptionReason.NOT_HOME)
        handovers.package_exception(package_id=arrived.a2.pk, by=worker, reason=ExceptionReason.NOT_HOME)
    assert Ticket.objects.count() == 1
