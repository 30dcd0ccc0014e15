"""Signing in through a real browser on the seeded demo city, as a worker and as a resident."""

import pytest
from django.core.management import call_command
from django.utils.translation import gettext

from households.models import User

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def demo_city(live_server):
    call_command("seed_demo", households=200, quiet=True)
    return live_server


def sign_in(page, base_url: str, username: str, password: str = "demo12345") -> None:
    from playwright.sync_api import TimeoutError as PlaywrightTimeout  # imported here: a machine without it skips

    page.goto(f"{base_url}/accounts/login/")
    form = page.locator("form:has(input[name=username])")
    form.locator("input[name=username]").fill(username)
    form.locator("input[name=password]").fill(password)
    form.locator("[type=submit]").click()
    try:
        page.wait_for_url(f"{base_url}/")
    except PlaywrightTimeout:
        pytest.fail(f"signing in as {username} did not reach the home page; the page says:\n{page.locator('body').inner_text()}")
    page.wait_for_load_state("domcontentloaded")


def has_chinese(text: str) -> bool:
    return any("\u4e00" <= ch <= "\u9fff" for ch in text)


def assert_chinese_home(page) -> str:
    assert page.locator("html").get_attribute("lang") == "zh-hans"
    assert page.locator("input[name=password]").count() == 0, "still on the sign-in form"
    body = page.locator("body").inner_text()
    assert "社区" in body
    # Place names are Chinese anyway; the page's own words must be translated too (compiled catalog).
    brand = gettext("Baogong")  # the autouse fixture has zh-hans active
    assert has_chinese(brand), "the zh_Hans catalog has no translation for “Baogong” (run make messages)"
    assert brand in body
    return body


def test_worker_signs_in_with_username_and_sees_their_community(demo_city, page):
    worker = User.objects.select_related("community").get(username="worker")

    sign_in(page, demo_city.url, "worker")

    body = assert_chinese_home(page)
    assert worker.community.name in body


def test_resident_signs_in_with_phone_number(demo_city, page):
    resident = User.objects.select_related("household__building__compound__community").get(username="resident")
    phone = resident.phone.removeprefix("+86")
    assert len(phone) == 11 and phone.isdigit(), resident.phone

    sign_in(page, demo_city.url, phone)

    body = assert_chinese_home(page)
    assert resident.household.building.compound.community.name in body
