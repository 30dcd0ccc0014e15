"""Deliveries' part of the dashboards (see households.dashboard): packages built and where they are
(per status), packages received at each hop of the route, and each supplier's fill rate (units
packed against units ordered, units ordered against capacity).

Registered by ``DeliveriesConfig.ready()``.
"""

from django.db.models import Count, Q, Sum
from django.utils.translation import gettext_lazy

from core.dashboard import Chart, Column, Provider, ProviderResult, Table, register_provider
from deliveries.models import Consignment, HandoverKind, Hop, Package, PackageStatus
from households.access import scope_of
from households.dashboard import DashboardQuery, place_paths
from supply.models import CycleStock, OrderLine, OrderStatus, Supplier

PACKAGE_PATHS = place_paths(compound="compound", community="community")
# A leg is the share of the community that built it; only community → compound legs name a compound.
CONSIGNMENT_PATHS = place_paths(compound="compound", community="built_by")
LINE_PATHS = place_paths(compound="order__household__building__compound")

STATUS_KEYS = {status: f"packages_{status}" for status in PackageStatus.values}
HOP_KEYS = {
    Hop.SUPPLIER_OFFICE: ("office_sent", "office_received"),
    Hop.OFFICE_COMMUNITY: ("community_sent", "community_received"),
    Hop.COMMUNITY_COMPOUND: ("compound_sent", "compound_received"),
}


def _rate(part: int, whole: int) -> float | None:
    return round(part / whole, 4) if whole else None


def _packages(query: DashboardQuery) -> dict:
    rows = query.by_child(Package.objects.filter(cycle=query.cycle), PACKAGE_PATHS).annotate(
        packages=Count("id"),
        packages_urgent=Count("id", filter=Q(urgent=True)),
        **{name: Count("id", filter=Q(status=status)) for status, name in STATUS_KEYS.items()},
    )
    return query.group(rows, PACKAGE_PATHS)


def _route(query: DashboardQuery, by_child: dict) -> None:
    key = query.child_key(CONSIGNMENT_PATHS)
    rows = (
        query.narrow(Consignment.objects.filter(cycle=query.cycle), CONSIGNMENT_PATHS)
        .order_by()
        .values(key, "hop")
        # Received: what each hop counted on arrival (its receipt), not what the list said was sent.
        # A consignment has at most one receipt, so the join keeps one row per consignment.
        .annotate(
            sent=Sum("package_count"),
            received=Sum("events__packages_received", filter=Q(events__kind=HandoverKind.RECEIVED)),
        )
    )
    for row in rows:
        sent, received = HOP_KEYS[row["hop"]]
        figures = by_child.setdefault(row[key], {})
        figures[sent] = figures.get(sent, 0) + (row["sent"] or 0)
        figures[received] = figures.get(received, 0) + (row["received"] or 0)


def _suppliers(query: DashboardQuery) -> list[dict]:
    """Per supplier: units its products were ordered in the place, units packed for the place (the
    supplier → office legs), and the city-wide capacity and units reserved. Three small GROUP BYs
    (two for the whole city: the units ordered there are the units reserved)."""
    cycle = query.cycle
    packed = dict(
        query.narrow(Consignment.objects.filter(cycle=cycle, hop=Hop.SUPPLIER_OFFICE), CONSIGNMENT_PATHS)
        .order_by()
        .values_list("supplier_id")
        .annotate(units=Sum("item_count"))
    )
    stock = {
        supplier_id: (capacity or 0, reserved or 0)
        for supplier_id, capacity, reserved in CycleStock.objects.filter(cycle=cycle)
        .order_by()
        .values_list("product__supplier_id")
        .annotate(capacity=Sum("capacity"), reserved=Sum("reserved"))
    }
    if query.place.level == "city" and scope_of(query.user).level == "all":
        # The whole city, seen by someone who sees everything: a product's ``reserved`` is the sum
        # of the quantities of the cycle's placed order lines (order_place and the baseline add
        # them, order_cancel takes them back; tests/test_dashboard.py checks it), so the units
        # ordered are the reserved units, without summing the cycle's million lines.
        ordered = {supplier_id: reserved for supplier_id, (_capacity, reserved) in stock.items() if reserved}
    else:
        ordered = dict(
            query.narrow(OrderLine.objects.filter(order__cycle=cycle, order__status=OrderStatus.PLACED), LINE_PATHS)
            .order_by()
            .values_list("product__supplier_id")
            .annotate(units=Sum("quantity"))
        )
    suppliers = Supplier.objects.filter(Q(pk__in=stock) | Q(pk__in=ordered) | Q(pk__in=packed))
    if query.place.district_id is not None:
        suppliers = suppliers.filter(
            Q(districts=query.place.district_id) | Q(pk__in=ordered) | Q(pk__in=packed)
        ).distinct()
    rows = []
    for supplier_id, name in suppliers.order_by("name", "pk").values_list("pk", "name"):
        units_ordered, units_packed = ordered.get(supplier_id, 0), packed.get(supplier_id, 0)
        capacity, reserved = stock.get(supplier_id, (0, 0))
        rows.append(
            {
                "supplier_id": supplier_id,
                "supplier": name,
                "units_ordered": units_ordered,
                "units_packed": units_packed,
                "fill_rate": _rate(units_packed, units_ordered),
                "capacity": capacity,
                "reserved": reserved,
                "capacity_used": _rate(reserved, capacity),
            }
        )
    return rows


def _deliveries(query: DashboardQuery) -> ProviderResult:
    if query.cycle is None:
        return ProviderResult(tables={"suppliers": []})
    by_child = _packages(query)
    _route(query, by_child)
    return ProviderResult(by_child=by_child, tables={"suppliers": _suppliers(query)})


PACKAGES_GROUP = gettext_lazy("Packages this cycle")
ROUTE_GROUP = gettext_lazy("Packages received at each level")


def register() -> None:
    register_provider(
        Provider(
            name="deliveries",
            compute=_deliveries,
            columns=(
                Column("packages", gettext_lazy("Packages built"), PACKAGES_GROUP),
                Column("packages_urgent", gettext_lazy("of which urgent"), PACKAGES_GROUP),
                *(Column(name, PackageStatus(status).label, PACKAGES_GROUP) for status, name in STATUS_KEYS.items()),
                Column("office_sent", gettext_lazy("Supplier → office: sent"), ROUTE_GROUP),
                Column("office_received", gettext_lazy("received at the office"), ROUTE_GROUP),
                Column("community_sent", gettext_lazy("Office → community: sent"), ROUTE_GROUP),
                Column("community_received", gettext_lazy("received at the community"), ROUTE_GROUP),
                Column("compound_sent", gettext_lazy("Community → compound: sent"), ROUTE_GROUP),
                Column("compound_received", gettext_lazy("received at the compound"), ROUTE_GROUP),
            ),
            charts=(Chart("packages", gettext_lazy("Where the packages are"), tuple(STATUS_KEYS.values())),),
            tables=(
                Table(
                    "suppliers",
                    gettext_lazy("Supplier fill rates"),
                    (
                        Column("supplier_id", gettext_lazy("Supplier id"), kind="id"),
                        Column("supplier", gettext_lazy("Supplier"), kind="text"),
                        Column("units_ordered", gettext_lazy("Units ordered")),
                        Column("units_packed", gettext_lazy("Units packed")),
                        Column("fill_rate", gettext_lazy("Packed / ordered"), kind="rate"),
                        Column("capacity", gettext_lazy("Capacity (city)")),
                        Column("reserved", gettext_lazy("Reserved (city)")),
                        Column("capacity_used", gettext_lazy("Reserved / capacity"), kind="rate"),
                    ),
                    note=gettext_lazy(
                        "Units ordered and packed are this place's; capacity and reserved units are the supplier's "
                        "for the whole city in this cycle."
                    ),
                ),
            ),
        )
    )
