"""Supplier, office and community counts reconcile over the whole demo (issue 14): a cycle closed,
received at every hop, with doors missed (re-queued) and refused, and a compound sealed after the
close. For every dispatch day: the suppliers' pick lists = the supplier legs = the offices'
manifests' incoming goods = the communities' receiving lists; the office legs = the receiving
lists' packages; each compound leg = what was dispatched to it plus what was re-queued into it."""

from collections import Counter, defaultdict

import pytest
from django.db.models import Sum
from django.utils import timezone

from deliveries import handovers
from deliveries import services as delivery_services
from deliveries.models import Consignment, ExceptionReason, HandoverEvent, HandoverKind, Hop, Package, PackageStatus
from deliveries.printing import selectors as printing
from households import services as household_services
from households.models import Compound, LockdownLevel, Role, User
from supply.models import Cycle, CycleStatus, Supplier
from tests.households.test_seed_demo import seed

pytestmark = pytest.mark.django_db


def _lists_total(keys, field: str) -> int:
    return sum(printing.list_data(key=key)[field] for key in keys)


def test_every_count_of_the_demo_cycle_adds_up(django_capture_on_commit_callbacks):
    seed(households=240)
    cycle = Cycle.objects.get(status=CycleStatus.OPEN)
    today = timezone.localdate()
    Cycle.objects.filter(pk=cycle.pk).update(first_delivery_date=today)
    with django_capture_on_commit_callbacks(execute=True):
        delivery_services.cycle_close(cycle_id=cycle.pk)
    cycle.refresh_from_db()
    assert cycle.status == CycleStatus.PACKED
    admin = User.objects.filter(role=Role.ADMIN).first() or User.objects.create(username="recon-admin", role=Role.ADMIN)

    # Every hop received as listed; today's doors: every fifth missed, one refused, the rest delivered.
    for hop in (Hop.SUPPLIER_OFFICE, Hop.OFFICE_COMMUNITY):
        for leg in Consignment.objects.filter(cycle=cycle, hop=hop):
            handovers.consignment_receive(
                consignment_id=leg.pk, by=admin, packages_received=leg.package_count, items_received=leg.item_count
            )
    todays = list(Package.objects.filter(cycle=cycle, delivery_date=today).order_by("code"))
    assert todays, "the demo delivers on its first day"
    with django_capture_on_commit_callbacks(execute=True):
        for n, package in enumerate(todays):
            if n % 5 == 0:
                handovers.package_exception(package_id=package.pk, by=admin, reason=ExceptionReason.NOT_HOME)
            elif n == 1:
                handovers.package_exception(package_id=package.pk, by=admin, reason=ExceptionReason.REFUSED)
            else:
                handovers.package_deliver(package_id=package.pk, by=admin)
    requeued = HandoverEvent.objects.filter(
        package__cycle=cycle, kind=HandoverKind.EXCEPTION, requeued_to__isnull=False
    )
    assert requeued.count() == len(todays[::5])
    # A compound sealed after the close: its households' baseline packages join the supplement lane.
    looser = Compound.objects.exclude(lockdown_level=LockdownLevel.STAY_AT_HOME).order_by("pk").first()
    with django_capture_on_commit_callbacks(execute=True):
        household_services.compound_set_lockdown_level(
            compound_id=looser.pk, level=LockdownLevel.STAY_AT_HOME, reason="发现阳性病例", changed_by=admin
        )
    assert Package.objects.filter(cycle=cycle, urgent=True, compound=looser).exists()

    days = sorted(set(Package.objects.filter(cycle=cycle).values_list("dispatch_date", flat=True)))
    suppliers = list(Supplier.objects.values_list("pk", flat=True))
    supplier_keys = [k for s in suppliers for k in printing.supplier_keys(cycle_id=cycle.pk, supplier_id=s)]
    offices = set(Consignment.objects.filter(cycle=cycle).values_list("office_id", flat=True))
    office_keys = [k for o in offices for k in printing.office_keys(cycle_id=cycle.pk, office_id=o)]
    community_keys = [
        k
        for c in set(Package.objects.filter(cycle=cycle).values_list("community_id", flat=True))
        for k in printing.community_keys(cycle_id=cycle.pk, community_id=c)
        if k.kind == "receiving"
    ]
    for day in days:
        legs = Consignment.objects.filter(cycle=cycle, delivery_date=day)
        for supplement, kind in ((False, "pick"), (True, "supplement")):
            picked = _lists_total([k for k in supplier_keys if k.delivery_date == day and k.kind == kind], "quantity")
            carried = (
                legs.filter(hop=Hop.SUPPLIER_OFFICE, supplement=supplement).aggregate(n=Sum("item_count"))["n"] or 0
            )
            assert picked == carried, (day, kind)
        for supplement, kind in ((False, "manifest"), (True, "supp_manifest")):
            manifests = [k for k in office_keys if k.delivery_date == day and k.kind == kind]
            incoming = sum(s["items"] for k in manifests for s in printing.list_data(key=k)["suppliers"])
            lane = legs.filter(supplement=supplement)
            assert incoming == (lane.filter(hop=Hop.SUPPLIER_OFFICE).aggregate(n=Sum("item_count"))["n"] or 0), kind
            assert _lists_total(manifests, "packages") == (
                lane.filter(hop=Hop.OFFICE_COMMUNITY).aggregate(n=Sum("package_count"))["n"] or 0
            ), kind
        receiving = [k for k in community_keys if k.delivery_date == day]
        crates = sum(c["items"] for k in receiving for c in printing.list_data(key=k)["crates"])
        assert crates == legs.filter(hop=Hop.SUPPLIER_OFFICE).aggregate(n=Sum("item_count"))["n"], day
        assert (
            _lists_total(receiving, "packages")
            == legs.filter(hop=Hop.OFFICE_COMMUNITY).aggregate(n=Sum("package_count"))["n"]
        ), day

    # Each compound leg: what was dispatched to the compound that day plus what was re-queued into it.
    expected = Counter()
    for compound_id, day, urgent in Package.objects.filter(cycle=cycle).values_list(
        "compound_id", "dispatch_date", "urgent"
    ):
        expected[(compound_id, day, urgent)] += 1
    for compound_id, day, urgent in requeued.values_list("package__compound_id", "requeued_to", "package__urgent"):
        expected[(compound_id, day, urgent)] += 1
    got = defaultdict(int)
    for compound_id, day, supplement, count in Consignment.objects.filter(
        cycle=cycle, hop=Hop.COMMUNITY_COMPOUND
    ).values_list("compound_id", "delivery_date", "supplement", "package_count"):
        got[(compound_id, day, supplement)] += count
    assert dict(got) == dict(expected)
    # And nothing was delivered that had not arrived.
    assert not HandoverEvent.objects.filter(kind=HandoverKind.DELIVERED).exclude(override="").exists()
    assert (
        Package.objects.filter(cycle=cycle, status=PackageStatus.DELIVERED).count()
        == len(todays) - len(todays[::5]) - 1
    )
