"""What happens to people: registrations, imports, notifications, positive reports, views of a
household, one-time codes, API tokens, the timed jobs' runs."""

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from households.models.people import Household
from households.models.places import Building, Community, Compound, Role, format_address


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
    RESTOCK = "restock", _("Back in stock")
    SHORTFALL = "shortfall", _("Item not supplied")


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
    VOLUNTEER = "volunteer", _("volunteer registration")


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
