"""What residents report themselves: an item of a delivered package missing or damaged."""

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import pgettext_lazy

from core.errors import BaogongError, Conflict, NotFound
from deliveries.models import Package, PackageStatus
from hotlines.models import Ticket, TicketCategory, TicketEvent, TicketEventKind, TicketStatus
from hotlines.services import _text, ticket_open
from households.models import User
from supply.models import OrderLine

ITEM_PROBLEMS = {"missing": pgettext_lazy("item", "missing"), "damaged": pgettext_lazy("item", "damaged")}


@transaction.atomic
def item_problem_report(*, package_id: int, by: User, item: str, problem: str, note: str = "") -> tuple[Ticket, bool]:
    """A resident reports an item of their delivered package missing or damaged: a ticket to the
    community (answered within 12 hours), naming the package, the item and what is wrong.

    Guarantees: only the household's own package, once it is delivered; ``item`` must be one of
    its lines; one open report per package (a second one is added to it as a note: returns the
    ticket and False)."""
    household_id = by.household_id
    package = (
        Package.objects.select_for_update().filter(pk=package_id, household_id=household_id).first()
        if household_id is not None
        else None
    )
    if package is None:
        raise NotFound(_("There is no such package of your household."))
    if package.status != PackageStatus.DELIVERED:
        raise Conflict(_("Report a problem once the package has been delivered."))
    names = set(OrderLine.objects.filter(order__package_link__package=package).values_list("name", flat=True))
    if item not in names:
        raise BaogongError(_("Choose the item from your package."), errors={"item": [_("Not in this package.")]})
    if problem not in ITEM_PROBLEMS:
        raise BaogongError(_("Say whether it is missing or damaged."), errors={"problem": [_("Choose one.")]})
    note = _text(note, field="note", max_length=200, required=False, label=_("Note"))
    summary = _("Package %(code)s: %(item)s %(problem)s.") % {
        "code": package.code,
        "item": item,
        "problem": ITEM_PROBLEMS[problem],
    }
    if note:
        summary = f"{summary} {note}"
    open_report = Ticket.objects.filter(
        household_id=package.household_id,
        category=TicketCategory.ITEM_PROBLEM,
        status=TicketStatus.OPEN,
        summary__contains=package.code,
    ).first()
    if open_report is not None:
        TicketEvent.objects.create(
            ticket=open_report,
            kind=TicketEventKind.NOTE,
            level=open_report.level,
            by=by,
            at=timezone.now(),
            note=summary,
        )
        return open_report, False
    ticket = ticket_open(
        household_id=package.household_id, category=TicketCategory.ITEM_PROBLEM, summary=summary, opened_by=by
    )
    return ticket, True
