"""The money statements of a cycle, which add up to the cent, and the reconciliation check.

Every order line of the cycle that carries money falls in exactly one **money state**, decided in
SQL from the order, its payment and refunds, and its package's delivery:

- ``online``: paid online, the order still placed, the line not refunded;
- ``cash``: to be paid at the door, and its package was delivered with the cash collected;
- ``refunded``: paid online, then given back (a cancelled or expired order, or the line not supplied);
- ``refund_due``: to be given back, and the provider has not confirmed it yet (or it failed);
- ``to_collect``: to be paid at the door, the package not delivered yet (or not delivered);
- ``free``: the free baseline package (its lines cost the household nothing; valued at the
  product's posted price, which the district pays);
- ``none``: never sold (not paid in time, or cancelled before any payment).

So for every supplier, by construction and checked by a test against an independent count:
sold = online + cash + refunded + outstanding, where outstanding = to_collect + refund_due.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from decimal import Decimal

from django.db.models import Case, CharField, DecimalField, Exists, F, OuterRef, Q, Subquery, Sum, Value, When
from django.utils.translation import gettext_lazy as _

from deliveries.models import CashHandover, HandoverEvent, HandoverKind, Package, PackageStatus
from households.access import restrict
from households.models import Community, User
from supply.models import (
    Cycle,
    CycleStatus,
    Order,
    OrderLine,
    OrderStatus,
    Payment,
    PaymentMethod,
    PaymentState,
    PaymentStatus,
    Refund,
    RefundReason,
    RefundStatus,
    Shortfall,
    Supplier,
)

ZERO = Decimal("0.00")
STATES = ("online", "cash", "refunded", "refund_due", "to_collect", "free", "none")
MONEY: DecimalField = DecimalField(max_digits=14, decimal_places=2)


def _money_state():
    """The SQL expression of a line's money state (see the module's docstring), over the
    annotations ``lines_with_state`` adds."""
    online, at_door = Q(order__payment_method=PaymentMethod.ONLINE), Q(order__payment_method=PaymentMethod.ON_DELIVERY)
    giving_back = online & Q(order__payment_state__in=[PaymentState.TO_REFUND, PaymentState.REFUNDED])
    placed = Q(order__status=OrderStatus.PLACED)
    return Case(
        When(order__payment_method=PaymentMethod.FREE, then=Value("free")),
        When(line_refund=RefundStatus.SUCCEEDED, then=Value("refunded")),
        When(line_refund__in=[RefundStatus.PENDING, RefundStatus.FAILED], then=Value("refund_due")),
        When(online & placed & Q(order__payment_state=PaymentState.PAID), then=Value("online")),
        When(giving_back & Q(order_refund=RefundStatus.SUCCEEDED), then=Value("refunded")),
        When(giving_back, then=Value("refund_due")),
        When(at_door & placed & Q(collected=True), then=Value("cash")),
        When(at_door & placed & ~Q(order__payment_state=PaymentState.VOID), then=Value("to_collect")),
        default=Value("none"),
        output_field=CharField(),
    )


def lines_with_state(*, user: User, cycle: Cycle):
    """The cycle's order lines the user may see, each annotated ``money_state`` (and its
    ``line_refund``, ``order_refund`` and ``collected`` parts)."""
    lines = restrict(OrderLine.objects.filter(order__cycle=cycle), user)
    return lines.annotate(
        line_refund=Subquery(Refund.objects.filter(line_id=OuterRef("pk")).values("status")[:1]),
        order_refund=Subquery(
            Refund.objects.filter(order_id=OuterRef("order_id"), line__isnull=True)
            .exclude(reason=RefundReason.PAID_TWICE)
            .order_by("-pk")
            .values("status")[:1]
        ),
        collected=Exists(
            HandoverEvent.objects.filter(
                package__order_links__order_id=OuterRef("order_id"),
                kind=HandoverKind.DELIVERED,
                undone_by__isnull=True,
                cash_collected__isnull=False,
            )
        ),
    ).annotate(money_state=_money_state())


@dataclass
class SupplierStatement:
    supplier_id: int
    supplier: str
    amounts: dict[str, Decimal] = field(default_factory=lambda: dict.fromkeys(STATES, ZERO))

    @property
    def online(self) -> Decimal:
        return self.amounts["online"]

    @property
    def cash(self) -> Decimal:
        return self.amounts["cash"]

    @property
    def refunded(self) -> Decimal:
        return self.amounts["refunded"]

    @property
    def refund_due(self) -> Decimal:
        return self.amounts["refund_due"]

    @property
    def to_collect(self) -> Decimal:
        return self.amounts["to_collect"]

    @property
    def free(self) -> Decimal:
        return self.amounts["free"]

    @property
    def outstanding(self) -> Decimal:
        return self.amounts["to_collect"] + self.amounts["refund_due"]

    @property
    def sold(self) -> Decimal:
        """What was due or paid for the supplier's goods (free baseline items apart)."""
        return sum((self.amounts[s] for s in ("online", "cash", "refunded", "refund_due", "to_collect")), ZERO)

    @property
    def owed(self) -> Decimal:
        """What the supplier is owed so far: paid online, collected in cash, and the free baseline
        items (the district pays for those)."""
        return self.amounts["online"] + self.amounts["cash"] + self.amounts["free"]

    def as_dict(self) -> dict:
        return {
            "supplier": self.supplier_id,
            "name": self.supplier,
            "sold": f"{self.sold:.2f}",
            "paid_online": f"{self.online:.2f}",
            "collected_in_cash": f"{self.cash:.2f}",
            "refunded": f"{self.refunded:.2f}",
            "outstanding": f"{self.outstanding:.2f}",
            "to_collect": f"{self.to_collect:.2f}",
            "refund_due": f"{self.refund_due:.2f}",
            "free_baseline": f"{self.free:.2f}",
            "owed": f"{self.owed:.2f}",
        }


def supplier_statements(*, user: User, cycle: Cycle, supplier_id: int | None = None) -> list[SupplierStatement]:
    """Per supplier, the money of the cycle's lines in the user's scope, by money state (one query
    of the lines, grouped; one of the names). A supplier sees its own."""
    lines = lines_with_state(user=user, cycle=cycle)
    if supplier_id is not None:
        lines = lines.filter(product__supplier_id=supplier_id)
    rows = (
        lines.values("product__supplier_id", "money_state")
        .annotate(
            amount=Sum("line_total", output_field=MONEY),
            # a free baseline line carries no price (unit price 0): it is valued at the product's posted price
            value=Sum(F("quantity") * F("product__price"), output_field=MONEY),
        )
        .order_by()
    )
    statements: dict[int, SupplierStatement] = {}
    for row in rows:
        statement = statements.setdefault(
            row["product__supplier_id"], SupplierStatement(supplier_id=row["product__supplier_id"], supplier="")
        )
        # free lines cost the household nothing: their value is the posted price
        amount = row["value"] if row["money_state"] == "free" else row["amount"]
        statement.amounts[row["money_state"]] += Decimal(amount or 0).quantize(Decimal("0.01"))
    for supplier, state, amount in _shortfall_refunds(user=user, cycle=cycle, supplier_id=supplier_id):
        statement = statements.setdefault(supplier, SupplierStatement(supplier_id=supplier, supplier=""))
        statement.amounts[state] += Decimal(amount or 0).quantize(Decimal("0.01"))
    names = dict(Supplier.objects.filter(pk__in=statements).values_list("pk", "name"))
    for statement in statements.values():
        statement.supplier = names.get(statement.supplier_id, "")
    return sorted(statements.values(), key=lambda s: s.supplier)


def _shortfall_refunds(*, user: User, cycle: Cycle, supplier_id: int | None):
    """(supplier id, "refunded" or "refund_due", amount): the money given back from paid orders for
    units the supplier could not supply before packing (no line carries it any more: the lines
    were cut). One query."""
    rows = restrict(Shortfall.objects.filter(order__cycle=cycle, refund__isnull=False), user)
    if supplier_id is not None:
        rows = rows.filter(product__supplier_id=supplier_id)
    state = Case(
        When(refund__status=RefundStatus.SUCCEEDED, then=Value("refunded")),
        default=Value("refund_due"),
        output_field=CharField(),
    )
    return (
        rows.annotate(state=state)
        .values_list("product__supplier_id", "state")
        .annotate(amount=Sum(F("amount") - F("substitute_amount"), output_field=MONEY))
        .order_by()
    )


@dataclass(frozen=True)
class CommunityCash:
    community_id: int
    community: str
    collected: Decimal
    handed_over: Decimal

    @property
    def not_handed_over(self) -> Decimal:
        return self.collected - self.handed_over


def community_cash(*, user: User, cycle: Cycle) -> list[CommunityCash]:
    """Per community in scope: the cash collected at the doors for the cycle's packages, and what
    was confirmed as handed over on those delivery days (three queries)."""
    events = restrict(
        HandoverEvent.objects.filter(
            package__cycle=cycle, kind=HandoverKind.DELIVERED, undone_by__isnull=True, cash_collected__isnull=False
        ),
        user,
    )
    collected = {
        row["package__community_id"]: row["amount"]
        for row in events.values("package__community_id").annotate(amount=Sum("cash_collected")).order_by()
    }
    days = set(events.values_list("delivery_date", flat=True).distinct())
    handed: dict[int, Decimal] = defaultdict(lambda: ZERO)
    for community_id, amount in restrict(
        CashHandover.objects.filter(community_id__in=collected, day__in=days), user
    ).values_list("community_id", "amount"):
        handed[community_id] += amount
    names = dict(Community.objects.filter(pk__in=collected).values_list("pk", "name"))
    return sorted(
        (
            CommunityCash(community_id=c, community=names.get(c, ""), collected=a, handed_over=handed[c])
            for c, a in collected.items()
        ),
        key=lambda row: row.community,
    )


@dataclass(frozen=True)
class OnlineMoney:
    """The online money of the cycle's orders as the providers moved it (duplicates included)."""

    received: Decimal
    refunded: Decimal
    refund_due: Decimal


def online_money(*, user: User, cycle: Cycle) -> OnlineMoney:
    orders = restrict(Order.objects.filter(cycle=cycle), user)
    received = Payment.objects.filter(order__in=orders, status=PaymentStatus.PAID).aggregate(t=Sum("amount"))["t"]
    refunds = Refund.objects.filter(order__in=orders)
    back = refunds.filter(status=RefundStatus.SUCCEEDED).aggregate(t=Sum("amount"))["t"]
    due = refunds.exclude(status=RefundStatus.SUCCEEDED).aggregate(t=Sum("amount"))["t"]
    return OnlineMoney(received=received or ZERO, refunded=back or ZERO, refund_due=due or ZERO)


# --- the reconciliation check -----------------------------------------------------------------------


PROBLEMS = {
    "packed_unplaced": _("In a package, but the order is not placed (unpaid, cancelled or expired)."),
    "paid_without_payment": _("Marked paid, but no payment was confirmed by a provider."),
    "payment_not_on_order": _("A provider confirmed a payment, but the order does not say paid."),
    "delivered_cash_missing": _("Delivered, but no cash was recorded for an order to pay at the door."),
    "paid_not_delivered": _("Paid online, but its package was not delivered: deliver it again or refund it."),
    "refund_missing": _("Money to give back, but no refund was sent."),
    "refund_failed": _("The provider refused or did not settle the refund: a person must look at it."),
}


@dataclass(frozen=True)
class Disagreement:
    order_id: int
    household_id: int
    problem: str

    @property
    def label(self) -> str:
        return str(PROBLEMS[self.problem])


def disagreements(*, user: User, cycle: Cycle, limit: int = 500) -> list[Disagreement]:
    """Every order of the cycle whose payment state and package outcome disagree (one query per
    kind of problem, each at most ``limit`` rows)."""
    orders = restrict(Order.objects.filter(cycle=cycle), user)
    paid_payment = Payment.objects.filter(order_id=OuterRef("pk"), status=PaymentStatus.PAID)
    package_status = Package.objects.filter(order_links__order_id=OuterRef("pk")).values("status")[:1]
    cash = HandoverEvent.objects.filter(
        package__order_links__order_id=OuterRef("pk"),
        kind=HandoverKind.DELIVERED,
        undone_by__isnull=True,
        cash_collected__isnull=False,
    )
    refunds = Refund.objects.filter(order_id=OuterRef("pk"))
    annotated = orders.annotate(
        paid=Exists(paid_payment),
        package_status=Subquery(package_status),
        cash=Exists(cash),
        refund_sent=Exists(refunds.exclude(status=RefundStatus.FAILED)),
        refund_failed=Exists(refunds.filter(status=RefundStatus.FAILED)),
    )
    checks = {
        "packed_unplaced": Q(package_status__isnull=False) & ~Q(status=OrderStatus.PLACED),
        "paid_without_payment": Q(payment_state=PaymentState.PAID, paid=False),
        "payment_not_on_order": Q(paid=True)
        & ~Q(payment_state__in=[PaymentState.PAID, PaymentState.TO_REFUND, PaymentState.REFUNDED]),
        "delivered_cash_missing": Q(
            payment_method=PaymentMethod.ON_DELIVERY,
            status=OrderStatus.PLACED,
            package_status=PackageStatus.DELIVERED,
            cash=False,
        )
        & ~Q(total=0),
        "refund_missing": Q(payment_state=PaymentState.TO_REFUND, refund_sent=False, refund_failed=False),
        "refund_failed": Q(refund_failed=True),
    }
    if cycle.status == CycleStatus.COMPLETE:
        checks["paid_not_delivered"] = Q(
            payment_state=PaymentState.PAID, status=OrderStatus.PLACED, package_status=PackageStatus.EXCEPTION
        )
    found: list[Disagreement] = []
    for problem, condition in checks.items():
        for order_id, household_id in annotated.filter(condition).values_list("pk", "household_id")[:limit]:
            found.append(Disagreement(order_id=order_id, household_id=household_id, problem=problem))
    return sorted(found, key=lambda d: (d.order_id, d.problem))


# --- one statement, for the page, the files and the API ---------------------------------------------


@dataclass(frozen=True)
class Statement:
    cycle: Cycle
    suppliers: list[SupplierStatement]
    communities: list[CommunityCash]
    online: OnlineMoney
    problems: list[Disagreement]

    @property
    def totals(self) -> SupplierStatement:
        total = SupplierStatement(supplier_id=0, supplier=str(_("Total")))
        for statement in self.suppliers:
            for state, amount in statement.amounts.items():
                total.amounts[state] += amount
        return total

    def as_dict(self) -> dict:
        return {
            "cycle": self.cycle.number,
            "suppliers": [s.as_dict() for s in self.suppliers],
            "totals": {k: v for k, v in self.totals.as_dict().items() if k not in ("supplier", "name")},
            "communities": [
                {
                    "community": c.community_id,
                    "name": c.community,
                    "collected": f"{c.collected:.2f}",
                    "handed_over": f"{c.handed_over:.2f}",
                    "not_handed_over": f"{c.not_handed_over:.2f}",
                }
                for c in self.communities
            ],
            "online": {
                "received": f"{self.online.received:.2f}",
                "refunded": f"{self.online.refunded:.2f}",
                "refund_due": f"{self.online.refund_due:.2f}",
            },
            "disagreements": [
                {"order": d.order_id, "household": d.household_id, "problem": d.problem, "message": d.label}
                for d in self.problems
            ],
        }


def statement_build(*, user: User, cycle: Cycle, supplier_id: int | None = None) -> Statement:
    """The cycle's statement in the user's scope: a supplier its own goods; a community worker its
    community's (cash sheets included); an office its communities; the task force its district or
    the city. With ``supplier_id``, one supplier's goods (and no community cash, which is not per
    supplier)."""
    suppliers = supplier_statements(user=user, cycle=cycle, supplier_id=supplier_id)
    by_supplier = supplier_id is not None or user.supplier_id is not None
    return Statement(
        cycle=cycle,
        suppliers=suppliers,
        communities=[] if by_supplier else community_cash(user=user, cycle=cycle),
        online=online_money(user=user, cycle=cycle) if not by_supplier else OnlineMoney(ZERO, ZERO, ZERO),
        problems=[] if by_supplier else disagreements(user=user, cycle=cycle),
    )
