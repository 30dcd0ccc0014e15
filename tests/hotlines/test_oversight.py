"""Price complaints linked to products, and hotline unsealing reports next to the 7-day rule."""

import datetime

import pytest
from django.urls import reverse
from django.utils import timezone

from core.errors import BaogongError
from hotlines import selectors, services
from hotlines.models import Call, Ticket
from households import services as household_services
from tests.factories import ProductFactory, SupplierFactory

pytestmark = pytest.mark.django_db


def test_a_price_complaint_names_a_product_of_the_callers_district(shop, city):
    household = city.household_a
    ticket = services.ticket_open(
        household_id=household.pk,
        category="complaint",
        summary="鸡蛋一盒28元太贵",
        opened_by=city.users.operator,
        product_id=shop.eggs.pk,
    )
    assert ticket.product_id == shop.eggs.pk
    elsewhere = SupplierFactory()  # serves no district of ours
    foreign = ProductFactory(supplier=elsewhere, name="外地大米")
    before = Ticket.objects.count()
    with pytest.raises(BaogongError):
        services.ticket_open(
            household_id=household.pk, category="complaint", summary="贵", opened_by=None, product_id=foreign.pk
        )
    with pytest.raises(BaogongError):  # only complaints name a product
        services.ticket_open(
            household_id=household.pk, category="medicine", summary="药", opened_by=None, product_id=shop.eggs.pk
        )
    assert Ticket.objects.count() == before


def test_the_price_complaints_page_counts_per_product_within_scope(shop, city, client):
    for household, product in (
        (city.household_a, shop.eggs),
        (city.household_b, shop.eggs),
        (city.household_a, shop.masks),
    ):
        services.ticket_open(
            household_id=household.pk, category="complaint", summary="价格高", opened_by=None, product_id=product.pk
        )
    services.ticket_open(
        household_id=city.household_c.pk,
        category="complaint",
        summary="价格高",
        opened_by=None,
        product_id=shop.eggs.pk,
    )  # district 2
    rows = selectors.price_complaints(user=city.users.taskforce)  # district 1
    assert [(r.product.pk, r.total, r.open) for r in rows] == [(shop.eggs.pk, 2, 2), (shop.masks.pk, 1, 1)]
    assert [r.total for r in selectors.price_complaints(user=city.users.city_taskforce)] == [3, 1]
    client.force_login(city.users.taskforce)
    page = client.get(reverse("hotlines:price_complaints")).content.decode()
    assert "鸡蛋" in page and "¥28.00" in page
    client.force_login(city.users.worker)
    assert client.get(reverse("hotlines:price_complaints")).status_code == 403


def test_the_operator_files_a_price_complaint_from_the_call_page(shop, city, client):
    household = city.household_a
    client.force_login(city.users.operator)
    client.post(reverse("hotlines:call_start"), {"phone": household.phones.get().number})
    call = Call.objects.latest("id")
    assert call.household_id == household.pk
    page = client.get(reverse("hotlines:call", args=[call.pk])).content.decode()
    assert "鸡蛋" in page  # the products of the district are offered
    response = client.post(
        reverse("hotlines:call_ticket", args=[call.pk]),
        {"category": "complaint", "summary": "口罩涨价", "product": shop.masks.pk},
    )
    assert response.status_code == 302
    assert Ticket.objects.get().product_id == shop.masks.pk


def test_unsealing_reports_from_the_hotline_show_next_to_the_seven_day_rule(city, client):
    place = city.places[city.a.pk]
    for days_ago in range(1, 8):
        household_services.positive_cases_record(
            compound_id=place.compound.pk,
            date=timezone.localdate() - datetime.timedelta(days=days_ago),
            cases=0,
            recorded_by=None,
        )
    services.ticket_open(
        household_id=place.households[0].pk, category="unsealing", summary="已满7天仍未解封", opened_by=None
    )
    services.ticket_open(
        household_id=place.households[1].pk, category="unsealing", summary="小区应解封", opened_by=None
    )
    client.force_login(city.users.taskforce)
    page = client.get("/compounds/unsealing/").content.decode()
    assert place.compound.name in page and "7+" in page
    assert "2（2件未办结）" in page or "2 (2 open)" in page
    assert (
        selectors.unsealing_reports(user=city.users.operator2, compound_ids=[place.compound.pk]) == {}
    )  # other district
