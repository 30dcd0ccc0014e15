"""Places and people: District → Office → Community → Compound → Building → Household.

Lockdown levels are ordered integers so that "the stricter of two" is a plain maximum, in Python
and in SQL (``Greatest``).
"""

from django.conf import settings
from django.contrib.auth.models import AbstractUser
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.crypto import salted_hmac
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


class RegistrationStatus(models.TextChoices):
    PENDING = "pending", _("Waiting for approval")
    APPROVED = "approved", _("Approved")
    REJECTED = "rejected", _("Rejected")


class RegistrationReason(models.TextChoices):
    NOT_ON_REGISTER = "new", _("Phone number not on the register")
    ADDRESS_DIFFERS = "address", _("Phone number on the register at another address")


class ResidentRegistration(models.Model):
    """A resident's request for an account that the community must approve: the (proven) phone
    number is not on the register, or it is on the register at another address than the one typed.

    The password is kept only as a hash (unusable when none was chosen); the account is created
    when a community worker approves.
    """

    phone = models.CharField(_("phone number"), max_length=20, db_index=True)
    password_hash = models.CharField(max_length=200)
    contact_name = models.CharField(_("contact name"), max_length=50)
    building = models.ForeignKey(Building, on_delete=models.CASCADE, related_name="+", verbose_name=_("building"))
    unit = models.CharField(_("unit"), max_length=10, blank=True)
    floor = models.SmallIntegerField(_("floor"))
    room = models.CharField(_("room"), max_length=10)
    reason = models.CharField(
        _("why it needs approval"),
        max_length=10,
        choices=RegistrationReason.choices,
        default=RegistrationReason.NOT_ON_REGISTER,
    )
    registered_household = models.ForeignKey(
        Household,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        verbose_name=_("household with this phone number on the register"),
    )
    phone_verified_at = models.DateTimeField(_("phone number proven at"), null=True, blank=True)
    status = models.CharField(
        _("status"), max_length=10, choices=RegistrationStatus.choices, default=RegistrationStatus.PENDING
    )
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        verbose_name=_("decided by"),
    )
    decided_at = models.DateTimeField(_("decided at"), null=True, blank=True)
    decision_note = models.CharField(_("note"), max_length=200, blank=True)
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        verbose_name=_("account"),
    )
    created_at = models.DateTimeField(_("requested at"), auto_now_add=True)

    class Meta:
        verbose_name = _("resident registration")
        verbose_name_plural = _("resident registrations")
        ordering = ["-created_at", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["phone"], condition=Q(status="pending"), name="one_pending_registration_per_phone"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.phone} {self.get_status_display()}"

    @property
    def address(self) -> str:
        return format_address(self.building, self.unit, self.room)


class ImportStatus(models.TextChoices):
    PENDING = "pending", _("Waiting")
    DONE = "done", _("Done")
    FAILED = "failed", _("File refused")


class HouseholdImport(models.Model):
    """An uploaded register of households for one community, and the report of what it did."""

    community = models.ForeignKey(
        Community, on_delete=models.CASCADE, related_name="imports", verbose_name=_("community")
    )
    uploaded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+", verbose_name=_("uploaded by")
    )
    filename = models.CharField(_("file"), max_length=200)
    content = models.BinaryField()
    dry_run = models.BooleanField(_("check only"), default=False)
    status = models.CharField(_("status"), max_length=10, choices=ImportStatus.choices, default=ImportStatus.PENDING)
    created_count = models.PositiveIntegerField(_("created"), default=0)
    updated_count = models.PositiveIntegerField(_("updated"), default=0)
    rejected_count = models.PositiveIntegerField(_("rejected"), default=0)
    # [{"row": 3, "action": "created"|"updated"|"rejected", "address": "...", "errors": ["..."]}]
    report = models.JSONField(_("report"), default=list)
    error = models.CharField(_("error"), max_length=500, blank=True)
    created_at = models.DateTimeField(_("uploaded at"), auto_now_add=True)
    finished_at = models.DateTimeField(_("finished at"), null=True, blank=True)

    class Meta:
        verbose_name = _("household import")
        verbose_name_plural = _("household imports")
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return f"{self.filename} ({self.get_status_display()})"


class NotificationKind(models.TextChoices):
    ORDER_CONFIRMED = "order_confirmed", _("Order confirmed")
    PACKAGE_SCHEDULED = "package_scheduled", _("Package date")
    OUT_FOR_DELIVERY = "out_for_delivery", _("Out for delivery")
    DELIVERED = "delivered", _("Delivered")
    EXCEPTION = "exception", _("Not delivered")


class SmsStatus(models.TextChoices):
    NONE = "none", _("No SMS (no phone number)")
    PENDING = "pending", _("Waiting to be sent")
    SENDING = "sending", _("Being sent")
    SENT = "sent", _("Sent")
    FAILED = "failed", _("Failed")


class Notification(models.Model):
    """Something a household is told about its food: shown on the resident pages and sent by SMS.

    ``(household, kind, key)`` is unique, so the same event (an order, a package's date) is told
    at most once however often the code that tells it runs. The text is drawn from ``params`` in
    the reader's language; the SMS is sent in Chinese.
    """

    household = models.ForeignKey(
        Household, on_delete=models.CASCADE, related_name="notifications", verbose_name=_("household")
    )
    kind = models.CharField(_("kind"), max_length=20, choices=NotificationKind.choices)
    key = models.CharField(_("about"), max_length=60)
    params = models.JSONField(_("details"), default=dict)
    created_at = models.DateTimeField(_("created at"), default=timezone.now)
    read_at = models.DateTimeField(_("read at"), null=True, blank=True)
    sms_status = models.CharField(_("SMS"), max_length=10, choices=SmsStatus.choices, default=SmsStatus.NONE)
    sms_phone = models.CharField(_("SMS to"), max_length=20, blank=True)
    sms_attempts = models.PositiveSmallIntegerField(_("SMS attempts"), default=0)
    sms_next_at = models.DateTimeField(_("next SMS attempt"), null=True, blank=True)
    sms_sent_at = models.DateTimeField(_("SMS sent at"), null=True, blank=True)
    sms_error = models.CharField(_("SMS error"), max_length=300, blank=True)

    class Meta:
        verbose_name = _("notification")
        verbose_name_plural = _("notifications")
        ordering = ["-created_at", "-id"]
        constraints = [
            models.UniqueConstraint(fields=["household", "kind", "key"], name="notification_told_once"),
        ]
        indexes = [
            models.Index(fields=["sms_next_at"], condition=Q(sms_status="pending"), name="notification_sms_due"),
        ]

    def __str__(self) -> str:
        return self.text

    @property
    def text(self) -> str:
        """The message in the active language."""
        from households.notifications import message_text

        return message_text(self.kind, self.params)


class PositiveCaseReport(models.Model):
    """A community's daily count of positive cases in a compound, or in one building of it.

    Zero is a report too: "tests done, all negative". A compound or building with 7 consecutive
    days reported negative may be unsealed (解除封控); a day without a report is not negative.
    """

    compound = models.ForeignKey(
        Compound, on_delete=models.CASCADE, related_name="case_reports", verbose_name=_("compound")
    )
    building = models.ForeignKey(
        Building,
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="case_reports",
        verbose_name=_("building"),
    )
    date = models.DateField(_("date"))
    cases = models.PositiveIntegerField(_("positive cases"))
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        verbose_name=_("recorded by"),
    )
    recorded_at = models.DateTimeField(_("recorded at"), auto_now=True)

    class Meta:
        verbose_name = _("positive case report")
        verbose_name_plural = _("positive case reports")
        ordering = ["-date", "compound_id", "building_id"]
        constraints = [
            models.UniqueConstraint(
                fields=["compound", "date"], condition=Q(building__isnull=True), name="one_compound_report_per_day"
            ),
            models.UniqueConstraint(
                fields=["building", "date"], condition=Q(building__isnull=False), name="one_building_report_per_day"
            ),
        ]
        indexes = [models.Index(fields=["date", "compound"], name="case_report_recent")]

    def __str__(self) -> str:
        return f"{self.date:%Y-%m-%d}: {self.cases}"


class HouseholdViewLog(models.Model):
    """A staff member opened a household's details (name, phones, care needs): who, when, where.

    Written for every such page view, never edited; admins read it in the admin.
    """

    household = models.ForeignKey(Household, on_delete=models.CASCADE, related_name="+", verbose_name=_("household"))
    viewed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+", verbose_name=_("viewed by")
    )
    role = models.CharField(_("role"), max_length=10, choices=Role.choices)
    where = models.CharField(_("page"), max_length=60)
    viewed_at = models.DateTimeField(_("viewed at"), default=timezone.now, db_index=True)

    class Meta:
        verbose_name = _("household view")
        verbose_name_plural = _("household views (audit log)")
        ordering = ["-viewed_at", "-id"]
        indexes = [models.Index(fields=["household", "viewed_at"], name="household_view_log")]

    def __str__(self) -> str:
        return f"{self.household_id} {self.viewed_at:%Y-%m-%d %H:%M}"


class CodePurpose(models.TextChoices):
    REGISTER = "register", _("registration")
    SIGN_IN = "sign_in", _("sign-in")
    RESET = "reset", _("password reset")


class PhoneCode(models.Model):
    """One request for a one-time text-message code.

    A row is written for every request, whether a code was sent or not (a number without an
    account, say, gets no sign-in code): the limits and the answers are then the same for every
    number, and a row without a digest can never be used. The code itself is never stored: only
    an HMAC of it under the site's secret.
    """

    phone = models.CharField(_("phone number"), max_length=20)
    purpose = models.CharField(_("purpose"), max_length=10, choices=CodePurpose.choices)
    digest = models.CharField(max_length=64, blank=True)
    client_ip = models.GenericIPAddressField(_("client address"), null=True, blank=True)
    created_at = models.DateTimeField(_("requested at"), default=timezone.now)
    expires_at = models.DateTimeField(_("expires at"))
    attempts = models.PositiveSmallIntegerField(_("wrong attempts"), default=0)
    used_at = models.DateTimeField(_("used at"), null=True, blank=True)

    class Meta:
        verbose_name = _("text-message code")
        verbose_name_plural = _("text-message codes")
        indexes = [
            models.Index(fields=["phone", "purpose", "-created_at"], name="phonecode_latest"),
            models.Index(fields=["phone", "created_at"], name="phonecode_per_phone_day"),
            models.Index(fields=["client_ip", "created_at"], name="phonecode_per_address_day"),
        ]
        constraints = [
            models.CheckConstraint(
                condition=Q(expires_at__gt=models.F("created_at")), name="phonecode_expires_after_created"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.phone} {self.purpose} {self.created_at:%Y-%m-%d %H:%M}"


class ApiToken(models.Model):
    """An API token (``Authorization: Token …``). Only the SHA-256 of its key is kept.

    A token works until it expires or its owner revokes it (signing out with it, or on the
    security page), and only while the account's fingerprint (``User.get_session_auth_hash``) is
    the one it was issued under: a password, role or place change revokes every token at once.
    """

    digest = models.CharField(max_length=64, unique=True)
    prefix = models.CharField(_("starts with"), max_length=8)
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="api_tokens", verbose_name=_("account")
    )
    fingerprint = models.CharField(max_length=64)
    name = models.CharField(_("device"), max_length=100, blank=True)
    created_at = models.DateTimeField(_("issued at"), default=timezone.now)
    expires_at = models.DateTimeField(_("expires at"))
    last_used_at = models.DateTimeField(_("last used at"), null=True, blank=True)

    class Meta:
        verbose_name = _("API token")
        verbose_name_plural = _("API tokens")
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return f"{self.prefix}… ({self.user})"


class ScheduledRun(models.Model):
    """The last run of one job of the timed schedule (``CELERY_BEAT_SCHEDULE``), wherever it ran:
    Celery beat and a worker, or the embedded demo's in-process schedule (``run_schedule``)."""

    job = models.CharField(_("job"), max_length=60, unique=True)
    task = models.CharField(_("task"), max_length=120)
    last_started_at = models.DateTimeField(_("last started"), null=True, blank=True)
    last_finished_at = models.DateTimeField(_("last finished"), null=True, blank=True)
    last_ok = models.BooleanField(_("last run succeeded"), null=True)
    last_error = models.CharField(_("last error"), max_length=300, blank=True)
    runs = models.PositiveIntegerField(_("runs"), default=0)

    class Meta:
        verbose_name = _("scheduled job run")
        verbose_name_plural = _("scheduled job runs")
        ordering = ["job"]

    def __str__(self) -> str:
        return self.job
