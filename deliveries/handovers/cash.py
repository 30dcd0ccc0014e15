"""Cash at the door: what each person collected on a delivery day (their cash sheet), handed over
to the community and confirmed there."""

from __future__ import annotations

import datetime
from dataclasses import dataclass
from decimal import Decimal

from django.db import IntegrityError, transaction
from django.db.models import Count, Sum
from django.utils import timezone
from django.utils.translation import gettext as _

from core.errors import Conflict, NotFound
from deliveries import rules
from deliveries.models import CashHandover, HandoverEvent, HandoverKind
from households.access import restrict
from households.models import Community, User
from households.permissions import allows


@dataclass
class CashRow:
    collector_id: int
    collector: str
    doors: int
    amount: Decimal
    handover: CashHandover | None

    @property
    def not_yet_handed_over(self) -> Decimal:
        return self.amount - (self.handover.amount if self.handover else Decimal("0.00"))


def _collected(community_id: int, day: datetime.date):
    """The day's deliveries with cash of the community's packages, not undone."""
    return HandoverEvent.objects.filter(
        kind=HandoverKind.DELIVERED,
        delivery_date=day,
        package__community_id=community_id,
        cash_collected__isnull=False,
        undone_by__isnull=True,
    )


def cash_sheet(*, user: User, community_id: int, day: datetime.date) -> list[CashRow]:
    """Per person who delivered the community's packages on ``day``: doors with cash, the amount
    collected, and what was confirmed as handed over (three queries)."""
    community = restrict(Community.objects.filter(pk=community_id), user).first()
    if community is None or not allows(user, rules.CASH):
        return []
    rows = (
        _collected(community.pk, day)
        .values("by_id")
        .annotate(doors=Count("id"), amount=Sum("cash_collected"))
        .order_by("by_id")
    )
    handovers = {h.collector_id: h for h in CashHandover.objects.filter(community=community, day=day)}
    names = {u.pk: u.display_name for u in User.objects.filter(pk__in=[r["by_id"] for r in rows] + list(handovers))}
    people = {r["by_id"]: r for r in rows}
    for collector_id in handovers:  # confirmed, and every delivery of theirs undone since
        people.setdefault(collector_id, {"by_id": collector_id, "doors": 0, "amount": Decimal("0.00")})
    return sorted(
        (
            CashRow(
                collector_id=pk,
                collector=names.get(pk, str(pk)),
                doors=row["doors"],
                amount=row["amount"] or Decimal("0.00"),
                handover=handovers.get(pk),
            )
            for pk, row in people.items()
        ),
        key=lambda r: r.collector,
    )


def cash_handover_confirm(*, community_id: int, collector_id: int, day: datetime.date, by: User) -> CashHandover:
    """The community confirms the cash one person collected on ``day`` was handed over.

    Guarantees: only a worker (or an administrator) of the community, never for one's own cash
    (someone else counts it); the amount is the sum of that person's deliveries with cash that day
    at this moment; once per person and day (a second confirmation is refused, naming the first).
    """
    community = restrict(Community.objects.filter(pk=community_id), by).first()
    if community is None or not allows(by, rules.CASH):
        raise NotFound(_("Unknown community."))
    if collector_id == by.pk and not by.is_superuser:
        raise Conflict(_("Someone else confirms the cash you collected."))
    totals = (
        _collected(community.pk, day)
        .filter(by_id=collector_id)
        .aggregate(doors=Count("id"), amount=Sum("cash_collected"))
    )
    if not totals["doors"]:
        raise NotFound(_("This person collected no cash at this community's doors on that day."))
    try:
        with transaction.atomic():
            return CashHandover.objects.create(
                community=community,
                collector_id=collector_id,
                day=day,
                doors=totals["doors"],
                amount=totals["amount"],
                confirmed_by=by,
                confirmed_at=timezone.now(),
            )
    except IntegrityError:
        first = CashHandover.objects.get(collector_id=collector_id, day=day)
        raise Conflict(
            _("Already confirmed: ¥%(amount)s at %(time)s.")
            % {"amount": first.amount, "time": f"{timezone.localtime(first.confirmed_at):%H:%M}"}
        ) from None
