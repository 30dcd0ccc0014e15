"""Household import: each row validated, a report of created/updated/rejected, a bad file changes nothing."""

import io

import pytest
from django.urls import reverse
from openpyxl import Workbook

from households import services
from households.models import Household, HouseholdImport, HouseholdPhone, ImportStatus

pytestmark = pytest.mark.django_db

HEADER = "小区,楼栋,单元,室,联系人,电话,人数,人口类型,关爱标记,备注\n"


def run(city, content: bytes, filename="register.csv", dry_run=False, community=None) -> HouseholdImport:
    household_import = services.household_import_create(
        community_id=(community or city.a).pk,
        uploaded_by=city.users.worker,
        filename=filename,
        content=content,
        dry_run=dry_run,
    )
    return services.household_import_run(import_id=household_import.pk)


def csv_for(city, *rows: str, encoding="utf-8") -> bytes:
    return (HEADER + "".join(row + "\n" for row in rows)).encode(encoding)


def address(city):
    place = city.places[city.a.pk]
    return place.compound.name, place.building.number


def snapshot():
    return (
        sorted(Household.objects.values_list("id", "building_id", "unit", "room", "contact_name", "members")),
        sorted(HouseholdPhone.objects.values_list("household_id", "number")),
    )


def test_valid_rows_are_created_and_updated(city):
    compound, building = address(city)
    existing = city.places[city.a.pk].households[0]
    content = csv_for(
        city,
        f"{compound},{building},2,502,李秀英,13812340001;0371-67180381,3,常住,独居老人、透析,轮椅",
        f"{compound},{building},{existing.unit},{existing.room},张建国,13812340002,1,流动,,",
    )
    result = run(city, content)
    assert result.status == ImportStatus.DONE
    assert (result.created_count, result.updated_count, result.rejected_count) == (1, 1, 0)
    created = Household.objects.get(building=city.places[city.a.pk].building, unit="2", room="502")
    assert created.floor == 5 and created.members == 3 and created.elderly_alone and created.dialysis
    assert created.care_note == "轮椅"
    assert list(created.phones.order_by("-is_primary").values_list("number", flat=True)) == [
        "+8613812340001",
        "+8637167180381",
    ]
    existing.refresh_from_db()
    assert existing.contact_name == "张建国" and existing.population_type == "floating"
    # the file's number becomes the primary one; the number the household had is kept
    old_number = city.places[city.a.pk].households[0].phones.order_by("id").values_list("number", flat=True)
    assert list(existing.phones.order_by("-is_primary", "id").values_list("number", flat=True))[0] == "+8613812340002"
    assert existing.phones.count() == 2 and len(set(old_number)) == 2


def test_unknown_care_marks_and_formulas_are_rejected_and_full_width_digits_folded(city):
    compound, building = address(city)
    result = run(
        city,
        csv_for(
            city,
            f"{compound},{building},1,201,王芳,13812340021,2,,独居老人、外星人,",
            f"{compound},{building},1,202,=1+2,13812340022,2,,,",
            f"{compound},{building},１,９０３,李雷,13812340023,2,,,",
        ),
    )
    assert (result.created_count, result.rejected_count) == (1, 2)
    assert "外星人" in " ".join(result.report[0]["errors"])
    assert Household.objects.filter(unit="1", room="903").exists()


def test_bad_rows_are_rejected_with_reasons_and_good_rows_still_import(city):
    compound, building = address(city)
    content = csv_for(
        city,
        f"{compound},{building},1,601,王芳,13812340003,2,,,",
        f"{compound},99号楼,1,602,赵磊,13812340004,2,,,",
        f"不存在小区,{building},1,603,刘洋,13812340005,2,,,",
        f"{compound},{building},1,604,陈静,12345,2,,,",
        f"{compound},{building},1,601,王芳,13812340003,2,,,",
        f"{compound},{building},1,605,,13812340006,0,外星,,",
    )
    before = Household.objects.count()
    result = run(city, content)
    assert (result.created_count, result.updated_count, result.rejected_count) == (1, 0, 5)
    assert Household.objects.count() == before + 1
    reasons = {line["row"]: " ".join(line["errors"]) for line in result.report if line["action"] == "rejected"}
    assert "99号楼" in reasons[3]
    assert "不存在小区" in reasons[4]
    assert "12345" in reasons[5]
    assert "2" in reasons[6]  # duplicate of row 2
    assert len(result.report[5]["errors"]) == 3  # no name, members 0, unknown population type
    assert all(
        any("\u4e00" <= ch <= "\u9fff" for ch in reason.replace("不存在小区", "")) for reason in reasons.values()
    )


def test_bad_file_changes_nothing(city):
    before = snapshot()
    for filename, content in [
        ("register.csv", b""),
        ("register.csv", "姓名,年龄\n张三,3\n".encode()),
        ("register.xlsx", b"this is not a workbook"),
        ("register.csv", HEADER.encode()),
        ("register.csv", b"\xff\xfe\x00\x00garbage\x00"),
    ]:
        result = run(city, content, filename=filename)
        assert result.status == ImportStatus.FAILED, filename
        assert any("\u4e00" <= ch <= "\u9fff" for ch in result.error), result.error
    assert snapshot() == before


def test_wrong_extension_is_refused_by_the_form(city, client):
    from django.core.files.uploadedfile import SimpleUploadedFile

    client.force_login(city.users.worker)
    response = client.post(
        "/households/import/", {"community": city.a.pk, "file": SimpleUploadedFile("r.pdf", b"%PDF-1.4")}
    )
    assert response.status_code == 200
    assert not HouseholdImport.objects.exists()


def test_dry_run_reports_but_changes_nothing(city):
    compound, building = address(city)
    before = snapshot()
    result = run(city, csv_for(city, f"{compound},{building},1,701,王芳,13812340007,2,,,"), dry_run=True)
    assert result.status == ImportStatus.DONE and result.created_count == 1
    assert snapshot() == before


def test_xlsx_and_gbk_csv_are_read(city):
    compound, building = address(city)
    workbook = Workbook()
    sheet = workbook.active
    sheet.append(["小区", "楼栋", "单元", "室", "联系人", "电话", "楼层"])
    sheet.append([compound, building, 1, 801, "周杰", 13812340008, 8])
    buffer = io.BytesIO()
    workbook.save(buffer)
    assert run(city, buffer.getvalue(), filename="register.xlsx").created_count == 1
    gbk = csv_for(city, f"{compound},{building},1,802,吴磊,13812340009,2,常住,孕妇,").replace(b"\r", b"")
    result = run(city, gbk.decode().encode("gb18030"))
    assert result.created_count == 1
    assert Household.objects.get(room="802").pregnant


def test_rows_of_another_community_are_refused(city):
    other = city.places[city.b.pk]
    result = run(city, csv_for(city, f"{other.compound.name},{other.building.number},1,901,王芳,13812340010,2,,,"))
    assert result.rejected_count == 1 and result.created_count == 0


def test_running_an_import_twice_changes_nothing_more(city):
    compound, building = address(city)
    household_import = services.household_import_create(
        community_id=city.a.pk,
        uploaded_by=None,
        filename="r.csv",
        content=csv_for(city, f"{compound},{building},1,1001,王芳,13812340011,2,,,"),
    )
    services.household_import_run(import_id=household_import.pk)
    after_first = snapshot()
    services.household_import_run(import_id=household_import.pk)
    assert snapshot() == after_first
    # and importing the same file again updates instead of doubling
    again = run(city, csv_for(city, f"{compound},{building},1,1001,王芳,13812340011,2,,,"))
    assert (again.created_count, again.updated_count) == (0, 1)
    assert Household.objects.filter(room="1001").count() == 1


def _xlsx_bomb(rows: int) -> bytes:
    """A workbook of ``rows`` one-cell rows, zipped hard: small on disk, huge once unpacked."""
    import zipfile

    sheet = '<row><c t="inlineStr"><is><t>x</t></is></c></row>' * rows
    files = {
        "[Content_Types].xml": '<?xml version="1.0"?><Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
        '<Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/>'
        '<Default Extension="xml" ContentType="application/xml"/>'
        '<Override PartName="/xl/workbook.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"/>'
        '<Override PartName="/xl/worksheets/sheet1.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"/>'
        "</Types>",
        "_rels/.rels": '<?xml version="1.0"?><Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
        '<Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/officeDocument" Target="xl/workbook.xml"/>'
        "</Relationships>",
        "xl/workbook.xml": '<?xml version="1.0"?><workbook xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" '
        'xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships"><sheets>'
        '<sheet name="Sheet1" sheetId="1" r:id="rId1"/></sheets></workbook>',
        "xl/_rels/workbook.xml.rels": '<?xml version="1.0"?><Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
        '<Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/worksheet" Target="worksheets/sheet1.xml"/>'
        "</Relationships>",
        "xl/worksheets/sheet1.xml": '<?xml version="1.0"?><worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main">'
        f"<sheetData>{sheet}</sheetData></worksheet>",
    }
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", compression=zipfile.ZIP_DEFLATED, compresslevel=9) as archive:
        for name, text in files.items():
            archive.writestr(name, text)
    return out.getvalue()


def test_a_million_row_bomb_is_refused_at_upload_in_seconds(city, client):
    import time

    from django.core.files.uploadedfile import SimpleUploadedFile

    bomb = _xlsx_bomb(1_000_000)
    assert len(bomb) < 1024 * 1024  # small on disk
    client.force_login(city.users.worker)
    started = time.monotonic()
    response = client.post(
        reverse("households:import"),
        {
            "community": city.a.pk,
            "file": SimpleUploadedFile("register.xlsx", bomb),
        },
    )
    elapsed = time.monotonic() - started
    assert response.status_code == 200 and elapsed < 5, elapsed
    assert "拆分" in response.content.decode() or "行" in response.content.decode()
    assert not HouseholdImport.objects.exists()


def test_rows_beyond_the_limit_stop_the_reading(city, monkeypatch):
    from households import importing

    monkeypatch.setattr(importing, "MAX_ROWS", 50)
    result = run(city, _xlsx_bomb(5000), filename="register.xlsx")
    assert result.status == ImportStatus.FAILED and "50" in result.error


@pytest.mark.parametrize("column", range(10))
def test_a_formula_in_any_free_text_column_is_refused(city, column):
    compound, building = address(city)
    cells = [compound, building, "1", "705", "王芳", "13812340031", "2", "", "", ""]
    if column in (5, 6):  # the phone and member columns are parsed strictly instead
        return
    cells[column] = '=HYPERLINK("http://x")' if column != 8 else "@SUM(1)"
    result = run(city, csv_for(city, ",".join(f'"{c}"' if "," in c else c for c in cells)))
    assert result.created_count == 0 and result.rejected_count == 1, (column, result.report)


def test_an_unexpected_error_ends_the_import_as_failed_never_pending(city, monkeypatch):
    from households import importing

    def broken(**kwargs):
        raise RuntimeError("boom")

    monkeypatch.setattr(importing, "plan_import", broken)
    compound, building = address(city)
    result = run(city, csv_for(city, f"{compound},{building},1,706,王芳,13812340032,2,,,"))
    assert result.status == ImportStatus.FAILED and "RuntimeError" in result.error
