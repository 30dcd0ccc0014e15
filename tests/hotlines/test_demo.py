"""seed_demo brings a few hotline calls, tickets in the demo worker's queue and a check-in, once."""

import pytest
from django.core.management import call_command

from hotlines import selectors
from hotlines.models import Call, CheckIn, Ticket, TicketEvent
from households.models import User

pytestmark = pytest.mark.django_db


def test_the_demo_has_calls_tickets_and_a_check_in_and_a_second_run_adds_none(db):
    call_command("seed_demo", households=300, quiet=True)
    counts = (Call.objects.count(), Ticket.objects.count(), TicketEvent.objects.count(), CheckIn.objects.count())
    assert counts[0] >= 3 and counts[1] >= 1 and counts[3] == 1
    assert not Call.objects.filter(ended_at__isnull=True).exists(), "every demo call is finished"
    worker = User.objects.get(username="worker")
    queue = selectors.ticket_queue(user=worker)
    assert set(queue) == set(Ticket.objects.all()), "the tickets are in the demo worker's queue"
    operator = User.objects.get(username="operator")
    assert Call.objects.filter(operator=operator).count() == counts[0]

    call_command("seed_demo", households=300, quiet=True)
    assert (
        Call.objects.count(),
        Ticket.objects.count(),
        TicketEvent.objects.count(),
        CheckIn.objects.count(),
    ) == counts
