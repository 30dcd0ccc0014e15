"""The lists of the last hop: the door list, the labels and the pick-up notice; every list's data by
its key, and the package a scanned label points at. Each reads set-based, in a fixed number of queries."""

import re
from collections.abc import Callable
from typing import cast

from django.db.models import Count, OuterRef, Subquery
from django.utils.translation import gettext as _

from core.edges import natural_key
from deliveries.models import ListKind, Package, PrintDocument, package_code
from deliveries.printing.selectors.handover_lists import manifest_data, pick_list_data, receiving_data
from deliveries.printing.selectors.keys import (
    BLANK_ROWS,
    ITEMS_PER_BAG,
    SUPPLIER_KINDS,
    ListKey,
    _community_header,
    _cycle_packages,
    _header,
)
from households.access import restrict
from households.models import Compound, DeliveryMode, HouseholdPhone, Role, User


def _package_rows(key: ListKey, *, with_household: bool, with_phone: bool = False) -> list[dict]:
    """The community's packages of the day in address order: compound → building → unit → floor → room."""
    fields = [
        "code",
        "mode",
        "item_summary",
        "item_count",
        "to_collect",
        "compound_id",
        "compound__name",
        "compound__code",
        "building__number",
        "building__sort_key",
        "household__unit",
        "household__floor",
        "household__room",
        "pickup_slot__starts_at",
        "pickup_slot__ends_at",
    ]
    packages = _cycle_packages(key.cycle_id).filter(community_id=key.place_id, delivery_date=key.delivery_date)
    if with_household or with_phone:
        primary_phone = HouseholdPhone.objects.filter(household_id=OuterRef("household_id")).order_by(
            "-is_primary", "id"
        )
        packages = packages.annotate(phone=Subquery(primary_phone.values("number")[:1]))
        fields.append("phone")
    if with_household:
        fields += [
            "household__contact_name",
            "household__elderly_alone",
            "household__disabled",
            "household__pregnant",
            "household__chronic_medicine",
            "household__dialysis",
            "household__care_note",
            "household__assigned_worker__username",
            "household__assigned_worker__last_name",
            "household__assigned_worker__first_name",
        ]
    rows = list(packages.values(*fields).order_by())
    rows.sort(
        key=lambda p: (
            natural_key(p["compound__code"]),
            p["compound_id"],
            p["building__sort_key"],
            natural_key(p["building__number"]),
            natural_key(p["household__unit"]),
            p["household__floor"],
            natural_key(p["household__room"]),
            p["code"],
        )
    )
    return rows


def _slot(row: dict) -> str:
    if row["pickup_slot__starts_at"] is None:
        return ""
    return f"{row['pickup_slot__starts_at']:%H:%M}–{row['pickup_slot__ends_at']:%H:%M}"


CARE_FLAGS = ("elderly_alone", "disabled", "pregnant", "chronic_medicine", "dialysis")


def door_list_data(*, key: ListKey) -> dict:
    """A community's daily door list: one section per compound, packages in address order, with the
    contact, the phone masked, the items, the money to collect, care marks and room to sign."""
    from core.phones import phone_masked

    header = _community_header(key.place_id)
    sections: dict[int, dict] = {}
    for row in _package_rows(key, with_household=True):
        section = sections.get(row["compound_id"])
        if section is None:
            section = sections[row["compound_id"]] = {
                "compound": row["compound__name"],
                "packages": [],
                "door": 0,
                "pickup": 0,
            }
        worker = (
            f"{row['household__assigned_worker__last_name'] or ''}{row['household__assigned_worker__first_name'] or ''}".strip()
            or row["household__assigned_worker__username"]
            or ""
        )
        section[row["mode"]] += 1
        section["packages"].append(
            {
                "code": row["code"],
                "building": row["building__number"],
                "unit": row["household__unit"],
                "floor": row["household__floor"],
                "room": row["household__room"],
                "contact": row["household__contact_name"],
                "phone": phone_masked(row["phone"]) if row["phone"] else "",
                "items": row["item_summary"],
                "item_count": row["item_count"],
                "to_collect": row["to_collect"],
                "mode": row["mode"],
                "slot": _slot(row),
                "care": [flag for flag in CARE_FLAGS if row[f"household__{flag}"]],
                "care_note": row["household__care_note"],
                "assigned_worker": worker,
            }
        )
    section_list = list(sections.values())
    for section in section_list:  # a subtotal after each building: what the worker carries up it
        for package, following in zip(section["packages"], section["packages"][1:] + [None], strict=True):
            if following is None or following["building"] != package["building"]:
                same = [p for p in section["packages"] if p["building"] == package["building"]]
                package["subtotal"] = {
                    "building": package["building"],
                    "packages": len(same),
                    "items": sum(p["item_count"] for p in same),
                    "to_collect": sum((p["to_collect"] for p in same), start=0),
                }
    count = sum(len(s["packages"]) for s in section_list)
    workers = [
        worker.display_name
        for worker in User.objects.filter(role=Role.WORKER, community_id=key.place_id, is_active=True)
        .only("username", "last_name", "first_name")
        .order_by("pk")
    ]
    return {
        **_header(key, **header),
        "title": _("Door list · %(community)s · %(date)s")
        % {"community": header["community"], "date": key.delivery_date.isoformat()},
        "sections": section_list,
        "blank_rows": BLANK_ROWS,
        "rows": count,
        "workers": "、".join(workers),
        "to_collect": sum((p["to_collect"] for s in section_list for p in s["packages"]), start=0),
    }


def labels_data(*, key: ListKey) -> dict:
    """One label per bag of each package of the community's day, in address order: a package of
    more than ``ITEMS_PER_BAG`` items comes in several bags, each labelled n/m. No names; only the
    last four digits of the phone, to tell neighbours' bags apart at the door."""
    header = _community_header(key.place_id)
    labels = []
    for row in _package_rows(key, with_household=False, with_phone=True):
        bags = max(1, -(-row["item_count"] // ITEMS_PER_BAG))
        for bag in range(1, bags + 1):
            labels.append(
                {
                    "code": row["code"],
                    "compound": row["compound__name"],
                    "building": row["building__number"],
                    "unit": row["household__unit"],
                    "room": row["household__room"],
                    "mode": row["mode"],
                    "slot": _slot(row),
                    "phone_tail": (row["phone"] or "")[-4:],
                    "items": row["item_count"],
                    "bag": bag,
                    "bags": bags,
                }
            )
    return {
        **_header(key, **header),
        "title": _("Labels · %(community)s · %(date)s")
        % {"community": header["community"], "date": key.delivery_date.isoformat()},
        "labels": labels,
        "rows": len(labels),
    }


def pickup_notice_data(*, key: ListKey) -> dict:
    """The notice posted at a pick-up compound's gate: which building collects in which time slot."""
    compound = Compound.objects.select_related("community__office__district").get(pk=key.place_id)
    community = compound.community
    rows = (
        _cycle_packages(key.cycle_id)
        .filter(compound_id=key.place_id, delivery_date=key.delivery_date, mode=DeliveryMode.PICKUP)
        .values("building__number", "building__sort_key", "pickup_slot__starts_at", "pickup_slot__ends_at")
        .annotate(households=Count("id"))
        .order_by()
    )
    buildings: dict[tuple, dict] = {}
    for row in rows:
        entry = buildings.setdefault(
            (row["building__sort_key"], natural_key(row["building__number"])),
            {"building": row["building__number"], "slots": [], "households": 0},
        )
        entry["households"] += row["households"]
        if row["pickup_slot__starts_at"] is not None:
            entry["slots"].append((row["pickup_slot__starts_at"], _slot(row)))
    building_list = []
    for sort in sorted(buildings):
        entry = buildings[sort]
        building_list.append({**entry, "slots": [label for _start, label in sorted(entry["slots"])]})
    return {
        **_header(
            key,
            compound=compound.name,
            community=community.name,
            district=community.office.district.name,
            hotline=community.office.district.hotline,
            receiving_point=compound.receiving_point or community.receiving_point,
        ),
        "title": _("Pick-up notice · %(compound)s · %(date)s")
        % {"compound": compound.name, "date": key.delivery_date.isoformat()},
        "buildings": building_list,
        "households": sum(b["households"] for b in building_list),
        "rows": len(building_list),
    }


# A code that carries its cycle: 12-ZH-1-1-001.
CYCLE_PART = re.compile(r"^[0-9]{1,9}-")

DATA: dict[str, Callable[..., dict]] = {
    ListKind.PICK_LIST: pick_list_data,
    ListKind.MANIFEST: manifest_data,
    ListKind.SUPPLEMENT_MANIFEST: manifest_data,
    ListKind.SUPPLEMENT: pick_list_data,
    ListKind.RECEIVING: receiving_data,
    ListKind.DOOR_LIST: door_list_data,
    ListKind.PICKUP_NOTICE: pickup_notice_data,
    ListKind.LABELS: labels_data,
}


def list_data(*, key: ListKey) -> dict:
    return DATA[key.kind](key=key)


def key_of(document: PrintDocument) -> ListKey:
    """The key of a kept list (to link its page and files)."""
    place_ids: dict[str, int | None] = {
        ListKind.PICK_LIST: document.supplier_id,
        ListKind.SUPPLEMENT: document.supplier_id,
        ListKind.MANIFEST: document.office_id,
        ListKind.SUPPLEMENT_MANIFEST: document.office_id,
        ListKind.PICKUP_NOTICE: document.compound_id,
    }
    # printing.services always keeps a list with its place's column set.
    place_id = cast(int, place_ids.get(document.kind, document.community_id))
    return ListKey(
        kind=document.kind,
        cycle_id=document.cycle_id,
        delivery_date=document.delivery_date,
        place_id=place_id,
        district_id=document.district_id if document.kind in SUPPLIER_KINDS else None,
    )


def packages_for_scan(*, user: User, code: str, cycle: int | None = None) -> list[Package]:
    """The packages a label or a typed code may mean, among those ``user`` may see (two queries):
    the package of a full code (``12-ZH-1-1-001``: codes are unique for ever); for a code without
    its cycle, the package of ``cycle`` (an old label's ``?cycle=12``), else every cycle's package
    with that code, newest first (one when that is unambiguous, several for the caller to choose)."""
    code = (code or "").strip().upper()
    if cycle is not None and not CYCLE_PART.match(code):
        code = package_code(cycle, code)
    if CYCLE_PART.match(code):
        packages = restrict(Package.objects.filter(code=code), user)
    else:
        packages = restrict(Package.objects.filter(code__regex=rf"^[0-9]+-{re.escape(code)}$"), user)
    found = list(
        packages.select_related("cycle", "household__building__compound__community", "pickup_slot").order_by(
            "-cycle__number", "-id"
        )[:20]
    )
    if len(found) == 1:
        found[0].phone_numbers = list(found[0].household.phones.values_list("number", flat=True))
    return found
