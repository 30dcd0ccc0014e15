"""A resident reports an item of a delivered package missing or damaged (a ticket to the community)."""

from django.contrib import messages
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods

from core.dates import moment_text
from core.edges import text_param
from core.errors import BaogongError, NotFound
from deliveries.models import Package
from hotlines import reports, rules
from households.permissions import rule_required
from supply.models import OrderLine


@require_http_methods(["GET", "POST"])
@rule_required(rules.REPORT_ITEM)
def item_problem(request: HttpRequest, code: str) -> HttpResponse:
    package = Package.objects.filter(code=code, household_id=request.user.household_id).first()
    if package is None:
        raise Http404(_("There is no such package of your household."))
    items = sorted(set(OrderLine.objects.filter(order__package_link__package=package).values_list("name", flat=True)))
    error = ""
    if request.method == "POST":
        try:
            ticket, new = reports.item_problem_report(
                package_id=package.pk,
                by=request.user,
                item=text_param(request.POST, "item", max_length=140),
                problem=text_param(request.POST, "problem", max_length=10),
                note=text_param(request.POST, "note", max_length=200),
            )
        except NotFound as exc:
            raise Http404(exc.message) from None
        except BaogongError as exc:
            error = exc.message
        else:
            due = moment_text(ticket.due_at)
            text = (
                _("Reported to your community (request %(n)s): they will contact you by %(due)s.")
                if new
                else _("Added to your earlier report (request %(n)s): the community will contact you by %(due)s.")
            )
            messages.success(request, text % {"n": ticket.pk, "due": due})
            return redirect("deliveries:my_packages")
    return render(
        request,
        "hotlines/item_problem.html",
        {"package": package, "items": items, "error": error, "posted": request.POST},
        status=400 if error else 200,
    )
