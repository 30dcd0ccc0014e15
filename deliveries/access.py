"""Scope registrations of deliveries models (see households.access), and what a volunteer sees of
them: the packages of its team's rounds of today and later, and what it recorded today."""

import datetime

from django.db.models import Exists, OuterRef, Q
from django.utils import timezone

from deliveries.models import (
    CashHandover,
    CommunityBuild,
    Consignment,
    HandoverEvent,
    Package,
    PackageOrder,
    PickupSlot,
    PrintDocument,
    PrintFailure,
    RoundAssignment,
    Shift,
    ShiftSignup,
    Team,
    TeamMember,
)
from households.access import register, register_volunteer

register(CommunityBuild, community="community")
register(Package, household="household", community="community")
register(PackageOrder, household="package__household", community="package__community")
register(PickupSlot, community="compound__community")
register(Consignment, community="built_by", supplier="supplier")
register(PrintDocument, supplier="supplier", district="district", office="office", community="community")
register(PrintFailure, supplier="supplier", district="district", office="office", community="community")
register(HandoverEvent, household="package__household", community=("package__community", "consignment__built_by"))
register(Team, community="community")
register(TeamMember, community="team__community")
register(Shift, community="community")
register(ShiftSignup, community="shift__community")
register(RoundAssignment, community="community")
register(CashHandover, community="community")


def _today_start() -> datetime.datetime:
    return timezone.make_aware(datetime.datetime.combine(timezone.localdate(), datetime.time.min))


def _round_packages(user) -> Q:
    """A volunteer's packages: those of its team's rounds from today on (the package's building on
    the package's day), and those it recorded an outcome for today (to undo a mistake)."""
    in_round = RoundAssignment.objects.filter(
        team__members__user_id=user.pk,
        building_id=OuterRef("building_id"),
        day=OuterRef("delivery_date"),
        day__gte=timezone.localdate(),
    )
    recorded = HandoverEvent.objects.filter(package_id=OuterRef("pk"), by_id=user.pk, at__gte=_today_start())
    return Q(Exists(in_round)) | Q(Exists(recorded))


register_volunteer(Package, _round_packages)
register_volunteer(HandoverEvent, lambda user: Q(by_id=user.pk))
register_volunteer(Team, lambda user: Q(members__user_id=user.pk))
register_volunteer(RoundAssignment, lambda user: Q(team__members__user_id=user.pk, day__gte=timezone.localdate()))
register_volunteer(Shift, lambda user: Q(community_id=user.community_id))
register_volunteer(ShiftSignup, lambda user: Q(user_id=user.pk))
