"""Volunteers (红马甲): people who carry packages to the doors of the community where they serve.

A volunteer is a person with an account of the ``volunteer`` role, registered at one community (by
themselves on a phone, with a proven number, or by a community worker) and approved by its worker.
Cadres of city departments "双报到": they register with the community where they live and say so.
What a volunteer can do and, by day and half-day, when, is kept here; teams, shifts and rounds are
deliveries' business.
"""

from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from households.models.people import User
from households.models.places import Community

# Availability: one bit per day of the week (Monday first) and half-day (morning, afternoon).
HALF_DAYS = 14


class VolunteerStatus(models.TextChoices):
    PENDING = "pending", _("Waiting for approval")
    APPROVED = "approved", _("Approved")
    REFUSED = "refused", _("Not accepted")


class Skill(models.TextChoices):
    CARRY = "carry", _("Can carry heavy loads")
    DRIVER = "driver", _("Driver")
    MEDICAL = "medical", _("Medical training")
    DIALECT = "dialect", _("Speaks the local dialect")


# The model field of each skill.
SKILL_FIELDS = {"carry": "can_carry", "driver": "driver", "medical": "medical", "dialect": "dialect"}


class Volunteer(models.Model):
    user = models.OneToOneField(User, on_delete=models.CASCADE, related_name="volunteer", verbose_name=_("account"))
    community = models.ForeignKey(
        Community, on_delete=models.PROTECT, related_name="volunteers", verbose_name=_("community")
    )
    name = models.CharField(_("name"), max_length=50)
    # 双报到: a cadre registers with the community where they live, naming the employer.
    cadre = models.BooleanField(_("cadre reporting to the home community (双报到)"), default=False)
    home_address = models.CharField(_("home address"), max_length=100, blank=True)
    employer = models.CharField(_("employer"), max_length=100, blank=True)
    can_carry = models.BooleanField(Skill.CARRY.label, default=True)
    driver = models.BooleanField(Skill.DRIVER.label, default=False)
    medical = models.BooleanField(Skill.MEDICAL.label, default=False)
    dialect = models.BooleanField(Skill.DIALECT.label, default=False)
    availability = models.PositiveIntegerField(
        _("availability"), default=0, help_text=_("One bit per day of the week and half-day, Monday morning first.")
    )
    status = models.CharField(
        _("status"), max_length=10, choices=VolunteerStatus.choices, default=VolunteerStatus.PENDING
    )
    registered_by = models.ForeignKey(
        User,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        verbose_name=_("registered by"),
    )
    decided_by = models.ForeignKey(
        User, null=True, blank=True, on_delete=models.SET_NULL, related_name="+", verbose_name=_("decided by")
    )
    decided_at = models.DateTimeField(_("decided at"), null=True, blank=True)
    note = models.CharField(_("note"), max_length=200, blank=True)
    created_at = models.DateTimeField(_("registered at"), auto_now_add=True)

    class Meta:
        verbose_name = _("volunteer")
        verbose_name_plural = _("volunteers")
        indexes = [models.Index(fields=["community", "status"], name="volunteer_community_status")]
        constraints = [
            models.CheckConstraint(condition=Q(availability__lt=1 << HALF_DAYS), name="volunteer_availability_valid"),
            models.CheckConstraint(
                condition=Q(status="pending") | Q(decided_at__isnull=False), name="volunteer_decision_dated"
            ),
        ]

    def __str__(self) -> str:
        return self.name

    @property
    def skills(self) -> list[str]:
        return [skill.value for skill in Skill if getattr(self, SKILL_FIELDS[skill.value])]

    def available(self, weekday: int, half: int) -> bool:
        """``weekday`` 0 = Monday, ``half`` 0 = morning, 1 = afternoon."""
        return bool(self.availability >> (weekday * 2 + half) & 1)


class HealthDeclaration(models.Model):
    """The volunteer's health for one day (健康申报): no fever or cough, no contact with a case, the
    day's test negative. Only a volunteer who declared well that day is given doors."""

    volunteer = models.ForeignKey(
        Volunteer, on_delete=models.CASCADE, related_name="declarations", verbose_name=_("volunteer")
    )
    day = models.DateField(_("day"))
    well = models.BooleanField(_("well"))
    declared_at = models.DateTimeField(_("declared at"), auto_now_add=True)

    class Meta:
        verbose_name = _("health declaration")
        verbose_name_plural = _("health declarations")
        constraints = [models.UniqueConstraint(fields=["volunteer", "day"], name="one_declaration_per_day")]

    def __str__(self) -> str:
        return f"{self.volunteer} {self.day}"
