"""Volunteers (红马甲): registering at a community, the worker's decision, the day's health declaration.

A volunteer registers on a phone (the number proven by a code, as residents do) or is registered by
the community's worker; either way the account has the ``volunteer`` role, the narrowest scope of
all (households.access), and can do nothing until the worker approves. Teams, shifts and rounds
are deliveries' business (deliveries.volunteers).
"""

from __future__ import annotations

import datetime
from dataclasses import dataclass

from django.contrib.auth.hashers import make_password
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from core.errors import Conflict, NotFound, field_error
from core.phones import phone_normalize
from households import rules
from households.access import restrict
from households.identity import already_registered, phone_code_verify
from households.models import (
    HALF_DAYS,
    SKILL_FIELDS,
    CodePurpose,
    Community,
    HealthDeclaration,
    Role,
    User,
    Volunteer,
    VolunteerStatus,
)
from households.permissions import allows


@dataclass(frozen=True)
class VolunteerDetails:
    """What a volunteer says about themselves: checked by :func:`volunteer_details_clean`."""

    name: str
    community_id: int
    cadre: bool = False
    home_address: str = ""
    employer: str = ""
    skills: tuple[str, ...] = ()
    availability: int = 0


def volunteer_details_clean(details: VolunteerDetails) -> VolunteerDetails:
    """The details, trimmed, or a refusal naming the field: a name; a cadre (双报到) names the
    employer and the home address; known skills only; availability of the 14 half-days."""
    name = (details.name or "").strip()
    if not name or len(name) > 50:
        raise field_error("name", _("Enter your name (at most 50 characters)."))
    home_address, employer = (details.home_address or "").strip(), (details.employer or "").strip()
    if len(home_address) > 100 or len(employer) > 100:
        raise field_error("employer", _("At most 100 characters."))
    if details.cadre and not (employer and home_address):
        raise field_error(
            "employer", _("A cadre reporting to the home community gives the employer and the home address.")
        )
    unknown = set(details.skills) - set(SKILL_FIELDS)
    if unknown:
        raise field_error("skills", _("Unknown skill."))
    if not 0 <= details.availability < 1 << HALF_DAYS:
        raise field_error("availability", _("Choose the half-days you can help."))
    if not Community.objects.filter(pk=details.community_id).exists():
        raise field_error("community", _("Choose a community."))
    return VolunteerDetails(
        name=name,
        community_id=details.community_id,
        cadre=details.cadre,
        home_address=home_address,
        employer=employer,
        skills=tuple(sorted(set(details.skills))),
        availability=details.availability,
    )


def _create(*, phone: str, password_hash: str, details: VolunteerDetails, active: bool, **volunteer) -> Volunteer:
    try:
        with transaction.atomic():
            user = User.objects.create(
                username=phone,
                phone=phone,
                password=password_hash,
                role=Role.VOLUNTEER,
                community_id=details.community_id,
                first_name=details.name,
                is_active=active,
            )
            return Volunteer.objects.create(
                user=user,
                community_id=details.community_id,
                name=details.name,
                cadre=details.cadre,
                home_address=details.home_address,
                employer=details.employer,
                availability=details.availability,
                **{field: code in details.skills for code, field in SKILL_FIELDS.items()},
                **volunteer,
            )
    except IntegrityError:
        raise already_registered() from None


def volunteer_register(*, phone: str, code: str, password_hash: str, details: VolunteerDetails) -> Volunteer:
    """A volunteer registers on a phone whose number ``code`` proves.

    Guarantees: nothing is created without the right code (a wrong try is counted); the details
    are checked first; one account per phone number (a number with an account is refused); the
    account cannot sign in until the community's worker approves (:func:`volunteer_approve`).
    """
    details = volunteer_details_clean(details)
    phone = phone_code_verify(phone=phone, purpose=CodePurpose.VOLUNTEER, code=code)
    return _create(phone=phone, password_hash=password_hash, details=details, active=False)


def volunteer_register_by_worker(*, by: User, phone: str, details: VolunteerDetails) -> Volunteer:
    """A community worker registers a volunteer who came to the office (or called): approved at once.

    Guarantees: only a worker (or an administrator) of that community; the volunteer signs in with a
    code sent to the number (no password is set here); one account per phone number.
    """
    if not allows(by, rules.VOLUNTEERS) or not restrict(Community.objects.filter(pk=details.community_id), by).exists():
        raise NotFound(_("Unknown community."))
    details = volunteer_details_clean(details)
    phone = phone_normalize(phone)
    now = timezone.now()
    return _create(
        phone=phone,
        password_hash=make_password(None),
        details=details,
        active=True,
        status=VolunteerStatus.APPROVED,
        registered_by=by,
        decided_by=by,
        decided_at=now,
    )


def _pending(volunteer_id: int, by: User) -> Volunteer:
    if not allows(by, rules.VOLUNTEERS):
        raise NotFound(_("Unknown volunteer."))
    volunteer = (
        restrict(Volunteer.objects.filter(pk=volunteer_id), by).select_for_update().select_related("user").first()
    )
    if volunteer is None:
        raise NotFound(_("Unknown volunteer."))
    if volunteer.status != VolunteerStatus.PENDING:
        raise Conflict(_("This volunteer has already been decided."))
    return volunteer


@transaction.atomic
def volunteer_approve(*, volunteer_id: int, by: User) -> Volunteer:
    """The worker accepts a volunteer: the account can sign in. Only a pending volunteer of the
    worker's community; deciding twice is refused and changes nothing."""
    volunteer = _pending(volunteer_id, by)
    volunteer.status, volunteer.decided_by, volunteer.decided_at = VolunteerStatus.APPROVED, by, timezone.now()
    volunteer.save(update_fields=["status", "decided_by", "decided_at"])
    User.objects.filter(pk=volunteer.user_id).update(is_active=True)
    return volunteer


@transaction.atomic
def volunteer_refuse(*, volunteer_id: int, by: User, note: str) -> Volunteer:
    """The worker does not accept a volunteer, saying why; the account stays unable to sign in."""
    note = (note or "").strip()
    if not note:
        raise field_error("note", _("Say why: the volunteer is told."))
    volunteer = _pending(volunteer_id, by)
    volunteer.status, volunteer.decided_by, volunteer.decided_at = VolunteerStatus.REFUSED, by, timezone.now()
    volunteer.note = note[:200]
    volunteer.save(update_fields=["status", "decided_by", "decided_at", "note"])
    return volunteer


def approved_volunteer(user: User) -> Volunteer:
    """The approved volunteer behind ``user``, or a refusal."""
    volunteer = Volunteer.objects.filter(user_id=user.pk, status=VolunteerStatus.APPROVED).first()
    if volunteer is None or not allows(user, rules.VOLUNTEER):
        raise NotFound(_("Only an approved volunteer can do this."))
    return volunteer


@transaction.atomic
def health_declare(*, user: User, well: bool, day: datetime.date | None = None) -> HealthDeclaration:
    """The volunteer's health for the day. Guarantees: one declaration per day; "well" can become
    "not well" the same day, never the other way round (a volunteer who felt ill stays off the
    doors until tomorrow); only for today."""
    volunteer = approved_volunteer(user)
    today = timezone.localdate()
    day = day or today
    if day != today:
        raise field_error("day", _("The health declaration is for today."))
    declaration = HealthDeclaration.objects.select_for_update().filter(volunteer=volunteer, day=day).first()
    if declaration is None:
        return HealthDeclaration.objects.create(volunteer=volunteer, day=day, well=well)
    if declaration.well and not well:
        declaration.well = False
        declaration.save(update_fields=["well"])
    elif not declaration.well and well:
        raise Conflict(_("You declared that you are not well today: rest, and declare again tomorrow."))
    return declaration


def declared_well(*, user_id: int, day: datetime.date) -> bool:
    return HealthDeclaration.objects.filter(volunteer__user_id=user_id, day=day, well=True).exists()
