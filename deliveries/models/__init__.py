"""Packages (物资包), pick-up slots, the four-level route and the build of each community's packages."""

from deliveries.models.custody import (
    FINAL_REASONS,
    OPEN_STATUSES,
    CashHandover,
    ExceptionReason,
    HandoverEvent,
    HandoverKind,
)
from deliveries.models.packages import (
    CYCLE_DELIVERY_DAYS,
    BuildStatus,
    CommunityBuild,
    Consignment,
    Hop,
    Package,
    PackageOrder,
    PackageStatus,
    PickupSlot,
    package_code,
)

# Migrations name it: deliveries.models._print_upload_to.
from deliveries.models.paper import (
    ListKind,
    PrintDocument,
    PrintFailure,
    _print_upload_to,  # noqa: E402,F401
)
from deliveries.models.teams import (
    RoundAssignment,
    Shift,
    ShiftKind,
    ShiftSignup,
    SignupStatus,
    Team,
    TeamMember,
    shift_hours,
)

__all__ = [
    "CashHandover",
    "package_code",
    "RoundAssignment",
    "Shift",
    "ShiftKind",
    "ShiftSignup",
    "SignupStatus",
    "Team",
    "TeamMember",
    "shift_hours",
    "BuildStatus",
    "CYCLE_DELIVERY_DAYS",
    "CommunityBuild",
    "Consignment",
    "ExceptionReason",
    "FINAL_REASONS",
    "HandoverEvent",
    "HandoverKind",
    "Hop",
    "ListKind",
    "OPEN_STATUSES",
    "Package",
    "PackageOrder",
    "PackageStatus",
    "PickupSlot",
    "PrintDocument",
    "PrintFailure",
]
