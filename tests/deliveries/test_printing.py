"""Every level's paper: door lists, labels, manifests, pick lists, receiving lists and pick-up
notices of a packed cycle, their kept PDF/XLSX files, superseding, scope and query counts."""

import datetime
import io
import os
import shutil
import subprocess
from types import SimpleNamespace

import pytest
from django.core.management import CommandError, call_command
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils.html import escape
from django.utils.translation import gettext as _
from openpyxl import load_workbook

from deliveries import services
from deliveries.models import ListKind, Package, PrintDocument
from deliveries.printing import rendering, selectors
from deliveries.printing import services as printing
from deliveries.printing.selectors import ListKey
from households.models import LockdownLevel
from supply import services as supply_services
from supply.models import CycleStatus, Order, OrderLine
from tests.factories import BuildingFactory, HouseholdFactory, HouseholdPhoneFactory, UserFactory

pytestmark = pytest.mark.django_db

# Skipped only on a developer's machine without poppler-utils; CI installs it (.ci/run), and there
# a missing pdftotext fails the test instead of hiding it.
needs_pdftotext = pytest.mark.skipif(
    shutil.which("pdftotext") is None and not os.environ.get("CI"), reason="needs pdftotext (Debian poppler-utils)"
)


def order(shop, household, *lines):
    return supply_services.order_place(
        household_id=household.pk,
        lines=[{"product": p.pk, "quantity": q} for p, q in lines],
        placed_by=None,
        channel="web",
        payment_method="on_delivery",
    ).order


def pdf_text(content: bytes) -> str:
    return subprocess.run(
        ["pdftotext", "-layout", "-", "-"], input=content, capture_output=True, check=True
    ).stdout.decode()


@pytest.fixture
def close(django_capture_on_commit_callbacks):
    def run(cycle):
        with django_capture_on_commit_callbacks(execute=True):
            services.cycle_close(cycle_id=cycle.pk)
        cycle.refresh_from_db()
        assert cycle.status == CycleStatus.PACKED
        return cycle

    return run


@pytest.fixture
def street(city, shop):
    """Community A (stay at home) with households whose addresses only sort right numerically."""
    a = city.places[city.a.pk]
    first, second = a.households  # rooms 301 (floor 3, elderly living alone) and 1201 (floor 12)
    first.phones.update(number="+8613812341234")
    later_building = BuildingFactory(compound=a.compound, number="10号楼")
    early_building = a.building
    early_building.number = "2号楼"  # buildings go by the number in their name: 2号楼 before 10号楼
    early_building.save()
    # Created in the "wrong" order on purpose, so that creation order cannot pass for address order.
    h10 = HouseholdFactory(building=later_building, unit="1", floor=1, room="101", contact_name="赵六")
    ten = HouseholdFactory(building=early_building, unit="1", floor=1, room="10", contact_name="钱七")
    nine = HouseholdFactory(building=early_building, unit="1", floor=1, room="9", contact_name="孙八", pregnant=True)
    unit2 = HouseholdFactory(
        building=early_building, unit="2", floor=2, room="201", contact_name="李九", care_note="轮椅"
    )
    for household in (h10, ten, nine, unit2):
        HouseholdPhoneFactory(household=household)
    for household in (second, h10, unit2, ten, first, nine):
        order(shop, household, (shop.masks, 1), (shop.cabbage, 1))
    order(shop, city.household_b, (shop.eggs, 2))  # community B: stay in compound, a pick-up
    return SimpleNamespace(
        first=first,
        second=second,
        h10=h10,
        ten=ten,
        nine=nine,
        unit2=unit2,
        expected=[nine, ten, first, second, unit2, h10],
    )


@pytest.fixture
def packed(street, shop, close):
    return close(shop.cycle)


def door_key(cycle, community, day=None) -> ListKey:
    day = (
        day or Package.objects.filter(cycle=cycle, community=community).values_list("delivery_date", flat=True).first()
    )
    return ListKey(kind=ListKind.DOOR_LIST, cycle_id=cycle.pk, delivery_date=day, place_id=community.pk)


def list_url(key: ListKey, **query) -> str:
    url = reverse("deliveries:print_list", args=key.url_args())
    return url + ("?" + "&".join(f"{k}={v}" for k, v in query.items()) if query else "")


# --- the door list ---------------------------------------------------------------------------


def test_door_list_is_in_address_order_with_rooms_compared_as_numbers(packed, city, street):
    data = selectors.door_list_data(key=door_key(packed, city.a))
    rooms = [(p["building"], p["unit"], p["room"]) for s in data["sections"] for p in s["packages"]]
    expected = [(h.building.number, h.unit, h.room) for h in street.expected]
    assert rooms == expected  # 9 before 10, 301 before 1201, unit 1 before unit 2, then the next building
    assert [p["room"] for p in data["sections"][0]["packages"]][2:4] == ["301", "1201"]


@needs_pdftotext
def test_door_list_pdf_masks_phones_marks_care_and_reads_in_address_order(packed, city, street):
    key = door_key(packed, city.a)
    document = printing.document_ensure(key=key)
    text = pdf_text(document.pdf.read())
    assert "138****1234" in text and "13812341234" not in text
    elderly_mark, elderly_label = (str(s) for s in rendering.CARE_MARKS["elderly_alone"])
    assert elderly_mark in text and elderly_label in text  # the mark, and the legend that explains it
    assert elderly_label == "独居老人"
    assert str(rendering.CARE_MARKS["pregnant"][0]) in text and "※" in text and "轮椅" in text
    positions = [text.index(name) for name in ("孙八", "钱七", street.first.contact_name)]
    assert positions == sorted(positions)
    assert text.index(" 301") < text.index("1201")
    assert _("Page {page} of {pages}").format(page=1, pages=1).replace(" ", "") in text.replace(" ", "")
    assert city.districts[0].hotline in text


def test_door_list_page_works_for_the_worker_and_masks_phones(packed, city, street, client):
    client.force_login(city.users.worker)
    page = client.get(list_url(door_key(packed, city.a)))
    assert page.status_code == 200
    html = page.content.decode()
    assert "138****1234" in html and "13812341234" not in html
    assert html.index("孙八") < html.index("钱七") < html.index(street.second.contact_name)
    assert "独居老人" in html and city.users.worker.display_name in html
    assert 'class="list stack"' in html  # the phone layout: rows become cards


@needs_pdftotext
def test_the_same_data_gives_the_same_pdf_text(packed, city):
    key = door_key(packed, city.a)
    data = selectors.door_list_data(key=key)
    fingerprint = rendering.fingerprint(data)
    first = pdf_text(rendering.pdf(data, fingerprint_value=fingerprint))
    again = selectors.door_list_data(key=key)
    assert rendering.fingerprint(again) == fingerprint
    assert pdf_text(rendering.pdf(again, fingerprint_value=rendering.fingerprint(again))) == first


def test_xlsx_has_the_rows_in_order_with_masked_phones(packed, city, street):
    document = printing.document_ensure(key=door_key(packed, city.a))
    sheet = load_workbook(io.BytesIO(document.xlsx.read())).worksheets[0]
    rows = [
        row for row in sheet.iter_rows(min_row=5, values_only=True) if row[6] != "小计"
    ]  # not the buildings' subtotals
    assert [row[7] for row in rows] == [h.contact_name for h in street.expected]
    assert "138****1234" in [row[8] for row in rows]
    assert not any("13812341234" in str(cell) for row in rows for cell in row)


# --- query counts ------------------------------------------------------------------------------


def _queries(function) -> int:
    with CaptureQueriesContext(connection) as captured:
        function()
    return len(captured)


@pytest.mark.parametrize("kind", [ListKind.DOOR_LIST, ListKind.LABELS, ListKind.RECEIVING])
def test_list_reads_do_not_grow_with_the_packages(city, shop, close, kind, django_assert_num_queries):
    a = city.places[city.a.pk]
    order(shop, a.households[0], (shop.masks, 1))
    cycle = close(shop.cycle)
    key = ListKey(kind=kind, cycle_id=cycle.pk, delivery_date=door_key(cycle, city.a).delivery_date, place_id=city.a.pk)
    few = _queries(lambda: selectors.list_data(key=key))

    # Another cycle with ten times the packages: the same number of queries.
    supply_services.cycle_open()
    from supply.models import Cycle

    cycle2 = Cycle.objects.get(status="open")
    for n in range(10):
        household = HouseholdFactory(building=a.building, floor=n + 1, room=f"{n + 1}02")
        HouseholdPhoneFactory(household=household)
        order(shop, household, (shop.masks, 1))
    cycle2 = close(cycle2)
    key2 = ListKey(
        kind=kind, cycle_id=cycle2.pk, delivery_date=door_key(cycle2, city.a).delivery_date, place_id=city.a.pk
    )
    assert selectors.list_data(key=key2)["rows"] >= (10 if kind != ListKind.RECEIVING else 1)
    with django_assert_num_queries(few):
        selectors.list_data(key=key2)
    assert few <= 4


def test_door_list_page_query_count_is_pinned(packed, city, client, django_assert_num_queries):
    client.force_login(city.users.worker)
    url = list_url(door_key(packed, city.a))
    client.get(url)
    # session, user, scope (community), place check, cycle check, header, packages, workers, cycle number, hotline
    with django_assert_num_queries(10):
        assert client.get(url).status_code == 200


def test_downloading_a_kept_pdf_reads_a_fixed_number_of_queries(packed, city, client, django_assert_num_queries):
    key = door_key(packed, city.a)
    printing.document_ensure(key=key)
    client.force_login(city.users.worker)
    client.get(list_url(key, format="pdf"))
    with django_assert_num_queries(11):
        response = client.get(list_url(key, format="pdf"))
    assert response.status_code == 200 and response["Content-Type"] == "application/pdf"
    assert b"".join(response.streaming_content).startswith(b"%PDF")


# --- every level's paper, generated and kept ---------------------------------------------------


def test_lists_are_generated_and_kept_when_the_cycle_is_packed(street, shop, city, close, settings):
    settings.DELIVERIES_PRINT_ON_PACK = True
    cycle = close(shop.cycle)
    documents = PrintDocument.objects.filter(cycle=cycle, superseded_at__isnull=True)
    kinds = {d.kind for d in documents}
    assert kinds == set(ListKind.values) - {ListKind.SUPPLEMENT, ListKind.SUPPLEMENT_MANIFEST}, (
        "no urgent lane in this cycle: no supplement list"
    )
    for document in documents:
        assert document.pdf.read(4) == b"%PDF"
        assert load_workbook(io.BytesIO(document.xlsx.read())).worksheets
    assert documents.filter(kind=ListKind.PICKUP_NOTICE, community=city.b).exists()
    assert not documents.filter(kind=ListKind.PICKUP_NOTICE, community=city.a).exists()  # A is door to door
    pick = documents.get(kind=ListKind.PICK_LIST, district=city.districts[0])
    assert pick.supplier == city.supplier


def test_generating_twice_draws_nothing_new(packed, city):
    first = printing.community_lists_generate(cycle_id=packed.pk, community_id=city.a.pk)
    before = list(PrintDocument.objects.order_by("pk").values_list("pk", "fingerprint", "pdf"))
    again = printing.community_lists_generate(cycle_id=packed.pk, community_id=city.a.pk)
    assert first == again == 3  # receiving list, door list, labels (no pick-up in community A)
    assert list(PrintDocument.objects.order_by("pk").values_list("pk", "fingerprint", "pdf")) == before


def test_a_late_lockdown_change_regenerates_the_list_and_supersedes_the_old_one(packed, city, street):
    printing.community_lists_generate(cycle_id=packed.pk, community_id=city.a.pk)
    key = door_key(packed, city.a)
    old = selectors.document_current(key=key)
    compound = city.places[city.a.pk].compound
    compound.lockdown_level = LockdownLevel.STAY_IN_COMPOUND  # door → pick-up at the receiving point
    compound.save()
    assert services.compound_packages_recompute(compound_id=compound.pk) > 0

    printing.community_lists_generate(cycle_id=packed.pk, community_id=city.a.pk)
    old.refresh_from_db()
    new = selectors.document_current(key=key)
    assert old.superseded_at is not None and new.pk != old.pk and new.fingerprint != old.fingerprint
    assert (
        PrintDocument.objects.filter(kind=ListKind.DOOR_LIST, community=city.a, superseded_at__isnull=True).count() == 1
    )
    assert PrintDocument.objects.filter(
        kind=ListKind.PICKUP_NOTICE, compound=compound, superseded_at__isnull=True
    ).exists()


def test_the_beat_regenerates_lists_of_recomputed_packages(packed, city, settings):
    settings.DELIVERIES_PRINT_ON_PACK = True
    printing.community_lists_generate(cycle_id=packed.pk, community_id=city.a.pk)
    assert printing.stale_lists_refresh() == 0
    compound = city.places[city.a.pk].compound
    compound.lockdown_level = LockdownLevel.STAY_IN_COMPOUND
    compound.save()
    now = datetime.datetime.now(datetime.UTC) + datetime.timedelta(seconds=5)
    services.compound_packages_recompute(compound_id=compound.pk, now=now)
    assert printing.stale_lists_refresh(now=now) == 1  # eager: regenerated right away
    assert PrintDocument.objects.filter(community=city.a, superseded_at__isnull=False).exists()


def test_pick_list_has_products_and_counts_and_nothing_about_residents(packed, city, shop, client):
    key = ListKey(
        kind=ListKind.PICK_LIST,
        cycle_id=packed.pk,
        place_id=city.supplier.pk,
        district_id=city.districts[0].pk,
        delivery_date=door_key(packed, city.a).delivery_date,
    )
    data = selectors.pick_list_data(key=key)
    masks = next(p for p in data["products"] if p["name"].startswith("医用口罩"))
    assert masks["quantity"] == 6
    assert [c["name"] for o in data["offices"] for c in o["communities"]] == [city.a.name, city.b.name]  # crates
    client.force_login(city.users.supplier)
    html = client.get(list_url(key)).content.decode()
    assert "医用口罩" in html
    assert "<th>单位</th>" in html and "<th>单元</th>" not in html  # a product's unit, not a building's
    sheet = load_workbook(io.BytesIO(rendering.xlsx(data, fingerprint_value="x"))).worksheets[0]
    headings = [c.value for c in sheet[4]]
    assert "单位" in headings and "单元" not in headings
    for household in Package.objects.filter(cycle=packed).select_related("household"):
        assert household.household.contact_name not in html


def test_manifest_counts_packages_and_crates_per_community(packed, city, client):
    day = door_key(packed, city.a).delivery_date
    key = ListKey(kind=ListKind.MANIFEST, cycle_id=packed.pk, delivery_date=day, place_id=city.offices[0].pk)
    data = selectors.manifest_data(key=key)
    a = next(c for c in data["communities"] if c["name"] == city.a.name)
    assert (a["packages"], a["crates"]) == (6, 1)
    client.force_login(city.users.office)
    page = client.get(list_url(key))
    assert page.status_code == 200 and "接收人" in page.content.decode()  # the signature columns


def test_pickup_notice_lists_buildings_and_time_slots(packed, city):
    b = city.places[city.b.pk]
    day = Package.objects.get(cycle=packed, household=city.household_b).delivery_date
    data = selectors.pickup_notice_data(
        key=ListKey(kind=ListKind.PICKUP_NOTICE, cycle_id=packed.pk, delivery_date=day, place_id=b.compound.pk)
    )
    assert data["buildings"] == [{"building": b.building.number, "slots": ["08:00–08:30"], "households": 1}]


@needs_pdftotext
def test_labels_carry_the_code_address_and_a_qr_code_to_the_handover_page(packed, city, settings):
    settings.SITE_URL = "https://baogong.example.org"
    key = ListKey(
        kind=ListKind.LABELS,
        cycle_id=packed.pk,
        delivery_date=door_key(packed, city.a).delivery_date,
        place_id=city.a.pk,
    )
    document = printing.document_ensure(key=key)
    text = pdf_text(document.pdf.read())
    package = Package.objects.filter(cycle=packed, community=city.a).first()
    assert package.code in text and "1201" in text
    sheet = load_workbook(io.BytesIO(document.xlsx.read())).worksheets[0]
    links = [row[-1] for row in sheet.iter_rows(min_row=5, values_only=True)]
    assert f"https://baogong.example.org/p/{package.code}/" in links and package.code.startswith(f"{packed.number}-")


# --- who sees what ---------------------------------------------------------------------------


def test_other_communities_suppliers_and_residents_do_not_see_a_door_list(packed, city, client):
    url = list_url(door_key(packed, city.a))
    for user, status in (
        (city.users.worker_b, 404),
        (city.users.supplier, 403),
        (city.users.office, 403),
        (city.users.resident, 403),
        (city.users.operator, 403),
    ):
        client.force_login(user)
        assert client.get(url).status_code in (status, 404), user.role
        assert client.get(url + "?format=pdf").status_code in (status, 404), user.role
    client.force_login(city.users.taskforce)
    assert client.get(url).status_code == 200
    other_district = UserFactory(role="taskforce", district=city.districts[1], is_staff=True)
    client.force_login(other_district)
    assert client.get(url).status_code == 404


def test_a_supplier_sees_its_own_pick_lists_only(packed, city, client):
    from tests.factories import SupplierFactory

    day = door_key(packed, city.a).delivery_date
    key = ListKey(
        kind=ListKind.PICK_LIST,
        cycle_id=packed.pk,
        delivery_date=day,
        place_id=city.supplier.pk,
        district_id=city.districts[0].pk,
    )
    client.force_login(city.users.supplier)
    assert client.get(list_url(key)).status_code == 200
    stranger = UserFactory(role="supplier", supplier=SupplierFactory())
    client.force_login(stranger)
    assert client.get(list_url(key)).status_code == 404


def test_the_index_shows_each_role_its_own_lists(packed, city, client):
    printing.community_lists_generate(cycle_id=packed.pk, community_id=city.a.pk)
    printing.community_lists_generate(cycle_id=packed.pk, community_id=city.b.pk)
    printing.supplier_lists_generate(cycle_id=packed.pk, supplier_id=city.supplier.pk)
    client.force_login(city.users.worker)
    listed = [document for document, _url in client.get(reverse("deliveries:print_index")).context["page"].object_list]
    assert listed and {d.community_id for d in listed} == {city.a.pk}
    client.force_login(city.users.supplier)
    listed = [document for document, _url in client.get(reverse("deliveries:print_index")).context["page"].object_list]
    assert {d.kind for d in listed} == {ListKind.PICK_LIST}


@pytest.mark.parametrize(
    "place,date,kind",
    [
        ("abc", "2026-11-30", "doors"),
        ("1", "2026-13-01", "doors"),
        ("1", "2026-11-30", "nonsense"),
        ("1", "2026-11-30", "pick"),
        ("99999", "2026-11-30", "doors"),
    ],
)
def test_malformed_list_addresses_are_404(packed, city, client, place, date, kind):
    client.force_login(city.users.city_taskforce)
    url = reverse("deliveries:print_list", args=[packed.pk, kind, place, date])
    assert client.get(url).status_code == 404


def test_a_list_of_an_open_cycle_is_404(city, shop, client):
    client.force_login(city.users.worker)
    url = reverse("deliveries:print_list", args=[shop.cycle.pk, "doors", city.a.pk, "2026-11-30"])
    assert client.get(url).status_code == 404


# --- the label's QR code: /p/<code>/ ---------------------------------------------------------


def test_the_label_url_opens_the_package_for_staff_in_scope_only(packed, city, client):
    package = Package.objects.filter(cycle=packed, household=city.household_a).get()
    url = reverse("package_scan", args=[package.code]) + f"?cycle={packed.number}"
    assert client.get(url).status_code == 302  # sign in first, then back here
    client.force_login(city.users.worker)
    page = client.get(url)
    assert page.status_code == 200 and package.code in page.content.decode()
    assert city.household_a.contact_name in page.content.decode()
    for user in (city.users.worker_b, city.users.resident, city.users.supplier, city.users.operator2):
        client.force_login(user)
        assert client.get(url).status_code == 404, user.role
    client.force_login(city.users.worker)
    assert client.get(reverse("package_scan", args=["NO-SUCH-CODE"])).status_code == 404
    assert client.get(reverse("package_scan", args=[package.code]) + "?cycle=x").status_code == 400


# --- print_lists -----------------------------------------------------------------------------


def test_print_lists_writes_every_list_of_the_city(packed, city, tmp_path):
    out = io.StringIO()
    call_command("print_lists", cycle=packed.pk, out=str(tmp_path), stdout=out)
    folder = tmp_path / f"cycle-{packed.number}"
    pdfs = sorted(folder.rglob("*.pdf"))
    xlsxs = sorted(folder.rglob("*.xlsx"))
    current = PrintDocument.objects.filter(cycle=packed, superseded_at__isnull=True)
    assert len(pdfs) == len(xlsxs) == current.count() >= 6
    assert {p.parent.name for p in pdfs} == set(ListKind.values) - {ListKind.SUPPLEMENT, ListKind.SUPPLEMENT_MANIFEST}
    assert str(folder) in out.getvalue()
    assert (folder / "index.tsv").read_text(encoding="utf-8").count("\n") == current.count() + 1
    kept = list(current.values_list("pk", flat=True))
    call_command("print_lists", cycle=packed.pk, out=str(tmp_path), stdout=io.StringIO())
    assert (
        list(PrintDocument.objects.filter(cycle=packed, superseded_at__isnull=True).values_list("pk", flat=True))
        == kept
    )


def test_print_lists_refuses_a_cycle_that_is_not_packed(city, shop, tmp_path):
    with pytest.raises(CommandError, match="close_cycle"):
        call_command("print_lists", cycle=shop.cycle.pk, out=str(tmp_path))
    with pytest.raises(CommandError, match="no cycle"):
        call_command("print_lists", cycle=999999, out=str(tmp_path))


def test_every_list_has_a_page_a_pdf_and_a_spreadsheet(packed, city, shop, client):
    # A baseline order of a household sealed after the close: an urgent-lane package, on a supplement list.
    late = Order.objects.create(
        household=city.household_b,
        cycle=packed,
        status="placed",
        channel="baseline",
        total=0,
        payment_method="free",
        payment_state="free",
    )
    OrderLine.objects.create(
        order=late,
        cycle=packed,
        product=shop.masks,
        name="医用口罩 50只",
        unit="盒",
        quantity=1,
        unit_price=0,
        line_total=0,
    )
    services.supplement_packages_build(
        order_ids=[late.pk], day=packed.first_delivery_date, code=lambda o, prefix: f"B-{prefix}-{o.pk}"
    )
    for community in (city.a, city.b):
        printing.community_lists_generate(cycle_id=packed.pk, community_id=community.pk)
    printing.office_lists_generate(cycle_id=packed.pk, office_id=city.offices[0].pk)
    printing.supplier_lists_generate(cycle_id=packed.pk, supplier_id=city.supplier.pk)
    client.force_login(city.users.city_taskforce)
    documents = list(PrintDocument.objects.filter(cycle=packed, superseded_at__isnull=True))
    assert {d.kind for d in documents} == set(ListKind.values)
    for document in documents:
        key = selectors.key_of(document)
        page = client.get(list_url(key))
        assert page.status_code == 200, document.title
        assert document.title.split(" · ")[1] in page.content.decode()
        pdf = client.get(list_url(key, format="pdf"))
        assert pdf.status_code == 200 and b"".join(pdf.streaming_content).startswith(b"%PDF")
        xlsx = client.get(list_url(key, format="xlsx"))
        assert xlsx.status_code == 200 and "attachment" in xlsx["Content-Disposition"]
    assert client.get(list_url(selectors.key_of(documents[0]), format="doc")).status_code == 404


def test_the_admin_shows_workers_their_own_lists(packed, city, client):
    printing.community_lists_generate(cycle_id=packed.pk, community_id=city.a.pk)
    printing.community_lists_generate(cycle_id=packed.pk, community_id=city.b.pk)
    client.force_login(city.users.worker)
    page = client.get(reverse("admin:deliveries_printdocument_changelist"))
    assert page.status_code == 200
    shown = list(page.context["cl"].queryset)
    assert shown and {d.community_id for d in shown} == {city.a.pk}
    other = PrintDocument.objects.filter(community=city.b).first()
    assert client.get(reverse("admin:deliveries_printdocument_change", args=[other.pk])).status_code == 302


def test_the_workers_list_is_marked_out_of_date_after_a_late_change_then_changed(packed, city, client):
    printing.community_lists_generate(cycle_id=packed.pk, community_id=city.a.pk)
    client.force_login(city.users.worker)

    def door_list_state():
        listed = client.get(reverse("deliveries:print_index")).context["page"].object_list
        door = next(d for d, _url in listed if d.kind == ListKind.DOOR_LIST)
        return door.out_of_date, door.replaced_at

    assert door_list_state() == (False, None)
    compound = city.places[city.a.pk].compound
    compound.lockdown_level = LockdownLevel.STAY_IN_COMPOUND
    compound.save()
    services.compound_packages_recompute(compound_id=compound.pk)
    assert door_list_state() == (True, None)
    page = client.get(reverse("deliveries:print_index")).content.decode()
    assert 'data-state="out-of-date"' in page
    printing.community_lists_generate(cycle_id=packed.pk, community_id=city.a.pk)
    out_of_date, replaced_at = door_list_state()
    assert not out_of_date and replaced_at is not None
    assert 'data-state="replaced"' in client.get(reverse("deliveries:print_index")).content.decode()


# --- the paper people carry (issue 14) ---------------------------------------------------------


def test_the_door_list_names_the_worker_and_adds_up_each_building(packed, city):
    worker = city.users.worker
    worker.last_name, worker.first_name = "王", "芳"
    worker.save()
    data = selectors.list_data(key=door_key(packed, city.a))
    assert data["workers"] == "王芳"
    packages = [p for s in data["sections"] for p in s["packages"]]
    totals = [p["subtotal"] for p in packages if "subtotal" in p]
    assert [t["building"] for t in totals] == ["2号楼", "10号楼"]
    assert sum(t["packages"] for t in totals) == len(packages) and totals[0]["packages"] == 5
    assert sum(t["items"] for t in totals) == sum(p["item_count"] for p in packages)
    text = pdf_text(rendering.pdf(data, fingerprint_value="x" * 12))
    assert "王芳" in text and "2号楼：5个物资包" in text


def test_the_door_list_spreadsheet_is_set_up_to_print(packed, city):
    data = selectors.list_data(key=door_key(packed, city.a))
    sheet = load_workbook(io.BytesIO(rendering.xlsx(data, fingerprint_value="x" * 12))).active
    assert sheet.print_title_rows == "$4:$4", "the headings on every page"
    assert sheet.page_setup.orientation == "landscape" and sheet.page_setup.fitToWidth == 1
    assert sheet.sheet_properties.pageSetUpPr.fitToPage
    assert all(cell.alignment.wrap_text for cell in sheet[5])
    assert "小计" in [cell.value for row in sheet.iter_rows(min_row=5) for cell in row]


def test_labels_carry_the_phone_tail_and_one_label_per_bag(packed, city, shop):
    big = city.places[city.a.pk].households[0]  # phone +8613812341234, room 301
    package = Package.objects.get(cycle=packed, household=big)
    Package.objects.filter(pk=package.pk).update(item_count=23)  # three bags of up to ten
    key = ListKey(kind=ListKind.LABELS, cycle_id=packed.pk, delivery_date=package.delivery_date, place_id=city.a.pk)
    labels = [label for label in selectors.list_data(key=key)["labels"] if label["code"] == package.code]
    assert [(label["bag"], label["bags"], label["phone_tail"]) for label in labels] == [
        (1, 3, "1234"),
        (2, 3, "1234"),
        (3, 3, "1234"),
    ]
    text = pdf_text(rendering.pdf(selectors.list_data(key=key), fingerprint_value="x" * 12))
    assert "2/3" in text and "☎1234" in text


def test_the_print_page_says_while_lists_are_still_being_drawn(packed, city, client, settings):
    settings.DELIVERIES_PRINT_ON_PACK = True
    client.force_login(city.users.city_taskforce)
    html = client.get(reverse("deliveries:print_index")).content.decode()
    assert 'id="print-pending"' in html
    progress = selectors.lists_progress(cycle_id=packed.pk)
    assert progress.drawn == 0 and progress.total > 0
    said = _(
        "Still drawing: the lists of %(drawn)s of %(total)s places are ready. What is shown is not all of this "
        "cycle's paper; reload in a minute."
    ) % {"drawn": progress.drawn, "total": progress.total}
    assert escape(said) in html
    printing.cycle_lists_queue(cycle_id=packed.pk, force=True)  # eager: every list drawn now
    assert 'id="print-pending"' not in client.get(reverse("deliveries:print_index")).content.decode()


def test_crates_are_counted_as_crates_on_every_list(packed, city, shop):
    day = door_key(packed, city.a).delivery_date
    pick_keys = selectors.supplier_keys(cycle_id=packed.pk, supplier_id=shop.supplier.pk)
    pick_crates = sum(
        len(office["communities"])
        for k in pick_keys
        if k.delivery_date == day
        for office in selectors.list_data(key=k)["offices"]
    )
    manifest = selectors.list_data(
        key=ListKey(kind=ListKind.MANIFEST, cycle_id=packed.pk, delivery_date=day, place_id=city.offices[0].pk)
    )
    assert manifest["crates"] == pick_crates == 2, "one crate per community and supplier, whatever the items"
    assert manifest["items"] > manifest["crates"]
    receiving = selectors.list_data(
        key=ListKey(kind=ListKind.RECEIVING, cycle_id=packed.pk, delivery_date=day, place_id=city.a.pk)
    )
    assert [(c["crates"], c["items"]) for c in receiving["crates"]] == [(1, 12)]


# --- the Typst lists (issue 19) ----------------------------------------------------------------------


def set_text(data: dict) -> str:
    """The list's PDF as text in the order its cells are set, without spaces, wrapped lines joined."""
    raw = subprocess.run(
        ["pdftotext", "-raw", "-", "-"],
        input=rendering.pdf(data, fingerprint_value="x" * 12),
        capture_output=True,
        check=True,
    ).stdout.decode()
    return raw.replace(" ", "").replace("\n", "")


def labels_key(cycle, community) -> ListKey:
    day = door_key(cycle, community).delivery_date
    return ListKey(kind=ListKind.LABELS, cycle_id=cycle.pk, delivery_date=day, place_id=community.pk)


@needs_pdftotext
@pytest.mark.skipif(shutil.which("zbarimg") is None and not os.environ.get("CI"), reason="needs zbarimg (zbar-tools)")
def test_every_label_s_qr_code_scans_to_its_package_page(packed, city, tmp_path, settings):
    settings.SITE_URL = "https://baogong.example.org"
    data = selectors.list_data(key=labels_key(packed, city.a))
    pdf = rendering.pdf(data, fingerprint_value="x" * 12)
    (tmp_path / "labels.pdf").write_bytes(pdf)
    subprocess.run(["pdftoppm", "-r", "300", "-png", str(tmp_path / "labels.pdf"), str(tmp_path / "page")], check=True)
    pages = sorted(str(p) for p in tmp_path.glob("page*.png"))
    scanned = subprocess.run(["zbarimg", "-q", *pages], capture_output=True, text=True).stdout.split()
    expected = {f"QR-Code:https://baogong.example.org/p/{label['code']}/" for label in data["labels"]}
    assert set(scanned) == expected and len(scanned) == len(data["labels"])


@needs_pdftotext
def test_text_that_looks_like_typesetting_markup_is_printed_as_written(packed, city):
    """Typst sets the door list and labels: its markup characters in a name or a note are text."""
    odd = '王#五 *粗* _斜_ $x$ [链接](a) \\ "引号" <b> @ref // 注释'
    package = Package.objects.filter(cycle=packed, community=city.a).first()
    package.household.contact_name = odd
    package.household.care_note = "轮椅 #set page(width: 1mm)"
    package.household.save()
    data = selectors.list_data(key=door_key(packed, city.a))
    flat = set_text(data)
    assert odd.replace(" ", "") in flat
    assert "轮椅#setpage(width:1mm)" in flat


@needs_pdftotext
def test_typst_and_weasyprint_print_the_same_door_list(packed, city, street, settings):
    """The engine is a setting (PAPER_ENGINE): both print every row, mark and figure of the list."""
    data = selectors.list_data(key=door_key(packed, city.a))
    texts = {}
    for engine in ("typst", "weasyprint"):
        settings.PAPER_ENGINE = engine
        texts[engine] = pdf_text(rendering.pdf(data, fingerprint_value="x" * 12)).replace(" ", "")
    for section in data["sections"]:
        for package in section["packages"]:
            for value in (package["code"], package["contact"], package["phone"], package["room"]):
                assert all(value.replace(" ", "") in text for text in texts.values()), value
    assert all("第1页，共1页" in text or "Page1of1" in text for text in texts.values())


def _texts(value, key=""):
    """The text leaves of a list's data, with the key they are under."""
    if isinstance(value, dict):
        for k, v in value.items():
            yield from _texts(v, k)
    elif isinstance(value, list | tuple):
        for v in value:
            yield from _texts(v, key)
    elif isinstance(value, str) and value:
        yield key, value


NOT_PRINTED = {"kind", "mode", "care", "assigned_worker", "code_prefix", "community_code", "compound_code"}
# the header of a community's lists names its office, district and receiving point; not every list prints them
NOT_PRINTED_ON = {
    "doors": {"district", "office", "receiving_point"},
    "labels": {"district", "office", "receiving_point", "hotline"},
    "receiving": {"district", "code"},  # a compound's code orders the rows
    "manifest": {"code"},  # a community's code orders the rows
}


@needs_pdftotext
def test_every_list_prints_every_text_of_its_data(packed, city):
    """Typst sets every list now: whatever text a list's data holds is on its paper."""
    units = selectors.cycle_units(cycle_id=packed.pk)
    keys = [k for c in units.communities for k in selectors.community_keys(cycle_id=packed.pk, community_id=c)]
    keys += [k for o in units.offices for k in selectors.office_keys(cycle_id=packed.pk, office_id=o)]
    keys += [k for s in units.suppliers for k in selectors.supplier_keys(cycle_id=packed.pk, supplier_id=s)]
    assert {key.kind for key in keys} >= {"doors", "labels", "receiving", "pick", "manifest"}
    for key in keys:
        data = selectors.list_data(key=key)
        flat = set_text(data)
        missing = {
            (name, text)
            for name, text in _texts(data)
            if name not in NOT_PRINTED | NOT_PRINTED_ON.get(key.kind, set()) and text.replace(" ", "") not in flat
        }
        assert not missing, (key.kind, missing)
