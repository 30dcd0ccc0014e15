"""Teams and shifts: the worker forms teams with a leader and sets each day's shifts (unloading and
disinfection, sorting, the teams' door rounds) with the volunteers needed; volunteers sign up, up to
the number needed, then on a waiting list; the worker can call available volunteers for help."""

from __future__ import annotations

import datetime

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import Q
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from core.errors import Conflict, NotFound, field_error
from core.queue import enqueue
from deliveries import rules
from deliveries.models import Shift, ShiftKind, ShiftSignup, SignupStatus, Team, TeamMember
from households.access import restrict
from households.models import Community, User, Volunteer, VolunteerStatus
from households.permissions import allows
from households.volunteers import approved_volunteer

MAX_NEEDED = 200
HELP_CALL_EVERY = datetime.timedelta(minutes=30)


def _community(by: User, community_id: int) -> Community:
    community = restrict(Community.objects.filter(pk=community_id), by).first() if allows(by, rules.TEAMS) else None
    if community is None:
        raise NotFound(_("Unknown community."))
    return community


def _team(by: User, team_id: int, *, lock: bool = False) -> Team:
    teams = restrict(Team.objects.filter(pk=team_id), by) if allows(by, rules.TEAMS) else Team.objects.none()
    team = (teams.select_for_update() if lock else teams).first()
    if team is None:
        raise NotFound(_("Unknown team."))
    return team


def _volunteer_of(community_id: int, user_id: int) -> Volunteer:
    volunteer = Volunteer.objects.filter(
        user_id=user_id, community_id=community_id, status=VolunteerStatus.APPROVED
    ).first()
    if volunteer is None:
        raise field_error("volunteer", _("Only an approved volunteer of this community can join a team."))
    return volunteer


def team_create(*, community_id: int, name: str, by: User) -> Team:
    """A new team of the community. Guarantees: a name (at most 40 characters), unique in the community."""
    community = _community(by, community_id)
    name = (name or "").strip()
    if not name or len(name) > 40:
        raise field_error("name", _("Give the team a name (at most 40 characters)."))
    try:
        with transaction.atomic():
            return Team.objects.create(community=community, name=name)
    except IntegrityError:
        raise field_error("name", _("The community already has a team with this name.")) from None


@transaction.atomic
def team_member_add(*, team_id: int, user_id: int, by: User, leader: bool = False) -> TeamMember:
    """Put an approved volunteer of the team's community in the team (leaving any other team);
    ``leader`` makes them its leader. Guarantees: one team per volunteer at a time."""
    team = _team(by, team_id, lock=True)
    volunteer = _volunteer_of(team.community_id, user_id)
    TeamMember.objects.filter(user_id=volunteer.user_id).exclude(team=team).delete()
    Team.objects.filter(leader_id=volunteer.user_id).exclude(pk=team.pk).update(leader=None)
    member, _created = TeamMember.objects.get_or_create(user_id=volunteer.user_id, defaults={"team": team})
    if leader and team.leader_id != volunteer.user_id:
        team.leader_id = volunteer.user_id
        team.save(update_fields=["leader"])
    return member


@transaction.atomic
def team_member_remove(*, team_id: int, user_id: int, by: User) -> None:
    """Take a volunteer out of the team (and from its leadership); their sign-ups stay as they are."""
    team = _team(by, team_id, lock=True)
    if not TeamMember.objects.filter(team=team, user_id=user_id).delete()[0]:
        raise NotFound(_("This volunteer is not in the team."))
    if team.leader_id == user_id:
        team.leader = None
        team.save(update_fields=["leader"])


def shift_create(
    *,
    community_id: int,
    day: datetime.date,
    kind: str,
    starts: datetime.time,
    ends: datetime.time,
    needed: int,
    by: User,
    team_id: int | None = None,
) -> Shift:
    """A shift on a day of the community. Guarantees: today or later; ends after it starts; 1 to 200
    volunteers needed; a door round belongs to one of the community's teams, other work to none."""
    community = _community(by, community_id)
    if kind not in ShiftKind.values:
        raise field_error("kind", _("Choose the work."))
    if day < timezone.localdate():
        raise field_error("day", _("A shift is for today or a later day."))
    if ends <= starts:
        raise field_error("ends", _("The shift must end after it starts."))
    if not 1 <= needed <= MAX_NEEDED:
        raise field_error("needed", _("Between 1 and %(n)d volunteers.") % {"n": MAX_NEEDED})
    team = None
    if kind == ShiftKind.DOORS:
        team = Team.objects.filter(community=community, pk=team_id).first() if team_id else None
        if team is None:
            raise field_error("team", _("A door round is a team's: choose the team."))
    return Shift.objects.create(
        community=community, day=day, kind=kind, starts=starts, ends=ends, needed=needed, team=team, created_by=by
    )


def _confirmed(shift: Shift) -> int:
    return shift.signups.filter(status=SignupStatus.CONFIRMED).count()


@transaction.atomic
def shift_signup(*, shift_id: int, user: User, now: datetime.datetime | None = None) -> ShiftSignup:
    """A volunteer signs up for a shift of its community: confirmed while fewer than the number
    needed are, else on the waiting list (in the order of signing up).

    Guarantees: an approved volunteer only; not for a shift that has ended; a door round only for
    its own team's members; at most once per shift (signing up again returns the sign-up); under
    concurrency never more confirmed than needed (the shift's row is locked).
    """
    now = now or timezone.now()
    volunteer = approved_volunteer(user)
    shift = Shift.objects.select_for_update().filter(pk=shift_id, community_id=volunteer.community_id).first()
    if shift is None:
        raise NotFound(_("Unknown shift."))
    if timezone.make_aware(datetime.datetime.combine(shift.day, shift.ends)) <= now:
        raise Conflict(_("This shift is over."))
    if shift.kind == ShiftKind.DOORS and not TeamMember.objects.filter(team=shift.team, user=user).exists():
        raise Conflict(_("This door round is another team's."))
    existing = shift.signups.filter(user=user).exclude(status=SignupStatus.CANCELLED).first()
    if existing is not None:
        return existing
    status = SignupStatus.CONFIRMED if _confirmed(shift) < shift.needed else SignupStatus.WAITING
    return ShiftSignup.objects.create(shift=shift, user=user, status=status, created_at=now)


@transaction.atomic
def shift_cancel(*, shift_id: int, user: User, now: datetime.datetime | None = None) -> ShiftSignup:
    """A volunteer takes back a sign-up before the shift starts; a confirmed place goes to the first
    on the waiting list. Guarantees: only one's own sign-up, once; the shift's row is locked."""
    now = now or timezone.now()
    shift = Shift.objects.select_for_update().filter(pk=shift_id).first()
    signup = (
        shift.signups.filter(user=user).exclude(status=SignupStatus.CANCELLED).first() if shift is not None else None
    )
    if shift is None or signup is None:
        raise NotFound(_("You are not signed up for this shift."))
    if timezone.make_aware(datetime.datetime.combine(shift.day, shift.starts)) <= now:
        raise Conflict(_("The shift has started: tell your team leader or the community instead."))
    was_confirmed = signup.status == SignupStatus.CONFIRMED
    signup.status, signup.cancelled_at = SignupStatus.CANCELLED, now
    signup.save(update_fields=["status", "cancelled_at"])
    if was_confirmed:
        first = shift.signups.filter(status=SignupStatus.WAITING).order_by("created_at", "pk").first()
        if first is not None:
            first.status = SignupStatus.CONFIRMED
            first.save(update_fields=["status"])
    return signup


def half_day_bit(day: datetime.date, starts: datetime.time) -> int:
    """The availability bit of a shift: the day of the week, morning (before noon) or afternoon."""
    return 1 << (day.weekday() * 2 + (0 if starts.hour < 12 else 1))


@transaction.atomic
def shift_call_for_help(*, shift_id: int, by: User, now: datetime.datetime | None = None) -> int:
    """Text the approved volunteers of the community who said they are free at that half-day and are
    not signed up yet, asking them to sign up. Guarantees: only for a shift still short of people;
    at most one call every half hour per shift; returns how many are texted (sent after commit)."""
    now = now or timezone.now()
    shift = Shift.objects.select_for_update().filter(pk=shift_id).first()
    if shift is None or not restrict(Shift.objects.filter(pk=shift_id), by).exists() or not allows(by, rules.TEAMS):
        raise NotFound(_("Unknown shift."))
    if _confirmed(shift) >= shift.needed:
        raise Conflict(_("This shift has all the volunteers it needs."))
    if shift.help_called_at and now - shift.help_called_at < HELP_CALL_EVERY:
        raise Conflict(_("Volunteers were called for this shift less than half an hour ago."))
    bit = half_day_bit(shift.day, shift.starts)
    signed = shift.signups.exclude(status=SignupStatus.CANCELLED).values("user_id")
    free = Volunteer.objects.filter(community_id=shift.community_id, status=VolunteerStatus.APPROVED).exclude(
        user_id__in=signed
    )
    if shift.kind == ShiftKind.DOORS:
        free = free.filter(user__team_member__team=shift.team)
    phones = [
        phone
        for availability, phone in free.filter(~Q(user__phone=None)).values_list("availability", "user__phone")
        if availability & bit
    ]
    shift.help_called_at = now
    shift.save(update_fields=["help_called_at"])
    shift_id_ = shift.pk
    transaction.on_commit(lambda: enqueue("deliveries.tasks.volunteer_call_task", shift_id_, phones))
    return len(phones)


def shift_call_text(shift_id: int) -> str:
    """The text of a call for help, in the site's language (volunteers read Chinese first)."""
    shift = Shift.objects.select_related("community").get(pk=shift_id)
    with translation.override(settings.LANGUAGE_CODE):
        return _("%(community)s needs volunteers: %(work)s, %(day)s %(starts)s–%(ends)s. Sign up at %(url)s") % {
            "community": shift.community.name,
            "work": shift.get_kind_display(),
            "day": f"{shift.day:%m-%d}",
            "starts": f"{shift.starts:%H:%M}",
            "ends": f"{shift.ends:%H:%M}",
            "url": f"{settings.SITE_URL.rstrip('/')}/volunteer/",
        }
