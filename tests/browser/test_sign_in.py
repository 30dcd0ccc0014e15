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
        pytest.fail(
            f"signing in as {username} did not reach the home page; the page says:\n{page.locator('body').inner_text()}"
        )
    page.wait_for_load_state("domcontentloaded")


def sign_out(page, base_url: str) -> None:
    page.get_by_role("button", name=gettext("Sign out")).click()
    page.wait_for_url(f"{base_url}/accounts/login/")


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


def test_a_new_resident_registers_with_the_code_signs_in_by_code_and_resets_the_password(demo_city, page, settings):
    """The whole identity journey on the demo: the console backend's code is shown on the page."""
    from households.models import Household

    settings.SHOW_SMS_CODES = True
    base = demo_city.url
    household = (
        Household.objects.filter(residents__isnull=True, phones__isnull=False)
        .select_related("building__compound__community")
        .order_by("pk")
        .first()
    )
    phone = household.phones.order_by("-is_primary").first().number
    building = household.building

    def code_on_page() -> str:
        text = page.locator("#demo-code strong").inner_text()
        assert len(text) == 6 and text.isdigit(), text
        return text

    # register: who and where, then the code
    page.goto(f"{base}/accounts/login/")
    page.get_by_role("link", name=gettext("Register as a resident")).click()
    page.fill("#id_phone", phone.removeprefix("+86"))
    page.fill("#id_contact_name", household.contact_name or "王芳")
    page.select_option("#id_community", str(building.compound.community_id))
    page.wait_for_selector(f"#id_building option[value='{building.pk}']", state="attached")  # htmx filled the buildings
    page.select_option("#id_building", str(building.pk))
    page.fill("#id_unit", household.unit)
    page.fill("#id_room", household.room)
    page.get_by_role("button", name=gettext("Send me a code")).click()
    page.wait_for_url(f"{base}/accounts/register/verify/")
    page.fill("#id_code", code_on_page())
    page.get_by_role("button", name=gettext("Continue")).click()
    page.wait_for_url(f"{base}/")
    body = assert_chinese_home(page)
    assert household.building.compound.community.name in body
    user = User.objects.get(phone=phone)
    assert user.household_id == household.pk and not user.has_usable_password()

    # sign out, then in again by code
    sign_out(page, base)
    page.get_by_role("link", name=gettext("Residents: sign in with a text-message code")).click()
    page.fill("#id_phone", phone.removeprefix("+86"))
    page.get_by_role("button", name=gettext("Send me a code")).click()
    page.wait_for_url(f"{base}/accounts/login/code/verify/")
    page.fill("#id_code", code_on_page())
    page.get_by_role("button", name=gettext("Continue")).click()
    page.wait_for_url(f"{base}/")
    assert_chinese_home(page)

    # forgot the password: a new one by code, then sign in with it
    sign_out(page, base)
    page.get_by_role("link", name=gettext("Forgot your password?")).click()
    page.fill("#id_phone", phone.removeprefix("+86"))
    page.get_by_role("button", name=gettext("Send me a code")).click()
    page.wait_for_url(f"{base}/accounts/password/reset/verify/")
    page.fill("#id_code", code_on_page())
    page.fill("#id_new_password", "Xin-Mima-2022")
    page.fill("#id_new_password_again", "Xin-Mima-2022")
    page.get_by_role("button", name=gettext("Continue")).click()
    page.wait_for_url(f"{base}/")
    sign_out(page, base)
    sign_in(page, base, phone.removeprefix("+86"), "Xin-Mima-2022")
    assert_chinese_home(page)


def test_the_admin_and_the_api_docs_run_under_the_csp(demo_city, page):
    """Pages we do not write ourselves (Django's admin, Swagger UI) run with no script blocked
    (the ``page`` fixture fails on any CSP violation or script error)."""
    base = demo_city.url
    page.goto(f"{base}/api/v1/docs/")
    page.wait_for_selector(".swagger-ui .opblock", timeout=30_000)  # Swagger UI drew the operations
    assert "/api/v1/auth/token/" in page.locator("body").inner_text()
    page.goto(f"{base}/admin/login/")
    page.fill("#id_username", "admin")
    page.fill("#id_password", "demo12345")
    page.locator("[type=submit]").click()
    page.wait_for_url(f"{base}/admin/")
    page.goto(f"{base}/admin/households/household/?q=101")
    page.wait_for_selector("#result_list")
    page.locator("#result_list tbody tr a").first.click()
    page.wait_for_selector("form#household_form")


def test_the_static_script_does_what_the_inline_handlers_did(demo_city, page):
    """Under the CSP the behaviours live in static/js/baogong.js: the language menu submits itself,
    closing a cycle asks first (and a "no" closes nothing)."""
    from supply.models import Cycle, CycleStatus

    base = demo_city.url
    sign_in(page, base, "taskforce")
    page.select_option("#language", "en")
    page.wait_for_function("document.documentElement.lang === 'en'")
    page.goto(f"{base}/cycles/")
    asked = []
    page.once("dialog", lambda dialog: (asked.append(dialog.message), dialog.dismiss()))
    page.get_by_role("button", name="Close ordering and build the packages").click()
    page.wait_for_timeout(500)
    assert asked == ["Close ordering now and build the packages?"]
    assert Cycle.objects.filter(status=CycleStatus.OPEN).exists()
