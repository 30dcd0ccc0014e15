"""Volunteers' pages of households: the worker's list (register one, approve or not), and the
volunteer's health declaration for the day. Shifts, teams and rounds are deliveries' pages."""

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from core.edges import choice_param
from core.errors import BaogongError
from core.forms import form_errors
from households import rules, selectors, volunteers
from households.access import restrict
from households.models import Community, VolunteerStatus
from households.permissions import rule_required
from households.volunteer_forms import HealthForm, VolunteerForm


def _communities(request: HttpRequest):
    return restrict(Community.objects.order_by("code"), request.user)


@rule_required(rules.VOLUNTEERS)
def volunteer_list(request: HttpRequest, form: VolunteerForm | None = None, status: int = 200) -> HttpResponse:
    """The community's volunteers, those waiting for approval first, and a form to register one."""
    shown = choice_param(request.GET, "status", VolunteerStatus.values)
    people = selectors.volunteer_list(user=request.user, status=shown)
    form = form or VolunteerForm(communities=_communities(request), with_password=False)
    return render(
        request,
        "households/volunteer_list.html",
        {"volunteers": people[:500], "form": form, "status": shown, "statuses": VolunteerStatus.choices},
        status=status,
    )


@require_POST
@rule_required(rules.VOLUNTEERS)
def volunteer_new(request: HttpRequest) -> HttpResponse:
    """The worker registers a volunteer who came by or called: approved at once."""
    form = VolunteerForm(request.POST, communities=_communities(request), with_password=False)
    if form.is_valid():
        try:
            volunteer = volunteers.volunteer_register_by_worker(
                by=request.user, phone=form.cleaned_data["phone"], details=form.details()
            )
        except BaogongError as exc:
            form_errors(form, exc)
            return volunteer_list(request, form=form, status=exc.status_code)
        messages.success(
            request,
            _("%(name)s is registered and approved: they sign in with a text-message code.") % {"name": volunteer},
        )
        return redirect("households:volunteer_list")
    return volunteer_list(request, form=form, status=400)


@require_POST
@rule_required(rules.VOLUNTEERS)
def volunteer_decide(request: HttpRequest, pk: int) -> HttpResponse:
    decision = choice_param(request.POST, "decision", ("approve", "refuse"), required=True)
    try:
        if decision == "approve":
            volunteer = volunteers.volunteer_approve(volunteer_id=pk, by=request.user)
            messages.success(request, _("%(name)s is approved and can sign in.") % {"name": volunteer})
        else:
            volunteer = volunteers.volunteer_refuse(volunteer_id=pk, by=request.user, note=request.POST.get("note", ""))
            messages.success(request, _("%(name)s is not accepted.") % {"name": volunteer})
    except BaogongError as exc:
        messages.error(request, exc.message)
    return redirect("households:volunteer_list")


@require_POST
@rule_required(rules.VOLUNTEER)
def health_declare(request: HttpRequest) -> HttpResponse:
    form = HealthForm(request.POST)
    if not form.is_valid():
        messages.error(request, _("Say how you are today."))
        return redirect("home")
    try:
        declaration = volunteers.health_declare(user=request.user, well=form.cleaned_data["well"])
    except BaogongError as exc:
        messages.error(request, exc.message)
    else:
        if declaration.well:
            messages.success(request, _("Thank you. You are on today's doors."))
        else:
            messages.warning(
                request,
                _(
                    "Rest today: you are off the doors until you declare yourself well on another day. The community's worker sees it on the team page; tell your team leader too."
                ),
            )
    return redirect("home")
