"""Writes for hotline calls, tickets and the care ledger.

Every service raises :class:`core.errors.BaogongError` (or a subclass carrying its HTTP
status) with a message a person can act on, and leaves the database unchanged when it does.
Orders go through :func:`supply.services.order_place`, never around it.
"""

import datetime
from collections import defaultdict

from django.conf import settings
from django.db import transaction
from django.db.models import F, Q, Value
from django.db.models.functions import Coalesce, NullIf
from django.utils import timezone
from django.utils.translation import gettext as _

from core.dates import moment_text
from core.errors import BaogongError, Conflict, NotFound
from core.phones import phone_normalize
from hotlines.models import (
    TICKET_RULES,
    Call,
    CallCategory,
    CallOutcome,
    CheckIn,
    CheckInCadence,
    CheckInKind,
    CheckInOutcome,
    Ticket,
    TicketCategory,
    TicketEvent,
    TicketEventKind,
    TicketLevel,
    TicketStatus,
    TransportNeed,
)
from households.models import Community, Household, Role, User
from supply import services as supply_services
from supply.models import Channel, Order, OrderStatus, Product, StandingOrder

MAX_SUMMARY = 500
MAX_NOTE = 300
# Escalations handled per statement: a backlog after an outage is worked off in bounded chunks.
ESCALATION_CHUNK = 500
# A transport appointment may be entered a little after it started (the caller is late calling),
# but not for a day already gone.
TRANSPORT_PAST_GRACE = datetime.timedelta(hours=1)


def _text(value, *, field: str, max_length: int, required: bool, label: str) -> str:
    if value is not None and not isinstance(value, str):
        raise BaogongError(_("%(label)s must be text.") % {"label": label}, errors={field: [_("Must be text.")]})
    text = (value or "").strip()
    if required and not text:
        message = _("%(label)s is required.") % {"label": label}
        raise BaogongError(message, errors={field: [message]})
    if len(text) > max_length:
        message = _("%(label)s is too long (at most %(n)d characters).") % {"label": label, "n": max_length}
        raise BaogongError(message, errors={field: [message]})
    return text


def _choice(value, choices, *, field: str, label: str) -> str:
    if value not in choices.values:
        message = _("Choose a %(label)s from the list.") % {"label": label}
        raise BaogongError(message, errors={field: [message]})
    return value


# --- calls --------------------------------------------------------------------------------------


@transaction.atomic
def call_start(*, operator: User, phone: str, household_ids: list[int] | None = None) -> Call:
    """Log an incoming call to the operator's district hotline from ``phone``.

    Guarantees: the caller number is stored in E.164 form (a malformed number raises, nothing is
    written); the call is attached to the household at once when exactly one of
    ``household_ids`` (the caller's households the operator may see) matches.
    """
    if operator.role != Role.OPERATOR or not operator.district_id:
        raise BaogongError(_("Only a supply-hotline operator of a district takes hotline calls."), status_code=403)
    number = phone_normalize(phone)
    household_ids = list(household_ids or [])
    return Call.objects.create(
        district_id=operator.district_id,
        operator=operator,
        caller_number=number,
        household_id=household_ids[0] if len(household_ids) == 1 else None,
    )


def _own_open_call(call_id: int, by: User) -> Call:
    call = Call.objects.select_for_update().filter(pk=call_id, operator=by).first()
    if call is None:
        raise NotFound(_("This call is not yours, or it does not exist."))
    if not call.is_open:
        raise Conflict(_("This call is already finished; start a new call for the next caller."))
    return call


@transaction.atomic
def call_household_set(*, call_id: int, household_id: int | None, by: User) -> Call:
    """Say which household the caller is (``None``: not a known household). Only while the call is open,
    only by its operator; the caller must check that the household is in the operator's scope."""
    call = _own_open_call(call_id, by)
    call.household_id = household_id
    call.save(update_fields=["household"])
    return call


@transaction.atomic
def call_finish(*, call_id: int, by: User, category: str, outcome: str, summary: str = "", now=None) -> Call:
    """Close the call with its category, outcome and summary. Guarantees: a call is finished once;
    a finished call is never changed again (the log is what happened)."""
    category = _choice(category, CallCategory, field="category", label=_("category"))
    outcome = _choice(outcome, CallOutcome, field="outcome", label=_("outcome"))
    summary = _text(summary, field="summary", max_length=MAX_SUMMARY, required=False, label=_("Summary"))
    call = _own_open_call(call_id, by)
    call.category, call.outcome, call.summary = category, outcome, summary
    call.ended_at = now or timezone.now()
    call.save(update_fields=["category", "outcome", "summary", "ended_at"])
    return call


def calls_abandon_stale(*, now: datetime.datetime | None = None) -> int:
    """For the beat: calls still open CALL_ABANDON_MINUTES after they started close themselves as
    "not finished", so the console stops offering them and the log says what happened. Set-based;
    a category chosen already is kept. Returns how many closed."""
    now = now or timezone.now()
    stale = Call.objects.filter(
        ended_at__isnull=True, started_at__lte=now - datetime.timedelta(minutes=settings.CALL_ABANDON_MINUTES)
    )
    return stale.update(
        ended_at=now,
        outcome=CallOutcome.ABANDONED,
        category=Coalesce(NullIf("category", Value("")), Value(CallCategory.OTHER)),
    )


# --- tickets ------------------------------------------------------------------------------------


def ticket_deadline(*, category: str, start: datetime.datetime) -> datetime.datetime:
    return start + TICKET_RULES[category][1]


@transaction.atomic
def ticket_open(
    *,
    household_id: int | None,
    category: str,
    summary: str,
    opened_by: User | None,
    call_id: int | None = None,
    community_id: int | None = None,
    caller_address: str = "",
    appointment_at: datetime.datetime | None = None,
    destination: str = "",
    need: str = "",
    product_id: int | None = None,
    now: datetime.datetime | None = None,
) -> Ticket:
    """Open a ticket routed to the household's community, with its category's priority and deadline.
    A caller not on the register has no household: the ticket goes to ``community_id`` and says
    where the caller lives (``caller_address``, an address or a description).

    Guarantees: a medical-transport ticket carries its appointment (not in the past), destination
    and treatment; any other ticket carries none of them; a complaint may name a product sold in
    the household's district (a price complaint), no other ticket does; the opening is the first
    event of the ticket's trail.
    """
    now = now or timezone.now()
    category = _choice(category, TicketCategory, field="category", label=_("category"))
    summary = _text(summary, field="summary", max_length=MAX_SUMMARY, required=True, label=_("The request"))
    if category == TicketCategory.MEDICAL_TRANSPORT:
        errors: dict[str, list[str]] = {}
        if appointment_at is None:
            errors["appointment_at"] = [_("Enter the date and time of the appointment.")]
        elif appointment_at < now - TRANSPORT_PAST_GRACE:
            errors["appointment_at"] = [_("The appointment is in the past.")]
        destination = _text(destination, field="destination", max_length=200, required=False, label=_("Destination"))
        if not destination:
            errors["destination"] = [_("Enter the hospital or place the vehicle goes to.")]
        if need not in TransportNeed.values:
            errors["need"] = [_("Choose the treatment: dialysis, prenatal check, chemotherapy or other.")]
        if errors:
            first = next(iter(errors.values()))[0]
            raise BaogongError(_("A medical transport needs its details: %(first)s") % {"first": first}, errors=errors)
    else:
        appointment_at, destination, need = None, "", ""
    community_id, district_id, caller_address = _ticket_place(household_id, community_id, caller_address)
    if product_id is not None:
        if category != TicketCategory.COMPLAINT:
            raise BaogongError(
                _("Only a complaint can name a product."), errors={"product": [_("Only for complaints.")]}
            )
        if not Product.objects.filter(pk=product_id, supplier__districts=district_id).exists():
            raise BaogongError(
                _("This product is not sold in the caller's district."), errors={"product": [_("Unknown product.")]}
            )
    if call_id is not None and not Call.objects.filter(Q(pk=call_id), Q(household_id=household_id)).exists():
        raise BaogongError(_("This call is not about this household."))
    priority, _window = TICKET_RULES[category]
    ticket = Ticket.objects.create(
        household_id=household_id,
        caller_address=caller_address,
        community_id=community_id,
        call_id=call_id,
        category=category,
        priority=priority,
        summary=summary,
        level=TicketLevel.COMMUNITY,
        due_at=ticket_deadline(category=category, start=now),
        appointment_at=appointment_at,
        destination=destination,
        need=need,
        opened_by=opened_by,
        product_id=product_id,
    )
    TicketEvent.objects.create(ticket=ticket, kind=TicketEventKind.OPENED, level=ticket.level, by=opened_by, at=now)
    return ticket


def _ticket_place(household_id: int | None, community_id: int | None, caller_address: str) -> tuple[int, int, str]:
    """Where a ticket goes: (community, district, the caller's address when not on the register)."""
    if household_id is not None:
        place = (
            Household.objects.filter(pk=household_id)
            .values_list("building__compound__community_id", "building__compound__community__office__district_id")
            .first()
        )
        if place is None:
            raise NotFound(_("Unknown household."))
        return place[0], place[1], ""
    caller_address = _text(
        caller_address, field="caller_address", max_length=200, required=True, label=_("Where the caller lives")
    )
    district_id = (
        Community.objects.filter(pk=community_id).values_list("office__district_id", flat=True).first()
        if community_id is not None
        else None
    )
    if community_id is None or district_id is None:
        message = _("Choose the community the caller lives in: the ticket goes there.")
        raise BaogongError(message, errors={"community": [message]})
    return community_id, district_id, caller_address


def _open_ticket_locked(ticket_id: int) -> Ticket:
    ticket = Ticket.objects.select_for_update().filter(pk=ticket_id).first()
    if ticket is None:
        raise NotFound(_("Unknown ticket."))
    if ticket.status != TicketStatus.OPEN:
        raise Conflict(_("This ticket is already resolved."))
    return ticket


@transaction.atomic
def ticket_note(*, ticket_id: int, by: User, note: str, now=None) -> TicketEvent:
    """Add a note to an open ticket's trail (what was done so far); the deadline does not move."""
    note = _text(note, field="note", max_length=MAX_SUMMARY, required=True, label=_("The note"))
    ticket = _open_ticket_locked(ticket_id)
    return TicketEvent.objects.create(
        ticket=ticket, kind=TicketEventKind.NOTE, level=ticket.level, by=by, note=note, at=now or timezone.now()
    )


@transaction.atomic
def ticket_resolve(*, ticket_id: int, by: User, resolution: str, now=None) -> Ticket:
    """Resolve an open ticket with what was done. Guarantees: resolved once; it then never escalates."""
    resolution = _text(resolution, field="resolution", max_length=MAX_SUMMARY, required=True, label=_("What was done"))
    now = now or timezone.now()
    ticket = _open_ticket_locked(ticket_id)
    ticket.status, ticket.resolved_at, ticket.resolved_by, ticket.resolution = (
        TicketStatus.RESOLVED,
        now,
        by,
        resolution,
    )
    ticket.save(update_fields=["status", "resolved_at", "resolved_by", "resolution"])
    TicketEvent.objects.create(
        ticket=ticket, kind=TicketEventKind.RESOLVED, level=ticket.level, by=by, note=resolution, at=now
    )
    return ticket


def tickets_escalate_due(*, now: datetime.datetime | None = None) -> int:
    """Move every open ticket whose deadline has come (``due_at <= now``) one level up:
    community → sub-district office → district task force, with a fresh deadline of its
    category's window, and record the step. Returns the number of steps taken.

    Guarantees: set-based (one UPDATE per category and one INSERT of events per chunk); one step
    per ticket per run, so a ticket late by days still passes through the office; safe to run
    twice or concurrently (rows are locked with SKIP LOCKED, and a unique constraint keeps one
    escalation event per level); the task force is the last level.
    """
    now = now or timezone.now()
    steps = 0
    seen: set[int] = set()
    while True:
        with transaction.atomic():
            rows = list(
                Ticket.objects.select_for_update(skip_locked=True)
                .filter(status=TicketStatus.OPEN, level__lt=TicketLevel.TASKFORCE, due_at__lte=now)
                .exclude(pk__in=seen)
                .order_by("due_at", "id")
                .values_list("pk", "category", "level", "due_at")[:ESCALATION_CHUNK]
            )
            if not rows:
                return steps
            by_category: dict[str, list[int]] = defaultdict(list)
            for pk, category, _level, _due in rows:
                by_category[category].append(pk)
                seen.add(pk)
            for category, ids in by_category.items():
                Ticket.objects.filter(pk__in=ids).update(
                    level=F("level") + 1, due_at=ticket_deadline(category=category, start=now)
                )
            TicketEvent.objects.bulk_create(
                [
                    TicketEvent(
                        ticket_id=pk,
                        kind=TicketEventKind.ESCALATED,
                        level=level + 1,
                        at=now,
                        note=_("No answer by the deadline (%(due)s).") % {"due": moment_text(due)},
                    )
                    for pk, _category, level, due in rows
                ],
                ignore_conflicts=True,
            )
            steps += len(rows)


# --- the care ledger ----------------------------------------------------------------------------


@transaction.atomic
def checkin_record(*, household_id: int, worker: User, kind: str, outcome: str, note: str = "") -> CheckIn:
    """Log a call to or a visit of a household and how it went (the household's last check-in)."""
    kind = _choice(kind, CheckInKind, field="kind", label=_("kind of check-in"))
    outcome = _choice(outcome, CheckInOutcome, field="outcome", label=_("outcome"))
    note = _text(
        note,
        field="note",
        max_length=MAX_NOTE,
        required=outcome == CheckInOutcome.NEEDS_HELP,
        label=_("What help is needed"),
    )
    if not Household.objects.filter(pk=household_id).exists():
        raise NotFound(_("Unknown household."))
    return CheckIn.objects.create(household_id=household_id, worker=worker, kind=kind, outcome=outcome, note=note)


@transaction.atomic
def checkin_cadence_set(*, household_id: int, every_days, by: User) -> CheckInCadence:
    """Set how often the household is checked on (1 to 30 days); the latest setting wins."""
    try:
        days = int(every_days)
    except (TypeError, ValueError):
        days = 0
    if not 1 <= days <= 30:
        message = _("Check in every 1 to 30 days.")
        raise BaogongError(message, errors={"every_days": [message]})
    cadence, _created = CheckInCadence.objects.update_or_create(
        household_id=household_id, defaults={"every_days": days, "set_by": by}
    )
    return cadence


def usual_order_lines(*, household_id: int) -> list[dict]:
    """What the household usually orders: the lines of its newest placed order that a person
    chose (web, hotline or worker; not the automatic baseline or standing orders), else its
    active standing orders."""
    last = (
        Order.objects.filter(household_id=household_id, status=OrderStatus.PLACED, standing_order__isnull=True)
        .exclude(channel=Channel.BASELINE)
        .order_by("-created_at", "-id")
        .first()
    )
    if last is not None:
        return [
            {"product": pid, "quantity": q}
            for pid, q in last.lines.order_by("id").values_list("product_id", "quantity")
        ]
    return [
        {"product": pid, "quantity": q}
        for pid, q in StandingOrder.objects.filter(household_id=household_id, is_active=True)
        .order_by("id")
        .values_list("product_id", "quantity")
    ]


def assisted_order_place(*, household_id: int, by: User, idempotency_key: str):
    """The worker's one-step order for a ledger household on the alert list: its usual order
    (see :func:`usual_order_lines`), placed through ``order_place`` (channel worker, pay on delivery).

    Guarantees: everything ``order_place`` guarantees (posted prices, capacity, limits, the
    same ``idempotency_key`` places one order); without a usual order nothing is placed and the
    message says to use the order page.
    """
    lines = usual_order_lines(household_id=household_id)
    if not lines:
        raise BaogongError(
            _("This household has no earlier order and no standing order to repeat: use the order page.")
        )
    return supply_services.order_place(
        household_id=household_id,
        lines=lines,
        placed_by=by,
        channel=Channel.WORKER,
        payment_method="on_delivery",
        idempotency_key=idempotency_key,
    )


def missed_delivery_ticket_open(
    *,
    household_id: int,
    code: str,
    reason_label: str,
    day: datetime.date,
    requeued_to: datetime.date | None,
    by: User | None,
    now: datetime.datetime | None = None,
) -> Ticket | None:
    """A package of a care-ledger household came back from the door: open a ticket for the
    household's assigned worker (or its community) to reach them within hours.

    Guarantees: only for households on the ledger (others: None); one open ticket per package and
    day (a repeated exception opens nothing more); the ticket says what happened and when the
    package comes again, and is assigned to the household's worker.
    """
    from hotlines.selectors import ledger_q

    household = Household.objects.filter(ledger_q(), pk=household_id).values("assigned_worker_id").first()
    if household is None:
        return None
    summary = (
        _("Package %(code)s not delivered on %(day)s (%(reason)s); it comes again on %(date)s. Reach the household.")
        % {"code": code, "day": day.isoformat(), "reason": reason_label, "date": requeued_to.isoformat()}
        if requeued_to
        else _("Package %(code)s not delivered on %(day)s (%(reason)s). Reach the household.")
        % {"code": code, "day": day.isoformat(), "reason": reason_label}
    )
    with transaction.atomic():
        Household.objects.select_for_update().filter(pk=household_id).first()  # one opener at a time
        already = (
            Ticket.objects.filter(
                household_id=household_id, category=TicketCategory.MISSED_DELIVERY, status=TicketStatus.OPEN
            )
            .filter(summary__contains=f"{code} ")
            .filter(summary__contains=day.isoformat())
        )
        if already.exists():
            return None
        ticket = ticket_open(
            household_id=household_id, category=TicketCategory.MISSED_DELIVERY, summary=summary, opened_by=by, now=now
        )
        Ticket.objects.filter(pk=ticket.pk).update(assigned_to_id=household["assigned_worker_id"])
        ticket.assigned_to_id = household["assigned_worker_id"]
    return ticket
