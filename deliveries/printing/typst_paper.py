"""The door list and the labels as PDF through Typst, the lists a city prints by the ten thousand.

WeasyPrint lays out HTML and CSS in Python: a community's labels took 13.6 s for 248 and its door
list 3.5 s (BENCHMARKS.md, "Paper"). Typst (a compiled typesetting engine, through its Python
binding) sets the same pages from the templates in ``templates/deliveries/print/typst/`` in a
fraction of that. The data goes in as JSON (``sys.inputs.data``), every text already translated
and formatted here from the same context as the HTML page, so Typst never reads text from the
data as markup. The smaller lists (receiving, pick-up notices, manifests) stay with WeasyPrint.
"""

import json
import threading
from pathlib import Path

from django.conf import settings
from django.template.defaultfilters import floatformat
from django.utils.translation import gettext as _

from deliveries.models import ListKind

TYPST_KINDS = (ListKind.DOOR_LIST, ListKind.LABELS)
_TEMPLATES = Path(settings.BASE_DIR) / "templates" / "deliveries" / "print" / "typst"
_compilers = threading.local()  # one compiler per thread and template: fonts are read once


def _compiler(name: str):
    import typst

    compilers = getattr(_compilers, "by_name", None)
    if compilers is None:
        compilers = _compilers.by_name = {}
    if name not in compilers:
        compilers[name] = typst.Compiler(str(_TEMPLATES / f"{name}.typ"), root=str(_TEMPLATES))
    return compilers[name]


def _money(value) -> str:
    return f"¥{floatformat(value, 2)}" if value else ""


def _footer(ctx: dict) -> dict:
    """The page footer's words: the title, "Page x of y" around the numbers, the version."""
    page = _("Page {page} of {pages}")
    before, _sep, rest = page.partition("{page}")
    middle, _sep, after = rest.partition("{pages}")
    return {
        "title": ctx["data"]["title"],
        "before": before,
        "middle": middle,
        "after": after,
        "version": f"v{ctx['fingerprint']}",
    }


def _door_rows(section: dict) -> list[dict]:
    rows: list[dict] = []
    for number, package in enumerate(section["packages"], start=1):
        code_line = package["code"]
        if package["mode"] == "pickup":
            code_line += f" · {_('pick-up')} {package['slot']}"
        rows.append(
            {
                "n": number,
                "place": package["place"],
                "code_line": code_line,
                "contact": package["contact"],
                "phone": package["phone"],
                "items": package["items"],
                "collect": _money(package["to_collect"]),
                "marks": package["marks"],
                "care_note": f"※ {package['care_note']}" if package["care_note"] else "",
                "assigned": package["assigned_worker_text"],
            }
        )
        subtotal = package.get("subtotal")
        if subtotal:
            rows.append(
                {
                    "subtotal": {
                        "label": _("%(building)s: %(n)s packages")
                        % {"building": subtotal["building"], "n": subtotal["packages"]},
                        "items": _("%(n)s items") % {"n": subtotal["items"]},
                        "collect": _money(subtotal["to_collect"]),
                    }
                }
            )
    return rows


def _doors(ctx: dict) -> dict:
    data = ctx["data"]
    sections = []
    for section in ctx["sections"]:
        count = str(len(section["packages"]))
        if section.get("pickup"):
            count += " (%s)" % (
                _("%(door)s to the door, %(pickup)s pick-up") % {"door": section["door"], "pickup": section["pickup"]}
            )
        sections.append({"compound": section["compound"], "count": count, "rows": _door_rows(section)})
    return {
        "date": data["date"].isoformat() if hasattr(data["date"], "isoformat") else str(data["date"]),
        "community": data["community"],
        "hotline": data["hotline"],
        "worker": ctx["worker"] or data.get("workers") or "",
        "legend": [[mark, label] for mark, label in ctx["legend"]],
        "sections": sections,
        "blank_rows": len(ctx.get("blank_rows", ())),
        "words": {
            "door_list": _("Door list"),
            "date": _("Delivery date"),
            "community": _("Community"),
            "compound": _("Compound"),
            "worker": _("Worker"),
            "packages": _("Packages"),
            "hotline": _("Supply hotline"),
            "care_marks": _("Care marks:"),
            "columns": [
                "#",
                _("Room"),
                _("Contact"),
                _("Phone"),
                _("Items"),
                _("To collect"),
                _("Care"),
                _("Signature or exception"),
            ],
            "delivered": _("delivered"),
            "exception": _("exception"),
            "nothing": _("No packages on this day."),
        },
    }


def _labels(ctx: dict) -> dict:
    data = ctx["data"]
    day = data["date"].strftime("%m-%d") if hasattr(data["date"], "strftime") else str(data["date"])
    labels = []
    for label in ctx["labels"]:
        where = f"{_('pick-up')} {label['slot']}" if label["mode"] == "pickup" else _("to the door")
        labels.append(
            {
                "code": label["code"],
                "bags": label["bags"],
                "bag_text": f"{label['bag']}/{label['bags']}",
                "room": label["room"],
                "phone_tail": label["phone_tail"],
                "building_unit": label["building_unit"],
                "compound": label["compound"],
                "count": _("%(n)s items · bag %(bag)s of %(bags)s")
                % {"n": label["items"], "bag": label["bag"], "bags": label["bags"]},
                "when": f"{day} · {where}",
                "qr": label["qr"],
                "url": label["url"],
            }
        )
    return {"labels": labels, "words": {"nothing": _("No packages on this day.")}}


def pdf(ctx: dict) -> bytes:
    """The list of ``ctx`` (rendering.context, for paper) as an A4 PDF."""
    kind = ctx["data"]["kind"]
    payload = {"footer": _footer(ctx), **(_doors(ctx) if kind == ListKind.DOOR_LIST else _labels(ctx))}
    name = "doors" if kind == ListKind.DOOR_LIST else "labels"
    return _compiler(name).compile(
        format="pdf", sys_inputs={"data": json.dumps(payload, ensure_ascii=False, default=str)}, pdf_tags=False
    )
