"""Pages for places and people. Views check the role, call a selector or a service, render."""

from django.contrib import messages
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseBadRequest, JsonResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views import defaults
from django.views.decorators.http import require_GET, require_POST

from core.dates import moment_text
from core.edges import id_param, int_param, text_param
from core.errors import BaogongError
from core.phones import phone_display
from households import access, identity, rules, selectors, services
from households.forms import (
    CaseReportForm,
    HouseholdImportForm,
    LockdownLevelForm,
)
from households.models import Building, ImportStatus, LockdownLevel
from households.permissions import allows, role_of, rule_required
from households.schedule import jobs_status, schedule_running
from households.volunteer_forms import HealthForm

# The job that applies scheduled lockdown changes (config/settings.py CELERY_BEAT_SCHEDULE).
LOCKDOWN_JOB = "apply-due-lockdown-changes"

PAGE_SIZE = 50


@require_GET
def register_buildings(request: HttpRequest) -> HttpResponse:
    """The building options of one community, for the registration form (htmx)."""
    community_id = id_param(request.GET, "community")
    buildings = (
        Building.objects.filter(compound__community_id=community_id)
        .select_related("compound")
        .order_by("compound__code", "sort_key", "number")
        if community_id is not None
        else Building.objects.none()
    )
    return render(request, "households/partials/building_options.html", {"buildings": buildings})


def home(request: HttpRequest) -> HttpResponse:
    if not request.user.is_authenticated:
        return redirect("login")
    role = role_of(request.user)
    user = request.user
    context: dict = {"role": role, "place_name": selectors.user_place_name(user=user)}
    if allows(user, rules.RESIDENT):
        context["household"] = selectors.household_get(user=user, pk=user.household_id) if user.household_id else None
        context["notifications"] = list(selectors.notification_list(user=user)[:3])
    elif allows(user, rules.VOLUNTEER):
        context["volunteer"] = getattr(user, "volunteer", None)
        context["declaration"] = selectors.health_declaration_today(user=user)
        context["health_form"] = HealthForm()
    elif allows(user, rules.STAFF):
        context["level_counts"] = selectors.level_counts(user=user)
        context["communities"] = selectors.community_list(user=user)[:200] if allows(user, rules.COMMUNITIES) else []
        if allows(user, rules.REGISTRATIONS):
            context["pending_registrations"] = selectors.registration_pending_list(user=user).count()
        if allows(user, rules.VOLUNTEERS):
            context["pending_volunteers"] = selectors.volunteer_list(user=user, status="pending").count()
            context["care_households"] = selectors.household_list(user=user, care_only=True).count()
    return render(request, f"households/home_{role or 'none'}.html" if role else "households/home_none.html", context)


PRINT_LIMIT = 3000


@rule_required(rules.STAFF)
def household_list(request: HttpRequest) -> HttpResponse:
    compound_id, community_id = id_param(request.GET, "compound"), id_param(request.GET, "community")
    households = selectors.household_list(
        user=request.user,
        search=text_param(request.GET, "q"),
        care_only=request.GET.get("care") == "1" and access.sees_care(request.user),
        level=int_param(request.GET, "level", maximum=max(LockdownLevel.values)),
        compound_id=compound_id,
        community_id=community_id,
    )
    printing = request.GET.get("print") == "1"
    page = Paginator(households, PRINT_LIMIT if printing else PAGE_SIZE).get_page(request.GET.get("page"))
    return render(
        request,
        "households/household_list.html",
        {
            "page": page,
            "query": request.GET,
            "printing": printing,
            "compound": selectors.compound_list(user=request.user).filter(pk=compound_id).first()
            if compound_id
            else None,
            "community": selectors.community_list(user=request.user).filter(pk=community_id).first()
            if community_id
            else None,
        },
    )


@rule_required(rules.STAFF)
def household_detail(request: HttpRequest, pk: int) -> HttpResponse:
    household = selectors.household_get(user=request.user, pk=pk)
    services.household_view_record(user=request.user, household_id=household.pk, where="household_detail")
    return render(request, "households/household_detail.html", {"household": household})


@rule_required(rules.STAFF)
def compound_list(request: HttpRequest) -> HttpResponse:
    page = Paginator(selectors.compound_list(user=request.user), PAGE_SIZE).get_page(request.GET.get("page"))
    return render(request, "households/compound_list.html", {"page": page})


@rule_required(rules.STAFF)
def compound_detail(request: HttpRequest, pk: int) -> HttpResponse:
    compound = selectors.compound_get(user=request.user, pk=pk)
    buildings = list(selectors.building_list(user=request.user, compound_id=compound.pk))
    return render(
        request,
        "households/compound_detail.html",
        {
            "compound": compound,
            "buildings": buildings,
            "history": selectors.lockdown_history(user=request.user, compound=compound)[:50],
            "form": LockdownLevelForm(initial={"level": compound.lockdown_level}),
            "can_change": allows(request.user, rules.LEVEL_CHANGE),
            "case_form": CaseReportForm(buildings=buildings, initial={"date": timezone.localdate()}),
            "can_record_cases": allows(request.user, rules.CASE_REPORTS),
            "case_reports": selectors.case_reports_recent(user=request.user, compound=compound),
            "now": timezone.now(),
            "schedule_late": not schedule_running(job=LOCKDOWN_JOB),
        },
    )


@rule_required(rules.SCHEDULE)
def schedule_page(request: HttpRequest) -> HttpResponse:
    """The timed jobs: when each last ran, whether it failed, and which have not run for too long."""
    jobs = jobs_status()
    return render(request, "households/schedule.html", {"jobs": jobs, "late": [j for j in jobs if j.late]})


@require_POST
@rule_required(rules.LEVEL_CHANGE)
def compound_set_level(request: HttpRequest, pk: int) -> HttpResponse:
    compound = selectors.compound_get(user=request.user, pk=pk)
    form = LockdownLevelForm(request.POST)
    building_id = id_param(request.POST, "building")
    if not form.is_valid():
        messages.error(request, _("Choose a level and say why it changes."))
        return redirect("households:compound_detail", pk=compound.pk)
    level, reason, effective_at = (form.cleaned_data[k] for k in ("level", "reason", "effective_at"))
    scheduled = effective_at is not None and effective_at > timezone.now()
    try:
        if building_id:
            building = (
                selectors.building_list(user=request.user, compound_id=compound.pk).filter(pk=building_id).first()
            )
            if building is None:
                raise BaogongError(_("Unknown building."))
            services.building_set_lockdown_level(
                building_id=building.pk, level=level, reason=reason, changed_by=request.user, effective_at=effective_at
            )
        else:
            if compound.lockdown_level == level and not scheduled:
                raise BaogongError(_("The compound already has this lockdown level: nothing was changed."))
            services.compound_set_lockdown_level(
                compound_id=compound.pk, level=level, reason=reason, changed_by=request.user, effective_at=effective_at
            )
    except BaogongError as exc:
        messages.error(request, exc.message)
    else:
        if scheduled:
            messages.success(
                request,
                _("The change is scheduled for %(when)s; it can be cancelled until then.")
                % {"when": moment_text(effective_at)},
            )
        else:
            messages.success(request, _("The lockdown level was changed and the change was recorded."))
    return redirect("households:compound_detail", pk=compound.pk)


@require_POST
@rule_required(rules.LEVEL_CHANGE)
def lockdown_change_cancel(request: HttpRequest, pk: int, change_id: int) -> HttpResponse:
    compound = selectors.compound_get(user=request.user, pk=pk)
    change = selectors.lockdown_history(user=request.user, compound=compound).filter(pk=change_id).first()
    if change is None:
        raise Http404
    try:
        services.lockdown_change_cancel(change_id=change.pk, cancelled_by=request.user)
    except BaogongError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, _("The scheduled change was cancelled."))
    return redirect("households:compound_detail", pk=compound.pk)


@require_POST
@rule_required(rules.CASE_REPORTS)
def compound_record_cases(request: HttpRequest, pk: int) -> HttpResponse:
    compound = selectors.compound_get(user=request.user, pk=pk)
    buildings = list(selectors.building_list(user=request.user, compound_id=compound.pk))
    form = CaseReportForm(request.POST, buildings=buildings)
    if not form.is_valid():
        messages.error(request, _("Choose the day and enter the number of positive cases (0 if all negative)."))
        return redirect("households:compound_detail", pk=compound.pk)
    try:
        services.positive_cases_record(
            compound_id=compound.pk,
            building_id=form.cleaned_data["building"],
            date=form.cleaned_data["date"],
            cases=form.cleaned_data["cases"],
            recorded_by=request.user,
        )
    except BaogongError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, _("The day's report was recorded."))
    return redirect("households:compound_detail", pk=compound.pk)


@rule_required(rules.REGISTRATIONS)
def registration_list(request: HttpRequest) -> HttpResponse:
    registrations = list(selectors.registration_pending_list(user=request.user)[:200])
    at_address = selectors.households_at_addresses(registrations=registrations)
    for registration in registrations:
        registration.household_there = at_address.get((registration.building_id, registration.unit, registration.room))
    return render(request, "households/registration_list.html", {"registrations": registrations})


@require_POST
@rule_required(rules.REGISTRATIONS)
def registration_decide(request: HttpRequest, pk: int) -> HttpResponse:
    registration = selectors.registration_get(user=request.user, pk=pk)
    decision = request.POST.get("decision")
    if decision not in ("approve", "reject"):
        return HttpResponseBadRequest(_("Choose approve or reject."))
    try:
        if decision == "approve":
            identity.registration_approve(registration_id=registration.pk, decided_by=request.user)
            messages.success(
                request, _("Approved: %(phone)s can now sign in.") % {"phone": phone_display(registration.phone)}
            )
        else:
            identity.registration_reject(
                registration_id=registration.pk, decided_by=request.user, note=request.POST.get("note", "")
            )
            messages.success(request, _("The registration was rejected; the resident sees your reason at sign-in."))
    except BaogongError as exc:
        messages.error(request, exc.message)
    return redirect("households:registration_list")


@rule_required(rules.IMPORT)
def household_import(request: HttpRequest) -> HttpResponse:
    communities = selectors.community_list(user=request.user)
    form = HouseholdImportForm(request.POST or None, request.FILES or None, communities=communities)
    if request.method == "POST" and form.is_valid():
        upload = form.cleaned_data["file"]
        try:
            household_import = services.household_import_create(
                community_id=form.cleaned_data["community"].pk,
                uploaded_by=request.user,
                filename=upload.name,
                content=upload.read(),
                dry_run=form.cleaned_data["dry_run"],
            )
        except BaogongError as exc:
            form.add_error("file", exc.message)
        else:
            return redirect("households:import_detail", pk=household_import.pk)
    imports = selectors.household_import_list(user=request.user)[:20]
    return render(request, "households/import_form.html", {"form": form, "imports": imports})


@rule_required(rules.IMPORT)
def household_import_detail(request: HttpRequest, pk: int) -> HttpResponse:
    household_import = selectors.household_import_get(user=request.user, pk=pk)
    rejected = [line for line in household_import.report if line["action"] == "rejected"]
    return render(
        request,
        "households/import_detail.html",
        {"import": household_import, "rejected": rejected, "pending": household_import.status == ImportStatus.PENDING},
    )


def too_many_requests(request: HttpRequest, exception: Exception) -> HttpResponse:
    """429 for pages beyond their rate (django-ratelimit): say so, and when to try again."""
    from core.middleware import error_response

    return error_response(
        request, status=429, message=_("Too many attempts in a short time. Wait a minute, then try again.")
    )


def page_not_found(request: HttpRequest, exception: Exception) -> HttpResponse:
    """404: the JSON error shape under /api/, the friendly page elsewhere."""
    if request.path.startswith("/api/"):
        return JsonResponse(
            {"detail": _("Not found: it does not exist, or it is not yours to see."), "errors": {}}, status=404
        )
    return defaults.page_not_found(request, exception)


@require_GET
def healthz(request: HttpRequest) -> JsonResponse:
    """For container health checks and load balancers: 200 when the database (and Redis, if
    configured) answer, 503 otherwise. Says nothing about any person."""
    checks = selectors.service_health()
    return JsonResponse(checks, status=200 if all(v == "ok" for v in checks.values()) else 503)


@rule_required(rules.RESIDENT)
def notification_list(request: HttpRequest) -> HttpResponse:
    """The resident's notifications, newest first; opening the page marks them read."""
    page = Paginator(selectors.notification_list(user=request.user), PAGE_SIZE).get_page(request.GET.get("page"))
    unread = {n.pk for n in page if n.read_at is None}
    services.notifications_mark_read(user=request.user)
    return render(request, "households/notification_list.html", {"page": page, "unread": unread})
