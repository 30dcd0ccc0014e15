"""The lists of the hops before the door: the supplier's pick list, the office's manifest and the
community's receiving list. Each reads set-based, in a fixed number of queries."""

from collections import defaultdict
from typing import cast

from django.db.models import Count, F, Min, Q, Sum
from django.utils.translation import gettext as _

from core.edges import natural_key
from deliveries.models import Consignment, Hop, ListKind
from deliveries.printing.selectors.keys import ListKey, _community_header, _cycle_packages, _header, _supplier_lines
from households.models import DeliveryMode, District, Office
from supply.models import Supplier


def pick_list_data(*, key: ListKey) -> dict:
    """A supplier's pick list for one district and day: totals per product, then per office (a truck
    load) and per community (a crate), with a box to tick for each. Products and counts only."""
    supplier = Supplier.objects.values("name").get(pk=key.place_id)
    district = District.objects.values("name", "hotline").get(pk=cast(int, key.district_id))  # per district
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
