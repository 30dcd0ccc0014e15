"""Identity: proving a phone number, registering residents, signing in by code, API tokens.

The rule (STYLE.md, "identity before data"): nothing about a household is given to anyone who has
not proven control of its phone with a one-time code sent to it, or been approved by its community.

Answers are neutral: asking for a code for any well-formed number is answered the same way and
counted against the same limits, whether the number is on the register, already has an account,
or neither; the code is only sent where it can be used. What a number is tied to is said only
after its code was entered.
"""

from __future__ import annotations

import datetime
import hashlib
import secrets
import unicodedata
from dataclasses import dataclass

from django.conf import settings
from django.contrib.auth.hashers import check_password, make_password
from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.db.models import F
from django.utils import timezone
from django.utils.crypto import constant_time_compare, salted_hmac
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from core.edges import floor_from_room
from core.errors import BaogongError, WrongAnswer
from core.phones import phone_normalize
from households.models import (
    ApiToken,
    Building,
    CodePurpose,
    Household,
    HouseholdPhone,
    PhoneCode,
    RegistrationReason,
    RegistrationStatus,
    ResidentRegistration,
    Role,
    User,
)
from households.selectors import households_with_phone

# The roles that sign in with a code sent to their phone (and may reset their password by one).
CODE_ROLES = (Role.RESIDENT, Role.VOLUNTEER)


def code_sent_message() -> str:
    """The one answer to a code request, whatever the number (nothing about it is revealed)."""
    return _(
        "If this number can use a code, one has been sent to it by text message. It is valid for %(minutes)d minutes."
    ) % {"minutes": settings.PHONE_CODE_LIFETIME_SECONDS // 60}


# --- one-time codes -------------------------------------------------------------------------------


@dataclass(frozen=True)
class CodeRequest:
    """What asking for a code did. ``code`` is the plain code when one was sent (for the demo's
    console backend to show; never put it in a response otherwise), ``None`` when none was."""

    phone: str
    code: str | None


def _digest(phone: str, purpose: str, code: str) -> str:
    return salted_hmac("baogong.PhoneCode", f"{phone}|{purpose}|{code}", algorithm="sha256").hexdigest()


def _code_can_be_used(phone: str, purpose: str) -> bool:
    """Whether a code for this number and purpose could lead anywhere (only then is one sent)."""
    if purpose in (CodePurpose.REGISTER, CodePurpose.VOLUNTEER):
        return not User.objects.filter(phone=phone).exists()
    # Sign-in and reset by code are for residents and volunteers; staff passwords stay with an administrator.
    return User.objects.filter(phone=phone, role__in=CODE_ROLES, is_active=True).exists()


def code_text(code: str, purpose: str) -> str:
    """The text message carrying a code, in the active language."""
    minutes = settings.PHONE_CODE_LIFETIME_SECONDS // 60
    what = {
        CodePurpose.REGISTER: _("to register"),
        CodePurpose.SIGN_IN: _("to sign in"),
        CodePurpose.RESET: _("to set a new password"),
        CodePurpose.VOLUNTEER: _("to register as a volunteer"),
    }[purpose]
    return _(
        "[Baogong] Your code %(what)s is %(code)s, valid for %(minutes)d minutes. "
        "Never tell it to anyone, community staff included."
    ) % {"what": what, "code": code, "minutes": minutes}


def phone_code_send(
    *, phone: str, purpose: str, client_ip: str | None, now: datetime.datetime | None = None
) -> CodeRequest:
    """Ask for a one-time code for ``phone``.

    Guarantees: a malformed number is refused (400); otherwise the request is recorded and limited
    the same way for every number — no new code for the same number and purpose within
    ``PHONE_CODE_RESEND_SECONDS``, at most ``PHONE_CODE_DAILY_PER_PHONE`` requests per number and
    ``PHONE_CODE_DAILY_PER_ADDRESS`` per client address in 24 hours (429 beyond, nothing recorded).
    A 6-digit code, kept only as an HMAC, is sent by text message (queued after commit) where it
    can be used; a newer code replaces every older one of the same number and purpose.
    """
    phone = phone_normalize(phone)
    now = now or timezone.now()
    with transaction.atomic():
        latest = PhoneCode.objects.filter(phone=phone, purpose=purpose).order_by("-created_at", "-id").first()
        if latest is not None:
            wait = settings.PHONE_CODE_RESEND_SECONDS - (now - latest.created_at).total_seconds()
            if wait > 0:
                raise BaogongError(
                    _("A code was sent a moment ago. You can ask for a new one in %(n)d seconds.")
                    % {"n": int(wait) + 1},
                    errors={"phone": [_("Wait before asking again.")]},
                    status_code=429,
                )
        day = now - datetime.timedelta(days=1)
        if PhoneCode.objects.filter(phone=phone, created_at__gt=day).count() >= settings.PHONE_CODE_DAILY_PER_PHONE:
            raise BaogongError(
                _("Too many codes were asked for this number today. Try again tomorrow or call your community."),
                errors={"phone": [_("Daily limit reached.")]},
                status_code=429,
            )
        if (
            client_ip
            and PhoneCode.objects.filter(client_ip=client_ip, created_at__gt=day).count()
            >= settings.PHONE_CODE_DAILY_PER_ADDRESS
        ):
            raise BaogongError(
                _("Too many codes were asked from this network today. Try again tomorrow or call your community."),
                status_code=429,
            )
        code = f"{secrets.randbelow(10**6):06d}" if _code_can_be_used(phone, purpose) else None
        PhoneCode.objects.create(
            phone=phone,
            purpose=purpose,
            digest=_digest(phone, purpose, code) if code else "",
            client_ip=client_ip or None,
            created_at=now,
            expires_at=now + datetime.timedelta(seconds=settings.PHONE_CODE_LIFETIME_SECONDS),
        )
        if code:
            text = code_text(code, purpose)
            transaction.on_commit(lambda: _code_deliver(phone, text))
    return CodeRequest(phone=phone, code=code)


def _code_deliver(phone: str, text: str) -> None:
    from core.queue import enqueue
    from core.sms import sms_send_now

    # Queued, so the answer takes as long whether a code was sent or not; sent from here if the
    # broker is down (a code is wanted now, the beat's sweep would be too late).
    if not enqueue("households.tasks.sms_code_send_task", phone, text):
        sms_send_now(phone, text)


_WRONG_OR_EXPIRED = gettext_lazy("The code is wrong or has expired. Ask for a new code.")


def _wrong_code(problem) -> WrongAnswer:
    return WrongAnswer(str(problem), errors={"code": [str(problem)]})


def phone_code_verify(*, phone: str, purpose: str, code: str, now: datetime.datetime | None = None) -> str:
    """Check a code against the newest one asked for this number and purpose; returns the number (E.164).

    Guarantees: a code works once, within its lifetime, and only until ``PHONE_CODE_MAX_TRIES``
    wrong tries of it (each wrong try is recorded even though the call fails). Every failure
    raises :class:`WrongAnswer` with a message that says nothing about the number.
    """
    phone = phone_normalize(phone)
    now = now or timezone.now()
    code = unicodedata.normalize("NFKC", code or "").strip()
    with transaction.atomic():
        row = (
            PhoneCode.objects.select_for_update()
            .filter(phone=phone, purpose=purpose)
            .order_by("-created_at", "-id")
            .first()
        )
        problem = None
        if row is None or row.used_at is not None or row.expires_at <= now:
            problem = _WRONG_OR_EXPIRED
        elif row.attempts >= settings.PHONE_CODE_MAX_TRIES:
            problem = _("This code was entered wrongly too many times. Ask for a new code.")
        elif not (
            row.digest
            and len(code) == 6
            and code.isascii()
            and code.isdigit()
            and constant_time_compare(row.digest, _digest(phone, purpose, code))
        ):
            PhoneCode.objects.filter(pk=row.pk).update(attempts=F("attempts") + 1)
            left = settings.PHONE_CODE_MAX_TRIES - row.attempts - 1
            problem = (
                _("The code is wrong. %(n)d tries left for this code.") % {"n": left}
                if left > 0
                else _("This code was entered wrongly too many times. Ask for a new code.")
            )
        elif not PhoneCode.objects.filter(pk=row.pk, used_at__isnull=True).update(used_at=now):
            problem = _WRONG_OR_EXPIRED
    if problem:
        raise _wrong_code(problem)
    return phone


# --- passwords --------------------------------------------------------------------------------------


def password_check(password: str, *, phone: str = "", name: str = "") -> None:
    """Django's validators (length, common, numeric, similar to the phone or name): raise with their messages."""
    try:
        validate_password(password, user=User(username=phone, phone=phone, first_name=name))
    except ValidationError as exc:
        raise BaogongError(" ".join(exc.messages), errors={"password": list(exc.messages)}) from None


def password_hash_for(password: str | None, *, phone: str, name: str = "") -> str:
    """The hash kept for a new resident's password; an unusable one when none was chosen (sign-in by code)."""
    if not password:
        return make_password(None)
    password_check(password, phone=phone, name=name)
    return make_password(password)


# --- residents ----------------------------------------------------------------------------------------


def _address_part(text: str) -> str:
    return unicodedata.normalize("NFKC", text or "").strip().upper()


def already_registered() -> BaogongError:
    return BaogongError(
        _("An account with this phone number already exists. Sign in with a text-message code, or reset the password."),
        errors={"phone": [_("Already registered.")]},
    )


def resident_account_create(*, phone: str, password_hash: str, contact_name: str, household: Household) -> User:
    """Create a resident's account linked to a household; the phone number has an account at most once."""
    try:
        with transaction.atomic():
            return User.objects.create(
                username=phone,
                phone=phone,
                password=password_hash,
                role=Role.RESIDENT,
                household=household,
                first_name=contact_name[:150],
            )
    except IntegrityError:
        raise already_registered() from None


def resident_register(
    *,
    phone: str,
    code: str,
    password_hash: str,
    contact_name: str,
    building_id: int,
    unit: str = "",
    room: str,
) -> User | ResidentRegistration:
    """Register a resident whose phone number is proven by ``code``.

    Guarantees: nothing is created without the right code (a wrong try is still counted). With
    it, in one transaction, the account is linked at once only to the household on the register
    that lists this number *at the address typed*; a number on the register at another address,
    or not on it, becomes a :class:`ResidentRegistration` for the community worker to approve
    (who sees why). No account is created twice for a number.
    """
    building = Building.objects.filter(pk=building_id).first()
    if building is None:
        raise BaogongError(_("Unknown building."), errors={"building": [_("Unknown building.")]})
    contact_name = (contact_name or "").strip()
    unit, room = _address_part(unit), _address_part(room)
    phone = phone_code_verify(phone=phone, purpose=CodePurpose.REGISTER, code=code)
    with transaction.atomic():
        if User.objects.filter(phone=phone).exists():
            raise already_registered()
        matches = list(households_with_phone(phone=phone))
        at_address = [
            h
            for h in matches
            if h.building_id == building.pk and _address_part(h.unit) == unit and _address_part(h.room) == room
        ]
        if len(at_address) == 1:
            household = at_address[0]
            return resident_account_create(
                phone=phone,
                password_hash=password_hash,
                contact_name=contact_name or household.contact_name,
                household=household,
            )
        if ResidentRegistration.objects.filter(phone=phone, status=RegistrationStatus.PENDING).exists():
            raise BaogongError(
                _("A registration with this phone number is already waiting for approval by your community."),
                errors={"phone": [_("Already waiting for approval.")]},
            )
        return ResidentRegistration.objects.create(
            phone=phone,
            password_hash=password_hash,
            contact_name=contact_name,
            building=building,
            unit=unit,
            floor=floor_from_room(room) or 1,
            room=room,
            reason=RegistrationReason.ADDRESS_DIFFERS if matches else RegistrationReason.NOT_ON_REGISTER,
            registered_household=matches[0] if matches else None,
            phone_verified_at=timezone.now(),
        )


def resident_sign_in_by_code(*, phone: str, code: str) -> User:
    """The resident account of a phone number proven by ``code``.

    Guarantees: only an active resident's account, only with the right code (a wrong try is
    counted); the failure message is the same whatever the number is.
    """
    phone = phone_code_verify(phone=phone, purpose=CodePurpose.SIGN_IN, code=code)
    user = User.objects.filter(phone=phone, role__in=CODE_ROLES, is_active=True).first()
    if user is None:  # the account went away after the code was sent
        raise _wrong_code(_WRONG_OR_EXPIRED)
    return user


def resident_password_reset(*, phone: str, code: str, password: str) -> User:
    """Set a new password for the resident of a phone number proven by ``code``.

    Guarantees: the new password passes the validators before the code is used; with the right
    code the password is changed, which ends every other session and revokes every API token of
    the account (their fingerprint covers the password).
    """
    number = phone_normalize(phone)
    user = User.objects.filter(phone=number, role__in=CODE_ROLES, is_active=True).first()
    password_check(password, phone=number, name=user.first_name if user else "")
    phone_code_verify(phone=number, purpose=CodePurpose.RESET, code=code)
    with transaction.atomic():
        user = User.objects.select_for_update().filter(phone=number, role__in=CODE_ROLES, is_active=True).first()
        if user is None:
            raise _wrong_code(_WRONG_OR_EXPIRED)
        user.set_password(password)
        user.save(update_fields=["password"])
        ApiToken.objects.filter(user=user).delete()
    return user


def registration_password_matches(*, phone: str, password: str) -> ResidentRegistration | None:
    """The newest registration of this number, if ``password`` is the one chosen with it (to tell
    an applicant without an account yet how their registration stands, and nobody else)."""
    try:
        number = phone_normalize(phone)
    except BaogongError:
        return None
    registration = (
        ResidentRegistration.objects.filter(phone=number, user__isnull=True).order_by("-created_at", "-id").first()
    )
    if registration is None or not check_password(password, registration.password_hash):
        return None
    return registration


@transaction.atomic
def registration_approve(*, registration_id: int, decided_by: User) -> User:
    """Approve a pending registration: link the account to the household at that address.

    Guarantees: a household at the address is reused (its phone list gains the number) or
    created; the account exists exactly once; a decided registration cannot be decided again.
    """
    registration = ResidentRegistration.objects.select_for_update().get(pk=registration_id)
    if registration.status != RegistrationStatus.PENDING:
        raise BaogongError(_("This registration has already been decided."))
    household, created = Household.objects.get_or_create(
        building_id=registration.building_id,
        unit=registration.unit,
        room=registration.room,
        defaults={"floor": registration.floor, "contact_name": registration.contact_name},
    )
    HouseholdPhone.objects.get_or_create(
        household=household, number=registration.phone, defaults={"is_primary": created}
    )
    user = resident_account_create(
        phone=registration.phone,
        password_hash=registration.password_hash,
        contact_name=registration.contact_name,
        household=household,
    )
    registration.status = RegistrationStatus.APPROVED
    registration.decided_by = decided_by
    registration.decided_at = timezone.now()
    registration.user = user
    registration.save(update_fields=["status", "decided_by", "decided_at", "user"])
    return user


@transaction.atomic
def registration_reject(*, registration_id: int, decided_by: User, note: str) -> ResidentRegistration:
    """Reject a pending registration with a reason the applicant sees (after proving the number
    or with the password chosen); no account is created. A decided registration stays as it is."""
    note = (note or "").strip()
    if not note:
        raise BaogongError(
            _("Say why the registration is rejected: the resident will see the reason."),
            errors={"note": [_("This field is required.")]},
        )
    registration = ResidentRegistration.objects.select_for_update().get(pk=registration_id)
    if registration.status != RegistrationStatus.PENDING:
        raise BaogongError(_("This registration has already been decided."))
    registration.status = RegistrationStatus.REJECTED
    registration.decided_by = decided_by
    registration.decided_at = timezone.now()
    registration.decision_note = note[:200]
    registration.save(update_fields=["status", "decided_by", "decided_at", "decision_note"])
    return registration


# --- API tokens -----------------------------------------------------------------------------------------


def api_token_digest(key: str) -> str:
    """How a key is kept, and how a presented key is looked up."""
    return hashlib.sha256(key.encode()).hexdigest()


@transaction.atomic
def api_token_issue(*, user: User, name: str = "", now: datetime.datetime | None = None) -> tuple[ApiToken, str]:
    """Issue a new API token for ``user``; returns the row and the key (shown this once, never stored).

    Guarantees: the token expires ``API_TOKEN_LIFETIME_DAYS`` after now and is bound to the
    account's current fingerprint (password, role, place).
    """
    now = now or timezone.now()
    key = secrets.token_hex(20)
    token = ApiToken.objects.create(
        digest=api_token_digest(key),
        prefix=key[:8],
        user=user,
        fingerprint=user.get_session_auth_hash(),
        name=(name or "")[:100],
        created_at=now,
        expires_at=now + datetime.timedelta(days=settings.API_TOKEN_LIFETIME_DAYS),
    )
    return token, key


def api_token_revoke(*, user: User, token_id: int) -> bool:
    """Revoke one of ``user``'s own tokens; False when there is no such token of theirs."""
    return ApiToken.objects.filter(user=user, pk=token_id).delete()[0] > 0


def account_key(text: str) -> str:
    """The one form of what someone typed to name an account (a phone number in E.164, else the
    username in lower case), so that "138 1234 1234" and "+8613812341234" count as one account."""
    try:
        return phone_normalize(text)
    except BaogongError:
        return unicodedata.normalize("NFKC", text or "").strip().lower()[:150]


def password_authenticate(*, request, username: str, password: str) -> User:
    """The account named by ``username`` (or a resident's phone) if ``password`` is its password;
    :class:`WrongAnswer` otherwise (one message for an unknown account and a wrong password)."""
    from django.contrib.auth import authenticate

    user = authenticate(request=request, username=username, password=password)
    if user is None:
        message = _("The username or phone number and the password do not match. Passwords are case-sensitive.")
        raise WrongAnswer(message, errors={"password": [message]})
    return user
