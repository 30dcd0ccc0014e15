"""The custody rules' constants and the helpers the hops and the doors share."""

from django.utils.translation import gettext as _

from core.errors import BaogongError, NotFound
from deliveries import rules
from deliveries.models import (
    Hop,
    PackageStatus,
)
from households.models import User

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
