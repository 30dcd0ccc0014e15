"""Writes for places and people. Every service raises :class:`BaogongError` with a message a person can act on."""

import datetime
import logging
import re
import time
from dataclasses import dataclass

from django.conf import settings
from django.db import transaction
from django.db.models import Count, F
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from core.errors import BaogongError
from core.phones import phone_normalize
from core.queue import enqueue
from households import importing
from households.models import (
    Building,
    Compound,
    Household,
    HouseholdImport,
    HouseholdPhone,
    HouseholdViewLog,
    ImportStatus,
    LockdownChange,
    LockdownLevel,
    Notification,
    PositiveCaseReport,
    Role,
    SmsStatus,
    User,
)

logger = logging.getLogger("baogong.households")

_NUMBER = re.compile(r"[0-9]+")


def _check_level(level: int) -> None:
    if level not in LockdownLevel.values:
        raise BaogongError(_("Unknown lockdown level."), errors={"level": [_("Unknown lockdown level.")]})


def _check_reason(reason: str) -> str:
    reason = (reason or "").strip()
    if not reason:
        raise BaogongError(_("Say why the lockdown level changes."), errors={"reason": [_("This field is required.")]})
    return reason


@transaction.atomic
def compound_set_lockdown_level(
    *,
    compound_id: int,
    level: int,
    reason: str,
    changed_by: User | None,
    effective_at: datetime.datetime | None = None,
    now: datetime.datetime | None = None,
) -> Compound:
    """Set a compound's lockdown level, now or from ``effective_at``, and keep it in the history.

    Guarantees: the row is locked while it changes, so two concurrent changes are recorded in the
    order they happened; setting the level it already has records nothing; a change with a
    future ``effective_at`` is recorded as scheduled and applied by :func:`lockdown_changes_apply_due`
    (until then it may be cancelled); when the level changes, the compound's undelivered packages
    follow it (mode and pick-up slot recomputed after the commit).
    """
    _check_level(level)
    reason = _check_reason(reason)
    now = now or timezone.now()
    compound = Compound.objects.select_for_update().get(pk=compound_id)
    if effective_at is not None and effective_at > now:
        LockdownChange.objects.create(
            compound=compound,
            from_level=compound.lockdown_level,
            to_level=level,
            reason=reason,
            changed_by=changed_by,
            effective_at=effective_at,
        )
        return compound
    if compound.lockdown_level == level:
        return compound
    _level_apply(
        compound, LockdownChange(compound=compound, to_level=level, reason=reason, changed_by=changed_by), now=now
    )
    return compound


@transaction.atomic
def building_set_lockdown_level(
    *,
    building_id: int,
    level: int,
    reason: str,
    changed_by: User | None,
    effective_at: datetime.datetime | None = None,
    now: datetime.datetime | None = None,
) -> Building:
    """Set a building's own lockdown level (it may be stricter than its compound's), now or from
    ``effective_at``, and keep the history. Guarantees as for :func:`compound_set_lockdown_level`."""
    _check_level(level)
    reason = _check_reason(reason)
    now = now or timezone.now()
    building = Building.objects.select_for_update().get(pk=building_id)
    if effective_at is not None and effective_at > now:
        LockdownChange.objects.create(
            building=building,
            from_level=building.lockdown_level,
            to_level=level,
            reason=reason,
            changed_by=changed_by,
            effective_at=effective_at,
        )
        return building
    if building.lockdown_level == level:
        return building
    _level_apply(
        building, LockdownChange(building=building, to_level=level, reason=reason, changed_by=changed_by), now=now
    )
    return building


def _level_apply(place: Compound | Building, change: LockdownChange, *, now: datetime.datetime) -> None:
    """Give a locked compound or building the change's level and record it as applied."""
    change.from_level = place.lockdown_level
    change.applied_at = now
    if change.pk is None:
        change.effective_at = now
        change.save()
    else:
        change.save(update_fields=["from_level", "applied_at"])
    place.lockdown_level = change.to_level
    place.save(update_fields=["lockdown_level"])
    _packages_follow_level(place.pk if isinstance(place, Compound) else place.compound_id)


def lockdown_changes_apply_due(*, now: datetime.datetime | None = None) -> int:
    """For the beat schedule: apply the scheduled level changes whose time has come, oldest first.

    Guarantees: each change is applied once (its row is locked, skipped by a concurrent run, and
    marked applied in the same transaction as the level); a change to the level the place
    already has is marked applied and changes nothing. Returns how many were applied.
    """
    now = now or timezone.now()
    applied = 0
    due = LockdownChange.objects.filter(applied_at__isnull=True, cancelled_at__isnull=True, effective_at__lte=now)
    for change_id in list(due.order_by("effective_at", "id").values_list("pk", flat=True)[:500]):
        with transaction.atomic():
            change = due.select_for_update(skip_locked=True).filter(pk=change_id).first()
            if change is None:
                continue
            place: Compound | Building
            if change.compound_id:
                place = Compound.objects.select_for_update().get(pk=change.compound_id)
            else:
                assert change.building_id is not None  # a change names a compound or a building (constraint)
                place = Building.objects.select_for_update().get(pk=change.building_id)
            _level_apply(place, change, now=now)
            applied += 1
    return applied


@transaction.atomic
def lockdown_change_cancel(
    *, change_id: int, cancelled_by: User | None, now: datetime.datetime | None = None
) -> LockdownChange:
    """Cancel a scheduled level change before it takes effect (an applied change is history: refused)."""
    change = LockdownChange.objects.select_for_update().get(pk=change_id)
    if not change.is_scheduled:
        raise BaogongError(_("This change has already taken effect or was cancelled; it cannot be cancelled now."))
    change.cancelled_at = now or timezone.now()
    change.save(update_fields=["cancelled_at"])
    return change


MAX_CASES_PER_REPORT = 100000


@transaction.atomic
def positive_cases_record(
    *,
    compound_id: int,
    date: datetime.date,
    cases: int,
    recorded_by: User | None,
    building_id: int | None = None,
    today: datetime.date | None = None,
) -> PositiveCaseReport:
    """Record a day's positive cases for a compound (or one building of it); zero means all negative.

    Guarantees: one report per place and day (recording the day again corrects it); no report
    for a future day, none for a building outside the compound, no negative or absurd counts.
    """
    today = today or timezone.localdate()
    if date > today:
        raise BaogongError(
            _("A report cannot be for a day that has not come yet."), errors={"date": [_("A day in the future.")]}
        )
    if not 0 <= cases <= MAX_CASES_PER_REPORT:
        raise BaogongError(
            _("Enter the number of positive cases (0 if every test was negative)."),
            errors={"cases": [_("Out of range.")]},
        )
    if building_id is not None and not Building.objects.filter(pk=building_id, compound_id=compound_id).exists():
        raise BaogongError(_("Unknown building."), errors={"building": [_("Unknown building.")]})
    report, _created = PositiveCaseReport.objects.update_or_create(
        compound_id=compound_id,
        building_id=building_id,
        date=date,
        defaults={"cases": cases, "recorded_by": recorded_by},
    )
    return report


def _packages_follow_level(compound_id: int) -> None:
    """Packed packages not yet delivered follow the new level (deliveries recomputes their mode and
    pick-up slot). The task is looked up by name: households does not depend on deliveries."""
    transaction.on_commit(lambda: enqueue("deliveries.tasks.packages_recompute_task", compound_id))


@transaction.atomic
def household_phones_set(*, household: Household, phones: list[str]) -> list[HouseholdPhone]:
    """Replace a household's phone numbers; the first is the primary one.

    Guarantees: every number is a valid Chinese number in E.164 form, without duplicates; on a
    bad number nothing changes.
    """
    normalized: list[str] = []
    for raw in phones:
        number = phone_normalize(raw)
        if number not in normalized:
            normalized.append(number)
    if not normalized:
        raise BaogongError(
            _("A household needs at least one phone number."), errors={"phones": [_("Enter a phone number.")]}
        )
    HouseholdPhone.objects.filter(household=household).delete()
    return HouseholdPhone.objects.bulk_create(
        HouseholdPhone(household=household, number=number, is_primary=(i == 0)) for i, number in enumerate(normalized)
    )


@dataclass(frozen=True)
class Levelling:
    """The load (packages or households) each of a community's three delivery days carries."""

    loads: tuple[int, int, int]
    moved: int

    @property
    def spread(self) -> float:
        """(busiest − quietest) ÷ average day: 0 is perfectly even."""
        average = sum(self.loads) / 3
        return round((max(self.loads) - min(self.loads)) / average, 3) if average else 0.0


@transaction.atomic
def community_delivery_days_level(*, community_id: int, weights: dict[int, int] | None = None) -> Levelling:
    """Spread a community's compounds over the cycle's three delivery days so that each day
    carries a similar load, and say how even it is.

    ``weights`` maps compound id → expected packages (e.g. this cycle's households with orders);
    by default each compound weighs its number of households. Biggest compounds are placed first,
    each on the day with the least load so far (longest-processing-time first), which keeps the
    busiest day within the largest compound of the average. Only compounds whose day changes are
    written.
    """
    compounds = list(Compound.objects.select_for_update().filter(community_id=community_id).order_by("pk"))
    if weights is None:
        counts = dict(
            Household.objects.filter(building__compound__community_id=community_id)
            .values_list("building__compound_id")
            .annotate(n=Count("id"))
        )
    else:
        counts = weights
    loads = [0, 0, 0]
    changed = []
    for compound in sorted(compounds, key=lambda c: (-counts.get(c.pk, 0), c.pk)):
        day = min(range(3), key=lambda d: (loads[d], d))
        loads[day] += counts.get(compound.pk, 0)
        if compound.delivery_day != day:
            compound.delivery_day = day
            changed.append(compound)
    Compound.objects.bulk_update(changed, ["delivery_day"])
    first, second, third = loads
    return Levelling(loads=(first, second, third), moved=len(changed))


# --- household import ----------------------------------------------------------------------------


def household_import_create(
    *, community_id: int, uploaded_by: User | None, filename: str, content: bytes, dry_run: bool = False
) -> HouseholdImport:
    """Store an uploaded register and queue it; the import runs after this transaction commits."""
    importing.check_file(filename, content)
    with transaction.atomic():
        household_import = HouseholdImport.objects.create(
            community_id=community_id,
            uploaded_by=uploaded_by,
            filename=filename[:200],
            content=content,
            dry_run=dry_run,
        )
        # never inside the upload request: a worker with Redis, a thread of the web process without
        transaction.on_commit(
            lambda: enqueue("households.tasks.household_import_run_task", household_import.pk, background=True)
        )
    return household_import


def household_import_run(*, import_id: int) -> HouseholdImport:
    """Run a stored import: validate every row, then create and update households set-based.

    Guarantees: a file that cannot be read, or lacks a required column, changes nothing and is
    marked refused with the reason; rows with errors are reported and skipped, the rest are
    written in one transaction; a re-run of a finished import does nothing (it may be delivered
    twice by the queue).
    """
    with transaction.atomic():
        household_import = HouseholdImport.objects.select_for_update().get(pk=import_id)
        if household_import.status != ImportStatus.PENDING:
            return household_import
        try:
            rows = importing.read_rows(household_import.filename, bytes(household_import.content))
            plan = importing.plan_import(community_id=household_import.community_id, rows=rows)
        except Exception as exc:  # whatever it was, the import ends as refused with its reason, never "pending"
            if not isinstance(exc, BaogongError):
                logger.exception("household import %s could not be read", import_id)
            household_import.status = ImportStatus.FAILED
            household_import.error = (
                exc.message
                if isinstance(exc, BaogongError)
                else _("The file could not be read: %(error)s") % {"error": exc.__class__.__name__}
            )[:500]
            household_import.finished_at = timezone.now()
            household_import.save(update_fields=["status", "error", "finished_at"])
            return household_import
        if not household_import.dry_run:
            importing.apply_plan(plan)
        household_import.status = ImportStatus.DONE
        household_import.created_count = plan.created
        household_import.updated_count = plan.updated
        household_import.rejected_count = plan.rejected
        household_import.report = plan.report
        household_import.finished_at = timezone.now()
        household_import.save(
            update_fields=["status", "created_count", "updated_count", "rejected_count", "report", "finished_at"]
        )
        return household_import


# --- notifications to residents -------------------------------------------------------------------


@dataclass(frozen=True)
class Tell:
    """One thing to tell one household: ``key`` names the event (``order:12``, ``package:7``)."""

    household_id: int
    key: str
    params: dict


def notifications_create(*, kind: str, tells: list[Tell], now: datetime.datetime | None = None) -> None:
    """Tell households something, in the app and by SMS, each at most once.

    Guarantees: one notification per (household, kind, key) however often this runs (a unique
    constraint; repeats are ignored, never an error); a household with a primary phone gets its
    SMS queued, sent by :func:`sms_send_due` after the commit; set-based: one query for the phones
    and batched inserts, whatever the number of households.
    """
    if not tells:
        return
    now = now or timezone.now()
    phones = dict(
        HouseholdPhone.objects.filter(household_id__in={t.household_id for t in tells}, is_primary=True).values_list(
            "household_id", "number"
        )
    )
    Notification.objects.bulk_create(
        [
            Notification(
                household_id=t.household_id,
                kind=kind,
                key=t.key,
                params=t.params,
                created_at=now,
                sms_phone=phones.get(t.household_id, ""),
                sms_status=SmsStatus.PENDING if t.household_id in phones else SmsStatus.NONE,
                sms_next_at=now if t.household_id in phones else None,
            )
            for t in tells
        ],
        ignore_conflicts=True,
        batch_size=2000,
    )
    if phones:
        transaction.on_commit(lambda: enqueue("households.tasks.sms_send_due_task"))


def notifications_mark_read(*, user: User, now: datetime.datetime | None = None) -> int:
    """Mark the user's household's notifications read; returns how many were unread."""
    if not user.household_id:
        return 0
    return Notification.objects.filter(household_id=user.household_id, read_at__isnull=True).update(
        read_at=now or timezone.now()
    )


def _sms_retry_delay(attempts: int) -> datetime.timedelta:
    return datetime.timedelta(seconds=min(30 * 2 ** (attempts - 1), 3600))  # 30 s, 1 min, 2 min … 1 h


def sms_send_due(*, limit: int = 200, budget_seconds: float = 0, now: datetime.datetime | None = None) -> dict:
    """Send the SMS whose time has come, each at most once, in batches of ``limit``, going on with
    the next batch while ``budget_seconds`` have not passed (one batch when 0).

    Guarantees: a message is claimed (marked "sending") and committed before the gateway is
    called, with ``SKIP LOCKED`` on PostgreSQL, so two senders running at once never send the
    same message; a refused message goes back to "pending" with a growing delay, and after
    ``SMS_MAX_ATTEMPTS`` it is marked "failed" with the gateway's error and logged at ERROR level
    (staff see failed messages in the admin): never lost silently. A sender that dies after the
    claim leaves the message "sending" (maybe sent): it is not sent again.
    """
    started = time.monotonic()
    totals = {"sent": 0, "retry": 0, "failed": 0}
    while True:
        counts = _sms_send_batch(limit=limit, now=now or timezone.now())
        for name, value in counts.items():
            totals[name] += value
        if sum(counts.values()) < limit or time.monotonic() - started >= budget_seconds:
            return totals


def _sms_send_batch(*, limit: int, now: datetime.datetime) -> dict:
    from core.sms import SmsError, logger, sms_backend
    from households.notifications import message_text

    with transaction.atomic():
        due = Notification.objects.filter(sms_status=SmsStatus.PENDING, sms_next_at__lte=now).order_by(
            "sms_next_at", "id"
        )
        claimed = list(due.select_for_update(skip_locked=True)[:limit])
        Notification.objects.filter(pk__in=[n.pk for n in claimed]).update(
            sms_status=SmsStatus.SENDING, sms_attempts=F("sms_attempts") + 1
        )
    backend = sms_backend()
    counts = {"sent": 0, "retry": 0, "failed": 0}
    for notification in claimed:
        attempts = notification.sms_attempts + 1
        with translation.override("zh-hans"):
            text = message_text(notification.kind, notification.params)
        try:
            backend.send(notification.sms_phone, text)
        except SmsError as exc:
            if attempts >= settings.SMS_MAX_ATTEMPTS:
                status, counts["failed"] = SmsStatus.FAILED, counts["failed"] + 1
                logger.error(
                    "SMS %s to %s failed after %s attempts: %s", notification.pk, notification.sms_phone, attempts, exc
                )
            else:
                status, counts["retry"] = SmsStatus.PENDING, counts["retry"] + 1
            Notification.objects.filter(pk=notification.pk).update(
                sms_status=status, sms_error=str(exc)[:300], sms_next_at=now + _sms_retry_delay(attempts)
            )
            continue
        Notification.objects.filter(pk=notification.pk).update(
            sms_status=SmsStatus.SENT, sms_sent_at=timezone.now(), sms_error=""
        )
        counts["sent"] += 1
    return counts


def household_view_record(*, user: User, household_id: int, where: str) -> None:
    """Keep in the audit log that a staff member opened a household's details (one row, never
    edited). Residents looking at their own household are not logged."""
    if not user.is_authenticated or (user.role == Role.RESIDENT and not user.is_superuser):
        return
    HouseholdViewLog.objects.create(
        household_id=household_id, viewed_by=user, role=Role.ADMIN if user.is_superuser else user.role, where=where[:60]
    )
