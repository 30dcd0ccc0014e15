"""Places: District → Office → Community → Compound → Building, lockdown levels and their history."""

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _


class LockdownLevel(models.IntegerChoices):
    OPEN = 0, _("Open")
    STAY_IN_COMPOUND = 1, _("Stay in compound")
    STAY_AT_HOME = 2, _("Stay at home")


class DeliveryMode(models.TextChoices):
    DOOR = "door", _("Door-to-door delivery")
    PICKUP = "pickup", _("Pick-up at the receiving point")


def delivery_mode_for(level: int) -> str:
    """Stay at home means the package comes to the door; otherwise it is collected at the receiving point."""
    return DeliveryMode.DOOR if level == LockdownLevel.STAY_AT_HOME else DeliveryMode.PICKUP


class PopulationType(models.TextChoices):
    PERMANENT = "permanent", _("Permanent resident")
    FLOATING = "floating", _("Floating population")


class Role(models.TextChoices):
    RESIDENT = "resident", _("Resident")
    WORKER = "worker", _("Community worker")
    OFFICE = "office", _("Office staff")
    SUPPLIER = "supplier", _("Supplier staff")
    OPERATOR = "operator", _("Hotline operator")
    TASKFORCE = "taskforce", _("Task force")
    ADMIN = "admin", _("Administrator")
    VOLUNTEER = "volunteer", _("Volunteer")


class District(models.Model):
    name = models.CharField(_("name"), max_length=50, unique=True)
    code = models.SlugField(_("code"), max_length=20, unique=True)
    hotline = models.CharField(_("supply hotline"), max_length=20)

    class Meta:
        verbose_name = _("district")
        verbose_name_plural = _("districts")
        ordering = ["code"]

    def __str__(self) -> str:
        return self.name


class Office(models.Model):
    district = models.ForeignKey(District, on_delete=models.PROTECT, related_name="offices", verbose_name=_("district"))
    name = models.CharField(_("name"), max_length=50)
    code = models.SlugField(_("code"), max_length=20)

    class Meta:
        verbose_name = _("office")
        verbose_name_plural = _("offices")
        ordering = ["district_id", "code"]
        constraints = [
            models.UniqueConstraint(fields=["district", "code"], name="office_code_unique_in_district"),
            models.UniqueConstraint(fields=["district", "name"], name="office_name_unique_in_district"),
        ]

    def __str__(self) -> str:
        return self.name


class Community(models.Model):
    office = models.ForeignKey(Office, on_delete=models.PROTECT, related_name="communities", verbose_name=_("office"))
    name = models.CharField(_("name"), max_length=50)
    code = models.SlugField(_("code"), max_length=20)
    receiving_point = models.CharField(_("receiving point"), max_length=200, blank=True)

    class Meta:
        verbose_name = _("community")
        verbose_name_plural = _("communities")
        ordering = ["office_id", "code"]
        constraints = [
            models.UniqueConstraint(fields=["office", "code"], name="community_code_unique_in_office"),
            models.UniqueConstraint(fields=["office", "name"], name="community_name_unique_in_office"),
        ]

    def __str__(self) -> str:
        return self.name


class Compound(models.Model):
    community = models.ForeignKey(
        Community, on_delete=models.PROTECT, related_name="compounds", verbose_name=_("community")
    )
    name = models.CharField(_("name"), max_length=80)
    code = models.SlugField(_("code"), max_length=20)
    # Pinyin initials of the name ("fcl" for 丰产路), kept for look-up by operators.
    initials = models.CharField(_("pinyin initials"), max_length=80, blank=True, db_index=True)
    lockdown_level = models.PositiveSmallIntegerField(
        _("lockdown level"), choices=LockdownLevel.choices, default=LockdownLevel.OPEN
    )
    delivery_day = models.PositiveSmallIntegerField(
        _("delivery day in the cycle"),
        default=0,
        help_text=_("0, 1 or 2: the day of the 3-day cycle (0 is the first day)."),
    )
    receiving_point = models.CharField(_("receiving point"), max_length=200, blank=True)

    class Meta:
        verbose_name = _("compound")
        verbose_name_plural = _("compounds")
        ordering = ["community_id", "code"]
        constraints = [
            models.UniqueConstraint(fields=["community", "code"], name="compound_code_unique_in_community"),
            models.UniqueConstraint(fields=["community", "name"], name="compound_name_unique_in_community"),
            models.CheckConstraint(condition=Q(delivery_day__lte=2), name="compound_delivery_day_in_cycle"),
            models.CheckConstraint(condition=Q(lockdown_level__lte=2), name="compound_lockdown_level_valid"),
        ]

    def __str__(self) -> str:
        return self.name


class Building(models.Model):
    compound = models.ForeignKey(
        Compound, on_delete=models.PROTECT, related_name="buildings", verbose_name=_("compound")
    )
    number = models.CharField(_("building"), max_length=20, help_text=_("As written on the building, e.g. 3号楼."))
    # A building can only be stricter than its compound: OPEN here means "as the compound".
    lockdown_level = models.PositiveSmallIntegerField(
        _("building lockdown level"), choices=LockdownLevel.choices, default=LockdownLevel.OPEN
    )
    # Derived from the number on every save (core.edges.building_sort_key): a building added
    # later through the admin sorts by its number like the others. Bulk writes set it themselves.
    sort_key = models.PositiveIntegerField(_("sort key"), default=0, editable=False)
    # Doors above the stated floor of a building without a lift weigh more when rounds are split.
    has_lift = models.BooleanField(_("has a lift"), default=False)

    class Meta:
        verbose_name = _("building")
        verbose_name_plural = _("buildings")
        ordering = ["compound_id", "sort_key", "number"]
        constraints = [
            models.UniqueConstraint(fields=["compound", "number"], name="building_number_unique_in_compound"),
            models.CheckConstraint(condition=Q(lockdown_level__lte=2), name="building_lockdown_level_valid"),
        ]

    def __str__(self) -> str:
        return f"{self.compound.name} {self.number}"

    def save(self, *args, **kwargs):
        from core.edges import building_sort_key

        self.sort_key = building_sort_key(self.number)
        if kwargs.get("update_fields") is not None and "number" in kwargs["update_fields"]:
            kwargs["update_fields"] = {*kwargs["update_fields"], "sort_key"}
        super().save(*args, **kwargs)

    @property
    def effective_level(self) -> int:
        return max(self.lockdown_level, self.compound.lockdown_level)


def format_address(building: Building, unit: str, room: str) -> str:
    """丰产路3号院 2号楼 1单元 502: compound, building, unit (if any), room."""
    parts = [building.compound.name, building.number]
    if unit:
        parts.append(_("unit %(unit)s") % {"unit": unit})
    parts.append(room)
    return " ".join(parts)


class LockdownChange(models.Model):
    """One change of a compound's or a building's lockdown level: who, when, why."""

    compound = models.ForeignKey(
        Compound,
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="lockdown_changes",
        verbose_name=_("compound"),
    )
    building = models.ForeignKey(
        Building,
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="lockdown_changes",
        verbose_name=_("building"),
    )
    from_level = models.PositiveSmallIntegerField(_("from"), choices=LockdownLevel.choices)
    to_level = models.PositiveSmallIntegerField(_("to"), choices=LockdownLevel.choices)
    reason = models.CharField(_("reason"), max_length=300)
    changed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        verbose_name=_("changed by"),
    )
    changed_at = models.DateTimeField(_("changed at"), auto_now_add=True)
    # A change may be decided now and take effect later (e.g. unsealing at 00:00 tomorrow): it is
    # applied by the beat schedule at effective_at, or cancelled before.
    effective_at = models.DateTimeField(_("takes effect at"), default=timezone.now)
    applied_at = models.DateTimeField(_("applied at"), null=True, blank=True)
    cancelled_at = models.DateTimeField(_("cancelled at"), null=True, blank=True)

    class Meta:
        verbose_name = _("lockdown level change")
        verbose_name_plural = _("lockdown level changes")
        ordering = ["-effective_at", "-id"]
        constraints = [
            models.CheckConstraint(
                condition=(
                    Q(compound__isnull=False, building__isnull=True) | Q(compound__isnull=True, building__isnull=False)
                ),
                name="lockdown_change_one_place",
            ),
            models.CheckConstraint(
                condition=Q(applied_at__isnull=True) | Q(cancelled_at__isnull=True),
                name="lockdown_change_applied_or_cancelled",
            ),
        ]
        indexes = [
            models.Index(
                fields=["effective_at"],
                condition=Q(applied_at__isnull=True, cancelled_at__isnull=True),
                name="lockdown_change_scheduled",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.compound or self.building}: {self.get_from_level_display()} → {self.get_to_level_display()}"

    @property
    def is_scheduled(self) -> bool:
        return self.applied_at is None and self.cancelled_at is None
