"""Handovers: the chain of custody from the supplier to the door, and the end of a cycle.

At each hop of the route the receiving person confirms a :class:`Consignment` (the counts that
arrived, a note when they differ from the list); confirming moves that hop's packages on, in one
UPDATE. At the door the worker marks each package delivered or not delivered (not at home,
refused, damaged, item missing). Every step is a :class:`HandoverEvent` row: who, when, where.

Every service here:
- acts only on what the acting user may see (``households.access``): anything else is "not found";
- is idempotent: repeating a step (a double tap, a retried request) returns the first event and
  changes nothing, backed by the partial unique constraints of :class:`HandoverEvent`;
- tells residents through ``households.services.notifications_create`` inside its transaction, so
  a step that fails tells nobody, and each thing is told once.
"""

import datetime

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import Exists, F, OuterRef, QuerySet
from django.utils import timezone, translation
from django.utils.translation import gettext as _

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
from households.errors import BaogongError, Conflict, NotFound
from households.models import Role, User
from households.permissions import role_of
from households.queue import enqueue
from supply.models import Cycle, CycleStatus, OrderLine

# Who confirms which hop: the office receives from suppliers; the community receives from the
# office and carries to its compounds. Task forces and administrators may stand in anywhere.
RECEIVERS: dict[str, tuple[str, ...]] = {
    Hop.SUPPLIER_OFFICE: (Role.OFFICE, Role.TASKFORCE, Role.ADMIN),
    Hop.OFFICE_COMMUNITY: (Role.WORKER, Role.TASKFORCE, Role.ADMIN),
    Hop.COMMUNITY_COMPOUND: (Role.WORKER, Role.TASKFORCE, Role.ADMIN),
}
# Who marks doors (within their scope: a worker their own community's packages).
DOOR_ROLES = (Role.WORKER, Role.OFFICE, Role.TASKFORCE, Role.ADMIN)

# The statuses a package has before it reaches each place, i.e. the ones a confirmed hop moves on.
_BEFORE = {
    Hop.SUPPLIER_OFFICE: (PackageStatus.PACKED, PackageStatus.DISPATCHED),
    Hop.OFFICE_COMMUNITY: (PackageStatus.PACKED, PackageStatus.DISPATCHED, PackageStatus.AT_OFFICE),
    Hop.COMMUNITY_COMPOUND: (
        PackageStatus.PACKED, PackageStatus.DISPATCHED, PackageStatus.AT_OFFICE, PackageStatus.AT_COMMUNITY,
    ),
}
_AFTER = {
    Hop.SUPPLIER_OFFICE: PackageStatus.AT_OFFICE,
    Hop.OFFICE_COMMUNITY: PackageStatus.AT_COMMUNITY,
    Hop.COMMUNITY_COMPOUND: PackageStatus.AT_COMPOUND,
}
TEXT_LIMIT = 200


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


@transaction.atomic
def consignment_receive(
    *, consignment_id: int, by: User, packages_received, items_received, note: str = "", location: str = "",
    now: datetime.datetime | None = None,
) -> HandoverEvent:
    """The receiving person confirms a consignment: how many packages and items arrived.

    Guarantees: only a receiver of that hop (the office for supplier legs, the community for the
    office and compound legs) within their scope, else "not found"; counts that differ from the
    list need a note saying what is missing or extra (bad input changes nothing); confirmed once
    (a second confirmation returns the first event, whatever its counts); the hop's packages move
    on in one UPDATE (a package reaches the office when every supplier leg it holds goods from is
    received); at the compound, residents are told their package is on its way (each once).
    """
    now = now or timezone.now()
    consignment = (
        restrict(Consignment.objects.filter(pk=consignment_id), by)
        .select_for_update(of=("self",))
        .first()
    )
    if consignment is None or role_of(by) not in RECEIVERS[consignment.hop]:
        raise NotFound(_("There is no such consignment, or it is not yours to receive."))
    existing = HandoverEvent.objects.filter(consignment=consignment, kind=HandoverKind.RECEIVED).first()
    if existing is not None:
        return existing
    packages = _count(packages_received, field="packages_received")
    items = _count(items_received, field="items_received")
    note = _clean_text(note, field="note", limit=2000)
    location = _clean_text(location, field="location")
    if (packages, items) != (consignment.package_count, consignment.item_count) and not note:
        message = _(
            "The list says %(packages)d packages and %(items)d items: note what is missing or extra."
        ) % {"packages": consignment.package_count, "items": consignment.item_count}
        raise BaogongError(message, errors={"note": [message]})
    event = HandoverEvent.objects.create(
        consignment=consignment, kind=HandoverKind.RECEIVED, delivery_date=consignment.delivery_date,
        packages_received=packages, items_received=items, by=by, at=now, place=_place_of(by), location=location,
        note=note,
    )
    consignment.received_at = now
    consignment.save(update_fields=["received_at"])
    _move_on(consignment)
    if consignment.hop == Hop.COMMUNITY_COMPOUND:
        _out_for_delivery(
            _compound_day(consignment.cycle_id, consignment.compound_id, consignment.delivery_date),
            by=by, now=now, place=event.place, location=location,
        )
    return event


def _compound_day(cycle_id: int, compound_id: int, day: datetime.date) -> QuerySet[Package]:
    return Package.objects.filter(cycle_id=cycle_id, compound_id=compound_id, delivery_date=day, urgent=False)


def _move_on(consignment: Consignment) -> int:
    """Move the packages that crossed this hop to the next place (one UPDATE); returns how many."""
    hop = consignment.hop
    packages = Package.objects.filter(
        cycle_id=consignment.cycle_id, delivery_date=consignment.delivery_date, urgent=False, status__in=_BEFORE[hop],
    )
    if hop == Hop.SUPPLIER_OFFICE:
        # A package holds goods of several suppliers: it is at the office once all of them arrived.
        suppliers_of_package = OrderLine.objects.filter(order__package_link__package_id=OuterRef(OuterRef("pk"))).values(
            "product__supplier_id"
        )
        open_leg = Consignment.objects.filter(
            cycle_id=OuterRef("cycle_id"), hop=Hop.SUPPLIER_OFFICE, built_by_id=OuterRef("community_id"),
            delivery_date=OuterRef("delivery_date"), received_at__isnull=True, supplier_id__in=suppliers_of_package,
        )
        packages = packages.filter(community_id=consignment.built_by_id).exclude(Exists(open_leg))
    elif hop == Hop.OFFICE_COMMUNITY:
        packages = packages.filter(community_id=consignment.community_id)
    else:
        packages = packages.filter(compound_id=consignment.compound_id)
    return packages.update(status=_AFTER[hop])


def _out_for_delivery(packages: QuerySet[Package], *, by: User, now: datetime.datetime, place: str, location: str) -> int:
    """Record "out for delivery" for the open packages and tell their households (each once per day)."""
    from households.services import Tell, notifications_create

    rows = list(
        packages.filter(status__in=OPEN_STATUSES).values_list("pk", "household_id", "code", "delivery_date").order_by("pk")
    )
    HandoverEvent.objects.bulk_create(
        [
            HandoverEvent(package_id=pk, kind=HandoverKind.OUT_FOR_DELIVERY, delivery_date=day, by=by, at=now,
                          place=place, location=location)
            for pk, _household, _code, day in rows
        ],
        ignore_conflicts=True, batch_size=2000,
    )
    notifications_create(
        kind="out_for_delivery",
        tells=[Tell(household_id=h, key=f"package:{pk}:{day.isoformat()}", params={"code": code})
               for pk, h, code, day in rows],
        now=now,
    )
    return len(rows)


@transaction.atomic
def round_start(
    *, by: User, compound_id: int, delivery_date: datetime.date, location: str = "", now: datetime.datetime | None = None,
) -> int:
    """The worker sets off through a compound with the day's packages.

    Guarantees: only door roles within scope; the compound's consignment of the day, if not yet
    confirmed, is confirmed with the counts on the list; every open package of the compound and
    day (re-queued ones included) is at the compound and "out for delivery", and its household is
    told once that day. Running it again changes nothing. Returns how many packages are out.
    """
    now = now or timezone.now()
    if role_of(by) not in DOOR_ROLES:
        raise NotFound(_("There is no such compound, or it is not yours to deliver."))
    packages = restrict(Package.objects.filter(compound_id=compound_id, delivery_date=delivery_date), by)
    location = _clean_text(location, field="location")
    if not packages.exists():
        raise NotFound(_("There are no packages for this compound on this day."))
    pending = restrict(
        Consignment.objects.filter(
            hop=Hop.COMMUNITY_COMPOUND, compound_id=compound_id, delivery_date=delivery_date, received_at__isnull=True,
        ),
        by,
    ).values_list("pk", "package_count", "item_count")
    if role_of(by) in RECEIVERS[Hop.COMMUNITY_COMPOUND]:
        for pk, package_count, item_count in list(pending):
            consignment_receive(
                consignment_id=pk, by=by, packages_received=package_count, items_received=item_count,
                location=location, now=now,
            )
    packages.filter(status__in=_BEFORE[Hop.COMMUNITY_COMPOUND]).update(status=PackageStatus.AT_COMPOUND)
    return _out_for_delivery(packages, by=by, now=now, place=_place_of(by), location=location)


# --- at the door ---------------------------------------------------------------------------------


def _package_for(by: User, package_id: int) -> Package:
    if role_of(by) not in DOOR_ROLES:
        raise _not_found_package()
    package = restrict(Package.objects.filter(pk=package_id), by).select_for_update(of=("self",)).first()
    if package is None:
        raise _not_found_package()
    return package


def _cycle_may_be_complete(package: Package) -> None:
    """After a final outcome: once nothing of this community is open, see whether the cycle is done."""
    if Package.objects.filter(cycle_id=package.cycle_id, community_id=package.community_id, status__in=OPEN_STATUSES).exists():
        return
    from deliveries.tasks import cycle_complete_task

    cycle_id = package.cycle_id
    transaction.on_commit(lambda: enqueue(cycle_complete_task, cycle_id))


@transaction.atomic
def package_deliver(
    *, package_id: int, by: User, location: str = "", note: str = "", now: datetime.datetime | None = None,
) -> HandoverEvent:
    """The package reached its household (at the door, or collected at the receiving point).

    Guarantees: only door roles within scope (another community's package is "not found");
    delivered once: a second call returns the first event; a refused package cannot be marked
    delivered; the household is told once, with the time.
    """
    now = now or timezone.now()
    package = _package_for(by, package_id)
    existing = HandoverEvent.objects.filter(package=package, kind=HandoverKind.DELIVERED).first()
    if existing is not None:
        return existing
    if package.status == PackageStatus.EXCEPTION:
        raise Conflict(_("Package %(code)s was refused at the door; it cannot be marked delivered.") % {"code": package.code})
    location = _clean_text(location, field="location")
    note = _clean_text(note, field="note", limit=2000)
    event = HandoverEvent.objects.create(
        package=package, kind=HandoverKind.DELIVERED, delivery_date=package.delivery_date, by=by, at=now,
        place=_place_of(by), location=location, note=note,
    )
    package.status = PackageStatus.DELIVERED
    package.save(update_fields=["status"])
    from households.services import Tell, notifications_create

    notifications_create(
        kind="delivered",
        tells=[Tell(household_id=package.household_id, key=f"package:{package.pk}",
                    params={"code": package.code, "time": f"{timezone.localtime(now):%H:%M}"})],
        now=now,
    )
    _cycle_may_be_complete(package)
    return event


@transaction.atomic
def package_exception(
    *, package_id: int, by: User, reason: str, for_date: datetime.date | None = None, location: str = "",
    note: str = "", now: datetime.datetime | None = None,
) -> HandoverEvent:
    """The package could not be delivered on its day (``for_date``, the day the worker's list showed).

    Guarantees: only door roles within scope; one exception per package and day: a repeat for the
    same day returns the first event; a package delivered (or refused) is not changed. Refused is
    the package's final outcome (status "not delivered"); any other reason re-queues it: its
    delivery day moves to the next day (after today), it goes back to the community (status "at
    the community", pick-up slot released), it is counted again in the next day's compound
    consignment, and the household is told the reason and the new day (once).
    """
    now = now or timezone.now()
    if reason not in ExceptionReason.values:
        message = _("Choose why the package could not be delivered.")
        raise BaogongError(message, errors={"reason": [message]})
    package = _package_for(by, package_id)
    day = for_date or package.delivery_date
    existing = HandoverEvent.objects.filter(package=package, kind=HandoverKind.EXCEPTION, delivery_date=day).first()
    if existing is not None:
        return existing
    if package.status == PackageStatus.DELIVERED:
        raise Conflict(_("Package %(code)s is already delivered.") % {"code": package.code})
    if package.status == PackageStatus.EXCEPTION:
        raise Conflict(_("Package %(code)s was refused at the door; it cannot be marked delivered.") % {"code": package.code})
    if day != package.delivery_date:
        raise Conflict(
            _("Package %(code)s is now due on %(date)s: reload the list.")
            % {"code": package.code, "date": package.delivery_date.isoformat()}
        )
    location = _clean_text(location, field="location")
    note = _clean_text(note, field="note", limit=2000)
    final = reason in FINAL_REASONS
    requeued_to = None if final else max(timezone.localdate(now), day) + datetime.timedelta(days=1)
    try:
        with transaction.atomic():
            event = HandoverEvent.objects.create(
                package=package, kind=HandoverKind.EXCEPTION, outcome=reason, delivery_date=day, requeued_to=requeued_to,
                by=by, at=now, place=_place_of(by), location=location, note=note,
            )
    except IntegrityError:  # a concurrent tap for the same day won the race
        return HandoverEvent.objects.get(package=package, kind=HandoverKind.EXCEPTION, delivery_date=day)
    if final:
        package.status = PackageStatus.EXCEPTION
        package.save(update_fields=["status"])
        _cycle_may_be_complete(package)
        return event
    if package.pickup_slot_id:
        PickupSlot.objects.filter(pk=package.pickup_slot_id, assigned__gt=0).update(assigned=F("assigned") - 1)
    package.delivery_date = requeued_to
    package.status = PackageStatus.AT_COMMUNITY
    package.pickup_slot = None
    package.recomputed_at = now  # its day's printed lists are out of date
    package.save(update_fields=["delivery_date", "status", "pickup_slot", "recomputed_at"])
    _count_again(package)
    from households.services import Tell, notifications_create

    with translation.override(settings.LANGUAGE_CODE):  # params are kept as text: in the residents' language
        reason_text = str(ExceptionReason(reason).label)
    notifications_create(
        kind="exception",
        tells=[Tell(household_id=package.household_id, key=f"package:{package.pk}:{day.isoformat()}",
                    params={"code": package.code, "reason": reason_text, "date": requeued_to.isoformat()})],
        now=now,
    )
    return event


def _count_again(package: Package) -> None:
    """Add a re-queued package to its compound's consignment of the new day (made if missing)."""
    legs = Consignment.objects.filter(
        cycle_id=package.cycle_id, hop=Hop.COMMUNITY_COMPOUND, compound_id=package.compound_id,
        delivery_date=package.delivery_date, built_by_id=package.community_id,
    )
    if not legs.update(package_count=F("package_count") + 1, item_count=F("item_count") + package.item_count):
        Consignment.objects.create(
            cycle_id=package.cycle_id, hop=Hop.COMMUNITY_COMPOUND, compound_id=package.compound_id,
            community_id=package.community_id, built_by_id=package.community_id, office_id=package.community.office_id,
            delivery_date=package.delivery_date, package_count=1, item_count=package.item_count,
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
    if cycle.status == CycleStatus.PACKED and not Package.objects.filter(cycle=cycle, status__in=OPEN_STATUSES).exists():
        cycle.status = CycleStatus.COMPLETE
        cycle.save(update_fields=["status"])
    return cycle


def cycles_complete_due() -> int:
    """For the beat schedule: complete every packed cycle with nothing open; returns how many."""
    done = 0
    for cycle_id in list(Cycle.objects.filter(status=CycleStatus.PACKED).values_list("pk", flat=True)):
        done += cycle_complete_if_done(cycle_id=cycle_id).status == CycleStatus.COMPLETE
    return done
