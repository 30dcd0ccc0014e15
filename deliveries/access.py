"""Scope registrations of deliveries models (see households.access)."""

from deliveries.models import (
    CommunityBuild,
    Consignment,
    HandoverEvent,
    Package,
    PackageOrder,
    PickupSlot,
    PrintDocument,
    PrintFailure,
)
from households.access import register

register(CommunityBuild, community="community")
register(Package, household="household", community="community")
register(PackageOrder, household="package__household", community="package__community")
register(PickupSlot, community="compound__community")
register(Consignment, community="built_by", supplier="supplier")
register(PrintDocument, supplier="supplier", district="district", office="office", community="community")
register(PrintFailure, supplier="supplier", district="district", office="office", community="community")
register(HandoverEvent, household="package__household", community=("package__community", "consignment__built_by"))
