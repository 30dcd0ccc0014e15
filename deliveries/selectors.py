"""Reads of packages and their builds, narrowed by :mod:`households.access`."""

from dataclasses import dataclass

from django.db.models import Count, Q, QuerySet, Sum

from deliveries.models import BuildStatus, CommunityBuild, Package
from households.access import restrict
from households.models import User
from supply.models import Cycle, Order, OrderStatus


@dataclass(frozen=True)
class CycleProgress:
    cycle: Cycle
    orders: int
    builds_done: int
    builds_pending: int
    packages: int
    door: int
    pickup: int
    urgent: int


def cycle_list(*, user: User) -> QuerySet[Cycle]:
    return restrict(Cycle.objects.all(), user).order_by("-number")


def cycle_progress(*, user: User, cycle: Cycle) -> CycleProgress:
    """Orders, builds and packages of a cycle within the user's scope (four aggregate queries)."""
    orders = restrict(Order.objects.filter(cycle=cycle, status=OrderStatus.PLACED), user).count()
    builds = restrict(CommunityBuild.objects.filter(cycle=cycle), user).aggregate(
        done=Count("id", filter=Q(status=BuildStatus.DONE)), pending=Count("id", filter=Q(status=BuildStatus.PENDING))
    )
    packages = restrict(Package.objects.filter(cycle=cycle), user).aggregate(
        total=Count("id"), door=Count("id", filter=Q(mode="door")), pickup=Count("id", filter=Q(mode="pickup")),
        urgent=Count("id", filter=Q(urgent=True)),
    )
    return CycleProgress(
        cycle=cycle, orders=orders, builds_done=builds["done"], builds_pending=builds["pending"],
        packages=packages["total"], door=packages["door"], pickup=packages["pickup"], urgent=packages["urgent"],
    )


def package_counts_by_compound(*, cycle: Cycle, community_id: int) -> dict[int, int]:
    """Households with a package per compound, the weight for levelling delivery days."""
    return dict(
        Package.objects.filter(cycle=cycle, community_id=community_id, urgent=False)
        .values_list("compound_id")
        .annotate(n=Count("id"))
    )


def item_totals(*, user: User, cycle: Cycle) -> int:
    return restrict(Package.objects.filter(cycle=cycle), user).aggregate(n=Sum("item_count"))["n"] or 0
