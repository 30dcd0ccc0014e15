"""Issue 18: a resident reports an item of a delivered package missing or damaged online, and the
community gets a ticket to answer the same day (one report per package; more are added to it)."""

import pytest
from django.urls import reverse

from deliveries import handovers
from hotlines.models import Ticket
from households.models import User

pytestmark = pytest.mark.django_db


def test_a_resident_reports_a_missing_item_and_the_community_gets_a_ticket(arrived, city, client):
    package = arrived.a1
    User.objects.filter(pk=city.users.resident.pk).update(household=package.household)
    client.force_login(city.users.resident)
    url = reverse("hotlines:item_problem", args=[package.code])
    assert client.post(url, {"item": "大米", "problem": "missing"}).status_code == 400  # not delivered yet
    assert not Ticket.objects.exists()
    handovers.package_deliver(package_id=package.pk, by=city.users.worker, override="测试：当日送达")
    my_packages = client.get(reverse("deliveries:my_packages")).content.decode()
    assert url in my_packages
    form = client.get(url).content.decode()
    assert "大米" in form
    assert client.post(url, {"item": "别人的东西", "problem": "missing"}).status_code == 400
    sent = client.post(url, {"item": "大米 5kg", "problem": "damaged", "note": "袋子破了"})
    assert sent.status_code == 302
    ticket = Ticket.objects.get()
    assert ticket.category == "item" and ticket.household_id == package.household_id
    assert ticket.community_id == package.community_id and ticket.priority == 2
    assert package.code in ticket.summary and "大米" in ticket.summary and "袋子破了" in ticket.summary
    again = client.post(url, {"item": "大米 5kg", "problem": "missing"})
    assert again.status_code == 302 and Ticket.objects.count() == 1  # added to the open report
    assert ticket.events.filter(kind="note").count() == 1
    # the worker sees it in the queue; another household gets 404 for this package
    client.force_login(city.users.worker)
    assert package.code in client.get(reverse("hotlines:tickets")).content.decode()
    stranger = User.objects.create_user(username="r2", password="x", role="resident", household=city.household_b)
    client.force_login(stranger)
    assert client.get(url).status_code == 404
