"""The offline fallback: everything a community needs for the next three delivery days, in one
archive, so the work goes on if the system cannot be reached (a network cut, a server down).

Lives in hotlines, the top of the dependency chain, because it gathers the printed lists of
deliveries and the care ledger of hotlines.
"""

import datetime
import io
from dataclasses import dataclass

import pyzipper
from django.utils import timezone, translation
from django.utils.translation import gettext as _
from openpyxl import Workbook

from core.edges import xlsx_append
from core.errors import BaogongError, NotFound
from core.phones import phone_display
from deliveries.models import Package
from deliveries.printing import selectors as printing_selectors
from deliveries.printing import services as printing_services
from hotlines import selectors
from households import selectors as household_selectors
from households.models import HouseholdPhone, User

OFFLINE_DAYS = 3
# The archive holds residents' full phone numbers: it is AES-256 encrypted with a password the
# community chooses (a copy on a lost USB stick must tell nobody anything).
MIN_PASSWORD_LENGTH = 8


@dataclass(frozen=True)
class OfflineArchive:
    filename: str
    content: bytes
    lists: int
    ledger_households: int


def _ledger_workbook(households) -> bytes:
    book = Workbook()
    sheet = book.active
    sheet.title = _("Care ledger")[:31]
    xlsx_append(
        sheet,
        [
            _("Address"),
            _("Contact name"),
            _("Phone numbers"),
            _("Members"),
            _("Care"),
            _("Assigned worker"),
            _("Check in every (days)"),
            _("Last check-in"),
        ],
    )
    for h in households:
        xlsx_append(
            sheet,
            [
                h.address,
                h.contact_name,
                "、".join(phone_display(p.number) for p in h.phones.all()),
                h.members,
                "、".join(str(label) for label in h.care_labels),
                h.assigned_worker.display_name if h.assigned_worker else "",
                h.cadence_days,
                timezone.localtime(h.last_checkin_at).strftime("%Y-%m-%d %H:%M") if h.last_checkin_at else "",
            ],
        )
    for column, width in zip("ABCDEFGH", (30, 12, 30, 8, 24, 12, 10, 18), strict=True):
        sheet.column_dimensions[column].width = width
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def _call_list_workbook(packages) -> bytes:
    """Every household with a package on the day, with its full phone numbers: the worker offline
    can still call a door that does not answer (the printed door list masks them)."""
    book = Workbook()
    sheet = book.active
    sheet.title = _("Call list")[:31]
    xlsx_append(
        sheet, [_("Address"), _("Contact name"), _("Phone numbers"), _("Package"), _("Delivery"), _("To collect")]
    )
    phones: dict[int, list[str]] = {}
    for household_id, number in (
        HouseholdPhone.objects.filter(household_id__in=[p.household_id for p in packages])
        .order_by("household_id", "-is_primary", "id")
        .values_list("household_id", "number")
    ):
        phones.setdefault(household_id, []).append(phone_display(number))
    for p in packages:
        xlsx_append(
            sheet,
            [
                p.household.address,
                p.household.contact_name,
                "、".join(phones.get(p.household_id, [])),
                p.code,
                p.get_mode_display(),
                float(p.to_collect) if p.to_collect else "",
            ],
        )
    for column, width in zip("ABCDEF", (34, 12, 32, 18, 10, 10), strict=True):
        sheet.column_dimensions[column].width = width
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def check_password(password: str, again: str) -> str:
    """The community's password for the archive: long enough, typed the same twice (else 400)."""
    if len(password or "") < MIN_PASSWORD_LENGTH:
        message = _("Choose a password of at least %(n)d characters for the archive.") % {"n": MIN_PASSWORD_LENGTH}
        raise BaogongError(message, errors={"password": [message]})
    if password != again:
        message = _("The two passwords differ: type the same password twice.")
        raise BaogongError(message, errors={"password_again": [message]})
    return password


def community_offline_archive(
    *,
    user: User,
    community_id: int,
    password: str,
    today: datetime.date | None = None,
) -> OfflineArchive:
    """One AES-encrypted ZIP for one community: the printed lists (PDF and spreadsheet) of every
    cycle for the next three days with deliveries, a call list per day with full phone numbers,
    the care ledger as a spreadsheet with full phone numbers (for calling), and an index with the
    hotline number.

    Guarantees: only a community the user may see (else NotFound); every entry is encrypted
    with ``password`` (AES-256), so nothing in it can be read without it; the lists are the
    current kept ones, drawn first if missing or out of date (printing_services.document_ensure),
    so the archive is what a printer would give now; nothing is written but the lists' own files.
    """
    community = household_selectors.community_list(user=user).filter(pk=community_id).first()
    if community is None:
        raise NotFound(_("There is no such community, or it is not yours to see."))
    today = today or timezone.localdate()
    # the next three days on which the community has packages to deliver (today included)
    days = sorted(
        set(
            Package.objects.filter(community_id=community.pk, delivery_date__gte=today, urgent=False)
            .order_by()
            .values_list("delivery_date", flat=True)
            .distinct()
        )
    )[:OFFLINE_DAYS]
    cycles = set(
        Package.objects.filter(community_id=community.pk, delivery_date__in=days, urgent=False)
        .order_by()
        .values_list("cycle_id", flat=True)
        .distinct()
    )
    keys = [
        key
        for cycle_id in sorted(cycles)
        for key in printing_selectors.community_keys(cycle_id=cycle_id, community_id=community.pk)
        if key.delivery_date in days
    ]
    households = list(selectors.ledger_households(user=user).filter(building__compound__community_id=community.pk))
    with translation.override("zh-hans"):
        index = [
            (
                _("%(community)s: lists of the delivery days %(days)s and the care ledger, made at %(made)s.")
                % {
                    "community": community.name,
                    "days": "、".join(day.isoformat() for day in days),
                    "made": timezone.localtime().strftime("%Y-%m-%d %H:%M"),
                }
            )
            if days
            else (
                _("%(community)s: no packages to deliver from %(today)s on; the care ledger, made at %(made)s.")
                % {
                    "community": community.name,
                    "today": today.isoformat(),
                    "made": timezone.localtime().strftime("%Y-%m-%d %H:%M"),
                }
            ),
            _("Supply hotline: %(hotline)s") % {"hotline": community.office.district.hotline or ""},
            "",
        ]
        buffer = io.BytesIO()
        with pyzipper.AESZipFile(buffer, "w", compression=pyzipper.ZIP_DEFLATED, encryption=pyzipper.WZ_AES) as archive:
            archive.setpassword(password.encode("utf-8"))
            call_list = _("Call list (full phone numbers)")
            for day in days:
                packages = list(
                    Package.objects.filter(community_id=community.pk, delivery_date=day)
                    .select_related("household__building__compound")
                    .order_by("code")
                )
                archive.writestr(f"{day.isoformat()}/{call_list}.xlsx", _call_list_workbook(packages))
                index.append(f"{day.isoformat()}  {call_list}  ({len(packages)})")
            for key in keys:
                document = printing_services.document_ensure(key=key)
                folder = f"{key.delivery_date.isoformat()}/{document.get_kind_display()}"
                for field, extension in ((document.pdf, "pdf"), (document.xlsx, "xlsx")):
                    with field.open("rb") as handle:
                        archive.writestr(f"{folder}/{document.title}.{extension}", handle.read())
                index.append(
                    f"{key.delivery_date.isoformat()}  {document.get_kind_display()}  {document.title}  "
                    f"({document.rows})"
                )
            archive.writestr(f"{_('Care ledger')}.xlsx", _ledger_workbook(households))
            index.append(_("Care ledger: %(n)s households") % {"n": len(households)})
            archive.writestr("index.txt", "\n".join(index) + "\n")
    filename = f"baogong-offline-{community.pk}-{today.isoformat()}.zip"
    return OfflineArchive(
        filename=filename, content=buffer.getvalue(), lists=len(keys), ledger_households=len(households)
    )
