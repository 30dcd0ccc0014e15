"""Places and people: District → Office → Community → Compound → Building → Household.

Lockdown levels are ordered integers so that "the stricter of two" is a plain maximum, in Python
and in SQL (``Greatest``).
"""

from households.models.people import Household, HouseholdPhone, User
from households.models.places import (
    Building,
    Community,
    Compound,
    DeliveryMode,
    District,
    LockdownChange,
    LockdownLevel,
    Office,
    PopulationType,
    Role,
    delivery_mode_for,
    format_address,
)
from households.models.records import (
    ApiToken,
    CodePurpose,
    HouseholdImport,
    HouseholdViewLog,
    ImportStatus,
    Notification,
    NotificationKind,
    PhoneCode,
    PositiveCaseReport,
    RegistrationReason,
    RegistrationStatus,
    ResidentRegistration,
    ScheduledRun,
    SmsStatus,
)
from households.models.volunteers import (
    HALF_DAYS,
    SKILL_FIELDS,
    HealthDeclaration,
    Skill,
    Volunteer,
    VolunteerStatus,
)

__all__ = [
    "HALF_DAYS",
    "SKILL_FIELDS",
    "HealthDeclaration",
    "Skill",
    "Volunteer",
    "VolunteerStatus",
    "ApiToken",
    "Building",
    "CodePurpose",
    "Community",
    "Compound",
    "DeliveryMode",
    "District",
    "Household",
    "HouseholdImport",
    "HouseholdPhone",
    "HouseholdViewLog",
    "ImportStatus",
    "LockdownChange",
    "LockdownLevel",
    "Notification",
    "NotificationKind",
    "Office",
    "PhoneCode",
    "PopulationType",
    "PositiveCaseReport",
    "RegistrationReason",
    "RegistrationStatus",
    "ResidentRegistration",
    "Role",
    "ScheduledRun",
    "SmsStatus",
    "User",
    "delivery_mode_for",
    "format_address",
]
