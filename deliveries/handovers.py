"""Handovers: the chain of custody from the supplier to the door, and the end of a cycle.

At each hop of the route the receiving person confirms a :class:`Consignment` (the counts that
arrived, a note when they differ from the list); confirming moves that hop's packages on, in one
UPDATE. At the door the worker marks each package delivered or not delivered (not at home,
refused, damaged, item missing). Every step is a :class:`HandoverEvent` row: who, when, where.

The custody rules live here and nowhere else (:func:`custody_check_door`, :func:`upstream_open`):
- a hop is confirmed only after the hop before it (the office receives from the supplier before
  the community can receive from the office, the community before its compounds);
- a door outcome only for a package that reached its community, on or after its first delivery
  day; staff may override either rule only by stating why, and the reason is kept on the event;
- counts flow downstream: each hop expects what the previous hop actually received, and a
  shortfall noted upstream is carried, not asked about again;
- a door outcome can be undone by the person who recorded it within ``UNDO_MINUTES``; the undo is
  an event of its own and restores exactly the state before.

Every service here:
- acts only on what the acting user may see (``households.access``): anything else is "not found";
- is idempotent: repeating a step (a double tap, a retried request) returns the first event and
  changes nothing, backed by the partial unique constraints of :class:`HandoverEvent`;
- tells residents through ``households.services.notifications_create`` inside its transaction, so
  a step that fails tells nobody, and each thing is told once.
"""

import datetime
from collections import defaultdict
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import Exists, F, OuterRef, Q, QuerySet, Subquery
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from core.errors import BaogongError, Conflict, NotFound
from core.queue import enqueue
from deliveries import rules
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
from supply.models import Cycle, CycleStatus, OrderLine
from supply.services import cycle_step

# The rule of who confirms each hop (deliveries.rules).
RECEIVERS: dict[str, str] = {
    Hop.SUPPLIER_OFFICE: rules.RECEIVE_FROM_SUPPLIER,
    Hop.OFFICE_COMMUNITY: rules.RECEIVE_FROM_OFFICE,
    Hop.COMMUNITY_COMPOUND: rules.RECEIVE_AT_COMPOUND,
}

# The statuses a package has before it reaches each place, i.e. the ones a confirmed hop moves on.
_BEFORE: dict[str, tuple[str, ...]] = {
    Hop.SUPPLIER_OFFICE: (PackageStatus.PACKED, PackageStatus.DISPATCHED),
    Hop.OFFICE_COMMUNITY: (PackageStatus.PACKED, PackageStatus.DISPATCHED, PackageStatus.AT_OFFICE),
    Hop.COMMUNITY_COMPOUND: (
        PackageStatus.PACKED,
        PackageStatus.DISPATCHED,
        PackageStatus.AT_OFFICE,
        PackageStatus.AT_COMMUNITY,
    ),
}
_AFTER: dict[str, str] = {
    Hop.SUPPLIER_OFFICE: PackageStatus.AT_OFFICE,
    Hop.OFFICE_COMMUNITY: PackageStatus.AT_COMMUNITY,
    Hop.COMMUNITY_COMPOUND: PackageStatus.AT_COMPOUND,
}
TEXT_LIMIT = 200
# How long a mistaken door outcome can be undone by the person who recorded it.
UNDO_MINUTES = 15
# Where a package must be before anyone may record what happened at its door.
AT_THE_COMMUNITY = (PackageStatus.AT_COMMUNITY, PackageStatus.AT_COMPOUND)
# Marks a line of a receipt's note carried from the hop before (language-neutral: it is stored).
CARRIED_MARK = "↑ "
# The hop before each hop (the supplier's leg has none).
_PREVIOUS: dict[str, str] = {Hop.OFFICE_COMMUNITY: Hop.SUPPLIER_OFFICE, Hop.COMMUNITY_COMPOUND: Hop.OFFICE_COMMUNITY}


def _not_found_package() -> NotFound:
    return NotFound(_("There is no such package, or it is not yours to see."))


def _place_of(user: User) -> str:
    from households.selectors import user_place_name

    return user_place_name(user=user)[:TEXT_LIMIT]


def _clean_text(value: str | None, *, field: str, limit: int = TEXT_LIMIT) -> str:
    text = (value or "").strip()
    if len(text) > limit:
        raise BaogongError(
            _("Keep it under %(limit)d characters.") % {"limit": limit}, errors={field: [_("Too long.")]}
        )
    return text


def _count(value, *, field: str) -> int:
    try:
        number = int(str(value).strip())
    except (TypeError, ValueError):
        number = -1
    if number < 0 or number > 10_000_000:
        message = _("Enter the number counted (0 or more).")
        raise BaogongError(message, errors={field: [message]})
    return number


# --- consignments at each hop ----------------------------------------------------------------------


def _upstream(consignment: Consignment) -> QuerySet[Consignment]:
    """The legs of the hop before this one that carried its goods (same cycle, day and lane)."""
    previous = _PREVIOUS.get(consignment.hop)
    if previous is None:
        return Consignment.objects.none()
    legs = Consignment.objects.filter(
        cycle_id=consignment.cycle_id,
        hop=previous,
        delivery_date=consignment.delivery_date,
        supplement=consignment.supplement,
    )
    community_id = consignment.community_id
    assert community_id is not None  # office and compound legs belong to a community
    if previous == Hop.SUPPLIER_OFFICE:
        return legs.filter(built_by_id=community_id)
    return legs.filter(community_id=community_id)


def upstream_open(consignment: Consignment) -> list[Consignment]:
    """The legs of the previous hop not yet received: while any is open, this one cannot be."""
    return list(_upstream(consignment).filter(received_at__isnull=True).select_related("supplier", "office"))


@dataclass(frozen=True)
class Expected:
    """What a hop should receive: the list's counts less what went missing upstream, with the
    upstream notes that explain the difference."""

    packages: int
    items: int
    carried: tuple[str, ...] = ()
    waiting: tuple[str, ...] = ()  # who has still to confirm the hop before (then this one cannot be)


def consignments_expected(consignments: list[Consignment]) -> dict[int, Expected]:
    """For each consignment, what it should hold given what the hops before it received (two
    queries for any number of consignments).

    The office → community leg expects its list less the supplier legs' shortfall (items summed,
    packages the largest shortfall of any supplier, since one package can hold goods of several).
    A compound leg expects its list less the community's shortfall when it is the community's only
    compound leg of that day; otherwise the shortfall cannot be placed and is carried as a note.
    """
    keys = {(c.cycle_id, c.community_id, c.delivery_date, c.supplement) for c in consignments if c.hop in _PREVIOUS}
    if not keys:
        return {c.pk: Expected(c.package_count, c.item_count) for c in consignments}
    q = Q(pk__in=[])
    for cycle_id, community_id, day, supplement in keys:
        q |= Q(cycle_id=cycle_id, delivery_date=day, supplement=supplement) & (
            Q(hop=Hop.SUPPLIER_OFFICE, built_by_id=community_id)
            | Q(hop__in=[Hop.OFFICE_COMMUNITY, Hop.COMMUNITY_COMPOUND], community_id=community_id)
        )
    legs = list(
        Consignment.objects.filter(q)
        .select_related("office", "community")
        .annotate(
            got_packages=Subquery(
                HandoverEvent.objects.filter(consignment_id=OuterRef("pk"), kind=HandoverKind.RECEIVED).values(
                    "packages_received"
                )[:1]
            ),
            got_items=Subquery(
                HandoverEvent.objects.filter(consignment_id=OuterRef("pk"), kind=HandoverKind.RECEIVED).values(
                    "items_received"
                )[:1]
            ),
            got_note=Subquery(
                HandoverEvent.objects.filter(consignment_id=OuterRef("pk"), kind=HandoverKind.RECEIVED).values("note")[
                    :1
                ]
            ),
        )
    )
    by_key: dict[tuple, list[Any]] = defaultdict(list)
    for leg in legs:
        community = leg.built_by_id if leg.hop == Hop.SUPPLIER_OFFICE else leg.community_id
        by_key[(leg.cycle_id, community, leg.delivery_date, leg.supplement, leg.hop)].append(leg)

    def short(rows: list[Any], *, packages_summed: bool) -> tuple[int, int, tuple[str, ...], tuple[str, ...]]:
        got = [r for r in rows if r.got_items is not None]
        lost_packages = [max(r.package_count - r.got_packages, 0) for r in got]
        lost_items = sum(max(r.item_count - r.got_items, 0) for r in got)
        notes: dict[str, None] = {}  # in order, once each (a note carried down two hops stays one note)
        for r in got:
            if r.got_note and (r.got_packages, r.got_items) != (r.package_count, r.item_count):
                for line in r.got_note.splitlines():
                    line = line.removeprefix(CARRIED_MARK).strip()
                    if line:
                        notes[line] = None
        waiting = tuple(sorted({_leg_receiver(r) for r in rows if r.got_items is None}))
        lost = sum(lost_packages) if packages_summed else max(lost_packages, default=0)
        return lost, lost_items, tuple(notes), waiting

    expected: dict[int, Expected] = {}
    for c in consignments:
        previous = _PREVIOUS.get(c.hop)
        if previous is None:
            expected[c.pk] = Expected(c.package_count, c.item_count)
            continue
        lost_packages, lost_items, notes, waiting = short(
            by_key[(c.cycle_id, c.community_id, c.delivery_date, c.supplement, previous)],
            packages_summed=False,
        )
        if previous == Hop.OFFICE_COMMUNITY:
            siblings = by_key[(c.cycle_id, c.community_id, c.delivery_date, c.supplement, Hop.COMMUNITY_COMPOUND)]
            if len(siblings) > 1:
                lost_packages = lost_items = 0  # cannot be placed on one compound: carried as a note
        expected[c.pk] = Expected(
            max(c.package_count - lost_packages, 0),
            max(c.item_count - lost_items, 0),
            notes,
            waiting,
        )
    return expected


@transaction.atomic
def consignment_receive(
    *,
    consignment_id: int,
    by: User,
    packages_received,
    items_received,
    note: str = "",
    location: str = "",
    now: datetime.datetime | None = None,
) -> HandoverEvent:
    """The receiving person confirms a consignment: how many packages and items arrived.

    Guarantees: only a receiver of that hop (the office for supplier legs, the community for the
    office and compound legs) within their scope, else "not found"; never before every leg of the
    hop before it is received (conflict, nothing written); counts that differ from what is
    expected (the list less the shortfall recorded upstream) need a note saying what is missing or
    extra, while a shortfall already noted upstream is carried into this receipt's note (bad input
    changes nothing); confirmed once (a second confirmation returns the first event, whatever its
    counts); the hop's packages move on in one UPDATE (a package reaches the office when every
    supplier leg it holds goods from is received); at the compound, residents are told their
    package is on its way (each once).
    """
    now = now or timezone.now()
    consignment = restrict(Consignment.objects.filter(pk=consignment_id), by).select_for_update(of=("self",)).first()
    if consignment is None or not allows(by, RECEIVERS[consignment.hop]):
        raise NotFound(_("There is no such consignment, or it is not yours to receive."))
    existing = HandoverEvent.objects.filter(consignment=consignment, kind=HandoverKind.RECEIVED).first()
    if existing is not None:
        return existing
    waiting = upstream_open(consignment)
    if waiting:
        raise Conflict(
            _("Not yet: %(from)s has not confirmed what it received for this day. Its receipt comes first.")
            % {"from": "、".join(sorted({_leg_receiver(leg) for leg in waiting}))}
        )
    packages = _count(packages_received, field="packages_received")
    items = _count(items_received, field="items_received")
    note = _clean_text(note, field="note", limit=2000)
    location = _clean_text(location, field="location")
    expected = consignments_expected([consignment])[consignment.pk]
    if (packages, items) != (expected.packages, expected.items) and not note:
        message = _("%(packages)d packages and %(items)d items are expected: note what is missing or extra.") % {
            "packages": expected.packages,
            "items": expected.items,
        }
        raise BaogongError(message, errors={"note": [message]})
    if expected.carried:
        note = "\n".join([note, *(CARRIED_MARK + line for line in expected.carried)]).strip()[:2000]
    event = HandoverEvent.objects.create(
        consignment=consignment,
        kind=HandoverKind.RECEIVED,
        delivery_date=consignment.delivery_date,
        packages_received=packages,
        items_received=items,
        by=by,
        at=now,
        place=_place_of(by),
        location=location,
        note=note,
    )
    consignment.received_at = now
    consignment.save(update_fields=["received_at"])
    _move_on(consignment)
    if consignment.hop == Hop.COMMUNITY_COMPOUND:
        _out_for_delivery(
            _compound_day(consignment.cycle_id, consignment.compound_id, consignment.delivery_date),
            by=by,
            now=now,
            place=event.place,
            location=location,
        )
    return event


def _leg_receiver(leg: Consignment) -> str:
    """Who receives a leg, as people name them: the office for supplier legs, else the community."""
    if leg.hop == Hop.SUPPLIER_OFFICE:
        return leg.office.name
    return str(leg.community or leg.office)


def _compound_day(cycle_id: int, compound_id: int, day: datetime.date) -> QuerySet[Package]:
    return Package.objects.filter(cycle_id=cycle_id, compound_id=compound_id, delivery_date=day)


def _move_on(consignment: Consignment) -> int:
    """Move the packages that crossed this hop to the next place (one UPDATE); returns how many."""
    hop = consignment.hop
    # Supplier and office legs carry packages by the day they were dispatched; a compound's leg
    # carries those due there that day (re-queued ones included, already at the community).
    day = (
        {"delivery_date": consignment.delivery_date}
        if hop == Hop.COMMUNITY_COMPOUND
        else {"dispatch_date": consignment.delivery_date}
    )
    packages = Package.objects.filter(
        cycle_id=consignment.cycle_id,
        urgent=consignment.supplement,
        status__in=_BEFORE[hop],
        **day,
    )
    if hop == Hop.SUPPLIER_OFFICE:
        # A package holds goods of several suppliers: it is at the office once all of them arrived.
        suppliers_of_package = OrderLine.objects.filter(
            order__package_link__package_id=OuterRef(OuterRef("pk"))
        ).values("product__supplier_id")
        open_leg = Consignment.objects.filter(
            cycle_id=OuterRef("cycle_id"),
            hop=Hop.SUPPLIER_OFFICE,
            built_by_id=OuterRef("community_id"),
            delivery_date=OuterRef("dispatch_date"),
            supplement=consignment.supplement,
            received_at__isnull=True,
            supplier_id__in=suppliers_of_package,
        )
        packages = packages.filter(community_id=consignment.built_by_id).exclude(Exists(open_leg))
    elif hop == Hop.OFFICE_COMMUNITY:
        packages = packages.filter(community=consignment.community)
    else:
        packages = packages.filter(compound=consignment.compound)
    return packages.update(status=_AFTER[hop])


def _out_for_delivery(
    packages: QuerySet[Package], *, by: User, now: datetime.datetime, place: str, location: str
) -> int:
    """Record "out for delivery" for the open packages and tell their households (each once per day)."""
    from households.services import Tell, notifications_create

    rows = list(
        packages.filter(status__in=OPEN_STATUSES)
        .values_list("pk", "household_id", "code", "delivery_date")
        .order_by("pk")
    )
    HandoverEvent.objects.bulk_create(
        [
            HandoverEvent(
                package_id=pk,
                kind=HandoverKind.OUT_FOR_DELIVERY,
                delivery_date=day,
                by=by,
                at=now,
                place=place,
                location=location,
            )
            for pk, _household, _code, day in rows
        ],
        ignore_conflicts=True,
        batch_size=2000,
    )
    notifications_create(
        kind="out_for_delivery",
        tells=[
            Tell(household_id=h, key=f"package:{pk}:{day.isoformat()}", params={"code": code})
            for pk, h, code, day in rows
        ],
        now=now,
    )
    return len(rows)


@transaction.atomic
def round_start(
    *,
    by: User,
    compound_id: int,
    delivery_date: datetime.date,
    location: str = "",
    now: datetime.datetime | None = None,
) -> int:
    """The worker sets off through a compound with the day's packages.

    Guarantees: only door roles within scope; the compound's consignment of the day, if not yet
    confirmed, is confirmed with the counts expected (so only after the community received the
    day's goods from the office: otherwise a conflict and nothing changes); only packages that
    are at the community go out: each is then at the compound and "out for delivery", and its
    household is told once that day. Running it again changes nothing. Returns how many packages are out.
    """
    now = now or timezone.now()
    if not allows(by, rules.DOORS):
        raise NotFound(_("There is no such compound, or it is not yours to deliver."))
    packages = restrict(Package.objects.filter(compound_id=compound_id, delivery_date=delivery_date), by)
    location = _clean_text(location, field="location")
    if not packages.exists():
        raise NotFound(_("There are no packages for this compound on this day."))
    pending = list(
        restrict(
            Consignment.objects.filter(
                hop=Hop.COMMUNITY_COMPOUND,
                compound_id=compound_id,
                delivery_date=delivery_date,
                received_at__isnull=True,
            ),
            by,
        )
    )
    if allows(by, RECEIVERS[Hop.COMMUNITY_COMPOUND]):
        expected = consignments_expected(pending)
        for consignment in pending:
            consignment_receive(
                consignment_id=consignment.pk,
                by=by,
                packages_received=expected[consignment.pk].packages,
                items_received=expected[consignment.pk].items,
                location=location,
                now=now,
            )
    packages.filter(status=PackageStatus.AT_COMMUNITY).update(status=PackageStatus.AT_COMPOUND)
    if not packages.filter(status=PackageStatus.AT_COMPOUND).exists():
        raise Conflict(_("None of this day's packages has reached the community yet: confirm the receipt first."))
    return _out_for_delivery(packages, by=by, now=now, place=_place_of(by), location=location)


# --- at the door ---------------------------------------------------------------------------------


def _package_for(by: User, package_id: int) -> Package:
    if not allows(by, rules.DOORS):
        raise _not_found_package()
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
    be marked delivered; the household is told once, with the time.
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
