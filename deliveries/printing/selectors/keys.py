"""Which lists a cycle has (their keys), who may see which list, and the header every list shares."""

import datetime
import re
from dataclasses import dataclass

from django.db.models import Exists, OuterRef, QuerySet, Subquery

from deliveries import rules
from deliveries.models import Consignment, Hop, ListKind, Package, PrintDocument, PrintFailure
from households.access import restrict, scope_of
from households.models import Community, Compound, DeliveryMode, District, Office, User
from households.permissions import allows
from supply.models import Cycle, CycleStatus, OrderLine, OrderStatus

# Who may see which list (which places is then decided by households.access): suppliers their pick
# lists only (products and counts, never residents), offices their manifests, community workers
# their community's lists, task forces and administrators everything in their scope.
KIND_RULES: dict[str, str] = {
    ListKind.PICK_LIST: rules.LISTS_SUPPLIER,
    ListKind.SUPPLEMENT: rules.LISTS_SUPPLIER,
    ListKind.MANIFEST: rules.LISTS_OFFICE,
    ListKind.SUPPLEMENT_MANIFEST: rules.LISTS_OFFICE,
    ListKind.RECEIVING: rules.LISTS_COMMUNITY,
    ListKind.DOOR_LIST: rules.LISTS_COMMUNITY,
    ListKind.PICKUP_NOTICE: rules.LISTS_COMMUNITY,
    ListKind.LABELS: rules.LISTS_COMMUNITY,
}
# A supplier's lists, per supplier and district: the pick list frozen at the close, and the
# supplement list of urgent-lane packages built after it.
SUPPLIER_KINDS = (ListKind.PICK_LIST, ListKind.SUPPLEMENT)
# An office's lists: the manifest frozen at the close, and the supplement manifest of the urgent lane.
OFFICE_KINDS = (ListKind.MANIFEST, ListKind.SUPPLEMENT_MANIFEST)
COMMUNITY_KINDS = (ListKind.RECEIVING, ListKind.DOOR_LIST, ListKind.LABELS, ListKind.PICKUP_NOTICE)
PRINTABLE_STATUSES = (CycleStatus.PACKED, CycleStatus.COMPLETE)

# Blank rows at the end of each compound of a door list, for a door that is not on it.
BLANK_ROWS = 4
# Items one bag holds: a larger package comes in several bags, each with its own label (n/m).
ITEMS_PER_BAG = 10

_PLACE = re.compile(r"^([0-9]{1,12})(?:-([0-9]{1,12}))?$")


@dataclass(frozen=True)
class ListKey:
    """Which list: its kind, cycle, delivery day and place.

    The place is a supplier (with ``district_id``: a pick list is per supplier and district), an
    office (manifest), a community (receiving list, door list, labels) or a compound (pick-up notice).
    """

    kind: str
    cycle_id: int
    delivery_date: datetime.date
    place_id: int
    district_id: int | None = None

    @property
    def place_key(self) -> str:
        return f"{self.place_id}-{self.district_id}" if self.kind in SUPPLIER_KINDS else str(self.place_id)

    @classmethod
    def parse(cls, *, kind: str, cycle_id: int, place: str, date: str) -> "ListKey | None":
        """The key from URL parts, or None if any part is malformed."""
        match = _PLACE.match(place or "")
        if kind not in ListKind.values or match is None:
            return None
        try:
            day = datetime.date.fromisoformat(date)
        except (TypeError, ValueError):
            return None
        first, second = int(match.group(1)), match.group(2)
        if (kind in SUPPLIER_KINDS) != (second is not None):
            return None
        return cls(
            kind=kind, cycle_id=cycle_id, delivery_date=day, place_id=first, district_id=int(second) if second else None
        )

    def url_args(self) -> list:
        return [self.cycle_id, self.kind, self.place_key, self.delivery_date.isoformat()]


# --- who sees what -----------------------------------------------------------------------------


def kinds_for(*, user: User) -> list[str]:
    return [kind for kind, name in KIND_RULES.items() if allows(user, name)]


def list_allowed(*, user: User, key: ListKey) -> bool:
    """May ``user`` see this list? Role first, then the place through households.access."""
    if key.kind not in kinds_for(user=user):
        return False
    if key.kind in SUPPLIER_KINDS:
        scope = scope_of(user)
        if scope.level == "supplier":
            return scope.supplier_id == key.place_id
        return key.district_id is not None and restrict(District.objects.filter(pk=key.district_id), user).exists()
    model: type[Office | Compound | Community] = (
        Office if key.kind in OFFICE_KINDS else Compound if key.kind == ListKind.PICKUP_NOTICE else Community
    )
    return restrict(model.objects.filter(pk=key.place_id), user).exists()


def printable_cycles(*, user: User) -> QuerySet[Cycle]:
    return restrict(Cycle.objects.filter(status__in=PRINTABLE_STATUSES), user).order_by("-number")


def document_list(*, user: User, cycle: Cycle) -> QuerySet[PrintDocument]:
    """The current (not superseded) kept lists of a cycle that ``user`` may see, each annotated with

    - ``replaced_at``: when an earlier version of it was superseded (paper printed before is out
      of date and must be printed again), or None;
    - ``out_of_date``: a package on it changed (a late lockdown change, a door missed and re-queued)
      after the list was last found current, and it has not been checked again yet.
    """
    kinds = kinds_for(user=user)
    same_list = PrintDocument.objects.filter(
        cycle=OuterRef("cycle"),
        kind=OuterRef("kind"),
        place_key=OuterRef("place_key"),
        delivery_date=OuterRef("delivery_date"),
        superseded_at__isnull=False,
    )
    changed = Package.objects.filter(
        cycle=OuterRef("cycle"),
        community=OuterRef("community"),
        delivery_date=OuterRef("delivery_date"),
        recomputed_at__gt=OuterRef("confirmed_at"),
    )
    documents = PrintDocument.objects.filter(cycle=cycle, superseded_at__isnull=True, kind__in=kinds).annotate(
        replaced_at=Subquery(same_list.order_by("-superseded_at").values("superseded_at")[:1]),
        out_of_date=Exists(changed),
    )
    return restrict(documents, user).order_by("delivery_date", "kind", "title", "id")


def failure_list(*, user: User, cycle: Cycle) -> QuerySet:
    """The lists of a cycle that ``user`` may see and that could not be drawn, with the reason."""
    return restrict(PrintFailure.objects.filter(cycle=cycle, kind__in=kinds_for(user=user)), user).order_by(
        "delivery_date", "kind", "place_key"
    )


def document_current(*, key: ListKey) -> PrintDocument | None:
    return PrintDocument.objects.filter(
        cycle_id=key.cycle_id,
        kind=key.kind,
        place_key=key.place_key,
        delivery_date=key.delivery_date,
        superseded_at__isnull=True,
    ).first()


# --- which lists a cycle has -------------------------------------------------------------------


def _cycle_packages(cycle_id: int) -> QuerySet[Package]:
    """Every package of a cycle: the community's paper has the urgent lane's packages too."""
    return Package.objects.filter(cycle_id=cycle_id)


def community_keys(*, cycle_id: int, community_id: int) -> list[ListKey]:
    """The community's lists: receiving list, door list and labels per delivery day, and a pick-up
    notice per pick-up compound and day (one query)."""
    rows = (
        _cycle_packages(cycle_id)
        .filter(community_id=community_id)
        .values_list("delivery_date", "dispatch_date", "compound_id", "mode")
        .distinct()
        .order_by()
    )
    keys: set[ListKey] = set()
    for day, dispatched, compound_id, mode in rows:
        # What arrives is listed on the day it was dispatched; doors and labels on the day they are due.
        keys.add(ListKey(kind=ListKind.RECEIVING, cycle_id=cycle_id, delivery_date=dispatched, place_id=community_id))
        for kind in (ListKind.DOOR_LIST, ListKind.LABELS):
            keys.add(ListKey(kind=kind, cycle_id=cycle_id, delivery_date=day, place_id=community_id))
        if mode == DeliveryMode.PICKUP:
            keys.add(ListKey(kind=ListKind.PICKUP_NOTICE, cycle_id=cycle_id, delivery_date=day, place_id=compound_id))
    return sorted(keys, key=lambda k: (k.delivery_date, k.kind, k.place_id))


def office_keys(*, cycle_id: int, office_id: int) -> list[ListKey]:
    """The office's manifest per day of the close's legs, and its supplement manifest per day with
    urgent-lane legs (one query)."""
    rows = (
        Consignment.objects.filter(cycle_id=cycle_id, office_id=office_id, hop=Hop.OFFICE_COMMUNITY)
        .values_list("delivery_date", "supplement")
        .distinct()
        .order_by("delivery_date", "supplement")
    )
    return [
        ListKey(
            kind=ListKind.SUPPLEMENT_MANIFEST if supplement else ListKind.MANIFEST,
            cycle_id=cycle_id,
            delivery_date=day,
            place_id=office_id,
        )
        for day, supplement in rows
    ]


def _supplier_lines(*, cycle_id: int, supplier_id: int) -> QuerySet[OrderLine]:
    return OrderLine.objects.filter(
        product__supplier_id=supplier_id,
        order__status=OrderStatus.PLACED,
        order__package_link__package__cycle_id=cycle_id,
    )


def supplier_keys(*, cycle_id: int, supplier_id: int) -> list[ListKey]:
    """The supplier's pick list per district and dispatch day (packages of the close), and its
    supplement list where urgent-lane packages were added (one query)."""
    rows = (
        _supplier_lines(cycle_id=cycle_id, supplier_id=supplier_id)
        .values_list(
            "order__package_link__package__dispatch_date",
            "order__package_link__package__community__office__district_id",
            "order__package_link__package__urgent",
        )
        .distinct()
        .order_by()
    )
    return sorted(
        (
            ListKey(
                kind=ListKind.SUPPLEMENT if urgent else ListKind.PICK_LIST,
                cycle_id=cycle_id,
                delivery_date=day,
                place_id=supplier_id,
                district_id=district_id,
            )
            for day, district_id, urgent in rows
        ),
        key=lambda k: (k.delivery_date, k.district_id, k.kind),
    )


@dataclass(frozen=True)
class CycleUnits:
    """Who generates what: one task per community, office and supplier that has packages."""

    communities: list[int]
    offices: list[int]
    suppliers: list[int]


def cycle_units(*, cycle_id: int) -> CycleUnits:
    legs = Consignment.objects.filter(cycle_id=cycle_id)
    return CycleUnits(
        communities=sorted(set(_cycle_packages(cycle_id).values_list("community_id", flat=True).distinct().order_by())),
        offices=sorted(
            set(legs.filter(hop=Hop.OFFICE_COMMUNITY).values_list("office_id", flat=True).distinct().order_by())
        ),
        suppliers=sorted(
            set(
                legs.filter(hop=Hop.SUPPLIER_OFFICE, supplier__isnull=False)
                .values_list("supplier_id", flat=True)
                .distinct()
                .order_by()
            )
        ),
    )


# --- the data of each list ---------------------------------------------------------------------


@dataclass(frozen=True)
class ListsProgress:
    """A packed cycle's paper, counted by the units that draw it (each community, office and
    supplier draws its lists together): how many have their lists, of how many; how many failed."""

    drawn: int
    total: int
    failed: int

    @property
    def pending(self) -> int:
        return self.total - self.drawn

    @property
    def settled(self) -> bool:
        """Every unit drawn, or drawn but for the ones that failed (shown on the print page)."""
        return self.drawn + self.failed >= self.total


def lists_progress(*, cycle_id: int, units: CycleUnits | None = None) -> ListsProgress:
    """Four queries: the units, what is drawn for each kind, and the failures. A caller asking
    again and again (``close_cycle`` waiting for the paper) passes the units it read once: they do
    not change after packing, and reading them scans the cycle's packages."""
    units = units or cycle_units(cycle_id=cycle_id)
    current = PrintDocument.objects.filter(cycle_id=cycle_id, superseded_at__isnull=True)
    drawn = (
        set(current.filter(kind=ListKind.DOOR_LIST).values_list("community_id", flat=True)),
        set(current.filter(kind__in=OFFICE_KINDS).values_list("office_id", flat=True)),
        set(current.filter(kind__in=SUPPLIER_KINDS).values_list("supplier_id", flat=True)),
    )
    wanted = (set(units.communities), set(units.offices), set(units.suppliers))
    failures = PrintFailure.objects.filter(cycle_id=cycle_id).values_list("community_id", "office_id", "supplier_id")
    failed = set()
    for community_id, office_id, supplier_id in failures:
        failed.add(("c", community_id) if community_id else ("o", office_id) if office_id else ("s", supplier_id))
    done = sum(len(ids & have) for ids, have in zip(wanted, drawn, strict=True))
    not_drawn = {(k, i) for k, ids, have in zip("cos", wanted, drawn, strict=True) for i in ids - have}
    return ListsProgress(drawn=done, total=sum(len(ids) for ids in wanted), failed=len(failed & not_drawn))


def lists_pending(*, cycle_id: int) -> int:
    """How many communities, offices and suppliers of a packed cycle have no list drawn yet (their
    paper is still being drawn, or failed)."""
    return lists_progress(cycle_id=cycle_id).pending


def _cycle_number(cycle_id: int) -> int:
    return Cycle.objects.values_list("number", flat=True).get(pk=cycle_id)


def _community_header(community_id: int) -> dict:
    c = Community.objects.select_related("office__district").get(pk=community_id)
    return {
        "community": c.name,
        "community_id": c.pk,
        "office": c.office.name,
        "office_id": c.office_id,
        "district": c.office.district.name,
        "district_id": c.office.district_id,
        "hotline": c.office.district.hotline,
        "receiving_point": c.receiving_point,
    }


def _header(key: ListKey, **places) -> dict:
    return {
        "kind": key.kind,
        "cycle": _cycle_number(key.cycle_id),
        "cycle_id": key.cycle_id,
        "date": key.delivery_date,
        **places,
    }
