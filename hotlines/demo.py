"""Demo hotline data: a few logged calls, two tickets in the demo worker's queue, a check-in.

Written through the hotline services, chosen by natural keys (never ids), and only when the demo
operator has no call yet: running ``seed_demo`` twice changes nothing.
"""

import datetime
from dataclasses import dataclass

from django.db import transaction
from django.utils import timezone

from core.demo import DemoRun, DemoSection
from hotlines import services
from hotlines.models import Call, CheckIn, Ticket
from hotlines.selectors import ledger_q
from households.models import Household, HouseholdPhone, User

NATURAL = ("building__compound__community__code", "building__compound__code", "building__sort_key", "unit", "room")
UNKNOWN_CALLER = "0371-67180381"


@dataclass(frozen=True)
class DemoHotlineResult:
    calls: int
    tickets: int
    checkins: int
    created: bool


def _counts(operator: User) -> tuple[int, int, int]:
    return (
        Call.objects.filter(operator=operator).count(),
        Ticket.objects.filter(opened_by=operator).count(),
        CheckIn.objects.filter(worker__username="worker").count(),
    )


@transaction.atomic
def demo_hotline_seed() -> DemoHotlineResult:
    """Seed the demo hotline once: a finished call about the resident's delivery, a call from an
    unknown number, a medicine ticket and a dialysis transport ticket for ledger households of the
    demo worker's community, and one check-in (the other ledger households stay on the alert list)."""
    users = {u.username: u for u in User.objects.filter(username__in=("operator", "worker", "resident"))}
    operator, worker, resident = users.get("operator"), users.get("worker"), users.get("resident")
    if operator is None or worker is None or resident is None or resident.household_id is None:
        return DemoHotlineResult(0, 0, 0, created=False)
    if Call.objects.filter(operator=operator).exists():
        return DemoHotlineResult(*_counts(operator), created=False)

    now = timezone.now()
    community_households = Household.objects.filter(building__compound__community_id=worker.community_id).exclude(
        pk=resident.household_id
    )
    ledger = list(community_households.filter(ledger_q()).order_by(*NATURAL)[:3])
    dialysis = community_households.filter(dialysis=True).order_by(*NATURAL).first() or (ledger[0] if ledger else None)

    phone = HouseholdPhone.objects.filter(household_id=resident.household_id).order_by("-is_primary", "id").first()
    if phone is not None:
        call = services.call_start(operator=operator, phone=phone.number, household_ids=[resident.household_id])
        services.call_finish(
            call_id=call.pk,
            by=operator,
            category="enquiry",
            outcome="answered",
            summary="询问本期物资包的配送日期和取货时段",
        )
    call = services.call_start(operator=operator, phone=UNKNOWN_CALLER)
    services.call_finish(
        call_id=call.pk,
        by=operator,
        category="unsealing",
        outcome="referred",
        summary="反映小区已连续7天阴性仍未解封，已告知拨打12345",
    )

    for household, category, summary, extra in (
        (ledger[0] if ledger else None, "medicine", "降压药（硝苯地平缓释片）只剩两天的量，需要代购", {}),
        (
            dialysis,
            "transport",
            "每周一三五透析，需要点对点闭环转运车辆",
            {
                "appointment_at": (now + datetime.timedelta(days=1)).replace(
                    hour=8, minute=30, second=0, microsecond=0
                ),
                "destination": "郑州大学第一附属医院血液净化中心",
                "need": "dialysis",
            },
        ),
    ):
        if household is None:
            continue
        household_phone = HouseholdPhone.objects.filter(household=household).order_by("-is_primary", "id").first()
        call = services.call_start(
            operator=operator,
            phone=household_phone.number if household_phone else UNKNOWN_CALLER,
            household_ids=[household.pk],
        )
        if call.household_id is None:
            services.call_household_set(call_id=call.pk, household_id=household.pk, by=operator)
        services.ticket_open(
            household_id=household.pk, category=category, summary=summary, opened_by=operator, call_id=call.pk, **extra
        )
        services.call_finish(call_id=call.pk, by=operator, category=category, outcome="ticket", summary=summary)

    if ledger:
        services.checkin_record(
            household_id=ledger[-1].pk,
            worker=worker,
            kind="visit",
            outcome="well",
            note="上门看望，身体状况良好，物资充足",
        )
    return DemoHotlineResult(*_counts(operator), created=True)


def demo_step(run: DemoRun) -> list[DemoSection]:
    """Hotlines' step of ``seed_demo`` (see ``core.demo``), after the city and the catalog."""
    hotline = demo_hotline_seed()
    return [
        DemoSection(
            "Demo hotline",
            (
                f"  {hotline.calls} calls, {hotline.tickets} tickets in the worker's queue, {hotline.checkins} check-ins"
                f"{' (new)' if hotline.created else ' (already there)'}",
            ),
        )
    ]
