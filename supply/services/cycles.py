"""Cycles: opening on time, the free baseline and standing orders, every status transition."""

import datetime

from django.db import IntegrityError, connection, transaction
from django.db.models import F, Sum
from django.utils import timezone
from django.utils.translation import gettext as _

from core.dates import moment_text
from supply.models import (
    Channel,
    Cycle,
    CycleStatus,
    CycleStock,
    OrderLine,
    OrderStatus,
    PaymentMethod,
    PaymentState,
    PriceState,
    Product,
)
from supply.services.limits import CYCLE_DAYS, ORDERING_HOURS
from supply.services.payments import cycle_unpaid_expire

# --- cycles ----------------------------------------------------------------------------------------


def _cycle_window(opens_at: datetime.datetime) -> tuple[datetime.datetime, datetime.date]:
    cutoff_at = opens_at + datetime.timedelta(hours=ORDERING_HOURS)
    first_delivery = timezone.localtime(cutoff_at).date() + datetime.timedelta(days=1)
    return cutoff_at, first_delivery


# --- a cycle's status: every transition here (supply owns Cycle; deliveries calls these) ---------

# Which status each transition goes from (the only one that permits it) and to.
_CYCLE_STEPS = {
    "close": (CycleStatus.OPEN, CycleStatus.CLOSING),
    "pack": (CycleStatus.CLOSING, CycleStatus.PACKED),
    "complete": (CycleStatus.PACKED, CycleStatus.COMPLETE),
    "reopen": (CycleStatus.COMPLETE, CycleStatus.PACKED),
    "archive": (CycleStatus.COMPLETE, CycleStatus.ARCHIVED),
}


def cycle_step(*, cycle: Cycle, step: str, now: datetime.datetime | None = None) -> bool:
    """Move a cycle one step: close (open → closing, stamping ``closed_at`` and expiring the orders
    still awaiting payment), pack (closing →
    packed), complete (packed → complete), reopen (complete → packed, when a delivery was undone) or
    archive (complete → archived, by deliveries' ``cycle_archive``).

    Guarantees: only from the status that permits the step (otherwise nothing changes and False);
    the caller holds the cycle row locked (``select_for_update``) in its transaction, so two callers
    cannot both move it; ``cycle`` is updated in place. Returns whether the cycle moved.
    """
    source, target = _CYCLE_STEPS[step]
    if cycle.status != source:
        return False
    cycle.status = target
    fields = ["status"]
    if step == "close":
        cycle.closed_at = now or timezone.now()
        fields.append("closed_at")
        # nothing unpaid is packed: what still awaits its payment expires at the cutoff
        cycle_unpaid_expire(cycle_id=cycle.pk)
    cycle.save(update_fields=fields)
    return True


@transaction.atomic
def cycle_open(*, opens_at: datetime.datetime | None = None) -> Cycle:
    """Open the next city-wide cycle and give every product on sale its capacity in it.

    Idempotent: if a cycle is already open, that cycle is returned and nothing changes. The
    stock rows are written in one ``INSERT … SELECT``-shaped bulk statement.
    """
    current = Cycle.objects.select_for_update().filter(status=CycleStatus.OPEN).first()
    if current is not None:
        return current
    opens_at = opens_at or timezone.now()
    last = Cycle.objects.order_by("-number").first()
    cutoff_at, first_delivery = _cycle_window(opens_at)
    try:
        with transaction.atomic():
            cycle = Cycle.objects.create(
                number=(last.number + 1) if last else 1,
                opens_at=opens_at,
                cutoff_at=cutoff_at,
                first_delivery_date=first_delivery,
            )
    except IntegrityError:  # another process opened it at the same moment
        return Cycle.objects.get(status=CycleStatus.OPEN)
    CycleStock.objects.bulk_create(
        [
            CycleStock(cycle=cycle, product_id=product_id, capacity=capacity)
            for product_id, capacity in Product.objects.filter(is_active=True).values_list("id", "capacity")
        ],
        batch_size=2000,
        ignore_conflicts=True,
    )
    cycle_baseline_orders(cycle_id=cycle.pk)
    return cycle


_HOUSEHOLD_DISTRICT = """
    JOIN households_building b ON b.id = h.building_id
    JOIN households_compound c ON c.id = b.compound_id
    JOIN households_community m ON m.id = c.community_id
    JOIN households_office f ON f.id = m.office_id
"""


@transaction.atomic
def cycle_baseline_orders(*, cycle_id: int) -> int:
    """Place this cycle's baseline and standing orders, once, in a few set-based statements.

    - every household whose effective level is "stay at home" and that has not declined it gets
      one free baseline order with its district's baseline items (:func:`baseline_orders_place`);
    - every active standing order of a household (regular medicine of a ledger household) becomes
      an order (pay on delivery) with that product.
    These supplies are guaranteed and come on top of what residents can order: each product's
    stock holds them in ``baseline`` (capacity and reserved grow by the same amount, so what
    residents can order does not change). Guarantees: runs once per cycle (a second call does
    nothing); unique constraints forbid a second baseline order per household or standing order.
    """
    cycle = Cycle.objects.select_for_update().get(pk=cycle_id)
    if cycle.baseline_at is not None:
        return 0
    now = timezone.now()
    baseline = len(baseline_orders_place(cycle_id=cycle.pk, now=now))
    with connection.cursor() as cursor:
        cursor.execute(
            """
            INSERT INTO supply_order (household_id, cycle_id, status, channel, note, total, payment_method,
                                      payment_state, request_hash, created_at, urgent, standing_order_id, placed_by_id)
            SELECT s.household_id, %s, %s, %s, s.note, p.price * s.quantity, %s, %s, '', %s, %s, s.id, s.created_by_id
            FROM supply_standingorder s JOIN supply_product p ON p.id = s.product_id
            WHERE s.is_active = %s AND p.is_active = %s AND p.price_state = %s
            ON CONFLICT DO NOTHING
            """,
            [
                cycle.pk,
                OrderStatus.PLACED,
                Channel.WORKER,
                PaymentMethod.ON_DELIVERY,
                PaymentState.TO_COLLECT,
                now,
                False,
                True,
                True,
                PriceState.APPROVED,
            ],
        )
        standing = cursor.rowcount
        cursor.execute(
            """
            INSERT INTO supply_orderline (order_id, cycle_id, product_id, name, unit, quantity, unit_price, line_total)
            SELECT o.id, o.cycle_id, s.product_id, TRIM(p.name || ' ' || p.size), p.unit, s.quantity, p.price, p.price * s.quantity
            FROM supply_order o
            JOIN supply_standingorder s ON s.id = o.standing_order_id
            JOIN supply_product p ON p.id = s.product_id
            WHERE o.cycle_id = %s AND NOT EXISTS (SELECT 1 FROM supply_orderline l WHERE l.order_id = o.id AND l.cycle_id = o.cycle_id)
            """,
            [cycle.pk],
        )
    standing_lines = OrderLine.objects.filter(cycle=cycle, order__standing_order__isnull=False)
    _stock_hold(
        cycle_id=cycle.pk,
        needed=standing_lines.values_list("product_id").annotate(total=Sum("quantity")).order_by("product_id"),
    )
    cycle.baseline_at = now
    cycle.save(update_fields=["baseline_at"])
    return baseline + standing


def baseline_orders_place(
    *,
    cycle_id: int,
    compound_id: int | None = None,
    now: datetime.datetime | None = None,
) -> list[int]:
    """Give every stay-at-home household (of one compound, or of the city) that has none yet its
    free baseline order in a cycle; returns the new orders' ids.

    Guarantees: set-based (an INSERT … SELECT of the orders, one of their lines, and the stock
    rows); idempotent (a household with a baseline order in the cycle, or that declined it, gets
    nothing; the database forbids a second one); the stock of each product holds exactly what the
    new orders take, on top of what residents can buy. Call inside a transaction.
    """
    now = now or timezone.now()
    where_compound = "AND c.id = %s" if compound_id is not None else ""
    compound = [compound_id] if compound_id is not None else []
    with connection.cursor() as cursor:
        cursor.execute(
            f"""
            INSERT INTO supply_order (household_id, cycle_id, status, channel, note, total, payment_method,
                                      payment_state, request_hash, created_at, urgent)
            SELECT h.id, %s, %s, %s, '', 0, %s, %s, '', %s, %s
            FROM households_household h {_HOUSEHOLD_DISTRICT}
            WHERE h.baseline_opt_out = %s AND (b.lockdown_level = 2 OR c.lockdown_level = 2) {where_compound}
              AND EXISTS (SELECT 1 FROM supply_baselineitem i WHERE i.district_id = f.district_id)
              AND NOT EXISTS (SELECT 1 FROM supply_order o WHERE o.household_id = h.id AND o.cycle_id = %s
                              AND o.channel = %s)
            ORDER BY h.id
            ON CONFLICT DO NOTHING
            """,
            [
                cycle_id,
                OrderStatus.PLACED,
                Channel.BASELINE,
                PaymentMethod.FREE,
                PaymentState.FREE,
                now,
                False,
                False,
                *compound,
                cycle_id,
                Channel.BASELINE,
            ],
        )
        if not cursor.rowcount:
            return []
        # The new orders are the cycle's baseline orders without lines (of the compound).
        orders = f"FROM supply_order o JOIN households_household h ON h.id = o.household_id {_HOUSEHOLD_DISTRICT}"
        items = (
            "JOIN supply_baselineitem i ON i.district_id = f.district_id JOIN supply_product p ON p.id = i.product_id"
        )
        new = f"""WHERE o.cycle_id = %s AND o.channel = %s {where_compound}
                  AND NOT EXISTS (SELECT 1 FROM supply_orderline l WHERE l.order_id = o.id AND l.cycle_id = o.cycle_id)"""
        new_params: list[int | str] = [cycle_id, Channel.BASELINE, *compound]
        cursor.execute(f"SELECT o.id {orders} {new} ORDER BY o.id", new_params)
        order_ids = [row[0] for row in cursor.fetchall()]
        cursor.execute(
            f"SELECT i.product_id, sum(i.quantity) {orders} {items} {new} GROUP BY i.product_id ORDER BY i.product_id",
            new_params,
        )
        needed = cursor.fetchall()
        cursor.execute(
            f"""
            INSERT INTO supply_orderline (order_id, cycle_id, product_id, name, unit, quantity, unit_price, line_total)
            SELECT o.id, o.cycle_id, i.product_id, TRIM(p.name || ' ' || p.size), p.unit, i.quantity, 0, 0
            {orders} {items} {new}
            """,
            new_params,
        )
    _stock_hold(cycle_id=cycle_id, needed=needed)
    return order_ids


def _stock_hold(*, cycle_id: int, needed) -> None:
    """Hold what guaranteed orders take: each product's capacity, reserved and baseline grow by
    its quantity in ``needed`` ((product id, quantity) in product order; what residents can buy
    does not change)."""
    for product_id, quantity in needed:
        stock, _created = CycleStock.objects.select_for_update().get_or_create(
            cycle_id=cycle_id, product_id=product_id, defaults={"capacity": 0}
        )
        CycleStock.objects.filter(pk=stock.pk).update(
            capacity=F("capacity") + quantity,
            reserved=F("reserved") + quantity,
            baseline=F("baseline") + quantity,
        )


def next_opening(*, now: datetime.datetime | None = None) -> datetime.datetime:
    """When ordering opens next: the latest cycle's opening plus three days (or now if none)."""
    now = now or timezone.now()
    last = Cycle.objects.order_by("-number").only("opens_at").first()
    if last is None:
        return now
    # Never in the past: an overdue cycle opens as soon as the schedule runs.
    return max(last.opens_at + datetime.timedelta(days=CYCLE_DAYS), now)


def cycle_open_due(*, now: datetime.datetime | None = None) -> Cycle | None:
    """For the beat schedule: open the next cycle once its time has come and no cycle is open."""
    now = now or timezone.now()
    if Cycle.objects.filter(status=CycleStatus.OPEN).exists():
        return None
    if Cycle.objects.exists() and next_opening(now=now) > now:
        return None
    return cycle_open(opens_at=now)


def _closed_message(now: datetime.datetime) -> str:
    opening = timezone.localtime(next_opening(now=now))
    return _("Ordering for this cycle has closed. The next cycle opens on %(when)s.") % {"when": moment_text(opening)}


def _open_cycle_share_locked(now: datetime.datetime) -> Cycle | None:
    """The cycle taking orders now, or None. On PostgreSQL the row is share-locked: closing the
    cycle (an UPDATE of that row) waits for the orders and cancellations in flight to commit."""
    if connection.vendor == "postgresql":
        cycle = next(
            iter(Cycle.objects.raw("SELECT * FROM supply_cycle WHERE status = %s FOR SHARE", [CycleStatus.OPEN])), None
        )
    else:
        cycle = Cycle.objects.filter(status=CycleStatus.OPEN).first()
    if cycle is None or now >= cycle.cutoff_at or now < cycle.opens_at:
        return None
    return cycle
