"""The supply hotline and the care ledger: calls, tickets with their escalation trail, check-ins.

A call reaches a district's 24-hour supply hotline (the number is the district's); a request
that is not an order becomes a ticket routed to the household's community with a deadline that
depends on its category, and climbs community → office → district task force when the deadline
passes. Ledger households (special-care groups, 老弱病残孕) are checked on at a cadence by their
assigned worker (包户到人).
"""

import datetime

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from households.models import Community, District, Household


class CallCategory(models.TextChoices):
    SUPPLY_ORDER = "order", _("Supply order")
    MEDICINE = "medicine", _("Medicine")
    MEDICAL_TRANSPORT = "transport", _("Medical transport")
    UNSEALING = "unsealing", _("Unsealing report")
    COMPLAINT = "complaint", _("Complaint")
    ENQUIRY = "enquiry", _("Enquiry")
    OTHER = "other", _("Other")


class CallOutcome(models.TextChoices):
    ORDER_PLACED = "ordered", _("Order placed")
    TICKET_OPENED = "ticket", _("Ticket opened")
    ANSWERED = "answered", _("Answered on the phone")
    REFERRED = "referred", _("Referred elsewhere")
    DROPPED = "dropped", _("Call dropped")
    ABANDONED = "abandoned", _("Not finished (closed by itself)")


class Call(models.Model):
    """One call to a district's supply hotline, from the moment the caller's number is known."""

    # Districts are never deleted while they have offices; the call log goes with its district.
    district = models.ForeignKey(District, on_delete=models.CASCADE, related_name="calls", verbose_name=_("hotline"))
    operator = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        on_delete=models.SET_NULL,
        related_name="hotline_calls",
        verbose_name=_("operator"),
    )
    caller_number = models.CharField(_("caller number"), max_length=20, db_index=True)
    household = models.ForeignKey(
        Household, null=True, blank=True, on_delete=models.SET_NULL, related_name="calls", verbose_name=_("household")
    )
    category = models.CharField(_("category"), max_length=10, choices=CallCategory.choices, blank=True)
    summary = models.CharField(_("summary"), max_length=500, blank=True)
    outcome = models.CharField(_("outcome"), max_length=10, choices=CallOutcome.choices, blank=True)
    started_at = models.DateTimeField(_("started at"), auto_now_add=True)
    ended_at = models.DateTimeField(_("ended at"), null=True, blank=True)

    class Meta:
        verbose_name = _("call")
        verbose_name_plural = _("calls")
        ordering = ["-started_at", "-id"]
        indexes = [
            models.Index(fields=["household", "-started_at"], name="call_household_recent"),
            models.Index(fields=["operator", "ended_at"], name="call_operator_open"),
        ]
        constraints = [
            models.CheckConstraint(
                condition=Q(ended_at__isnull=True) | (~Q(category="") & ~Q(outcome="")),
                name="call_ended_has_category_outcome",
            ),
        ]

    def __str__(self) -> str:
        return _("Call %(id)s") % {"id": self.pk}

    @property
    def is_open(self) -> bool:
        return self.ended_at is None


class TicketCategory(models.TextChoices):
    MEDICINE = "medicine", _("Medicine")
    MEDICAL_TRANSPORT = "transport", _("Medical transport")
    UNSEALING = "unsealing", _("Unsealing report")
    COMPLAINT = "complaint", _("Complaint")
    MISSED_DELIVERY = "missed", _("Package not delivered (care household)")
    ITEM_PROBLEM = "item", _("Item missing or damaged")
    OTHER = "other", _("Other request")


class Priority(models.IntegerChoices):
    NORMAL = 1, _("Normal")
    HIGH = 2, _("High")
    URGENT = 3, _("Urgent")


# Priority and response window of each category: medicine and medical transport in hours, the rest within a day.
# The window starts again at every escalation step.
TICKET_RULES: dict[str, tuple[int, datetime.timedelta]] = {
    TicketCategory.MEDICAL_TRANSPORT: (Priority.URGENT, datetime.timedelta(hours=2)),
    TicketCategory.MEDICINE: (Priority.HIGH, datetime.timedelta(hours=4)),
    # A care household's package came back from the door: someone must reach them within hours.
    TicketCategory.MISSED_DELIVERY: (Priority.HIGH, datetime.timedelta(hours=4)),
    TicketCategory.UNSEALING: (Priority.NORMAL, datetime.timedelta(hours=24)),
    # Food or medicine that did not come: the community answers the same day.
    TicketCategory.ITEM_PROBLEM: (Priority.HIGH, datetime.timedelta(hours=12)),
    TicketCategory.COMPLAINT: (Priority.NORMAL, datetime.timedelta(hours=24)),
    TicketCategory.OTHER: (Priority.NORMAL, datetime.timedelta(hours=24)),
}


class TransportNeed(models.TextChoices):
    DIALYSIS = "dialysis", _("Dialysis")
    PRENATAL = "prenatal", _("Prenatal check")
    CHEMOTHERAPY = "chemo", _("Chemotherapy")
    OTHER = "other", _("Other treatment")


class TicketLevel(models.IntegerChoices):
    COMMUNITY = 0, _("Community")
    OFFICE = 1, _("Sub-district office")
    TASKFORCE = 2, _("District task force")


class TicketStatus(models.TextChoices):
    OPEN = "open", pgettext_lazy("ticket", "Open")
    RESOLVED = "resolved", pgettext_lazy("ticket", "Resolved")


class Ticket(models.Model):
    """A request that is not an order, routed to the household's community.

    ``level`` is who must act now; ``due_at`` is when it escalates to the next level if still open.
    """

    # A household leaves the register only without orders (they protect it); its tickets go with it.
    # A caller not on the register has no household: the ticket says where they live instead.
    household = models.ForeignKey(
        Household, null=True, blank=True, on_delete=models.CASCADE, related_name="tickets", verbose_name=_("household")
    )
    caller_address = models.CharField(_("caller's address or description"), max_length=200, blank=True)
    community = models.ForeignKey(
        Community, on_delete=models.CASCADE, related_name="tickets", verbose_name=_("community")
    )
    call = models.ForeignKey(
        Call, null=True, blank=True, on_delete=models.SET_NULL, related_name="tickets", verbose_name=_("call")
    )
    category = models.CharField(_("category"), max_length=10, choices=TicketCategory.choices)
    priority = models.PositiveSmallIntegerField(_("priority"), choices=Priority.choices)
    summary = models.CharField(_("request"), max_length=500)
    status = models.CharField(_("status"), max_length=10, choices=TicketStatus.choices, default=TicketStatus.OPEN)
    level = models.PositiveSmallIntegerField(
        _("handled by"), choices=TicketLevel.choices, default=TicketLevel.COMMUNITY
    )
    due_at = models.DateTimeField(_("respond by"))
    # Medical transport (point-to-point closed-loop vehicle): when, where to, and for what.
    appointment_at = models.DateTimeField(_("appointment"), null=True, blank=True)
    destination = models.CharField(_("destination"), max_length=200, blank=True)
    need = models.CharField(_("treatment"), max_length=10, choices=TransportNeed.choices, blank=True)
    # A complaint about a price (明码标价) names the product, so the task force sees complaints next
    # to the product's posted price, its reference cap and its price history.
    product = models.ForeignKey(
        "supply.Product",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="complaints",
        verbose_name=_("product complained about"),
    )
    opened_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+", verbose_name=_("opened by")
    )
    # The worker who looks after the household (包户到人), when the ticket is theirs to act on.
    assigned_to = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        verbose_name=_("assigned to"),
    )
    created_at = models.DateTimeField(_("opened at"), auto_now_add=True)
    resolved_at = models.DateTimeField(_("resolved at"), null=True, blank=True)
    resolved_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        verbose_name=_("resolved by"),
    )
    resolution = models.CharField(_("what was done"), max_length=500, blank=True)

    class Meta:
        verbose_name = _("ticket")
        verbose_name_plural = _("tickets")
        ordering = ["-priority", "due_at", "id"]
        indexes = [
            models.Index(fields=["status", "due_at"], name="ticket_open_due"),
            models.Index(fields=["community", "status"], name="ticket_community_status"),
            models.Index(fields=["household", "status"], name="ticket_household_status"),
        ]
        constraints = [
            models.CheckConstraint(
                condition=~Q(category="transport")
                | (Q(appointment_at__isnull=False) & ~Q(destination="") & ~Q(need="")),
                name="transport_ticket_has_details",
            ),
            models.CheckConstraint(
                condition=Q(status="open", resolved_at__isnull=True) | Q(status="resolved", resolved_at__isnull=False),
                name="ticket_resolved_has_time",
            ),
            models.CheckConstraint(condition=Q(level__lte=2), name="ticket_level_valid"),
            models.CheckConstraint(
                condition=Q(household__isnull=False) | ~Q(caller_address=""), name="ticket_says_who_or_where"
            ),
            models.CheckConstraint(
                condition=Q(product__isnull=True) | Q(category="complaint"), name="product_only_on_complaints"
            ),
        ]

    def __str__(self) -> str:
        return _("Ticket %(id)s") % {"id": self.pk}


class TicketEventKind(models.TextChoices):
    OPENED = "opened", _("Opened")
    ESCALATED = "escalated", _("Escalated")
    NOTE = "note", _("Note")
    RESOLVED = "resolved", pgettext_lazy("ticket", "Resolved")


class TicketEvent(models.Model):
    """One step in a ticket's life, never changed afterwards: opened, escalated, a note, resolved."""

    ticket = models.ForeignKey(Ticket, on_delete=models.CASCADE, related_name="events", verbose_name=_("ticket"))
    kind = models.CharField(_("what"), max_length=10, choices=TicketEventKind.choices)
    level = models.PositiveSmallIntegerField(_("level"), choices=TicketLevel.choices)
    by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        verbose_name=_("by"),
    )
    note = models.CharField(_("note"), max_length=500, blank=True)
    at = models.DateTimeField(_("at"))

    class Meta:
        verbose_name = _("ticket event")
        verbose_name_plural = _("ticket events")
        ordering = ["ticket_id", "at", "id"]
        constraints = [
            # An escalation to a level happens once: a beat task that runs twice cannot record it twice.
            models.UniqueConstraint(
                fields=["ticket", "level"], condition=Q(kind="escalated"), name="one_escalation_per_level"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} {self.at:%Y-%m-%d %H:%M}"


class CheckInKind(models.TextChoices):
    CALL = "call", _("Phone call")
    VISIT = "visit", _("Visit")


class CheckInOutcome(models.TextChoices):
    WELL = "well", _("All well")
    NEEDS_HELP = "help", _("Needs help")
    NO_ANSWER = "none", _("No answer")


class CheckIn(models.Model):
    """A worker's call to or visit of a ledger household, and how it went."""

    household = models.ForeignKey(
        Household, on_delete=models.CASCADE, related_name="checkins", verbose_name=_("household")
    )
    worker = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+", verbose_name=_("worker")
    )
    kind = models.CharField(_("how"), max_length=5, choices=CheckInKind.choices)
    outcome = models.CharField(_("outcome"), max_length=5, choices=CheckInOutcome.choices)
    note = models.CharField(_("note"), max_length=300, blank=True)
    at = models.DateTimeField(_("at"), auto_now_add=True)

    class Meta:
        verbose_name = _("check-in")
        verbose_name_plural = _("check-ins")
        ordering = ["-at", "-id"]
        indexes = [models.Index(fields=["household", "-at"], name="checkin_household_recent")]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} {self.at:%Y-%m-%d %H:%M}"


class CheckInCadence(models.Model):
    """How often a ledger household is checked on, when it differs from the default of its care flags."""

    household = models.OneToOneField(
        Household, on_delete=models.CASCADE, related_name="checkin_cadence", verbose_name=_("household")
    )
    every_days = models.PositiveSmallIntegerField(_("check in every (days)"))
    set_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+", verbose_name=_("set by")
    )
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)

    class Meta:
        verbose_name = _("check-in cadence")
        verbose_name_plural = _("check-in cadences")
        constraints = [
            models.CheckConstraint(condition=Q(every_days__gte=1, every_days__lte=30), name="cadence_1_to_30_days"),
        ]

    def __str__(self) -> str:
        return f"{self.household_id}: {self.every_days}"
