"""Teams of volunteers (专班), the day's shifts with their sign-ups, and each team's round: the
buildings whose door packages it carries on a delivery day (deliveries.volunteers)."""

import datetime

from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from households.models import Building, Community, User


class Team(models.Model):
    community = models.ForeignKey(
        Community, on_delete=models.PROTECT, related_name="teams", verbose_name=_("community")
    )
    name = models.CharField(_("name"), max_length=40)
    leader = models.ForeignKey(
        User, null=True, blank=True, on_delete=models.SET_NULL, related_name="+", verbose_name=_("leader")
    )
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)

    class Meta:
        verbose_name = _("team")
        verbose_name_plural = _("teams")
        ordering = ["community", "name"]
        constraints = [models.UniqueConstraint(fields=["community", "name"], name="team_name_unique_in_community")]

    def __str__(self) -> str:
        return self.name


class TeamMember(models.Model):
    """A volunteer's place in a team: one team at a time."""

    team = models.ForeignKey(Team, on_delete=models.CASCADE, related_name="members", verbose_name=_("team"))
    user = models.OneToOneField(User, on_delete=models.CASCADE, related_name="team_member", verbose_name=_("volunteer"))
    joined_at = models.DateTimeField(_("joined at"), auto_now_add=True)

    class Meta:
        verbose_name = _("team member")
        verbose_name_plural = _("team members")

    def __str__(self) -> str:
        return f"{self.team} · {self.user}"


class ShiftKind(models.TextChoices):
    UNLOADING = "unloading", _("Unloading and disinfection at the receiving point")
    SORTING = "sorting", _("Sorting at the receiving point")
    DOORS = "doors", _("Door round")


class Shift(models.Model):
    """Work at the community on one day, from ``starts`` to ``ends``, for ``needed`` volunteers.
    A door round's shift belongs to a team (its members sign up for it)."""

    community = models.ForeignKey(
        Community, on_delete=models.PROTECT, related_name="shifts", verbose_name=_("community")
    )
    day = models.DateField(_("day"))
    kind = models.CharField(_("work"), max_length=10, choices=ShiftKind.choices)
    starts = models.TimeField(_("from"))
    ends = models.TimeField(_("until"))
    needed = models.PositiveSmallIntegerField(_("volunteers needed"))
    team = models.ForeignKey(
        Team, null=True, blank=True, on_delete=models.CASCADE, related_name="shifts", verbose_name=_("team")
    )
    created_by = models.ForeignKey(
        User, null=True, blank=True, on_delete=models.SET_NULL, related_name="+", verbose_name=_("created by")
    )
    # The last call for help sent to available volunteers (at most one every half hour).
    help_called_at = models.DateTimeField(_("help called at"), null=True, blank=True)

    class Meta:
        verbose_name = _("shift")
        verbose_name_plural = _("shifts")
        ordering = ["day", "starts", "kind"]
        indexes = [models.Index(fields=["community", "day"], name="shift_community_day")]
        constraints = [
            models.CheckConstraint(condition=Q(ends__gt=models.F("starts")), name="shift_ends_after_start"),
            models.CheckConstraint(condition=Q(needed__gte=1), name="shift_needs_someone"),
            models.CheckConstraint(condition=~Q(kind="doors") | Q(team__isnull=False), name="door_shift_has_team"),
        ]

    def __str__(self) -> str:
        return f"{self.day} {self.starts:%H:%M}–{self.ends:%H:%M} {self.get_kind_display()}"

    @property
    def hours(self) -> float:
        return round(shift_hours(self.starts, self.ends), 2)


def shift_hours(starts: datetime.time, ends: datetime.time) -> float:
    """The hours of a shift of one day, from ``starts`` to ``ends``."""
    return ((ends.hour * 60 + ends.minute) - (starts.hour * 60 + starts.minute)) / 60


class SignupStatus(models.TextChoices):
    CONFIRMED = "confirmed", _("Confirmed")
    WAITING = "waiting", _("On the waiting list")
    CANCELLED = "cancelled", _("Cancelled")


class ShiftSignup(models.Model):
    shift = models.ForeignKey(Shift, on_delete=models.CASCADE, related_name="signups", verbose_name=_("shift"))
    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="shift_signups", verbose_name=_("volunteer"))
    status = models.CharField(_("status"), max_length=10, choices=SignupStatus.choices)
    created_at = models.DateTimeField(_("signed up at"))
    cancelled_at = models.DateTimeField(_("cancelled at"), null=True, blank=True)

    class Meta:
        verbose_name = _("shift sign-up")
        verbose_name_plural = _("shift sign-ups")
        constraints = [
            models.UniqueConstraint(
                fields=["shift", "user"], condition=~Q(status="cancelled"), name="one_signup_per_shift"
            ),
        ]
        indexes = [models.Index(fields=["shift", "status", "created_at"], name="signup_shift_queue")]

    def __str__(self) -> str:
        return f"{self.user} · {self.shift}"


class RoundAssignment(models.Model):
    """On ``day``, the door packages of ``building`` are carried by ``team``: a whole building to one team."""

    community = models.ForeignKey(
        Community, on_delete=models.CASCADE, related_name="round_assignments", verbose_name=_("community")
    )
    day = models.DateField(_("day"))
    building = models.ForeignKey(Building, on_delete=models.CASCADE, related_name="+", verbose_name=_("building"))
    team = models.ForeignKey(Team, on_delete=models.CASCADE, related_name="assignments", verbose_name=_("team"))
    doors = models.PositiveIntegerField(_("doors"))
    weight = models.PositiveIntegerField(_("effort"), help_text=_("Doors, with floors climbed without a lift."))
    position = models.PositiveIntegerField(_("order in the round"))

    class Meta:
        verbose_name = _("round assignment")
        verbose_name_plural = _("round assignments")
        constraints = [models.UniqueConstraint(fields=["day", "building"], name="one_team_per_building_day")]
        indexes = [models.Index(fields=["team", "day"], name="round_team_day")]

    def __str__(self) -> str:
        return f"{self.day} {self.building} → {self.team}"
