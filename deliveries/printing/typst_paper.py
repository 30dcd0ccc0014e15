"""The printed lists as PDF through Typst: the door lists and labels a city prints by the ten
thousand, and the lists that go with them.

WeasyPrint lays out HTML and CSS in Python: a community's labels took 13.6 s for 248 and its door
list 3.5 s (BENCHMARKS.md, "Paper"). Typst (a compiled typesetting engine, through its Python
binding) sets the same pages from the templates in ``templates/deliveries/print/typst/`` in a
fraction of that. The data goes in as JSON (``sys.inputs.data``), every text already translated
and formatted here from the same context as the HTML page, so Typst never reads text from the
data as markup. The other lists (receiving, pick lists, manifests, pick-up notices) are blocks built here and
laid out by one template (``blocks.typ``).
"""

import json
import threading
from pathlib import Path

from django.conf import settings
from django.template.defaultfilters import floatformat
from django.utils.translation import gettext as _
from django.utils.translation import pgettext

from deliveries.models import ListKind

TYPST_KINDS = frozenset(ListKind.values)  # every list
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
        "date": _date(data),
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


# --- the other lists, as blocks -------------------------------------------------------------------


def _date(data: dict) -> str:
    return data["date"].isoformat() if hasattr(data["date"], "isoformat") else str(data["date"])


def _num(value, *, bold: bool = False) -> dict:
    return {"t": str(value), "r": True, "b": bold}


def _money_cell(value) -> dict:
    return {"t": _money(value), "r": True}


def _receiving(data: dict) -> list[dict]:
    tick = {"box": True}
    blocks = [
        {"type": "h1", "text": f"{_('Receiving list')} · {data['community']}"},
        {
            "type": "meta",
            "rows": [
                [
                    [_("Delivery date"), _date(data)],
                    [_("Office"), data["office"]],
                    [_("Supply hotline"), data["hotline"]],
                ],
                [
                    [_("Packages"), str(data["packages"])],
                    [_("To the door"), str(data["door"])],
                    [_("Pick-up"), str(data["pickup"])],
                ],
            ],
        },
        {
            "type": "table",
            "columns": ["auto", "1fr", "auto", "auto", "auto", "auto", "auto", "auto"],
            "head": [
                _("Compound"),
                _("Receiving point"),
                _num(_("To the door")),
                _num(_("Pick-up")),
                _num(_("Packages")),
                _num(_("Items")),
                _num(_("To collect")),
                _("Received"),
            ],
            "rows": [
                [
                    {"t": c["name"], "b": True},
                    c["receiving_point"] or "",
                    _num(c["door"]),
                    _num(c["pickup"]),
                    _num(c["packages"], bold=True),
                    _num(c["items"]),
                    _money_cell(c["to_collect"]),
                    tick,
                ]
                for c in data["compounds"]
            ],
            "foot": [
                {"t": _("Total"), "span": 2},
                _num(data["door"]),
                _num(data["pickup"]),
                _num(data["packages"]),
                _num(data["items"]),
                _money_cell(data["to_collect"]),
                "",
            ],
        },
    ]
    if data["crates"]:
        blocks += [
            {"type": "h2", "text": _("Crates from suppliers")},
            {
                "type": "table",
                "columns": ["1fr", "auto", "auto", "auto"],
                "head": [_("Supplier"), _num(_("Crates")), _num(_("Items")), _("Received")],
                "rows": [[c["supplier"], _num(c["crates"]), _num(c["items"]), tick] for c in data["crates"]],
                "foot": [],
            },
        ]
    blocks.append(
        {
            "type": "sign",
            "lines": [
                [[_("Handed over by (office)"), False], [_("Received by (community)"), False], [_("Time"), False]],
                [[_("Discrepancies"), True]],
            ],
        }
    )
    return blocks


def _product_table(products: list[dict], *, head: str | None, bold: bool = False) -> dict:
    return {
        "type": "table",
        "columns": ["1fr", "auto", "auto", "auto"],
        "head": [_("Product"), pgettext("product", "Unit"), _num(_("Quantity")), head] if head else [],
        "rows": [
            [{"t": p["name"], "b": bold}, p["unit"], _num(p["quantity"], bold=bold), {"box": True}] for p in products
        ],
        "foot": [],
        "breakable": head is not None,  # a crate's table stays on one page with its heading
    }


def _pick(data: dict) -> list[dict]:
    supplement = data["kind"] == ListKind.SUPPLEMENT
    title = _("Supplement pick list") if supplement else _("Pick list")
    blocks: list[dict] = [{"type": "h1", "text": f"{title} · {data['supplier']}"}]
    if supplement:
        blocks.append(
            {
                "type": "p",
                "b": True,
                "text": _(
                    "Added after the close (urgent medicine, households sealed since): pick these on top of the "
                    "day's pick list, not instead of it."
                ),
            }
        )
    totals = _product_table(data["products"], head=_("Picked"), bold=True)
    totals["foot"] = [{"t": _("Total"), "span": 2}, _num(data["quantity"]), ""]
    blocks += [
        {
            "type": "meta",
            "rows": [
                [
                    [_("Delivery date"), _date(data)],
                    [_("District"), data["district"]],
                    [_("Supply hotline"), data["hotline"]],
                ]
            ],
        },
        {"type": "h2", "text": _("Totals per product")},
        totals,
    ]
    for office in data["offices"]:
        blocks.append(
            {
                "type": "h2",
                "text": _("Truck load for %(office)s (%(n)s items)")
                % {"office": office["name"], "n": office["quantity"]},
            }
        )
        blocks.append(_product_table(office["products"], head=_("Loaded")))
        for crate in office["communities"]:
            blocks.append(
                {
                    "type": "h2",
                    "text": _("Crate for %(community)s (%(n)s items)")
                    % {"community": crate["name"], "n": crate["quantity"]},
                }
            )
            blocks.append(_product_table(crate["products"], head=None))
    return blocks


def _manifest(data: dict) -> list[dict]:
    supplement = data["kind"] == ListKind.SUPPLEMENT_MANIFEST
    title = _("Supplement dispatch manifest") if supplement else _("Dispatch manifest")
    signing = [_("Handed over by"), _("Received by"), _("Time")]
    return [
        {"type": "h1", "text": f"{title} · {data['office']}"},
        {
            "type": "meta",
            "rows": [
                [
                    [_("Delivery date"), _date(data)],
                    [_("District"), data["district"]],
                    [_("Supply hotline"), data["hotline"]],
                ],
                [
                    [_("Packages"), str(data["packages"])],
                    [_("Crates"), str(data["crates"])],
                    [_("Items"), str(data["items"])],
                ],
            ],
        },
        {"type": "h2", "text": _("Received from suppliers")},
        {
            "type": "table",
            "columns": ["1fr", "auto", "auto", "auto", "auto", "auto", "auto"],
            "head": [_("Supplier"), _num(_("Crates")), _num(_("Packages")), _num(_("Items")), *signing],
            "rows": [
                [
                    {"t": s["name"], "b": True},
                    _num(s["crates"]),
                    _num(s["packages"]),
                    _num(s["items"]),
                    "    ",
                    "    ",
                    "",
                ]
                for s in data["suppliers"]
            ],
            "foot": [],
        },
        {"type": "h2", "text": _("Dispatched to communities")},
        {
            "type": "table",
            "columns": ["auto", "1fr", "auto", "auto", "auto", "auto", "auto", "auto"],
            "head": [
                _("Community"),
                _("Receiving point"),
                _num(_("Crates")),
                _num(_("Packages")),
                _num(_("Items")),
                *signing,
            ],
            "rows": [
                [
                    {"t": c["name"], "b": True},
                    c["receiving_point"] or "",
                    _num(c["crates"]),
                    _num(c["packages"], bold=True),
                    _num(c["items"]),
                    "    ",
                    "    ",
                    "",
                ]
                for c in data["communities"]
            ],
            "foot": [
                {"t": _("Total"), "span": 2},
                _num(data["crates"]),
                _num(data["packages"]),
                _num(data["items"]),
                {"t": "", "span": 3},
            ],
        },
    ]


def _pickup(data: dict) -> list[dict]:
    return [
        {"type": "h1", "big": True, "text": _("Pick-up notice")},
        {"type": "lead", "b": True, "text": f"{data['compound']} · {_date(data)}"},
        {"type": "lead", "text": _("Receiving point: %(point)s") % {"point": data["receiving_point"] or "—"}},
        {
            "type": "table",
            "columns": ["auto", "1fr", "auto"],
            "big": True,
            "head": [_("Building"), _("Time slots"), _num(_("Households"))],
            "rows": [
                [{"t": b["building"], "b": True}, " / ".join(b["slots"]), _num(b["households"])]
                for b in data["buildings"]
            ],
            "foot": [],
        },
        {
            "type": "bullets",
            "items": [
                _(
                    "Please come in your building's time slot only, one person per household, and keep your "
                    "distance in the queue."
                ),
                _("Bring your phone: the package is handed over against your room number."),
                _("Cannot come? Call the 24-hour supply hotline %(hotline)s or your community.")
                % {"hotline": data["hotline"]},
            ],
        },
        {"type": "muted", "text": f"{data['community']} · {data['district']}"},
    ]


BLOCKS = {
    ListKind.RECEIVING: _receiving,
    ListKind.PICK_LIST: _pick,
    ListKind.SUPPLEMENT: _pick,
    ListKind.MANIFEST: _manifest,
    ListKind.SUPPLEMENT_MANIFEST: _manifest,
    ListKind.PICKUP_NOTICE: _pickup,
}


def pdf(ctx: dict) -> bytes:
    """The list of ``ctx`` (rendering.context, for paper) as an A4 PDF."""
    kind = ctx["data"]["kind"]
    if kind == ListKind.DOOR_LIST:
        name, payload = "doors", _doors(ctx)
    elif kind == ListKind.LABELS:
        name, payload = "labels", _labels(ctx)
    else:
        name, payload = "blocks", {"blocks": BLOCKS[kind](ctx["data"])}
    payload["footer"] = _footer(ctx)
    return _compiler(name).compile(
        format="pdf", sys_inputs={"data": json.dumps(payload, ensure_ascii=False, default=str)}, pdf_tags=False
    )
