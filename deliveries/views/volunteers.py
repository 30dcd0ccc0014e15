"""The volunteer's pages: shifts to sign up for, the team's round on a phone, the service record."""

import datetime

from django.contrib import messages
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from core.edges import choice_param, date_param, id_param, redirect_back
from core.errors import BaogongError
from deliveries import rules
from deliveries.models import ExceptionReason
from deliveries.volunteers import record, teams
from deliveries.volunteers import selectors as volunteer_selectors
from households.permissions import rule_required
from households.volunteers import declared_well


@rule_required(rules.VOLUNTEER_ROUND)
def volunteer_shifts(request: HttpRequest) -> HttpResponse:
    rows = volunteer_selectors.volunteer_shifts(user=request.user)
    return render(
        request,
        "deliveries/volunteers/shifts.html",
        {"rows": rows, "team": volunteer_selectors.team_of(request.user)},
    )


@require_POST
@rule_required(rules.VOLUNTEER_ROUND)
def volunteer_signup(request: HttpRequest, pk: int) -> HttpResponse:
    try:
        signup = teams.shift_signup(shift_id=pk, user=request.user)
    except BaogongError as exc:
        messages.error(request, exc.message)
    else:
        if signup.status == "confirmed":
            messages.success(request, _("You are on this shift. Thank you!"))
        else:
            messages.info(
                request, _("The shift is full: you are on the waiting list and are told if a place frees up.")
            )
    return redirect_back(request, reverse("deliveries:volunteer_shifts"))


@require_POST
@rule_required(rules.VOLUNTEER_ROUND)
def volunteer_cancel(request: HttpRequest, pk: int) -> HttpResponse:
    try:
        teams.shift_cancel(shift_id=pk, user=request.user)
    except BaogongError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, _("Your sign-up is cancelled."))
    return redirect_back(request, reverse("deliveries:volunteer_shifts"))


@rule_required(rules.VOLUNTEER_ROUND)
def volunteer_round(request: HttpRequest) -> HttpResponse:
    """The team's doors on a phone, in walking order, with one-tap door buttons (the same custody
    events as the worker's round, recorded in the volunteer's name)."""
    today = timezone.localdate()
    day = date_param(request.GET, "date") or volunteer_selectors.round_day(user=request.user) or today
    buildings = volunteer_selectors.round_buildings(user=request.user, day=day)
    # One building at a time on the phone: the one asked for, else the first with doors still open.
    wanted = id_param(request.GET, "building")
    chosen = next((b for b in buildings if b["building_id"] == wanted), None) or next(
        (b for b in buildings if b["delivered"] + b["missed"] < b["doors"]), buildings[0] if buildings else None
    )
    if wanted is not None and (chosen is None or chosen["building_id"] != wanted):
        raise Http404(_("This building is not in your team's round on this day."))
    packages = (
        volunteer_selectors.volunteer_round(user=request.user, day=day, building_id=chosen["building_id"])
        if chosen
        else []
    )
    delivered = sum(b["delivered"] for b in buildings)
    missed = sum(b["missed"] for b in buildings)
    return render(
        request,
        "deliveries/volunteers/round.html",
        {
            "day": day,
            "today": today,
            "team": volunteer_selectors.team_of(request.user),
            "packages": packages,
            "reasons": ExceptionReason.choices,
            "here": request.get_full_path(),
            "well": declared_well(user_id=request.user.pk, day=today),
            "buildings": buildings,
            "chosen": chosen,
            "counts": {"total": sum(b["doors"] for b in buildings), "delivered": delivered, "missed": missed},
        },
    )


@rule_required(rules.VOLUNTEER_ROUND)
def volunteer_record(request: HttpRequest) -> HttpResponse:
    """The volunteer's own service record, and its certificate (志愿服务时长证明) as a PDF."""
    end = timezone.localdate()
    start = end - datetime.timedelta(days=90)
    rows = volunteer_selectors.service_record(
        user=request.user, community_id=request.user.community_id, start=start, end=end
    )
    if choice_param(request.GET, "format", ("pdf",)) == "pdf":
        return record.certificate_response(rows=rows, start=start, end=end)
    return render(request, "deliveries/volunteers/record.html", {"rows": rows, "start": start, "end": end})
