"""Consignments at each hop: confirmed in order, each expecting what the hop before received; the
round set off through a compound."""

import datetime
from collections import defaultdict
from dataclasses import dataclass
from typing import Any

from django.db import transaction
from django.db.models import Exists, OuterRef, Q, QuerySet, Subquery
from django.utils import timezone
from django.utils.translation import gettext as _

from core.errors import BaogongError, Conflict, NotFound
from deliveries import rules
from deliveries.handovers.common import (
    _AFTER,
    _BEFORE,
    _PREVIOUS,
    CARRIED_MARK,
    RECEIVERS,
    _clean_text,
    _count,
    _place_of,
)
from deliveries.models import (
    OPEN_STATUSES,
    Consignment,
    HandoverEvent,
    HandoverKind,
    Hop,
    Package,
    PackageStatus,
)
from households.access import restrict
from households.models import User
from households.permissions import allows
from supply.models import OrderLine

# --- consignments at each hop ----------------------------------------------------------------------


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
    expected = consignments_expected([consignment])[consignment.pk]
    if expected.waiting:
        raise Conflict(
            _("Not yet: %(from)s has not confirmed what it received for this day. Its receipt comes first.")
            % {"from": "、".join(expected.waiting)}
        )
    packages = _count(packages_received, field="packages_received")
    items = _count(items_received, field="items_received")
    note = _clean_text(note, field="note", limit=2000)
    location = _clean_text(location, field="location")
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
