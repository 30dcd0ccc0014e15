import pytest
from django.urls import reverse

from households import services
from households.models import LockdownChange, LockdownLevel
from tests.factories import HouseholdFactory, HouseholdPhoneFactory

pytestmark = pytest.mark.django_db


def has_chinese(text: str) -> bool:
    return any("\u4e00" <= ch <= "\u9fff" for ch in text)


@pytest.mark.parametrize(
    "role", ["resident", "worker", "office", "operator", "taskforce", "city_taskforce", "supplier", "admin"]
)
def test_every_role_has_a_home_page_in_chinese(city, client, role):
    client.force_login(getattr(city.users, role))
    response = client.get("/")
    assert response.status_code == 200
    html = response.content.decode()
    assert 'lang="zh-hans"' in html
    assert "保供热线" in html  # the hotline bar is on every page


def test_resident_home_shows_the_household_and_the_district_hotline(city, client):
    client.force_login(city.users.resident)
    html = client.get("/").content.decode()
    assert city.household_a.contact_name in html
    assert "0371-67635762" in html
    assert "足不出户" in html


def test_anonymous_users_are_sent_to_sign_in(client):
    response = client.get("/")
    assert response.status_code == 302 and response.url.startswith(reverse("login"))
    response = client.get(reverse("households:household_list"))
    assert response.status_code == 302 and "/accounts/login/" in response.url


def test_residents_and_suppliers_cannot_open_staff_pages(city, client):
    for user in (city.users.resident, city.users.supplier):
        client.force_login(user)
        response = client.get(reverse("households:household_list"))
        assert response.status_code == 403
        assert has_chinese(response.content.decode())


def test_worker_sees_only_own_community_in_the_list(city, client):
    client.force_login(city.users.worker)
    html = client.get(reverse("households:household_list")).content.decode()
    own = city.places[city.a.pk].compound.name
    other = city.places[city.b.pk].compound.name
    assert own in html and other not in html


def test_household_of_another_community_is_404(city, client):
    client.force_login(city.users.worker)
    assert client.get(reverse("households:household_detail", args=[city.household_b.pk])).status_code == 404
    assert client.get(reverse("households:household_detail", args=[city.household_a.pk])).status_code == 200
    client.force_login(city.users.operator2)
    assert client.get(reverse("households:household_detail", args=[city.household_a.pk])).status_code == 404


def test_404_page_is_in_chinese(city, client):
    client.force_login(city.users.worker)
    response = client.get("/no-such-page/")
    assert response.status_code == 404
    assert "未找到" in response.content.decode() or has_chinese(response.content.decode())


def test_household_list_query_count_does_not_grow(city, client, django_assert_max_num_queries):
    client.force_login(city.users.worker)
    client.get(reverse("households:household_list"))  # warm the session
    building = city.places[city.a.pk].building
    with django_assert_max_num_queries(12) as small:
        client.get(reverse("households:household_list"))
    for _ in range(30):
        HouseholdPhoneFactory(household=HouseholdFactory(building=building))
    with django_assert_max_num_queries(12) as large:
        response = client.get(reverse("households:household_list"))
    assert len(large.captured_queries) == len(small.captured_queries)
    assert response.content.decode().count("tel:+86") >= 30


def test_search_by_phone_finds_the_household(city, client):
    client.force_login(city.users.operator)
    phone = city.household_b.phones.get().number
    html = client.get(reverse("households:household_list"), {"q": phone[3:]}).content.decode()
    assert city.places[city.b.pk].compound.name in html
    assert city.places[city.a.pk].compound.name not in html


def test_office_changes_a_compound_level_with_a_reason(city, client):
    compound = city.places[city.b.pk].compound
    client.force_login(city.users.office)
    url = reverse("households:compound_set_level", args=[compound.pk])
    response = client.post(url, {"level": LockdownLevel.STAY_AT_HOME, "reason": "新增阳性"})
    assert response.status_code == 302
    compound.refresh_from_db()
    assert compound.lockdown_level == LockdownLevel.STAY_AT_HOME
    assert LockdownChange.objects.get().changed_by == city.users.office
    detail = client.get(reverse("households:compound_detail", args=[compound.pk])).content.decode()
    assert "新增阳性" in detail


def test_level_change_without_reason_changes_nothing(city, client):
    compound = city.places[city.b.pk].compound
    client.force_login(city.users.office)
    client.post(reverse("households:compound_set_level", args=[compound.pk]), {"level": 2, "reason": ""})
    compound.refresh_from_db()
    assert compound.lockdown_level == LockdownLevel.STAY_IN_COMPOUND and not LockdownChange.objects.exists()


def test_workers_cannot_change_levels_and_offices_not_others(city, client):
    compound = city.places[city.c.pk].compound  # another district
    client.force_login(city.users.worker)
    assert (
        client.post(
            reverse("households:compound_set_level", args=[compound.pk]), {"level": 2, "reason": "x"}
        ).status_code
        == 403
    )
    client.force_login(city.users.office)
    assert (
        client.post(
            reverse("households:compound_set_level", args=[compound.pk]), {"level": 2, "reason": "x"}
        ).status_code
        == 404
    )
    compound.refresh_from_db()
    assert compound.lockdown_level == LockdownLevel.OPEN


def test_sign_in_with_phone_number(city, client):
    response = client.post(reverse("login"), {"username": "139 0000 0001", "password": "demo12345"})
    assert response.status_code == 302
    assert int(client.session["_auth_user_id"]) == city.users.resident.pk


def test_wrong_password_gives_a_clear_message(city, client):
    response = client.post(reverse("login"), {"username": "13900000001", "password": "nope"})
    assert response.status_code == 200
    assert has_chinese(response.content.decode())
    assert "_auth_user_id" not in client.session


def test_register_buildings_partial(city, client):
    response = client.get(reverse("register_buildings"), {"community": city.a.pk})
    assert city.places[city.a.pk].building.number in response.content.decode()
    assert client.get(reverse("register_buildings"), {"community": "x"}).status_code == 400


def test_import_page_round_trip(city, client):
    from django.core.files.uploadedfile import SimpleUploadedFile

    place = city.places[city.a.pk]
    content = f"小区,楼栋,室,联系人,电话\n{place.compound.name},{place.building.number},505,王芳,13812349999\n".encode()
    client.force_login(city.users.worker)
    response = client.post(
        reverse("households:import"), {"community": city.a.pk, "file": SimpleUploadedFile("r.csv", content)}
    )
    assert response.status_code == 302
    # the test transaction never commits, so run the queued import the way the worker would
    from households.models import HouseholdImport

    household_import = HouseholdImport.objects.get()
    services.household_import_run(import_id=household_import.pk)
    report = client.get(response.url).content.decode()
    assert "王芳" not in report  # the report lists rejected rows only
    assert household_import.community == city.a


def test_worker_cannot_import_into_another_community(city, client):
    from django.core.files.uploadedfile import SimpleUploadedFile

    client.force_login(city.users.worker)
    response = client.post(
        reverse("households:import"), {"community": city.b.pk, "file": SimpleUploadedFile("r.csv", b"a,b\n1,2\n")}
    )
    assert response.status_code == 200  # the form refuses a community outside the scope
    from households.models import HouseholdImport

    assert not HouseholdImport.objects.exists()


def test_language_can_be_switched_to_english(city, client):
    client.force_login(city.users.worker)
    client.post(reverse("set_language"), {"language": "en", "next": "/"})
    html = client.get("/").content.decode()
    assert 'lang="en"' in html and "supply hotline" in html.lower()


def test_an_english_browser_still_gets_chinese_until_the_user_switches(city, client):
    client.force_login(city.users.worker)
    html = client.get("/", HTTP_ACCEPT_LANGUAGE="en-US,en;q=0.9").content.decode()
    assert 'lang="zh-hans"' in html and "保供热线" in html
    client.post(reverse("set_language"), {"language": "en", "next": "/"})
    assert 'lang="en"' in client.get("/", HTTP_ACCEPT_LANGUAGE="zh-CN").content.decode()


def test_search_by_the_last_digits_of_a_phone_and_by_address(city, client):
    client.force_login(city.users.operator)
    url = reverse("households:household_list")
    target = city.household_b
    digits = target.phones.get().number[-4:]
    pks = {h.pk for h in client.get(url, {"q": digits}).context["page"]}
    assert target.pk in pks
    compound = city.places[city.b.pk].compound
    building = city.places[city.b.pk].building
    building.number, building.sort_key = "7号楼", 7  # not a number that is also a room here
    building.save()
    found = {h.pk for h in client.get(url, {"q": f"{compound.name} {building.sort_key} {target.room}"}).context["page"]}
    assert found == {target.pk}
    found = {h.pk for h in client.get(url, {"q": f"{compound.initials} {building.number}"}).context["page"]}
    assert target.pk in found


def test_community_filter_and_print_mode(city, client):
    client.force_login(city.users.office)
    response = client.get(reverse("households:household_list"), {"community": city.b.pk, "print": "1"})
    assert {h.pk for h in response.context["page"]} == {h.pk for h in city.places[city.b.pk].households}
    assert city.b.name in response.content.decode()
    # a community outside the scope shows nothing
    response = client.get(reverse("households:household_list"), {"community": city.c.pk})
    assert response.context["page"].paginator.count == 0


def test_the_favicon_is_found(client):
    response = client.get("/favicon.ico")
    assert response.status_code == 301 and response["Location"] == "/static/img/favicon.svg"


def test_an_address_search_lists_the_exact_address_before_its_neighbours(city):
    """Found by the review of issue 18: "3 502" also matched unit 3 room 502 of building 1,
    listed first by the building order. The household at building 3, room 502 comes first now."""
    from households.selectors import household_list
    from tests.factories import BuildingFactory, CompoundFactory

    compound = CompoundFactory(community=city.a, name="测试查找小区")
    first = BuildingFactory(compound=compound, number="1号楼", sort_key=1)
    third = BuildingFactory(compound=compound, number="3号楼", sort_key=3)
    neighbour = HouseholdFactory(building=first, unit="3", room="502")
    exact = HouseholdFactory(building=third, unit="1", room="502")
    also = HouseholdFactory(building=third, unit="2", room="502")
    found = list(household_list(user=city.users.admin, search=f"{compound.name} 3 502"))
    assert found[:2] == [exact, also] and neighbour in found[2:]
    found = list(household_list(user=city.users.admin, search=f"{compound.name} 3 2 502"))
    assert found[0] == also
