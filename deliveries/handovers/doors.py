"""At the door: delivered, not delivered (re-queued or refused), undone by mistake; the end of a cycle."""

import datetime

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import F
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from core.errors import BaogongError, Conflict, NotFound
from core.queue import enqueue
from deliveries import rules
from deliveries.handovers.common import AT_THE_COMMUNITY, UNDO_MINUTES, _clean_text, _not_found_package, _place_of
from deliveries.models import (
    FINAL_REASONS,
    OPEN_STATUSES,
    Consignment,
    ExceptionReason,
    HandoverEvent,
    HandoverKind,
    Hop,
    Package,
    PackageStatus,
    PickupSlot,
)
from households.access import restrict
from households.models import User
from households.permissions import allows
from households.volunteers import declared_well
from supply.models import Cycle, CycleStatus
from supply.services import cycle_step

# --- at the door ---------------------------------------------------------------------------------


def _package_for(by: User, package_id: int) -> Package:
    if not allows(by, rules.DOORS):
        raise _not_found_package()
    if allows(by, rules.VOLUNTEER_ROUND) and not declared_well(user_id=by.pk, day=timezone.localdate()):
        raise Conflict(_("Declare your health for today before you carry packages."))
    package = restrict(Package.objects.filter(pk=package_id), by).select_for_update(of=("self",)).first()
    if package is None:
        raise _not_found_package()
    return package


def custody_check_door(package: Package, *, now: datetime.datetime, override: str = "") -> str:
    """The rule for every door outcome: the package reached its community (or its compound) and
    its first delivery day has come. Returns the override reason to record (empty when the rule
    holds); raises a conflict when it does not and no reason was stated."""
    override = _clean_text(override, field="override")
    problem = None
    if package.status not in AT_THE_COMMUNITY:
        problem = _(
            "Package %(code)s has not reached the community yet (%(status)s): confirm the receipt of the "
            "day's goods first."
        ) % {"code": package.code, "status": package.get_status_display()}
    elif package.dispatch_date > timezone.localdate(now):
        problem = _("Package %(code)s is due on %(date)s, not today.") % {
            "code": package.code,
            "date": package.dispatch_date.isoformat(),
        }
    if problem is None:
        return ""
    if not override:
        raise Conflict(problem + " " + _("To record it anyway, state why (kept with the record)."))
    return override


def _cycle_may_be_complete(package: Package) -> None:
    """After a final outcome: once nothing of this community is open, see whether the cycle is done."""
    if Package.objects.filter(
        cycle_id=package.cycle_id, community_id=package.community_id, status__in=OPEN_STATUSES
    ).exists():
        return
    cycle_id = package.cycle_id
    transaction.on_commit(lambda: enqueue("deliveries.tasks.cycle_complete_task", cycle_id))


@transaction.atomic
def package_deliver(
    *,
    package_id: int,
    by: User,
    location: str = "",
    note: str = "",
    override: str = "",
    now: datetime.datetime | None = None,
) -> HandoverEvent:
    """The package reached its household (at the door, or collected at the receiving point).

    Guarantees: only door roles within scope (another community's package is "not found"); only
    under the custody rule of :func:`custody_check_door` (or with a stated override, recorded);
    delivered once per attempt: a second call returns the first event; a refused package cannot
    be marked delivered; the household is told once, with the time; a package with an amount to
    collect records that amount as cash taken at the door by ``by`` (its day's cash sheet).
    """
    now = now or timezone.now()
    package = _package_for(by, package_id)
    existing = HandoverEvent.objects.filter(
        package=package, kind=HandoverKind.DELIVERED, attempt=package.attempt
    ).first()
    if existing is not None:
        return existing
    if package.status == PackageStatus.EXCEPTION:
        raise Conflict(
            _("Package %(code)s was refused at the door; it cannot be marked delivered.") % {"code": package.code}
        )
    override = custody_check_door(package, now=now, override=override)
    location = _clean_text(location, field="location")
    note = _clean_text(note, field="note", limit=2000)
    event = HandoverEvent.objects.create(
        package=package,
        kind=HandoverKind.DELIVERED,
        delivery_date=package.delivery_date,
        by=by,
        at=now,
        place=_place_of(by),
        location=location,
        note=note,
        override=override,
        status_before=package.status,
        attempt=package.attempt,
        cash_collected=package.to_collect if package.to_collect else None,
    )
    package.status = PackageStatus.DELIVERED
    package.save(update_fields=["status"])
    from households.services import Tell, notifications_create

    notifications_create(
        kind="delivered",
        tells=[
            Tell(
                household_id=package.household_id,
                key=f"package:{package.pk}",
                params={"code": package.code, "time": f"{timezone.localtime(now):%H:%M}"},
            )
        ],
        now=now,
    )
    _cycle_may_be_complete(package)
    return event


@transaction.atomic
def package_exception(
    *,
    package_id: int,
    by: User,
    reason: str,
    for_date: datetime.date | None = None,
    location: str = "",
    note: str = "",
    override: str = "",
    now: datetime.datetime | None = None,
) -> HandoverEvent:
    """The package could not be delivered on its day (``for_date``, the day the worker's list showed).

    Guarantees: only door roles within scope; only under the custody rule of
    :func:`custody_check_door` (or with a stated override, recorded); one exception per package,
    day and attempt: a repeat for the same day returns the first event; a package delivered (or
    refused) is not changed. Refused is the package's final outcome (status "not delivered"); any
    other reason re-queues it: its delivery day moves to the next day (after today), it goes back
    to the community (status "at the community", pick-up slot released), it is counted again in
    the next day's compound consignment, and the household is told the reason and the new day (once).
    Once committed, :data:`deliveries.signals.door_exception` tells the apps above (a care
    household's assigned worker gets a ticket).
    """
    now = now or timezone.now()
    if reason not in ExceptionReason.values:
        message = _("Choose why the package could not be delivered.")
        raise BaogongError(message, errors={"reason": [message]})
    package = _package_for(by, package_id)
    day = for_date or package.delivery_date
    existing = HandoverEvent.objects.filter(
        package=package,
        kind=HandoverKind.EXCEPTION,
        delivery_date=day,
        attempt=package.attempt,
    ).first()
    if existing is not None:
        return existing
    if package.status == PackageStatus.DELIVERED:
        raise Conflict(_("Package %(code)s is already delivered.") % {"code": package.code})
    if package.status == PackageStatus.EXCEPTION:
        raise Conflict(
            _("Package %(code)s was refused at the door; it cannot be marked delivered.") % {"code": package.code}
        )
    if day != package.delivery_date:
        raise Conflict(
            _("Package %(code)s is now due on %(date)s: reload the list.")
            % {"code": package.code, "date": package.delivery_date.isoformat()}
        )
    override = custody_check_door(package, now=now, override=override)
    location = _clean_text(location, field="location")
    note = _clean_text(note, field="note", limit=2000)
    final = reason in FINAL_REASONS
    requeued_to = None if final else max(timezone.localdate(now), day) + datetime.timedelta(days=1)
    try:
        with transaction.atomic():
            event = HandoverEvent.objects.create(
                package=package,
                kind=HandoverKind.EXCEPTION,
                outcome=reason,
                delivery_date=day,
                requeued_to=requeued_to,
                by=by,
                at=now,
                place=_place_of(by),
                location=location,
                note=note,
                override=override,
                status_before=package.status,
                attempt=package.attempt,
            )
    except IntegrityError:  # a concurrent tap for the same day won the race
        return HandoverEvent.objects.get(
            package=package,
            kind=HandoverKind.EXCEPTION,
            delivery_date=day,
            attempt=package.attempt,
        )
    _tell_door_exception(package, event)
    if final:
        package.status = PackageStatus.EXCEPTION
        package.save(update_fields=["status"])
        _cycle_may_be_complete(package)
        return event
    assert requeued_to is not None  # every reason but a final one re-queues
    if package.pickup_slot_id:
        PickupSlot.objects.filter(pk=package.pickup_slot_id, assigned__gt=0).update(assigned=F("assigned") - 1)
    package.delivery_date = requeued_to
    package.status = PackageStatus.AT_COMMUNITY
    package.pickup_slot = None
    package.recomputed_at = now  # its day's printed lists are out of date
    package.save(update_fields=["delivery_date", "status", "pickup_slot", "recomputed_at"])
    _count_again(package, day=requeued_to, change=1)
    from households.services import Tell, notifications_create

    with translation.override(settings.LANGUAGE_CODE):  # params are kept as text: in the residents' language
        reason_text = str(ExceptionReason(reason).label)
    notifications_create(
        kind="exception",
        tells=[
            Tell(
                household_id=package.household_id,
                key=f"package:{package.pk}:{day.isoformat()}",
                params={"code": package.code, "reason": reason_text, "date": requeued_to.isoformat()},
            )
        ],
        now=now,
    )
    return event


@transaction.atomic
def handover_undo(*, event_id: int, by: User, note: str = "", now: datetime.datetime | None = None) -> HandoverEvent:
    """Undo a door outcome recorded by mistake ("delivered" or "not delivered").

    Guarantees: only the person who recorded it, within ``UNDO_MINUTES``, and only the package's
    latest outcome (else a conflict and nothing changes); the undo is an event of its own naming
    the one it undoes (the history keeps both); the package gets back exactly the status, day
    and consignment count it had before, and a new attempt, so it can be delivered or missed
    again; a cycle already marked complete is packed again. Undoing twice returns the first undo.
    """
    now = now or timezone.now()
    event = (
        HandoverEvent.objects.filter(pk=event_id, kind__in=[HandoverKind.DELIVERED, HandoverKind.EXCEPTION])
        .select_related("undone_by")
        .first()
    )
    if event is None or event.by_id != by.pk or event.package_id is None:
        raise NotFound(_("There is no such record, or it is not yours to undo."))
    package = _package_for(by, event.package_id)
    undone = HandoverEvent.objects.filter(undoes=event).first()
    if undone is not None:
        return undone
    if event.attempt != package.attempt or now - event.at > datetime.timedelta(minutes=UNDO_MINUTES):
        raise Conflict(
            _(
                "This record can no longer be undone (only the latest, within %(minutes)d minutes): "
                "ask the community to correct it."
            )
            % {"minutes": UNDO_MINUTES}
        )
    note = _clean_text(note, field="note", limit=2000)
    undo = HandoverEvent.objects.create(
        package=package,
        kind=HandoverKind.UNDONE,
        undoes=event,
        delivery_date=event.delivery_date,
        by=by,
        at=now,
        place=_place_of(by),
        note=note,
        attempt=event.attempt,
    )
    if event.requeued_to is not None:
        _count_again(package, day=event.requeued_to, change=-1)
        package.delivery_date = event.delivery_date
    package.status = event.status_before or PackageStatus.AT_COMPOUND
    package.attempt += 1
    package.recomputed_at = now
    package.save(update_fields=["status", "delivery_date", "attempt", "recomputed_at"])
    cycle_step(cycle=Cycle.objects.select_for_update().get(pk=package.cycle_id), step="reopen")
    return undo


def _tell_door_exception(package: Package, event: HandoverEvent) -> None:
    """After the commit, tell the apps above (the care ledger opens a ticket for a care household)."""
    from deliveries.signals import door_exception

    with translation.override(settings.LANGUAGE_CODE):
        label = str(ExceptionReason(event.outcome).label)
    details = {
        "package_id": package.pk,
        "household_id": package.household_id,
        "code": package.code,
        "reason": event.outcome,
        "reason_label": label,
        "day": event.delivery_date,
        "requeued_to": event.requeued_to,
        "by": event.by,
        "at": event.at,
    }
    transaction.on_commit(lambda: door_exception.send(sender=Package, **details))


def _count_again(package: Package, *, day: datetime.date, change: int) -> None:
    """Count a re-queued package in (``change=1``) or out of (``-1``) its compound's consignment
    of ``day``, made if missing."""
    legs = Consignment.objects.filter(
        cycle_id=package.cycle_id,
        hop=Hop.COMMUNITY_COMPOUND,
        compound_id=package.compound_id,
        delivery_date=day,
        built_by_id=package.community_id,
        supplement=package.urgent,
    )
    if legs.update(package_count=F("package_count") + change, item_count=F("item_count") + change * package.item_count):
        return
    if change > 0:
        Consignment.objects.create(
            cycle_id=package.cycle_id,
            hop=Hop.COMMUNITY_COMPOUND,
            compound_id=package.compound_id,
            community_id=package.community_id,
            built_by_id=package.community_id,
            office_id=package.community.office_id,
            delivery_date=day,
            package_count=1,
            item_count=package.item_count,
            supplement=package.urgent,
        )


# --- the end of a cycle --------------------------------------------------------------------------


@transaction.atomic
def cycle_complete_if_done(*, cycle_id: int) -> Cycle:
    """Mark a packed cycle complete once every package is delivered or has its final outcome.

    Guarantees: the cycle row is locked, so two callers cannot both decide; a cycle with a package
    still on its way (re-queued ones included) stays packed; idempotent (a complete cycle is
    returned unchanged); cycles still open or closing are never touched.
    """
    cycle = Cycle.objects.select_for_update().filter(pk=cycle_id).first()
    if cycle is None:
        raise NotFound(_("There is no such cycle."))
    if not Package.objects.filter(cycle=cycle, status__in=OPEN_STATUSES).exists():
        cycle_step(cycle=cycle, step="complete")
    return cycle


def cycles_complete_due() -> int:
    """For the beat schedule: complete every packed cycle with nothing open; returns how many."""
    done = 0
    for cycle_id in list(Cycle.objects.filter(status=CycleStatus.PACKED).values_list("pk", flat=True)):
        done += cycle_complete_if_done(cycle_id=cycle_id).status == CycleStatus.COMPLETE
    return done
