"""Turning a list's data into HTML, PDF (A4, Noto CJK: Typst through typst_paper.py, or WeasyPrint
from the HTML with ``PAPER_ENGINE=weasyprint``) and XLSX (openpyxl).

Nothing here reads the database: the data comes from :mod:`.selectors`, so a list renders the
same way on the screen, on paper and in the spreadsheet, and the same data always gives the same
text. Rendering needs the active language (the kept files are made in the default language).
"""

import hashlib
import io
import json
import logging
from decimal import Decimal

from django.conf import settings
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import translation
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, pgettext

from core.edges import xlsx_cells
from deliveries.models import ListKind
from deliveries.printing import typst_paper

# WeasyPrint reports each step of each document at INFO: thousands of lines for a city.
logging.getLogger("weasyprint.progress").setLevel(logging.WARNING)

# Bump when a template or the spreadsheet layout changes: every kept file is then out of date.
RENDER_VERSION = "1"

CARE_MARKS = {
    "elderly_alone": (gettext_lazy("ELD"), gettext_lazy("elderly living alone")),
    "disabled": (gettext_lazy("DIS"), gettext_lazy("disabled")),
    "pregnant": (gettext_lazy("PRG"), gettext_lazy("pregnant")),
    "chronic_medicine": (gettext_lazy("MED"), gettext_lazy("chronic medicine")),
    "dialysis": (gettext_lazy("DIA"), gettext_lazy("dialysis")),
}
OTHER_CARE_MARK = "※"
# Labels of 63 × 38 mm, three across and seven down an A4 sheet within the page margins.
LABELS_PER_PAGE = 21


def site_url() -> str:
    """Where the QR codes on labels point: the site as residents' and workers' phones reach it."""
    return (settings.SITE_URL or "http://127.0.0.1:8000").rstrip("/")


def package_url(*, code: str, base: str | None = None) -> str:
    """The package's handover page, as a label's QR code opens it (the code carries its cycle)."""
    return f"{base or site_url()}{reverse('package_scan', args=[code])}"


def _package_urls(codes: list[str], *, base: str | None = None) -> dict[str, str]:
    """:func:`package_url` of many codes, resolving the route once (a label sheet has thousands;
    ``reverse`` took 0.27 ms each). A code the route would quote is resolved on its own."""
    marker = "PACKAGE-CODE"
    pattern = package_url(code=marker, base=base)
    return {
        code: pattern.replace(marker, code)
        if code.replace("-", "").isalnum() and code.isascii()
        else package_url(code=code, base=base)
        for code in codes
    }


def fingerprint(data: dict) -> str:
    """A digest of everything printed on the list: equal data, equal fingerprint."""
    payload = json.dumps(
        {"data": data, "version": RENDER_VERSION, "language": translation.get_language(), "site": site_url()},
        sort_keys=True,
        default=str,
        ensure_ascii=False,
    )
    return hashlib.sha256(payload.encode("utf-8")).hexdigest()


def care_legend() -> list[tuple[str, str]]:
    return [(str(mark), str(label)) for mark, label in CARE_MARKS.values()] + [(OTHER_CARE_MARK, _("other care need"))]


def _care_marks(package: dict) -> str:
    marks = [str(CARE_MARKS[flag][0]) for flag in package["care"]]
    if package["care_note"]:
        marks.append(OTHER_CARE_MARK)
    return " ".join(marks)


def _place(package: dict, *, with_room: bool) -> str:
    """3号楼 1单元 301: building, unit (if any) and room, as on the door."""
    parts = [package["building"]]
    if package["unit"]:
        parts.append(_("unit %(unit)s") % {"unit": package["unit"]})
    if with_room:
        parts.append(package["room"])
    return " ".join(parts)


def _qr(url: str):
    import segno

    return segno.make(url, error="m")


def _qr_png(url: str) -> str:
    return _qr(url).png_data_uri(scale=4, border=1)


def _qr_svg(url: str) -> str:
    return _qr(url).svg_data_uri(scale=3, border=1)


def _qr_svg_inline(url: str) -> str:
    """For Typst's labels: zxing-cpp (C++) makes the code, choosing its mask as the standard says,
    in a fifth of the time segno takes (its mask choice was 85 % of a label's QR time; a fixed mask
    made codes a scanner could miss)."""
    import zxingcpp

    return zxingcpp.create_barcode(url, zxingcpp.BarcodeFormat.QRCode, ec_level="M").to_svg()


QR_MAKERS = {"png": _qr_png, "svg": _qr_svg, "svg_inline": _qr_svg_inline}


def context(
    data: dict,
    *,
    paper: bool,
    fingerprint_value: str = "",
    worker: str = "",
    base_url: str | None = None,
    labels: list[dict] | None = None,
    qr: str | None = None,
) -> dict:
    """What the templates need besides the data: marks, QR codes, the page footer's words."""
    ctx = {
        "data": data,
        "paper": paper,
        "fingerprint": fingerprint_value[:10],
        "worker": worker,
        "body_template": f"deliveries/print/_{data['kind']}.html",
        "legend": care_legend(),
        "other_care_mark": OTHER_CARE_MARK,
    }
    if data["kind"] == ListKind.DOOR_LIST:
        ctx["blank_rows"] = range(data["blank_rows"])
        ctx["sections"] = [
            {
                **section,
                "packages": [
                    {
                        **package,
                        "marks": _care_marks(package),
                        "place": _place(package, with_room=True),
                        "assigned_worker_text": _("Assigned worker: %(name)s") % {"name": package["assigned_worker"]}
                        if package["assigned_worker"]
                        else "",
                    }
                    for package in section["packages"]
                ],
            }
            for section in data["sections"]
        ]
    if data["kind"] == ListKind.LABELS:
        shown = data["labels"] if labels is None else labels
        make = QR_MAKERS[qr or ("png" if paper else "svg")]
        urls = _package_urls([label["code"] for label in shown], base=base_url)
        ctx["labels"] = [
            {
                **label,
                "building_unit": _place(label, with_room=False),
                "qr": make(urls[label["code"]]),
                "url": urls[label["code"]],
            }
            for label in shown
        ]
        # One sheet of labels per page, each its own box: WeasyPrint lays out one small box per
        # page instead of one box of every label again at each page (248 labels: 13.6 s → see BENCHMARKS.md).
        ctx["label_pages"] = [
            ctx["labels"][i : i + LABELS_PER_PAGE] for i in range(0, len(ctx["labels"]), LABELS_PER_PAGE)
        ]
    page = _("Page {page} of {pages}")
    before, _sep, rest = page.partition("{page}")
    middle, _sep, after = rest.partition("{pages}")
    ctx["page_css"] = {
        "title": css_string(data["title"]),
        "before": css_string(before),
        "middle": css_string(middle),
        "after": css_string(after),
        "version": css_string(f"v{fingerprint_value[:10]}"),
    }
    return ctx


def css_string(text: str) -> str:
    """``text`` as a quoted CSS string, safe inside a <style> element."""
    escaped = text.replace("\\", "\\\\").replace('"', '\\"').replace("<", "\\3c ").replace("\n", " ").replace("\r", " ")
    return f'"{escaped}"'


def html_paper(data: dict, *, fingerprint_value: str) -> str:
    return render_to_string(
        "deliveries/print/paper.html", context(data, paper=True, fingerprint_value=fingerprint_value)
    )


def pdf(data: dict, *, fingerprint_value: str) -> bytes:
    """The list as an A4 PDF with page x of y, Chinese set in Debian's Noto CJK fonts: through Typst
    (typst_paper.py), or through WeasyPrint from the paper HTML (``PAPER_ENGINE=weasyprint``)."""
    from weasyprint import HTML

    if data["kind"] in typst_paper.TYPST_KINDS and settings.PAPER_ENGINE == "typst":
        return typst_paper.pdf(context(data, paper=True, fingerprint_value=fingerprint_value, qr="svg_inline"))
    return HTML(
        string=html_paper(data, fingerprint_value=fingerprint_value), base_url=str(settings.BASE_DIR)
    ).write_pdf()


# --- spreadsheets ------------------------------------------------------------------------------


def _money(value) -> float:
    return float(Decimal(value or 0).quantize(Decimal("0.01")))


def _sheet_title(text: str) -> str:
    for char in "[]:*?/\\":
        text = text.replace(char, " ")
    return text[:31]


def _sheets(data: dict) -> list[tuple[str, list[str], list[list]]]:
    """(sheet title, column headings, rows) of each sheet of the list's spreadsheet."""
    kind = data["kind"]
    if kind in (ListKind.PICK_LIST, ListKind.SUPPLEMENT):
        totals = [[p["name"], p["unit"], p["quantity"], ""] for p in data["products"]]
        crates = [
            [office["name"], crate["name"], p["name"], p["unit"], p["quantity"], ""]
            for office in data["offices"]
            for crate in office["communities"]
            for p in crate["products"]
        ]
        return [
            (_("Totals"), [_("Product"), pgettext("product", "Unit"), _("Quantity"), _("Picked")], totals),
            (
                _("Crates"),
                [_("Office"), _("Community"), _("Product"), pgettext("product", "Unit"), _("Quantity"), _("Packed")],
                crates,
            ),
        ]
    if kind in (ListKind.MANIFEST, ListKind.SUPPLEMENT_MANIFEST):
        signatures = [_("Handed over by"), _("Received by"), _("Time")]
        return [
            (
                _("From suppliers"),
                [_("Supplier"), _("Crates"), _("Packages"), _("Items"), *signatures],
                [[s["name"], s["crates"], s["packages"], s["items"], "", "", ""] for s in data["suppliers"]],
            ),
            (
                _("To communities"),
                [_("Community"), _("Receiving point"), _("Crates"), _("Packages"), _("Items"), *signatures],
                [
                    [c["name"], c["receiving_point"], c["crates"], c["packages"], c["items"], "", "", ""]
                    for c in data["communities"]
                ],
            ),
        ]
    if kind == ListKind.RECEIVING:
        return [
            (
                _("Compounds"),
                [
                    _("Compound"),
                    _("Receiving point"),
                    _("To the door"),
                    _("Pick-up"),
                    _("Packages"),
                    _("Items"),
                    _("To collect"),
                    _("Received"),
                ],
                [
                    [
                        c["name"],
                        c["receiving_point"],
                        c["door"],
                        c["pickup"],
                        c["packages"],
                        c["items"],
                        _money(c["to_collect"]),
                        "",
                    ]
                    for c in data["compounds"]
                ],
            ),
            (
                _("Crates"),
                [_("Supplier"), _("Crates"), _("Items")],
                [[c["supplier"], c["crates"], c["items"]] for c in data["crates"]],
            ),
        ]
    if kind == ListKind.DOOR_LIST:
        rows = []
        for section in data["sections"]:
            for n, p in enumerate(section["packages"], start=1):
                rows.append(
                    [
                        section["compound"],
                        n,
                        p["building"],
                        p["unit"],
                        p["floor"],
                        p["room"],
                        p["code"],
                        p["contact"],
                        p["phone"],
                        p["items"],
                        _money(p["to_collect"]),
                        _care_marks(p),
                        p["care_note"],
                        p["slot"] if p["mode"] == "pickup" else _("To the door"),
                        "",
                    ]
                )
                if p.get("subtotal"):
                    total = p["subtotal"]
                    rows.append(
                        [
                            section["compound"],
                            "",
                            total["building"],
                            "",
                            "",
                            "",
                            _("Subtotal"),
                            _("%(n)d packages") % {"n": total["packages"]},
                            "",
                            _("%(n)d items") % {"n": total["items"]},
                            _money(total["to_collect"]),
                            "",
                            "",
                            "",
                            "",
                        ]
                    )
        return [
            (
                _("Door list"),
                [
                    _("Compound"),
                    "#",
                    _("Building"),
                    _("Unit"),
                    _("Floor"),
                    _("Room"),
                    _("Package"),
                    _("Contact"),
                    _("Phone"),
                    _("Items"),
                    _("To collect"),
                    _("Care"),
                    _("Care note"),
                    _("Delivery"),
                    _("Signature or exception"),
                ],
                rows,
            )
        ]
    if kind == ListKind.PICKUP_NOTICE:
        return [
            (
                _("Pick-up times"),
                [_("Building"), _("Time slots"), _("Households")],
                [[b["building"], " / ".join(b["slots"]), b["households"]] for b in data["buildings"]],
            )
        ]
    if kind == ListKind.LABELS:
        return [
            (
                _("Labels"),
                [
                    _("Package"),
                    _("Bag"),
                    _("Compound"),
                    _("Building"),
                    _("Unit"),
                    _("Room"),
                    _("Phone (last 4)"),
                    _("Items"),
                    _("Delivery"),
                    _("Link"),
                ],
                [
                    [
                        label["code"],
                        f"{label['bag']}/{label['bags']}",
                        label["compound"],
                        label["building"],
                        label["unit"],
                        label["room"],
                        label["phone_tail"],
                        label["items"],
                        label["slot"] if label["mode"] == "pickup" else _("To the door"),
                        urls[label["code"]],
                    ]
                    for urls in [_package_urls([label["code"] for label in data["labels"]])]
                    for label in data["labels"]
                ],
            )
        ]
    raise ValueError(kind)


def _print_setup(sheet, *, title: str) -> None:
    """Print as people need it: A4 landscape, every column on the page width, the column headings
    repeated on every page, the list's title and page numbers in the margins (long text is
    wrapped cell by cell as the rows are written)."""
    from openpyxl.worksheet.worksheet import Worksheet

    sheet.page_setup.paperSize = Worksheet.PAPERSIZE_A4
    sheet.page_setup.orientation = Worksheet.ORIENTATION_LANDSCAPE
    sheet.page_setup.fitToWidth = 1
    sheet.page_setup.fitToHeight = 0
    sheet.sheet_properties.pageSetUpPr.fitToPage = True
    sheet.print_title_rows = "4:4"
    sheet.print_options.gridLines = True
    sheet.page_margins.left = sheet.page_margins.right = 0.4
    sheet.oddHeader.center.text = title[:200].replace("&", "&&")
    sheet.oddFooter.center.text = "&P / &N"


def xlsx(data: dict, *, fingerprint_value: str) -> bytes:
    """The list as a spreadsheet: a title block, then one table per sheet. Written row by row
    (openpyxl's write-only mode: a city's door list is thousands of rows)."""
    from openpyxl import Workbook
    from openpyxl.styles import Alignment, Font
    from openpyxl.utils import get_column_letter

    workbook = Workbook(write_only=True)
    bold, wrap = Font(bold=True), Alignment(wrap_text=True, vertical="top")
    for title, headings, rows in _sheets(data):
        sheet = workbook.create_sheet(_sheet_title(title))
        for index, heading in enumerate(headings, start=1):
            width = max([len(str(heading))] + [len(str(row[index - 1])) for row in rows[:200]])
            sheet.column_dimensions[get_column_letter(index)].width = min(max(width * 1.6, 6), 40)
        sheet.freeze_panes = "A5"
        _print_setup(sheet, title=data["title"])
        sheet.append(xlsx_cells(sheet, [data["title"]], font=Font(bold=True, size=13)))
        sheet.append(
            xlsx_cells(
                sheet,
                [
                    _("Cycle"),
                    data["cycle"],
                    _("Delivery date"),
                    data["date"].isoformat(),
                    _("Supply hotline"),
                    data.get("hotline", ""),
                    _("Version"),
                    fingerprint_value[:10],
                ],
            )
        )
        sheet.append([])
        sheet.append(xlsx_cells(sheet, headings, font=bold, alignment=wrap))
        for row in rows:
            sheet.append(xlsx_cells(sheet, row, alignment=wrap))
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()
