"""Reads behind every printed list, and who may see which list.

Each ``*_data`` function returns the whole content of one list as plain data (dicts, lists,
strings, numbers, dates): the same data feeds the HTML page, the PDF, the spreadsheet and the
fingerprint that tells whether a kept file is still current. Each reads set-based, in a fixed
number of queries whatever the number of packages (pinned by the tests).

Lists hold packages of the cycle's delivery days; urgent packages travel on their own, same day,
and are not on them.
"""

import datetime
import re
from collections import defaultdict
from dataclasses import dataclass

from django.db.models import Count, Exists, F, Min, OuterRef, Q, QuerySet, Subquery, Sum
from django.utils.translation import gettext as _

from core.edges import natural_key
from deliveries import rules
from deliveries.models import Consignment, Hop, ListKind, Package, PrintDocument
from households.access import restrict, scope_of
from households.models import Community, Compound, DeliveryMode, District, HouseholdPhone, Office, Role, User
from households.permissions import allows
from supply.models import Cycle, CycleStatus, OrderLine, OrderStatus, Supplier

# Who may see which list (which places is then decided by households.access): suppliers their pick
# lists only (products and counts, never residents), offices their manifests, community workers
# their community's lists, task forces and administrators everything in their scope.
KIND_RULES: dict[str, str] = {
    ListKind.PICK_LIST: rules.LISTS_SUPPLIER,
    ListKind.SUPPLEMENT: rules.LISTS_SUPPLIER,
    ListKind.MANIFEST: rules.LISTS_OFFICE,
    ListKind.SUPPLEMENT_MANIFEST: rules.LISTS_OFFICE,
    ListKind.RECEIVING: rules.LISTS_COMMUNITY,
    ListKind.DOOR_LIST: rules.LISTS_COMMUNITY,
    ListKind.PICKUP_NOTICE: rules.LISTS_COMMUNITY,
    ListKind.LABELS: rules.LISTS_COMMUNITY,
}
# A supplier's lists, per supplier and district: the pick list frozen at the close, and the
# supplement list of urgent-lane packages built after it.
SUPPLIER_KINDS = (ListKind.PICK_LIST, ListKind.SUPPLEMENT)
# An office's lists: the manifest frozen at the close, and the supplement manifest of the urgent lane.
OFFICE_KINDS = (ListKind.MANIFEST, ListKind.SUPPLEMENT_MANIFEST)
COMMUNITY_KINDS = (ListKind.RECEIVING, ListKind.DOOR_LIST, ListKind.LABELS, ListKind.PICKUP_NOTICE)
PRINTABLE_STATUSES = (CycleStatus.PACKED, CycleStatus.COMPLETE)

# Blank rows at the end of each compound of a door list, for a door that is not on it.
BLANK_ROWS = 4
# Items one bag holds: a larger package comes in several bags, each with its own label (n/m).
ITEMS_PER_BAG = 10

_PLACE = re.compile(r"^([0-9]{1,12})(?:-([0-9]{1,12}))?$")


@dataclass(frozen=True)
class ListKey:
    """Which list: its kind, cycle, delivery day and place.

    The place is a supplier (with ``district_id``: a pick list is per supplier and district), an
    office (manifest), a community (receiving list, door list, labels) or a compound (pick-up notice).
    """

    kind: str
    cycle_id: int
    delivery_date: datetime.date
    place_id: int
    district_id: int | None = None

    @property
    def place_key(self) -> str:
        return f"{self.place_id}-{self.district_id}" if self.kind in SUPPLIER_KINDS else str(self.place_id)

    @classmethod
    def parse(cls, *, kind: str, cycle_id: int, place: str, date: str) -> "ListKey | None":
        """The key from URL parts, or None if any part is malformed."""
        match = _PLACE.match(place or "")
        if kind not in ListKind.values or match is None:
            return None
        try:
            day = datetime.date.fromisoformat(date)
        except (TypeError, ValueError):
            return None
        first, second = int(match.group(1)), match.group(2)
        if (kind in SUPPLIER_KINDS) != (second is not None):
            return None
        return cls(
            kind=kind, cycle_id=cycle_id, delivery_date=day, place_id=first, district_id=int(second) if second else None
        )

    def url_args(self) -> list:
        return [self.cycle_id, self.kind, self.place_key, self.delivery_date.isoformat()]


# --- who sees what -----------------------------------------------------------------------------


def kinds_for(*, user: User) -> list[str]:
    return [kind for kind, name in KIND_RULES.items() if allows(user, name)]


def list_allowed(*, user: User, key: ListKey) -> bool:
    """May ``user`` see this list? Role first, then the place through households.access."""
    if key.kind not in kinds_for(user=user):
        return False
    if key.kind in SUPPLIER_KINDS:
        scope = scope_of(user)
        if scope.level == "supplier":
            return scope.supplier_id == key.place_id
        return restrict(District.objects.filter(pk=key.district_id), user).exists()
    model = Office if key.kind in OFFICE_KINDS else {ListKind.PICKUP_NOTICE: Compound}.get(key.kind, Community)
    return restrict(model.objects.filter(pk=key.place_id), user).exists()


def printable_cycles(*, user: User) -> QuerySet[Cycle]:
    return restrict(Cycle.objects.filter(status__in=PRINTABLE_STATUSES), user).order_by("-number")


def document_list(*, user: User, cycle: Cycle) -> QuerySet[PrintDocument]:
    """The current (not superseded) kept lists of a cycle that ``user`` may see, each annotated with

    - ``replaced_at``: when an earlier version of it was superseded (paper printed before is out
      of date and must be printed again), or None;
    - ``out_of_date``: a package on it changed (a late lockdown change, a door missed and re-queued)
      after the list was last found current, and it has not been checked again yet.
    """
    kinds = kinds_for(user=user)
    same_list = PrintDocument.objects.filter(
        cycle=OuterRef("cycle"),
        kind=OuterRef("kind"),
        place_key=OuterRef("place_key"),
        delivery_date=OuterRef("delivery_date"),
        superseded_at__isnull=False,
    )
    changed = Package.objects.filter(
        cycle=OuterRef("cycle"),
        community=OuterRef("community"),
        delivery_date=OuterRef("delivery_date"),
        recomputed_at__gt=OuterRef("confirmed_at"),
    )
    documents = PrintDocument.objects.filter(cycle=cycle, superseded_at__isnull=True, kind__in=kinds).annotate(
        replaced_at=Subquery(same_list.order_by("-superseded_at").values("superseded_at")[:1]),
        out_of_date=Exists(changed),
    )
    return restrict(documents, user).order_by("delivery_date", "kind", "title", "id")


def failure_list(*, user: User, cycle: Cycle) -> QuerySet:
    """The lists of a cycle that ``user`` may see and that could not be drawn, with the reason."""
    from deliveries.models import PrintFailure

    return restrict(PrintFailure.objects.filter(cycle=cycle, kind__in=kinds_for(user=user)), user).order_by(
        "delivery_date", "kind", "place_key"
    )


def document_current(*, key: ListKey) -> PrintDocument | None:
    return PrintDocument.objects.filter(
        cycle_id=key.cycle_id,
        kind=key.kind,
        place_key=key.place_key,
        delivery_date=key.delivery_date,
        superseded_at__isnull=True,
    ).first()


# --- which lists a cycle has -------------------------------------------------------------------


def _cycle_packages(cycle_id: int) -> QuerySet[Package]:
    """Every package of a cycle: the community's paper has the urgent lane's packages too."""
    return Package.objects.filter(cycle_id=cycle_id)


def community_keys(*, cycle_id: int, community_id: int) -> list[ListKey]:
    """The community's lists: receiving list, door list and labels per delivery day, and a pick-up
    notice per pick-up compound and day (one query)."""
    rows = (
        _cycle_packages(cycle_id)
        .filter(community_id=community_id)
        .values_list("delivery_date", "dispatch_date", "compound_id", "mode")
        .distinct()
        .order_by()
    )
    keys: set[ListKey] = set()
    for day, dispatched, compound_id, mode in rows:
        # What arrives is listed on the day it was dispatched; doors and labels on the day they are due.
        keys.add(ListKey(kind=ListKind.RECEIVING, cycle_id=cycle_id, delivery_date=dispatched, place_id=community_id))
        for kind in (ListKind.DOOR_LIST, ListKind.LABELS):
            keys.add(ListKey(kind=kind, cycle_id=cycle_id, delivery_date=day, place_id=community_id))
        if mode == DeliveryMode.PICKUP:
            keys.add(ListKey(kind=ListKind.PICKUP_NOTICE, cycle_id=cycle_id, delivery_date=day, place_id=compound_id))
    return sorted(keys, key=lambda k: (k.delivery_date, k.kind, k.place_id))


def office_keys(*, cycle_id: int, office_id: int) -> list[ListKey]:
    """The office's manifest per day of the close's legs, and its supplement manifest per day with
    urgent-lane legs (one query)."""
    rows = (
        Consignment.objects.filter(cycle_id=cycle_id, office_id=office_id, hop=Hop.OFFICE_COMMUNITY)
        .values_list("delivery_date", "supplement")
        .distinct()
        .order_by("delivery_date", "supplement")
    )
    return [
        ListKey(
            kind=ListKind.SUPPLEMENT_MANIFEST if supplement else ListKind.MANIFEST,
            cycle_id=cycle_id,
            delivery_date=day,
            place_id=office_id,
        )
        for day, supplement in rows
    ]


def _supplier_lines(*, cycle_id: int, supplier_id: int) -> QuerySet[OrderLine]:
    return OrderLine.objects.filter(
        product__supplier_id=supplier_id,
        order__status=OrderStatus.PLACED,
        order__package_link__package__cycle_id=cycle_id,
    )


def supplier_keys(*, cycle_id: int, supplier_id: int) -> list[ListKey]:
    """The supplier's pick list per district and dispatch day (packages of the close), and its
    supplement list where urgent-lane packages were added (one query)."""
    rows = (
        _supplier_lines(cycle_id=cycle_id, supplier_id=supplier_id)
        .values_list(
            "order__package_link__package__dispatch_date",
            "order__package_link__package__community__office__district_id",
            "order__package_link__package__urgent",
        )
        .distinct()
        .order_by()
    )
    return sorted(
        (
            ListKey(
                kind=ListKind.SUPPLEMENT if urgent else ListKind.PICK_LIST,
                cycle_id=cycle_id,
                delivery_date=day,
                place_id=supplier_id,
                district_id=district_id,
            )
            for day, district_id, urgent in rows
        ),
        key=lambda k: (k.delivery_date, k.district_id, k.kind),
    )


@dataclass(frozen=True)
class CycleUnits:
    """Who generates what: one task per community, office and supplier that has packages."""

    communities: list[int]
    offices: list[int]
    suppliers: list[int]


def cycle_units(*, cycle_id: int) -> CycleUnits:
    legs = Consignment.objects.filter(cycle_id=cycle_id)
    return CycleUnits(
        communities=sorted(set(_cycle_packages(cycle_id).values_list("community_id", flat=True).distinct().order_by())),
        offices=sorted(
            set(legs.filter(hop=Hop.OFFICE_COMMUNITY).values_list("office_id", flat=True).distinct().order_by())
        ),
        suppliers=sorted(
            set(
                legs.filter(hop=Hop.SUPPLIER_OFFICE, supplier__isnull=False)
                .values_list("supplier_id", flat=True)
                .distinct()
                .order_by()
            )
        ),
    )


# --- the data of each list ---------------------------------------------------------------------


def lists_pending(*, cycle_id: int) -> int:
    """How many communities, offices and suppliers of a packed cycle have no list drawn yet (their
    paper is still being drawn, or failed): three queries."""
    units = cycle_units(cycle_id=cycle_id)
    current = PrintDocument.objects.filter(cycle_id=cycle_id, superseded_at__isnull=True)
    drawn = (
        set(current.filter(kind=ListKind.DOOR_LIST).values_list("community_id", flat=True)),
        set(current.filter(kind__in=OFFICE_KINDS).values_list("office_id", flat=True)),
        set(current.filter(kind__in=SUPPLIER_KINDS).values_list("supplier_id", flat=True)),
    )
    return sum(
        len(set(ids) - done)
        for ids, done in zip((units.communities, units.offices, units.suppliers), drawn, strict=True)
    )


def _cycle_number(cycle_id: int) -> int:
    return Cycle.objects.values_list("number", flat=True).get(pk=cycle_id)


def _community_header(community_id: int) -> dict:
    c = Community.objects.select_related("office__district").get(pk=community_id)
    return {
        "community": c.name,
        "community_id": c.pk,
        "office": c.office.name,
        "office_id": c.office_id,
        "district": c.office.district.name,
        "district_id": c.office.district_id,
        "hotline": c.office.district.hotline,
        "receiving_point": c.receiving_point,
    }


def _header(key: ListKey, **places) -> dict:
    return {
        "kind": key.kind,
        "cycle": _cycle_number(key.cycle_id),
        "cycle_id": key.cycle_id,
        "date": key.delivery_date,
        **places,
    }


def pick_list_data(*, key: ListKey) -> dict:
    """A supplier's pick list for one district and day: totals per product, then per office (a truck
    load) and per community (a crate), with a box to tick for each. Products and counts only."""
    supplier = Supplier.objects.values("name").get(pk=key.place_id)
    district = District.objects.values("name", "hotline").get(pk=key.district_id)
    package = "order__package_link__package__"
    lines = (
        _supplier_lines(cycle_id=key.cycle_id, supplier_id=key.place_id)
        # By the day the goods leave the supplier: a package re-queued at a door stays on this list.
        # The pick list has the packages of the close; the supplement list those added after it.
        .filter(
            **{
                f"{package}dispatch_date": key.delivery_date,
                f"{package}community__office__district_id": key.district_id,
                f"{package}urgent": key.kind == ListKind.SUPPLEMENT,
            }
        )
        .values(
            "product_id",
            office_id=F(f"{package}community__office_id"),
            office=F(f"{package}community__office__name"),
            office_code=F(f"{package}community__office__code"),
            community_id=F(f"{package}community_id"),
            community=F(f"{package}community__name"),
            community_code=F(f"{package}community__code"),
        )
        .annotate(product_name=Min("name"), product_unit=Min("unit"), total=Sum("quantity"))
        .order_by()
    )
    totals: dict[int, dict] = {}
    offices: dict[int, dict] = {}
    for row in lines:
        product = totals.setdefault(
            row["product_id"], {"name": row["product_name"], "unit": row["product_unit"], "quantity": 0}
        )
        product["quantity"] += row["total"]
        office = offices.setdefault(
            row["office_id"], {"name": row["office"], "code": row["office_code"], "products": {}, "communities": {}}
        )
        line = office["products"].setdefault(
            row["product_id"], {"name": row["product_name"], "unit": row["product_unit"], "quantity": 0}
        )
        line["quantity"] += row["total"]
        crate = office["communities"].setdefault(
            row["community_id"], {"name": row["community"], "code": row["community_code"], "products": {}}
        )
        item = crate["products"].setdefault(
            row["product_id"], {"name": row["product_name"], "unit": row["product_unit"], "quantity": 0}
        )
        item["quantity"] += row["total"]

    def ordered(products: dict) -> list[dict]:
        return sorted(products.values(), key=lambda p: (natural_key(p["name"]), p["unit"]))

    office_list = []
    for office in sorted(offices.values(), key=lambda o: natural_key(o["code"])):
        crates = [
            {
                "name": c["name"],
                "products": ordered(c["products"]),
                "quantity": sum(p["quantity"] for p in c["products"].values()),
            }
            for c in sorted(office["communities"].values(), key=lambda c: natural_key(c["code"]))
        ]
        office_list.append(
            {
                "name": office["name"],
                "products": ordered(office["products"]),
                "communities": crates,
                "quantity": sum(p["quantity"] for p in office["products"].values()),
            }
        )
    products = ordered(totals)
    return {
        **_header(key, supplier=supplier["name"], district=district["name"], hotline=district["hotline"]),
        "title": (
            _("Supplement pick list · %(supplier)s · %(district)s · %(date)s")
            if key.kind == ListKind.SUPPLEMENT
            else _("Pick list · %(supplier)s · %(district)s · %(date)s")
        )
        % {"supplier": supplier["name"], "district": district["name"], "date": key.delivery_date.isoformat()},
        "products": products,
        "offices": office_list,
        "quantity": sum(p["quantity"] for p in products),
        "rows": len(products),
    }


def manifest_data(*, key: ListKey) -> dict:
    """An office's dispatch manifest for one day: what comes in from each supplier and what goes out
    to each community (packages, crates, items), with lines for both signatures of each handover."""
    office = Office.objects.select_related("district").get(pk=key.place_id)
    # The manifest is frozen at dispatch (the legs of the close); the urgent lane's legs have
    # their own supplement manifest.
    legs = Consignment.objects.filter(
        cycle_id=key.cycle_id,
        office_id=key.place_id,
        delivery_date=key.delivery_date,
        supplement=key.kind == ListKind.SUPPLEMENT_MANIFEST,
    )
    outgoing = (
        legs.filter(hop=Hop.OFFICE_COMMUNITY)
        .values("community_id", "community__name", "community__code", "community__receiving_point")
        .annotate(packages=Sum("package_count"), items=Sum("item_count"))
        .order_by()
    )
    incoming = (
        legs.filter(hop=Hop.SUPPLIER_OFFICE, supplier__isnull=False)
        .values("built_by_id", "supplier_id", "supplier__name")
        .annotate(packages=Sum("package_count"), items=Sum("item_count"))
        .order_by()
    )
    crates: dict[int, int] = defaultdict(int)
    suppliers: dict[int, dict] = {}
    for row in incoming:
        crates[row["built_by_id"]] += 1  # one crate per supplier and community (the pick list's split)
        entry = suppliers.setdefault(
            row["supplier_id"], {"name": row["supplier__name"], "crates": 0, "packages": 0, "items": 0}
        )
        entry["crates"] += 1
        entry["packages"] += row["packages"]
        entry["items"] += row["items"]
    communities = [
        {
            "name": row["community__name"],
            "receiving_point": row["community__receiving_point"],
            "packages": row["packages"],
            "items": row["items"],
            "crates": crates.get(row["community_id"], 0),
            "code": row["community__code"],
        }
        for row in outgoing
    ]
    communities.sort(key=lambda c: natural_key(c["code"]))
    supplier_list = sorted(suppliers.values(), key=lambda s: natural_key(s["name"]))
    return {
        **_header(key, office=office.name, district=office.district.name, hotline=office.district.hotline),
        "title": (
            _("Supplement dispatch manifest · %(office)s · %(date)s")
            if key.kind == ListKind.SUPPLEMENT_MANIFEST
            else _("Dispatch manifest · %(office)s · %(date)s")
        )
        % {"office": office.name, "date": key.delivery_date.isoformat()},
        "communities": communities,
        "suppliers": supplier_list,
        "packages": sum(c["packages"] for c in communities),
        "items": sum(c["items"] for c in communities),
        "crates": sum(c["crates"] for c in communities),
        "rows": len(communities),
    }


def receiving_data(*, key: ListKey) -> dict:
    """A community's receiving list for one day: per compound, packages by mode, items and money to
    collect, and the crates expected from each supplier."""
    header = _community_header(key.place_id)
    compounds = (
        _cycle_packages(key.cycle_id)
        .filter(community_id=key.place_id, dispatch_date=key.delivery_date)
        .values("compound_id", "compound__name", "compound__code", "compound__receiving_point")
        .annotate(
            door=Count("id", filter=Q(mode=DeliveryMode.DOOR)),
            pickup=Count("id", filter=Q(mode=DeliveryMode.PICKUP)),
            items=Sum("item_count"),
            to_collect=Sum("to_collect"),
        )
        .order_by()
    )
    rows = sorted(
        (
            {
                "name": c["compound__name"],
                "receiving_point": c["compound__receiving_point"] or header["receiving_point"],
                "door": c["door"],
                "pickup": c["pickup"],
                "packages": c["door"] + c["pickup"],
                "items": c["items"],
                "to_collect": c["to_collect"],
                "code": c["compound__code"],
            }
            for c in compounds
        ),
        key=lambda c: natural_key(c["code"]),
    )
    crates = list(
        Consignment.objects.filter(
            cycle_id=key.cycle_id,
            built_by_id=key.place_id,
            delivery_date=key.delivery_date,
            hop=Hop.SUPPLIER_OFFICE,
            supplier__isnull=False,
        )
        .values("supplier__name")
        .annotate(crates=Count("id"), items=Sum("item_count"))
        .order_by("supplier__name")
    )
    return {
        **_header(key, **header),
        "title": _("Receiving list · %(community)s · %(date)s")
        % {"community": header["community"], "date": key.delivery_date.isoformat()},
        "compounds": rows,
        "crates": [{"supplier": c["supplier__name"], "crates": c["crates"], "items": c["items"]} for c in crates],
        "door": sum(c["door"] for c in rows),
        "pickup": sum(c["pickup"] for c in rows),
        "packages": sum(c["packages"] for c in rows),
        "items": sum(c["items"] for c in rows),
        "to_collect": sum((c["to_collect"] for c in rows), start=0),
        "rows": len(rows),
    }


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


DATA = {
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
    place_id = {
        ListKind.PICK_LIST: document.supplier_id,
        ListKind.SUPPLEMENT: document.supplier_id,
        ListKind.MANIFEST: document.office_id,
        ListKind.SUPPLEMENT_MANIFEST: document.office_id,
        ListKind.PICKUP_NOTICE: document.compound_id,
    }.get(document.kind, document.community_id)
    return ListKey(
        kind=document.kind,
        cycle_id=document.cycle_id,
        delivery_date=document.delivery_date,
        place_id=place_id,
        district_id=document.district_id if document.kind in SUPPLIER_KINDS else None,
    )


def package_for_scan(*, user: User, code: str, cycle: int | None = None) -> Package | None:
    """The package a label points at, if ``user`` may see it: the given cycle's (by number), else the
    latest cycle's package with that code (codes repeat from cycle to cycle). Two queries."""
    packages = restrict(Package.objects.filter(code=code), user)
    if cycle is not None:
        packages = packages.filter(cycle__number=cycle)
    package = (
        packages.select_related("cycle", "household__building__compound__community", "pickup_slot")
        .order_by("-cycle__number", "-id")
        .first()
    )
    if package is not None:
        package.phone_numbers = list(package.household.phones.values_list("number", flat=True))
    return package
