"""Supply's part of the dashboards (see households.dashboard): the cycle the figures are about,
this cycle's orders by channel per child place, and the products sold out.

Registered by ``SupplyConfig.ready()``.
"""

from django.db.models import Count, F, Q
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from core.dashboard import Chart, Column, Period, Provider, ProviderResult, Table, register_period, register_provider
from core.errors import BaogongError, NotFound
from households.dashboard import DashboardQuery, place_paths
from supply.models import Channel, Cycle, CycleStock, Order, OrderStatus

RECENT_CYCLES = 6
ORDER_PATHS = place_paths(compound="household__building__compound")


def _cycle_data(cycle: Cycle) -> dict:
    return {
        "id": cycle.pk,
        "number": cycle.number,
        "status": cycle.status,
        "opens_at": cycle.opens_at,
        "cutoff_at": cycle.cutoff_at,
        "first_delivery_date": cycle.first_delivery_date,
    }


def _cycle_label(cycle: Cycle) -> str:
    return _("Cycle %(number)d · %(status)s") % {"number": cycle.number, "status": cycle.get_status_display()}


def cycle_period(param: str | None) -> Period:
    """``?cycle=<number>``: that cycle; none given: the latest (the one open for orders, else the
    one being delivered). Malformed → 400, unknown → 404. One query, two for an older cycle."""
    number = None
    if param not in (None, ""):
        text = param.strip()
        if not (text.isascii() and text.isdigit()) or len(text) > 9 or int(text) < 1:
            message = _("Choose a cycle by its number.")
            raise BaogongError(message, errors={"cycle": [message]})
        number = int(text)
    recent = list(Cycle.objects.order_by("-number")[:RECENT_CYCLES])
    if number is None:
        cycle = recent[0] if recent else None
    else:
        cycle = next((c for c in recent if c.number == number), None) or Cycle.objects.filter(number=number).first()
        if cycle is None:
            raise NotFound(
                _("There is no cycle %(number)d.") % {"number": number}, errors={"cycle": [_("No such cycle.")]}
            )
    if cycle is None:
        return Period(obj=None, label=_("No cycle yet"), data=None)
    return Period(
        obj=cycle,
        label=_cycle_label(cycle),
        data=_cycle_data(cycle),
        options=tuple((str(c.number), _cycle_label(c)) for c in recent),
        key=str(cycle.number),
    )


CHANNEL_KEYS = {
    Channel.WEB: "orders_web",
    Channel.HOTLINE: "orders_hotline",
    Channel.WORKER: "orders_worker",
    Channel.BASELINE: "orders_baseline",
}


def _supply(query: DashboardQuery) -> ProviderResult:
    cycle = query.cycle
    if cycle is None:
        return ProviderResult(tables={"sold_out": []})
    rows = query.by_child(Order.objects.filter(cycle=cycle, status=OrderStatus.PLACED), ORDER_PATHS).annotate(
        orders=Count("id"),
        **{name: Count("id", filter=Q(channel=channel)) for channel, name in CHANNEL_KEYS.items()},
    )
    by_child = query.group(rows, ORDER_PATHS)
    # Sold out: every unit of the cycle's capacity is held by placed orders. Capacity is city-wide;
    # a place sees the products of the suppliers serving its district.
    stock = CycleStock.objects.filter(cycle=cycle, reserved__gte=F("capacity"))
    if query.place.district_id is not None:
        stock = stock.filter(product__supplier__districts=query.place.district_id)
    sold_out = [
        {"product_id": pid, "product": f"{name} {size}".strip(), "supplier": supplier, "capacity": capacity}
        for pid, name, size, supplier, capacity in stock.order_by(
            "product__supplier__name", "product__name", "product_id"
        ).values_list("product_id", "product__name", "product__size", "product__supplier__name", "capacity")
    ]
    return ProviderResult(by_child=by_child, tables={"sold_out": sold_out})


ORDERS_GROUP = gettext_lazy("Orders this cycle")


def register() -> None:
    register_period(cycle_period)
    register_provider(
        Provider(
            name="supply",
            compute=_supply,
            columns=(
                Column("orders", gettext_lazy("Orders"), ORDERS_GROUP),
                *(Column(name, Channel(channel).label, ORDERS_GROUP) for channel, name in CHANNEL_KEYS.items()),
            ),
            charts=(Chart("channels", gettext_lazy("Orders by channel"), tuple(CHANNEL_KEYS.values())),),
            tables=(
                Table(
                    "sold_out",
                    gettext_lazy("Sold-out products"),
                    (
                        Column("product", gettext_lazy("Product"), kind="text"),
                        Column("supplier", gettext_lazy("Supplier"), kind="text"),
                        Column("capacity", gettext_lazy("Capacity this cycle")),
                    ),
                    note=gettext_lazy("Every unit of this cycle's capacity is held by orders (capacity is city-wide)."),
                ),
            ),
        )
    )
