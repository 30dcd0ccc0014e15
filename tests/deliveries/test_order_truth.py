"""The resident's orders tell the truth (issue 17): once packed, an order's status is its package's
(packed, at the community, out for delivery, delivered, not delivered), on the list and the order's page."""

import re

from django.urls import reverse

from deliveries import handovers
from deliveries.models import PackageStatus


def _status_of(page: str, order_id: int) -> str:
    card = page.split(f'id="order-{order_id}"', 1)[1]
    return re.search(r'<span class="status[^"]*">([^<]*)</span>', card).group(1)


def test_an_order_shows_its_package_s_status(arrived, city, client):
    order_id = arrived.a1.order_links.get().order_id
    client.force_login(city.users.resident)
    for url in (reverse("supply:order_list"), reverse("supply:order_detail", args=[order_id])):
        assert _status_of(client.get(url).content.decode(), order_id) == str(PackageStatus.AT_COMMUNITY.label)
    handovers.package_deliver(package_id=arrived.a1.pk, by=city.users.worker, override="测试：送达")
    for url in (reverse("supply:order_list"), reverse("supply:order_detail", args=[order_id])):
        assert _status_of(client.get(url).content.decode(), order_id) == str(PackageStatus.DELIVERED.label)


def test_the_package_shows_its_contents_and_what_is_left_to_pay(arrived, city, client):
    client.force_login(city.users.resident)
    page = client.get(reverse("deliveries:my_packages")).content.decode()
    package = arrived.a1
    assert package.item_summary in page
    assert f"¥{package.to_collect:.2f}" in page and package.to_collect > 0  # ordered to pay on delivery
