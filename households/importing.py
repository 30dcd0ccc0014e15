"""Reading the household registers communities keep (CSV or XLSX) and turning them into a plan.

The plan is computed without writing; :func:`apply_plan` writes it set-based. Headers may be in
Chinese or English; a CSV may be UTF-8 (with or without BOM) or GB18030, as Excel saves it.
"""

import csv
import io
import re
import unicodedata
import zipfile
from dataclasses import dataclass, field

from django.db.models import Q
from django.utils.translation import gettext as _
from openpyxl import load_workbook

from core.edges import FORMULA_STARTS, floor_from_room, has_control_characters
from core.errors import BaogongError
from core.phones import InvalidPhone, phone_normalize
from households.models import Building, Household, HouseholdPhone, PopulationType, Role, User

MAX_FILE_BYTES = 5 * 1024 * 1024
MAX_ROWS = 20000
# An .xlsx is a zip: what it unpacks to is bounded before a single row is read (a 141 KB
# "decompression bomb" can hold a million rows). 20,000 rows of a dozen columns take about 10 MB.
MAX_UNCOMPRESSED_BYTES = 32 * 1024 * 1024
MAX_COLUMNS = 40
# Columns whose text is free (a formula there is refused); phones and numbers are parsed strictly.
FREE_TEXT = (
    "compound",
    "building",
    "unit",
    "room",
    "contact_name",
    "population_type",
    "care",
    "care_note",
    "assigned_worker",
)

# column → accepted header spellings (compared without spaces, case-insensitively)
COLUMNS: dict[str, tuple[str, ...]] = {
    "compound": ("小区", "楼院", "小区名称", "compound"),
    "building": ("楼栋", "楼号", "楼栋号", "building"),
    "unit": ("单元", "unit"),
    "floor": ("楼层", "层", "floor"),
    "room": ("室", "房号", "门牌号", "房间号", "room"),
    "contact_name": ("联系人", "户主", "姓名", "contact", "contactname", "name"),
    "phones": ("电话", "手机", "联系电话", "手机号", "phone", "phones"),
    "members": ("人数", "家庭人数", "members"),
    "population_type": ("人口类型", "populationtype", "population"),
    "care": ("关爱标记", "特殊人群", "care", "careflags"),
    "care_note": ("其他关爱需求", "备注", "carenote", "note"),
    "assigned_worker": ("包户人", "包户干部", "assignedworker", "worker"),
}
REQUIRED = ("compound", "building", "room", "contact_name", "phones")

CARE_WORDS = {
    "elderly_alone": ("独居老人", "独居", "elderlyalone", "elderly"),
    "disabled": ("残疾", "残疾人", "disabled"),
    "pregnant": ("孕妇", "孕产妇", "pregnant"),
    "chronic_medicine": ("慢病用药", "慢性病", "慢病", "chronicmedicine", "chronic"),
    "dialysis": ("透析", "dialysis"),
}
POPULATION_WORDS = {
    PopulationType.PERMANENT: ("常住", "常住人口", "户籍", "permanent"),
    PopulationType.FLOATING: ("流动", "流动人口", "floating"),
}
_SPLIT = re.compile(r"[,，;；/、\s]+")


def _fold(text: str) -> str:
    return re.sub(r"\s+", "", str(text)).lower()


def _cell(value) -> str:
    """A cell as clean text: full-width digits and letters folded (９０１ → 901), spaces trimmed."""
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    return unicodedata.normalize("NFKC", str(value)).strip()


def read_rows(filename: str, content: bytes) -> list[dict[str, str]]:
    """The file's data rows as dicts keyed by column name; raises BaogongError for a bad file."""
    name = filename.lower()
    if name.endswith(".xlsx"):
        table = _read_xlsx(content)
    elif name.endswith(".csv"):
        table = _read_csv(content)
    else:
        raise BaogongError(_("Upload a .csv or .xlsx file."))
    table = [row for row in table if any(_cell(v) for v in row)]
    if not table:
        raise BaogongError(_("The file is empty."))
    header, data = table[0], table[1:]
    columns: dict[int, str] = {}
    for index, title in enumerate(header):
        folded = _fold(_cell(title))
        for column, spellings in COLUMNS.items():
            if folded in spellings and column not in columns.values():
                columns[index] = column
    missing = [column for column in REQUIRED if column not in columns.values()]
    if missing:
        names = "、".join(COLUMNS[column][0] for column in missing)
        raise BaogongError(_("The first row must name the columns; missing: %(columns)s.") % {"columns": names})
    if not data:
        raise BaogongError(_("The file has a header but no households."))
    if len(data) > MAX_ROWS:
        raise _too_many_rows()
    rows = []
    for values in data:
        row = {column: "" for column in COLUMNS}
        for index, column in columns.items():
            if index < len(values):
                row[column] = _cell(values[index])
        rows.append(row)
    return rows


def check_file(filename: str, content: bytes) -> None:
    """Refuse, before anything is read, a file that is too large or unpacks to too much (fast:
    only the zip's directory is looked at)."""
    if len(content) > MAX_FILE_BYTES:
        raise BaogongError(_("The file is too large (at most %(mb)d MB).") % {"mb": MAX_FILE_BYTES // (1024 * 1024)})
    if not filename.lower().endswith(".xlsx"):
        return
    try:
        with zipfile.ZipFile(io.BytesIO(content)) as archive:
            unpacked = sum(item.file_size for item in archive.infolist())
    except (zipfile.BadZipFile, ValueError, OSError):
        return  # not a workbook at all: reading it says so, as a refused import with the reason
    if unpacked > MAX_UNCOMPRESSED_BYTES:
        raise BaogongError(
            _(
                "The workbook unpacks to more than %(mb)d MB: it holds far more than %(n)d rows. Split it into smaller files."
            )
            % {"mb": MAX_UNCOMPRESSED_BYTES // (1024 * 1024), "n": MAX_ROWS}
        )


def _too_many_rows() -> BaogongError:
    return BaogongError(_("The file has more than %(n)d rows; split it into smaller files.") % {"n": MAX_ROWS})


def _read_xlsx(content: bytes) -> list[list]:
    check_file("file.xlsx", content)
    try:
        workbook = load_workbook(io.BytesIO(content), read_only=True, data_only=True)
    except Exception:  # openpyxl raises many types for a damaged or foreign file
        raise BaogongError(_("The file could not be read as an Excel workbook (.xlsx).")) from None
    try:
        sheet = workbook.worksheets[0]
        table = []
        # Streamed, and stopped as soon as there are more rows than a file may hold.
        for row in sheet.iter_rows(values_only=True, max_col=MAX_COLUMNS):
            table.append(list(row))
            if len(table) > MAX_ROWS + 1:
                raise _too_many_rows()
        return table
    except BaogongError:
        raise
    except Exception:
        raise BaogongError(_("The file could not be read as an Excel workbook (.xlsx).")) from None
    finally:
        workbook.close()


def _read_csv(content: bytes) -> list[list]:
    for encoding in ("utf-8-sig", "gb18030"):
        try:
            text = content.decode(encoding)
        except UnicodeDecodeError:
            continue
        break
    else:
        raise BaogongError(_("The CSV file is not in UTF-8 or GBK encoding."))
    if "\x00" in text:
        raise BaogongError(_("The file could not be read as a CSV file."))
    try:
        table = []
        for row in csv.reader(io.StringIO(text)):
            table.append(row[:MAX_COLUMNS])
            if len(table) > MAX_ROWS + 1:
                raise _too_many_rows()
        return table
    except csv.Error:
        raise BaogongError(_("The file could not be read as a CSV file.")) from None


@dataclass
class PlannedHousehold:
    row: int
    building_id: int
    unit: str
    floor: int
    room: str
    values: dict
    phones: list[str]
    existing_id: int | None = None


@dataclass
class ImportPlan:
    to_create: list[PlannedHousehold] = field(default_factory=list)
    to_update: list[PlannedHousehold] = field(default_factory=list)
    report: list[dict] = field(default_factory=list)

    @property
    def created(self) -> int:
        return len(self.to_create)

    @property
    def updated(self) -> int:
        return len(self.to_update)

    @property
    def rejected(self) -> int:
        return sum(1 for line in self.report if line["action"] == "rejected")


def plan_import(*, community_id: int, rows: list[dict[str, str]]) -> ImportPlan:
    """Validate every row against the community's buildings and households (three queries in all)."""
    buildings = {
        (_fold(compound_name), _fold(number)): building_id
        for building_id, compound_name, number in Building.objects.filter(
            compound__community_id=community_id
        ).values_list("id", "compound__name", "number")
    }
    compound_names = {compound for compound, _number in buildings}
    workers = {
        _fold(username): user_id
        for user_id, username in User.objects.filter(role=Role.WORKER, community_id=community_id).values_list(
            "id", "username"
        )
    }
    existing = {
        (building_id, unit, room): household_id
        for household_id, building_id, unit, room in Household.objects.filter(
            building__compound__community_id=community_id
        ).values_list("id", "building_id", "unit", "room")
    }
    plan = ImportPlan()
    seen: dict[tuple, int] = {}
    for number, row in enumerate(rows, start=2):
        errors: list[str] = []
        for column in FREE_TEXT:
            # a spreadsheet formula is never an address or a name (and dangerous when exported again)
            if row[column].startswith(FORMULA_STARTS) or has_control_characters(row[column]):
                errors.append(
                    _("The column “%(column)s” holds “%(value)s”, which looks like a formula.")
                    % {"column": COLUMNS[column][0], "value": row[column][:40]}
                )
        unit_label = _("unit %(unit)s") % {"unit": row["unit"].removesuffix("单元")} if row["unit"] else ""
        address = " ".join(v for v in (row["compound"], row["building"], unit_label, row["room"]) if v)
        building_id = buildings.get((_fold(row["compound"]), _fold(row["building"])))
        if building_id is None:
            if _fold(row["compound"]) not in compound_names:
                errors.append(_("Unknown compound “%(compound)s” in this community.") % {"compound": row["compound"]})
            else:
                errors.append(
                    _("Compound “%(compound)s” has no building “%(building)s”.")
                    % {"compound": row["compound"], "building": row["building"]}
                )
        unit = row["unit"].removesuffix("单元").strip()
        room = row["room"].removesuffix("室").strip()
        if not room:
            errors.append(_("The room number is missing."))
        elif len(room) > 10:
            errors.append(_("The room number “%(room)s” is too long.") % {"room": room})
        if len(unit) > 10:
            errors.append(_("The unit “%(unit)s” is too long.") % {"unit": unit})
        floor = _parse_floor(row["floor"], room, errors)
        contact_name = row["contact_name"]
        if not contact_name:
            errors.append(_("The contact name is missing."))
        elif len(contact_name) > 50:
            errors.append(_("The contact name is too long."))
        phones = _parse_phones(row["phones"], errors)
        members = _parse_members(row["members"], errors)
        population_type = _parse_population(row["population_type"], errors)
        care = _parse_care(row["care"], errors)
        care_note = row["care_note"][:200]
        assigned_worker_id = None
        if row["assigned_worker"]:
            assigned_worker_id = workers.get(_fold(row["assigned_worker"]))
            if assigned_worker_id is None:
                errors.append(
                    _("“%(worker)s” is not a worker account of this community.") % {"worker": row["assigned_worker"]}
                )
        key = (building_id, unit, room)
        if not errors and key in seen:
            errors.append(_("The same address is already in row %(row)d.") % {"row": seen[key]})
        if errors:
            plan.report.append({"row": number, "action": "rejected", "address": address, "errors": errors})
            continue
        seen[key] = number
        values = {
            "contact_name": contact_name,
            "members": members,
            "population_type": population_type,
            "care_note": care_note,
            "assigned_worker_id": assigned_worker_id,
            **care,
        }
        planned = PlannedHousehold(
            row=number,
            building_id=building_id,
            unit=unit,
            floor=floor,
            room=room,
            values=values,
            phones=phones,
            existing_id=existing.get(key),
        )
        if planned.existing_id:
            plan.to_update.append(planned)
            plan.report.append({"row": number, "action": "updated", "address": address, "errors": []})
        else:
            plan.to_create.append(planned)
            plan.report.append({"row": number, "action": "created", "address": address, "errors": []})
    return plan


def _parse_floor(text: str, room: str, errors: list[str]) -> int:

    if text:
        try:
            floor = int(float(text.removesuffix("层").removesuffix("楼")))
        except ValueError:
            errors.append(_("The floor “%(floor)s” is not a number.") % {"floor": text})
            return 1
        if not -5 <= floor <= 200:
            errors.append(_("The floor “%(floor)s” is out of range.") % {"floor": text})
        return floor
    return floor_from_room(room) or 1


def _parse_phones(text: str, errors: list[str]) -> list[str]:
    parts = [part for part in _SPLIT.split(text) if part]
    # "0371 67180381" splits on the space: glue an area code back to its number.
    glued: list[str] = []
    for part in parts:
        if glued and glued[-1].startswith("0") and len(glued[-1]) <= 4 and glued[-1].isdigit():
            glued[-1] += part
        else:
            glued.append(part)
    phones: list[str] = []
    if not glued:
        errors.append(_("The phone number is missing."))
    for part in glued:
        try:
            number = phone_normalize(part)
        except InvalidPhone as exc:
            errors.append(exc.message)
            continue
        if number not in phones:
            phones.append(number)
    return phones


def _parse_members(text: str, errors: list[str]) -> int:
    if not text:
        return 1
    try:
        members = int(float(text.removesuffix("人")))
    except ValueError:
        errors.append(_("The number of members “%(members)s” is not a number.") % {"members": text})
        return 1
    if not 1 <= members <= 50:
        errors.append(_("The number of members must be between 1 and 50."))
    return members


def _parse_population(text: str, errors: list[str]) -> str:
    if not text:
        return PopulationType.PERMANENT
    folded = _fold(text)
    for value, words in POPULATION_WORDS.items():
        if folded in words:
            return value
    errors.append(_("Unknown population type “%(value)s” (use 常住 or 流动).") % {"value": text})
    return PopulationType.PERMANENT


def _parse_care(text: str, errors: list[str]) -> dict:
    """Care flags from the care column; an unknown word is an error, never silently dropped."""
    care = {flag: False for flag in CARE_WORDS}
    for part in _SPLIT.split(text):
        if not part:
            continue
        folded = _fold(part)
        for flag, words in CARE_WORDS.items():
            if folded in words:
                care[flag] = True
                break
        else:
            errors.append(
                _(
                    "Unknown care mark “%(mark)s”: use 独居老人, 残疾, 孕妇, 慢病用药 or 透析, and write other needs in 备注."
                )
                % {"mark": part}
            )
    return care


def apply_plan(plan: ImportPlan) -> None:
    """Write a plan: one bulk insert, one bulk update, and phones replaced set-based."""
    fields = ["floor", "contact_name", "members", "population_type", "care_note", "assigned_worker", *CARE_WORDS]
    created = Household.objects.bulk_create(
        [
            Household(building_id=p.building_id, unit=p.unit, floor=p.floor, room=p.room, **p.values)
            for p in plan.to_create
        ],
        batch_size=2000,
    )
    if plan.to_create and created[0].pk is None:  # backends that cannot return ids
        keys = Q()
        for p in plan.to_create:
            keys |= Q(building_id=p.building_id, unit=p.unit, room=p.room)
        ids = {
            (h.building_id, h.unit, h.room): h.pk
            for h in Household.objects.filter(keys).only("building_id", "unit", "room")
        }
        for household, p in zip(created, plan.to_create, strict=True):
            household.pk = ids[(p.building_id, p.unit, p.room)]
    updates = []
    for p in plan.to_update:
        household = Household(pk=p.existing_id, floor=p.floor, **p.values)
        updates.append(household)
    Household.objects.bulk_update(updates, fields=fields, batch_size=1000)
    # An updated household keeps the numbers it had (a hotline may have added one); the file's
    # numbers come first and the first of them becomes the primary one.
    kept: dict[int, list[str]] = {}
    for household_id, number in (
        HouseholdPhone.objects.filter(household_id__in=[p.existing_id for p in plan.to_update])
        .order_by("-is_primary", "id")
        .values_list("household_id", "number")
    ):
        kept.setdefault(household_id, []).append(number)
    HouseholdPhone.objects.filter(household_id__in=list(kept)).delete()
    phones = []
    for household_id, p in [
        *((h.pk, p) for h, p in zip(created, plan.to_create, strict=True)),
        *((p.existing_id, p) for p in plan.to_update),
    ]:
        numbers = list(dict.fromkeys([*p.phones, *kept.get(household_id, [])]))
        phones += [
            HouseholdPhone(household_id=household_id, number=n, is_primary=(i == 0)) for i, n in enumerate(numbers)
        ]
    HouseholdPhone.objects.bulk_create(phones, batch_size=5000)
