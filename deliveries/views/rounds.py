"""Rounds at the doors (deliveries.handovers): the day's round, delivered, missed, undo, find a package."""

import datetime
import re

from django.contrib import messages
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from core.edges import date_param, id_param, redirect_back
from core.errors import BaogongError, NotFound
from deliveries import handovers, rules, selectors
from deliveries.models import ExceptionReason, HandoverEvent, Package
from households.permissions import allows, rule_required

# --- handovers (deliveries.handovers) --------------------------------------------------------------


OPEN_PER_PAGE = 100
_CODE = re.compile(r"^[A-Za-z0-9-]{1,40}$")


def _day(request: HttpRequest, source) -> datetime.date:
    """The delivery day asked for (``date=YYYY-MM-DD``), today when none or a malformed one is given."""
    raw = source.get("date", "")
    if raw:
        try:
            return datetime.date.fromisoformat(raw)
        except ValueError:
            messages.error(request, _("“%(value)s” is not a date: showing today.") % {"value": raw[:20]})
    return timezone.localdate()


@rule_required(rules.DOORS)
def round_page(request: HttpRequest) -> HttpResponse:
    """The worker's round on the phone: the day's compounds, then one compound's doors with one-tap buttons."""
    day = _day(request, request.GET)
    compounds = selectors.round_compounds(user=request.user, day=day)
    wanted = id_param(request.GET, "compound")
    chosen = next((c for c in compounds if c["compound_id"] == wanted), compounds[0] if compounds else None)
    if wanted is not None and (chosen is None or chosen["compound_id"] != wanted):
        raise Http404(_("There are no packages for this compound on this day."))
    packages = selectors.round_packages(user=request.user, day=day, compound_id=chosen["compound_id"]) if chosen else []
    door_lists = []
    if allows(request.user, rules.DOOR_LISTS):
        seen = set()
        for c in compounds:
            if (c["cycle_id"], c["community_id"]) not in seen:
                seen.add((c["cycle_id"], c["community_id"]))
                url = reverse(
                    "deliveries:print_list", args=[c["cycle_id"], "doors", str(c["community_id"]), day.isoformat()]
                )
                door_lists.append({"community": c["community__name"], "cycle": c["cycle__number"], "url": url})
    return render(
        request,
        "deliveries/handovers/round.html",
        {
            "day": day,
            "previous": day - datetime.timedelta(days=1),
            "next": day + datetime.timedelta(days=1),
            "today": timezone.localdate(),
            "compounds": compounds,
            "chosen": chosen,
            "packages": packages,
            "reasons": ExceptionReason.choices,
            "door_lists": door_lists,
            "here": request.get_full_path(),
            "next_day": None if compounds else selectors.next_round_day(user=request.user, after=day),
        },
    )


@require_POST
@rule_required(rules.DOORS)
def round_start(request: HttpRequest) -> HttpResponse:
    day = _day(request, request.POST)
    compound_id = id_param(request.POST, "compound")
    try:
        if compound_id is None:
            raise NotFound(_("There are no packages for this compound on this day."))
        count = handovers.round_start(
            by=request.user, compound_id=compound_id, delivery_date=day, location=request.POST.get("location", "")
        )
    except NotFound as exc:
        raise Http404(exc.message) from None
    except BaogongError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(
            request, _("Round started: %(n)d packages are out for delivery; the households are told.") % {"n": count}
        )
    return redirect_back(request, reverse("deliveries:round") + f"?date={day.isoformat()}&compound={compound_id}")


def _round_url(request: HttpRequest, day: datetime.date, package: Package) -> str:
    """The round a door button came from: the volunteer's team round (its building), or the worker's compound."""
    if allows(request.user, rules.VOLUNTEER_ROUND):
        return reverse("deliveries:volunteer_round") + f"?date={day.isoformat()}&building={package.building_id}"
    return reverse("deliveries:round") + f"?date={day.isoformat()}&compound={package.compound_id}"


def _door_answer(request: HttpRequest, package_id: int, *, message: str, level: str) -> HttpResponse:
    """After a door button: on the round (htmx, ``row`` = the round's day) the package's row alone,
    with the message in it, so the page stays where it was; otherwise the message and back."""
    day = date_param(request.POST, "row") if request.htmx else None
    if day is not None:
        package = Package.objects.filter(pk=package_id).values("compound_id").first()
        rows = (
            selectors.round_packages(
                user=request.user, day=day, compound_id=package["compound_id"], package_id=package_id
            )
            if package
            else []
        )
        if rows:
            return render(
                request,
                "deliveries/handovers/_round_row.html",
                {
                    "package": rows[0],
                    "day": day,
                    "reasons": ExceptionReason.choices,
                    "message": message,
                    "message_level": level,
                    "here": _round_url(request, day, rows[0]),
                },
            )
    getattr(messages, level)(request, message)
    return redirect_back(request, reverse("deliveries:round"))


def _door_step(request: HttpRequest, package_id: int, step) -> HttpResponse:
    """Run one door step (``step()`` returns the success message and its level) and answer."""
    try:
        message, level = step()
    except NotFound as exc:
        raise Http404(exc.message) from None
    except BaogongError as exc:
        message, level = exc.message, "error"
    return _door_answer(request, package_id, message=message, level=level)


@require_POST
@rule_required(rules.DOORS)
def package_delivered(request: HttpRequest, pk: int) -> HttpResponse:
    """One tap at the door: delivered (idempotent: a second tap changes nothing). Refused for a
    package not yet at its community or before its day, unless the reason is stated (``override``)."""

    def step():
        event = handovers.package_deliver(
            package_id=pk,
            by=request.user,
            location=request.POST.get("location", ""),
            note=request.POST.get("note", ""),
            override=request.POST.get("override", ""),
        )
        return _("Package %(code)s: delivered.") % {"code": event.package.code}, "success"

    return _door_step(request, pk, step)


@require_POST
@rule_required(rules.DOORS)
def package_missed(request: HttpRequest, pk: int) -> HttpResponse:
    """Not delivered, with the reason: re-queued to the next day (or refused, its final outcome)."""
    day = date_param(request.POST, "day")

    def step():
        event = handovers.package_exception(
            package_id=pk,
            by=request.user,
            reason=request.POST.get("reason", ""),
            for_date=day,
            location=request.POST.get("location", ""),
            note=request.POST.get("note", ""),
            override=request.POST.get("override", ""),
        )
        if event.requeued_to:
            return _("Package %(code)s: not delivered (%(reason)s); it goes again on %(date)s.") % {
                "code": event.package.code,
                "reason": event.get_outcome_display(),
                "date": event.requeued_to.isoformat(),
            }, "warning"
        return _("Package %(code)s: not delivered (%(reason)s).") % {
            "code": event.package.code,
            "reason": event.get_outcome_display(),
        }, "warning"

    return _door_step(request, pk, step)


@require_POST
@rule_required(rules.DOORS)
def handover_undo(request: HttpRequest, pk: int) -> HttpResponse:
    """Undo one's own door record made by mistake, within the undo window."""
    event = HandoverEvent.objects.filter(pk=pk).values("package_id").first()
    if event is None or event["package_id"] is None:
        raise Http404(_("There is no such record, or it is not yours to undo."))

    def step():
        undo = handovers.handover_undo(event_id=pk, by=request.user, note=request.POST.get("note", ""))
        return _("Package %(code)s: the record is undone; the package is back where it was.") % {
            "code": undo.package.code
        }, "success"

    return _door_step(request, event["package_id"], step)


def package_find(request: HttpRequest) -> HttpResponse:
    """The search box: a package code typed in opens the package's page (the same as scanning its label)."""
    from django.contrib.auth.views import redirect_to_login

    if not request.user.is_authenticated:
        return redirect_to_login(request.get_full_path())
    if not allows(request.user, rules.SCAN):
        raise Http404(_("There is no such package, or it is not yours to see."))
    code = request.GET.get("code", "").strip().upper()
    if not _CODE.match(code):
        messages.error(request, _("Enter a package code as printed on its label, e.g. 12-ZY-12-34-001."))
        return redirect(reverse("deliveries:round") if allows(request.user, rules.DOORS) else "home")
    return redirect("package_scan", code=code)
