"""The edges of the system: what comes in from a request, and what goes out into a spreadsheet.

Request values: every integer, id, date and free text read from a query string or a form goes
through :func:`int_param`, :func:`id_param`, :func:`date_param` or :func:`text_param` (or a Django form). Anything
that is not exactly what is expected raises :class:`BadParameter`, which the middleware answers
with 400 and a message in the user's language (JSON under ``/api/``). Integers are ASCII digits
only ("²", "❶" and "١" are digits to ``str.isdigit`` but not numbers here); text never holds NUL
or another control character (:class:`RefuseControlCharactersMiddleware` refuses those in every
query string and form before any view runs).

Spreadsheets: every cell the system writes from text goes through :func:`xlsx_append` or
:func:`csv_cells`, so text a person typed is never a live formula.

Addresses: :func:`natural_key` is the one sort key of buildings, units and rooms on every list;
total over any Unicode text.
"""

from __future__ import annotations

import datetime
import re
import unicodedata

from django.utils.translation import gettext as _

from core.errors import BaogongError

MAX_INT_DIGITS = 12
_ASCII_INT = re.compile(r"-?[0-9]{1,%d}" % MAX_INT_DIGITS)
_ISO_DATE = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")


class BadParameter(BaogongError):
    """A request value that is not what the page or the API expects: 400."""

    status_code = 400


def has_control_characters(text: str, *, allow_newlines: bool = False) -> bool:
    """NUL and the other control characters (C0, DEL, C1), and unassigned or surrogate code points."""
    for ch in text:
        if allow_newlines and ch in "\r\n\t":
            continue
        if unicodedata.category(ch) in ("Cc", "Cs"):
            return True
    return False


def int_param(source, name: str, *, minimum: int | None = 0, maximum: int | None = None) -> int | None:
    """An integer from a query string or form (``source`` is ``request.GET`` or ``request.POST``):
    ``None`` when absent or empty; :class:`BadParameter` for anything but ASCII digits in range."""
    raw = source.get(name, "")
    if raw is None or raw == "":
        return None
    if not isinstance(raw, str) or not _ASCII_INT.fullmatch(raw):
        raise BadParameter(
            _("“%(name)s” must be a whole number written with the digits 0–9.") % {"name": name},
            errors={name: [_("Enter a whole number.")]},
        )
    value = int(raw)
    if (minimum is not None and value < minimum) or (maximum is not None and value > maximum):
        raise BadParameter(_("“%(name)s” is out of range.") % {"name": name}, errors={name: [_("Out of range.")]})
    return value


def id_param(source, name: str) -> int | None:
    """A database id (a positive integer that fits the column), or ``None``."""
    return int_param(source, name, minimum=1, maximum=2**63 - 1)


def date_param(source, name: str) -> datetime.date | None:
    """A calendar date written ``YYYY-MM-DD``, or ``None`` when absent or empty."""
    raw = source.get(name, "")
    if not raw:
        return None
    try:
        if not isinstance(raw, str) or not _ISO_DATE.fullmatch(raw):
            raise ValueError(raw)
        return datetime.date.fromisoformat(raw)
    except ValueError:
        raise BadParameter(
            _("“%(name)s” must be a date written like 2022-04-25.") % {"name": name},
            errors={name: [_("Enter a date like 2022-04-25.")]},
        ) from None


def choice_param(source, name: str, choices, *, required: bool = False) -> str | None:
    """One of ``choices`` (strings); ``None`` when absent or empty unless ``required``;
    :class:`BadParameter` for anything else."""
    raw = source.get(name, "") or ""
    if raw == "" and not required:
        return None
    if not isinstance(raw, str) or raw not in set(choices):
        raise BadParameter(
            _("“%(name)s” must be one of the offered choices.") % {"name": name},
            errors={name: [_("Choose one of the offered choices.")]},
        )
    return raw


def text_param(source, name: str, *, max_length: int = 200) -> str:
    """Free text (a search box): stripped; :class:`BadParameter` when too long or holding control characters."""
    raw = source.get(name, "") or ""
    if not isinstance(raw, str) or len(raw) > max_length or has_control_characters(raw):
        raise BadParameter(
            _("“%(name)s” is too long or holds characters that cannot be typed.") % {"name": name},
            errors={name: [_("Enter plain text.")]},
        )
    return raw.strip()


# --- spreadsheets ---------------------------------------------------------------------------------------

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def csv_cell(value):
    """A CSV cell a spreadsheet program will not run: text starting like a formula gets a leading
    apostrophe (OWASP's advice for CSV injection); numbers and other values are left alone."""
    if isinstance(value, str) and value.startswith(FORMULA_STARTS):
        return "'" + value
    return value


def csv_cells(values) -> list:
    return [csv_cell(v) for v in values]


def xlsx_cells(sheet, values, *, font=None, alignment=None) -> list:
    """A row for a write-only openpyxl sheet (``sheet.append(xlsx_cells(...))``), each text cell
    stored as text like :func:`xlsx_append`, with an optional font and alignment on every cell."""
    from openpyxl.cell import WriteOnlyCell

    cells = []
    for value in values:
        cell = WriteOnlyCell(sheet, value=value)
        if cell.data_type == "f":
            cell.data_type = "s"
        if font is not None:
            cell.font = font
        if alignment is not None:
            cell.alignment = alignment
        cells.append(cell)
    return cells


def xlsx_append(sheet, values) -> None:
    """Append a row to an openpyxl sheet with every text cell stored as text: openpyxl would store
    a string starting with "=" as a live formula, which is never what a person typed."""
    sheet.append(list(values))
    for cell in sheet[sheet.max_row]:
        if cell.data_type == "f":
            cell.data_type = "s"


# --- addresses --------------------------------------------------------------------------------------------

_ASCII_DIGITS = re.compile(r"([0-9]+)")


def floor_from_room(room: str) -> int | None:
    """The floor a room number implies: 1201 → 12, 301 → 3, 52 → None."""
    digits = "".join(ch for ch in room if ch in "0123456789")  # "❶".isdigit() is True, int("❶") fails
    if len(digits) >= 3:
        return int(digits[:-2])
    return None


def building_sort_key(number: str) -> int:
    """The first number in a building's name (12 for 12号楼, after NFKC: １２号楼 too), so 2号楼
    comes before 12号楼; 0 for a name without one. Capped to fit the column."""
    match = _ASCII_DIGITS.search(unicodedata.normalize("NFKC", number or ""))
    return min(int(match.group()), 2**31 - 1) if match else 0


def natural_key(text: str | None) -> tuple:
    """Sort key of a building, unit or room: runs of ASCII digits by their number (2 before 10),
    everything else by its text (NFKC), so any Unicode text sorts, and the same way every time."""
    normal = unicodedata.normalize("NFKC", text or "")
    return tuple(
        (0, int(part), "") if part.isascii() and part.isdigit() else (1, 0, part)
        for part in _ASCII_DIGITS.split(normal)
        if part
    )


# --- where to go back to -------------------------------------------------------------------------------


def safe_next(request, fallback: str) -> str:
    """The ``next`` path a form posted (back to the list it was on, with its filters), if it is a
    path on this site; ``fallback`` otherwise (another site, a view name, junk)."""
    from django.utils.http import url_has_allowed_host_and_scheme

    target = request.POST.get("next", "") or ""
    if (
        target.startswith("/")
        and not target.startswith("//")
        and not has_control_characters(target)
        and url_has_allowed_host_and_scheme(
            target, allowed_hosts={request.get_host()}, require_https=request.is_secure()
        )
    ):
        return target
    return fallback


def redirect_back(request, fallback: str):
    """Redirect to :func:`safe_next`; ``fallback`` may be a URL name (``"catalog:price_queue"``) or a path."""
    from django.http import HttpResponseRedirect
    from django.shortcuts import resolve_url

    return HttpResponseRedirect(safe_next(request, resolve_url(fallback)))
