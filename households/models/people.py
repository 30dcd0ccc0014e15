"""People: households, their phones, and the accounts (roles and the place each works for)."""

from django.conf import settings
from django.contrib.auth.models import AbstractUser
from django.db import models
from django.db.models import Q
from django.utils.crypto import salted_hmac
from django.utils.translation import gettext_lazy as _

from households.models.places import Building, Community, District, Office, PopulationType, Role, format_address


class Household(models.Model):
    building = models.ForeignKey(
        Building, on_delete=models.PROTECT, related_name="households", verbose_name=_("building")
    )
    unit = models.CharField(_("unit"), max_length=10, blank=True, help_text=_("e.g. 2 for 2单元; blank if none."))
    floor = models.SmallIntegerField(_("floor"))
    room = models.CharField(_("room"), max_length=10)
    contact_name = models.CharField(_("contact name"), max_length=50)
    members = models.PositiveSmallIntegerField(_("members"), default=1)
    population_type = models.CharField(
        _("population type"), max_length=10, choices=PopulationType.choices, default=PopulationType.PERMANENT
    )
    elderly_alone = models.BooleanField(_("elderly living alone"), default=False)
    disabled = models.BooleanField(_("disabled"), default=False)
    pregnant = models.BooleanField(_("pregnant"), default=False)
    chronic_medicine = models.BooleanField(_("chronic medicine"), default=False)
    dialysis = models.BooleanField(_("dialysis"), default=False)
    care_note = models.CharField(_("other care need"), max_length=200, blank=True)
    baseline_opt_out = models.BooleanField(
        _("declines the baseline package"),
        default=False,
        help_text=_("A stay-at-home household gets the free baseline package every cycle unless it declines it."),
    )
    assigned_worker = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="assigned_households",
        verbose_name=_("assigned worker"),
    )
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)

    CARE_FLAGS = ("elderly_alone", "disabled", "pregnant", "chronic_medicine", "dialysis")

    class Meta:
        verbose_name = _("household")
        verbose_name_plural = _("households")
        ordering = ["building_id", "unit", "floor", "room"]
        constraints = [
            models.UniqueConstraint(fields=["building", "unit", "room"], name="household_address_unique"),
            models.CheckConstraint(condition=Q(members__gte=1), name="household_has_members"),
        ]

    def __str__(self) -> str:
        return self.address

    @property
    def address(self) -> str:
        return format_address(self.building, self.unit, self.room)

    @property
    def effective_level(self) -> int:
        return self.building.effective_level

    @property
    def care_labels(self) -> list[str]:
        labels = [str(self._meta.get_field(flag).verbose_name) for flag in self.CARE_FLAGS if getattr(self, flag)]
        if self.care_note:
            labels.append(self.care_note)
        return labels

    @property
    def needs_care(self) -> bool:
        return any(getattr(self, flag) for flag in self.CARE_FLAGS) or bool(self.care_note)


class HouseholdPhone(models.Model):
    """A phone number of a household, stored in E.164 form (+8613812341234, +863716718038)."""

    household = models.ForeignKey(
        Household, on_delete=models.CASCADE, related_name="phones", verbose_name=_("household")
    )
    number = models.CharField(_("phone number"), max_length=20, db_index=True)
    is_primary = models.BooleanField(_("primary"), default=False)

    class Meta:
        verbose_name = _("household phone number")
        verbose_name_plural = _("household phone numbers")
        ordering = ["household_id", "-is_primary", "id"]
        constraints = [
            models.UniqueConstraint(fields=["household", "number"], name="household_phone_unique"),
            models.UniqueConstraint(fields=["household"], condition=Q(is_primary=True), name="one_primary_phone"),
        ]

    def __str__(self) -> str:
        from core.phones import phone_display

        return phone_display(self.number)


class User(AbstractUser):
    """A person who signs in. The role and one place (or supplier) decide what the user may see."""

    role = models.CharField(_("role"), max_length=10, choices=Role.choices, default=Role.RESIDENT)
    phone = models.CharField(_("phone number"), max_length=20, null=True, blank=True, unique=True)
    household = models.ForeignKey(
        Household,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="residents",
        verbose_name=_("household"),
    )
    community = models.ForeignKey(
        Community, null=True, blank=True, on_delete=models.PROTECT, related_name="staff", verbose_name=_("community")
    )
    office = models.ForeignKey(
        Office, null=True, blank=True, on_delete=models.PROTECT, related_name="staff", verbose_name=_("office")
    )
    district = models.ForeignKey(
        District, null=True, blank=True, on_delete=models.PROTECT, related_name="staff", verbose_name=_("district")
    )
    supplier = models.ForeignKey(
        "supply.Supplier",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="staff",
        verbose_name=_("supplier"),
    )
    # 适老化: bigger text and buttons on every page, remembered with the account.
    large_text = models.BooleanField(_("large text"), default=False)

    class Meta(AbstractUser.Meta):
        verbose_name = _("user")
        verbose_name_plural = _("users")
        constraints = [
            models.CheckConstraint(
                condition=~Q(role="worker") | Q(community__isnull=False), name="worker_has_community"
            ),
            models.CheckConstraint(
                condition=~Q(role="office") | Q(office__isnull=False), name="office_staff_has_office"
            ),
            models.CheckConstraint(
                condition=~Q(role="operator") | Q(district__isnull=False), name="operator_has_district"
            ),
            models.CheckConstraint(
                condition=~Q(role="supplier") | Q(supplier__isnull=False), name="supplier_staff_has_supplier"
            ),
            models.CheckConstraint(
                condition=~Q(role="volunteer") | Q(community__isnull=False), name="volunteer_has_community"
            ),
        ]

    def __str__(self) -> str:
        full = f"{self.last_name}{self.first_name}".strip()
        return full or self.username

    @property
    def display_name(self) -> str:
        return str(self)

    def _get_session_auth_hash(self, secret=None):
        """Django checks this against every session on every request (and so do API tokens):
        besides the password it covers the role, the place and the household, so a changed
        password, role or place, a deactivated or re-linked account ends every session and token."""
        state = "|".join(
            str(v)
            for v in (
                self.password,
                self.role,
                self.is_superuser,
                self.is_active,
                self.household_id,
                self.community_id,
                self.office_id,
                self.district_id,
                self.supplier_id,
            )
        )
        return salted_hmac("baogong.User.session_auth_hash", state, secret=secret, algorithm="sha256").hexdigest()
