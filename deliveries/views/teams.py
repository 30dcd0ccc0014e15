"""The worker's pages for volunteers: teams and their members, the shift board with its gaps and
calls for help, each day's rounds (split, moved, watched live), and the service record."""

import datetime

from django.contrib import messages
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from core.edges import choice_param, date_param, id_param, int_param, redirect_back, text_param
from core.errors import BaogongError, NotFound
from deliveries import rules
from deliveries.models import ShiftKind
from deliveries.volunteers import record, rounds, teams
from deliveries.volunteers import selectors as volunteer_selectors
from households import selectors as household_selectors
from households.access import restrict
from households.models import Community, VolunteerStatus
from households.permissions import rule_required


def _community(request: HttpRequest, source=None) -> Community:
    """The community the page is about: ``community=`` if given (and in scope), else the worker's own."""
    wanted = id_param(source if source is not None else request.GET, "community") or request.user.community_id
    communities = restrict(Community.objects.order_by("code"), request.user)
    community = communities.filter(pk=wanted).first() if wanted else communities.first()
    if community is None:
        raise Http404(_("Unknown community."))
    return community


def _day(source) -> datetime.date:
    return date_param(source, "date") or timezone.localdate()


def _back(request: HttpRequest, name: str, community: Community, day: datetime.date | None = None) -> HttpResponse:
    query = f"?community={community.pk}" + (f"&date={day.isoformat()}" if day else "")
    return redirect_back(request, reverse(name) + query)


def _run(request: HttpRequest, step, success: str) -> None:
    try:
        result = step()
    except NotFound as exc:
        raise Http404(exc.message) from None
    except BaogongError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, success.format(result=result))


@rule_required(rules.TEAMS)
def team_list(request: HttpRequest) -> HttpResponse:
    community = _community(request)
    day = _day(request.GET)
    return render(
        request,
        "deliveries/volunteers/teams.html",
        {
            "community": community,
            "day": day,
            "progress": volunteer_selectors.team_progress(user=request.user, community_id=community.pk, day=day),
            "volunteers": household_selectors.volunteer_list(
                user=request.user, community_id=community.pk, status=VolunteerStatus.APPROVED
            ),
        },
    )


@require_POST
@rule_required(rules.TEAMS)
def team_new(request: HttpRequest) -> HttpResponse:
    community = _community(request, request.POST)
    name = text_param(request.POST, "name", max_length=40)
    _run(request, lambda: teams.team_create(community_id=community.pk, name=name, by=request.user), _("Team formed."))
    return _back(request, "deliveries:teams", community)


@require_POST
@rule_required(rules.TEAMS)
def team_member(request: HttpRequest, pk: int) -> HttpResponse:
    """Add a volunteer to the team (``leader=1`` makes them its leader) or take one out (``remove=1``)."""
    community = _community(request, request.POST)
    user_id = id_param(request.POST, "volunteer")
    if user_id is None:
        messages.error(request, _("Choose a volunteer."))
    elif request.POST.get("remove"):
        _run(
            request,
            lambda: teams.team_member_remove(team_id=pk, user_id=user_id, by=request.user),
            _("Taken out of the team."),
        )
    else:
        leader = bool(request.POST.get("leader"))
        _run(
            request,
            lambda: teams.team_member_add(team_id=pk, user_id=user_id, by=request.user, leader=leader),
            _("In the team."),
        )
    return _back(request, "deliveries:teams", community)


@rule_required(rules.TEAMS)
def shift_board(request: HttpRequest) -> HttpResponse:
    community = _community(request)
    day = _day(request.GET)
    return render(
        request,
        "deliveries/volunteers/shift_board.html",
        {
            "community": community,
            "day": day,
            "rows": volunteer_selectors.shift_board(user=request.user, community_id=community.pk, start=day),
            "kinds": ShiftKind.choices,
            "teams": volunteer_selectors.team_progress(user=request.user, community_id=community.pk, day=day),
        },
    )


def _time(source, name: str) -> datetime.time | None:
    raw = text_param(source, name, max_length=5)
    try:
        return datetime.time.fromisoformat(raw) if raw else None
    except ValueError:
        return None


@require_POST
@rule_required(rules.TEAMS)
def shift_new(request: HttpRequest) -> HttpResponse:
    community = _community(request, request.POST)
    day = date_param(request.POST, "day")
    kind = choice_param(request.POST, "kind", ShiftKind.values, required=True)
    starts, ends = _time(request.POST, "starts"), _time(request.POST, "ends")
    needed = int_param(request.POST, "needed", minimum=0, maximum=10_000)
    if day is None or starts is None or ends is None or needed is None:
        messages.error(request, _("Give the day, the times (like 08:00) and how many volunteers are needed."))
    else:
        _run(
            request,
            lambda: teams.shift_create(
                community_id=community.pk,
                day=day,
                kind=kind,
                starts=starts,
                ends=ends,
                needed=needed,
                team_id=id_param(request.POST, "team"),
                by=request.user,
            ),
            _("Shift added."),
        )
    return _back(request, "deliveries:shift_board", community, day)


@require_POST
@rule_required(rules.TEAMS)
def shift_call(request: HttpRequest, pk: int) -> HttpResponse:
    community = _community(request, request.POST)
    _run(
        request,
        lambda: teams.shift_call_for_help(shift_id=pk, by=request.user),
        _("Call for help sent to {result} available volunteers."),
    )
    return _back(request, "deliveries:shift_board", community, date_param(request.POST, "date"))


@rule_required(rules.TEAMS)
def team_rounds(request: HttpRequest) -> HttpResponse:
    """The teams' rounds on a day, their progress (refreshed on the page every 20 seconds)."""
    community = _community(request)
    day = _day(request.GET)
    context = {
        "community": community,
        "day": day,
        "progress": volunteer_selectors.team_progress(user=request.user, community_id=community.pk, day=day),
    }
    if request.htmx:
        return render(request, "deliveries/volunteers/_progress.html", context)
    return render(request, "deliveries/volunteers/rounds.html", context)


@require_POST
@rule_required(rules.TEAMS)
def rounds_split(request: HttpRequest) -> HttpResponse:
    community = _community(request, request.POST)
    day = _day(request.POST)
    _run(
        request,
        lambda: len(rounds.rounds_split(community_id=community.pk, day=day, by=request.user).rounds),
        _("The day's doors are divided among {result} teams."),
    )
    return _back(request, "deliveries:team_rounds", community, day)


@require_POST
@rule_required(rules.TEAMS)
def round_move(request: HttpRequest) -> HttpResponse:
    community = _community(request, request.POST)
    day = _day(request.POST)
    building_id, team_id = id_param(request.POST, "building"), id_param(request.POST, "team")
    if building_id is None or team_id is None:
        messages.error(request, _("Choose the building and the team."))
    else:
        _run(
            request,
            lambda: rounds.round_building_move(
                community_id=community.pk, day=day, building_id=building_id, team_id=team_id, by=request.user
            ),
            _("The building moved to the other team's round."),
        )
    return _back(request, "deliveries:team_rounds", community, day)


@rule_required(rules.SERVICE_RECORD)
def service_record(request: HttpRequest) -> HttpResponse:
    """Hours and doors per volunteer per day; ``format=pdf`` gives each volunteer's certificate."""
    community = _community(request)
    end = date_param(request.GET, "to") or timezone.localdate()
    start = date_param(request.GET, "from") or end - datetime.timedelta(days=30)
    if start > end or (end - start).days > 366:
        messages.error(request, _("Choose a period of at most a year, its start before its end."))
        start, end = end - datetime.timedelta(days=30), end
    rows = volunteer_selectors.service_record(
        user=request.user,
        community_id=community.pk,
        start=start,
        end=end,
        volunteer_id=id_param(request.GET, "volunteer"),
    )
    if choice_param(request.GET, "format", ("pdf",)) == "pdf":
        return record.certificate_response(rows=rows, start=start, end=end)
    totals = {"hours": round(sum(r.hours for r in rows), 2), "doors": sum(r.doors for r in rows)}
    return render(
        request,
        "deliveries/volunteers/service_record.html",
        {"community": community, "rows": rows, "start": start, "end": end, "totals": totals},
    )
