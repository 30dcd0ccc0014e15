"""The offline fallback: a community's next three days of lists and its ledger in one archive."""

import datetime
import io
import zipfile

import pytest
import pyzipper
from django.utils import timezone
from django.utils.translation import gettext
from openpyxl import load_workbook

from deliveries import services as delivery_services
from supply import services as supply_services
from supply.models import Cycle

pytestmark = pytest.mark.django_db


@pytest.fixture
def packed_today(shop, city, django_capture_on_commit_callbacks):
    for household in city.places[city.a.pk].households + city.places[city.b.pk].households:
        supply_services.order_place(
            household_id=household.pk, lines=[{"product": shop.masks.pk, "quantity": 1}], placed_by=None, channel="web"
        )
    Cycle.objects.filter(pk=shop.cycle.pk).update(first_delivery_date=timezone.localdate())
    with django_capture_on_commit_callbacks(execute=True):
        delivery_services.cycle_close(cycle_id=shop.cycle.pk)
    return shop.cycle


PASSWORD = "平安街社区2022"


def opened(content: bytes) -> pyzipper.AESZipFile:
    archive = pyzipper.AESZipFile(io.BytesIO(content))
    archive.setpassword(PASSWORD.encode())
    return archive


def test_the_worker_downloads_the_next_days_lists_and_the_ledger_in_one_archive(packed_today, city, client):
    client.force_login(city.users.worker)
    assert client.get("/offline/").status_code == 200
    response = client.post("/offline/download/", {"password": PASSWORD, "password_again": PASSWORD})
    assert response.status_code == 200 and response["Content-Type"] == "application/zip"
    archive = opened(response.content)
    names = archive.namelist()
    assert len(names) == len(set(names)), "each list once"
    ledger_name = gettext("Care ledger") + ".xlsx"
    assert "index.txt" in names and ledger_name in names
    pdfs = [n for n in names if n.endswith(".pdf")]
    assert pdfs and all(archive.read(n).startswith(b"%PDF") for n in pdfs)
    assert any("入户配送单" in n for n in pdfs)  # the door list
    days = {n.split("/")[0] for n in pdfs}
    today = timezone.localdate()
    assert days <= {(today + datetime.timedelta(days=d)).isoformat() for d in range(3)}
    ledger = load_workbook(io.BytesIO(archive.read(ledger_name))).active
    rows = list(ledger.iter_rows(min_row=2, values_only=True))
    elderly = city.places[city.a.pk].households[0]
    assert [r[0] for r in rows] == [elderly.address]  # community A's ledger only: the elderly household
    assert "独居老人" in rows[0][4]
    assert "0371-67635762" in archive.read("index.txt").decode()


def test_another_community_is_not_in_reach(packed_today, city, client):
    client.force_login(city.users.worker_b)
    archive = opened(client.post("/offline/download/", {"password": PASSWORD, "password_again": PASSWORD}).content)
    ledger = load_workbook(io.BytesIO(archive.read(gettext("Care ledger") + ".xlsx"))).active
    assert [r[0] for r in ledger.iter_rows(min_row=2, values_only=True)] == [city.household_b.address]  # B's own only
    client.force_login(city.users.office)
    assert (
        client.post(
            "/offline/download/", {"community": city.a.pk, "password": PASSWORD, "password_again": PASSWORD}
        ).status_code
        == 403
    )


def test_the_archive_is_encrypted_and_carries_a_call_list_with_full_numbers(packed_today, city, client):
    client.force_login(city.users.worker)
    html = client.get("/offline/").content.decode()
    assert 'name="password"' in html and "加密" in html
    for password, again in (("short", "short"), (PASSWORD, PASSWORD + "x")):  # too short; not the same twice
        answer = client.post("/offline/download/", {"password": password, "password_again": again})
        assert answer.status_code == 400 and answer["Content-Type"].startswith("text/html")
    content = client.post("/offline/download/", {"password": PASSWORD, "password_again": PASSWORD}).content
    plain = zipfile.ZipFile(io.BytesIO(content))
    assert all(info.flag_bits & 0x1 for info in plain.infolist()), "every entry encrypted"
    with pytest.raises(RuntimeError):
        plain.read("index.txt")  # no password: nothing readable
    wrong = pyzipper.AESZipFile(io.BytesIO(content))
    wrong.setpassword(b"guess-guess")
    with pytest.raises(RuntimeError):
        wrong.read("index.txt")
    archive = opened(content)
    calls = [n for n in archive.namelist() if n.endswith(".xlsx") and "电话" in n]
    assert calls, archive.namelist()
    rows = [
        row
        for name in calls
        for row in load_workbook(io.BytesIO(archive.read(name))).active.iter_rows(values_only=True)
    ]
    first = city.places[city.a.pk].households[0]
    full = first.phones.first().number
    assert any(full in str(cell) or full[3:] in str(cell).replace(" ", "") for row in rows for cell in row), (
        "full numbers, to call"
    )


def test_the_archive_holds_the_next_days_that_have_deliveries_even_if_they_start_later(packed_today, city):
    from hotlines.offline import community_offline_archive

    early = community_offline_archive(
        user=city.users.worker,
        community_id=city.a.pk,
        password=PASSWORD,
        today=timezone.localdate() - datetime.timedelta(days=5),
    )
    assert early.lists > 0
    names = zipfile.ZipFile(io.BytesIO(early.content)).namelist()
    assert any(n.endswith(".pdf") for n in names)
