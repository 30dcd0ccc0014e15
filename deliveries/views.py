"""Pages for the cycle's packaging (progress, closing, levelling delivery days), the printed lists,
and the handovers: rounds at the doors, consignments received, where a package is, what is still open."""

import datetime
import re

from django.contrib import messages
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from core.edges import date_param, id_param, int_param, redirect_back
from core.errors import BaogongError, NotFound
from deliveries import handovers, rules, selectors, services
from deliveries.models import ExceptionReason, HandoverEvent, Package
from households import selectors as household_selectors
from households import services as household_services
from households.permissions import allows, rule_required


@rule_required(rules.CYCLES)
def cycle_list(request: HttpRequest) -> HttpResponse:
    cycles = list(selectors.cycle_list(user=request.user)[:6])
    progress = [selectors.cycle_progress(user=request.user, cycle=cycle) for cycle in cycles]
    return render(
        request,
        "deliveries/cycle_list.html",
        {
            "progress": progress,
            "can_close": allows(request.user, rules.CLOSE_CYCLE),
            "can_level": allows(request.user, rules.LEVEL_DAYS),
        },
    )


@require_POST
@rule_required(rules.CLOSE_CYCLE)
def cycle_close(request: HttpRequest, pk: int) -> HttpResponse:
    cycle = get_object_or_404(selectors.cycle_list(user=request.user), pk=pk)
    try:
        services.cycle_close(cycle_id=cycle.pk)
    except BaogongError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(
            request, _("Cycle %(n)s is closing: each community's packages are being built.") % {"n": cycle.number}
        )
    return redirect("deliveries:cycle_list")


@require_POST
@rule_required(rules.LEVEL_DAYS)
def delivery_days_level(request: HttpRequest) -> HttpResponse:
    """Level the delivery days of every community in the user's scope (by household counts)."""
    results = [
        (community, household_services.community_delivery_days_level(community_id=community.pk))
        for community in household_selectors.community_list(user=request.user)
    ]
    if results:
        worst = max(results, key=lambda item: item[1].spread)
        messages.success(
            request,
            _("Delivery days levelled in %(n)d communities; the least even is %(name)s (days: %(loads)s households).")
            % {"n": len(results), "name": worst[0].name, "loads": " / ".join(str(x) for x in worst[1].loads)},
        )
    return redirect("deliveries:cycle_list")


# --- printed lists (deliveries.printing) -----------------------------------------------------------

LABELS_PER_PAGE = 60


@rule_required(rules.PRINT)
def print_index(request: HttpRequest) -> HttpResponse:
    """The lists of a packed cycle that the user may print, by delivery day."""
    from django.core.paginator import Paginator

    from deliveries.printing import selectors as printing
    from deliveries.printing.services import printing_on_pack_enabled

    printing_on = printing_on_pack_enabled()
    cycles = list(printing.printable_cycles(user=request.user)[:6])
    cycle = cycles[0] if cycles else None
    wanted = id_param(request.GET, "cycle")
    if wanted is not None:
        cycle = next((c for c in cycles if c.pk == wanted), None)
        if cycle is None:
            raise Http404(_("There is no such cycle with printed lists."))
    page = None
    if cycle is not None:
        page = Paginator(printing.document_list(user=request.user, cycle=cycle), 100).get_page(request.GET.get("page"))
        page.object_list = [
            (document, reverse("deliveries:print_list", args=printing.key_of(document).url_args()))
            for document in page.object_list
        ]
    return render(
        request,
        "deliveries/print/index.html",
        {
            "cycles": cycles,
            "cycle": cycle,
            "page": page,
            "query": request.GET,
            "failures": list(printing.failure_list(user=request.user, cycle=cycle)[:50]) if cycle else [],
            "pending": printing.lists_pending(cycle_id=cycle.pk) if cycle and printing_on else 0,
        },
    )


@rule_required(rules.PRINT)
def print_list(request: HttpRequest, cycle_id: int, kind: str, place: str, date: str) -> HttpResponse:
    """One list: the page (phone-friendly, prints on A4), or its kept PDF or XLSX (``?format=``)."""
    from django.core.paginator import Paginator
    from django.http import FileResponse

    from core.errors import NotFound
    from deliveries.printing import rendering
    from deliveries.printing import selectors as printing
    from deliveries.printing import services as printing_services

    key = printing.ListKey.parse(kind=kind, cycle_id=cycle_id, place=place, date=date)
    if key is None or not printing.list_allowed(user=request.user, key=key):
        raise Http404(_("There is no such list, or it is not yours to see."))
    if not printing.printable_cycles(user=request.user).filter(pk=cycle_id).exists():
        raise Http404(_("This cycle has no printed lists yet: its packages are not built."))
    fmt = request.GET.get("format", "html")
    if fmt in ("pdf", "xlsx"):
        try:
            document = printing_services.document_for_download(key=key)
        except NotFound as exc:
            raise Http404(exc.message) from None
        field = document.pdf if fmt == "pdf" else document.xlsx
        return FileResponse(
            field.open("rb"),
            as_attachment=fmt == "xlsx",
            filename=f"{document.title}.{fmt}".replace("/", "-"),
            content_type="application/pdf"
            if fmt == "pdf"
            else "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        )
    if fmt != "html":
        raise Http404(_("Lists are available as a page, a PDF or a spreadsheet only."))
    data = printing.list_data(key=key)
    if not data["rows"]:
        raise Http404(_("There is nothing on this list: no packages for this place and day."))
    labels_page = None
    shown_labels = None
    if key.kind == "labels":
        labels_page = Paginator(data["labels"], LABELS_PER_PAGE).get_page(request.GET.get("page"))
        shown_labels = list(labels_page.object_list)
    worker = request.user.display_name if allows(request.user, rules.DOOR_LISTS) and request.user.community_id else ""
    context = rendering.context(
        data,
        paper=False,
        worker=worker,
        base_url=request.build_absolute_uri("/").rstrip("/"),
        labels=shown_labels,
    )
    context.update(
        {
            "key": key,
            "page": labels_page,
            "query": request.GET,
            "list_url": reverse("deliveries:print_list", args=key.url_args()),
        }
    )
    return render(request, "deliveries/print/screen.html", context)


def package_scan(request: HttpRequest, code: str) -> HttpResponse:
    """What a label's QR code opens: the package's summary and history for staff in scope, with the
    door buttons for those who deliver. Anyone else gets 404, whether the package exists or not."""
    from django.contrib.auth.views import redirect_to_login

    if not request.user.is_authenticated:
        return redirect_to_login(request.get_full_path())
    if not allows(request.user, rules.SCAN):
        raise Http404(_("There is no such package, or it is not yours to see."))
    package = selectors.package_get_for_staff(
        user=request.user, code=code, cycle=int_param(request.GET, "cycle", maximum=10**9)
    )
    if package is None:
        raise Http404(_("There is no such package, or it is not yours to see."))
    selectors.door_outcomes_mark([package], user=request.user, now=timezone.now())
    return render(
        request,
        "deliveries/package_scan.html",
        {
            "package": package,
            "can_mark": allows(request.user, rules.DOORS),
            "reasons": ExceptionReason.choices,
            "here": request.get_full_path(),
        },
    )


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
                    "here": reverse("deliveries:round") + f"?date={day.isoformat()}&compound={rows[0].compound_id}",
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
        messages.error(request, _("Enter a package code as printed on its label, e.g. ZY-12-34-001."))
        return redirect(reverse("deliveries:round") if allows(request.user, rules.DOORS) else "home")
    return redirect("package_scan", code=code)


def _receiving(
    request: HttpRequest, day: datetime.date, *, typed: dict | None = None, status: int = 200
) -> HttpResponse:
    """The receiving page of a day; ``typed`` keeps what was entered in one consignment's form
    (``{"pk": …, "packages_received": …, …}``) when it was refused."""
    hops = tuple(hop for hop, name in handovers.RECEIVERS.items() if allows(request.user, name))
    consignments = list(selectors.consignments_to_receive(user=request.user, day=day, hops=hops))
    expected = handovers.consignments_expected([c for c in consignments if not c.receipts])
    for c in consignments:
        c.expected = expected.get(c.pk)
        c.typed = typed if typed and typed.get("pk") == c.pk else None
    return render(
        request,
        "deliveries/handovers/receiving.html",
        {
            "day": day,
            "previous": day - datetime.timedelta(days=1),
            "next": day + datetime.timedelta(days=1),
            "consignments": consignments,
            "here": reverse("deliveries:receiving") + f"?date={day.isoformat()}",
        },
        status=status,
    )


@rule_required(rules.RECEIVING)
def receiving_page(request: HttpRequest) -> HttpResponse:
    """The consignments of a day the user's place receives, each form pre-filled with what is
    expected (the list less what went missing upstream)."""
    return _receiving(request, _day(request, request.GET))


@require_POST
@rule_required(rules.RECEIVING)
def consignment_receive(request: HttpRequest, pk: int) -> HttpResponse:
    """Confirm one consignment; a refused one shows the page again with what was typed and why (400)."""
    try:
        event = handovers.consignment_receive(
            consignment_id=pk,
            by=request.user,
            packages_received=request.POST.get("packages_received", ""),
            items_received=request.POST.get("items_received", ""),
            note=request.POST.get("note", ""),
            location=request.POST.get("location", ""),
        )
    except NotFound as exc:
        raise Http404(exc.message) from None
    except BaogongError as exc:
        messages.error(request, exc.message)
        consignment = (
            selectors.consignments_to_receive(user=request.user, day=None, hops=tuple(handovers.RECEIVERS))
            .filter(pk=pk)
            .first()
        )
        typed = {
            key: request.POST.get(key, "")[:2000] for key in ("packages_received", "items_received", "note", "location")
        }
        day = consignment.delivery_date if consignment else timezone.localdate()
        return _receiving(request, day, typed={"pk": pk, **typed}, status=exc.status_code)
    messages.success(
        request,
        _("Received: %(packages)d packages, %(items)d items.")
        % {"packages": event.packages_received, "items": event.items_received},
    )
    return redirect_back(request, reverse("deliveries:receiving"))


@rule_required(rules.RECONCILE)
def reconciliation_page(request: HttpRequest, pk: int) -> HttpResponse:
    """What is still open in a cycle, by community, and (``?community=``) that community's open packages."""
    from django.core.paginator import Paginator

    cycle = get_object_or_404(selectors.cycle_list(user=request.user), pk=pk)
    rows = selectors.reconciliation(user=request.user, cycle=cycle)
    community_id = id_param(request.GET, "community")
    drill = next((r for r in rows if r.community_id == community_id), None)
    if community_id is not None and drill is None:
        raise Http404(_("There is no such community in this cycle, or it is not yours to see."))
    page = None
    if drill is not None:
        page = Paginator(
            selectors.open_packages(user=request.user, cycle=cycle, community_id=drill.community_id), OPEN_PER_PAGE
        ).get_page(request.GET.get("page"))
    totals = {key: sum(getattr(r, key) for r in rows) for key in ("total", "delivered", "refused", "open")}
    return render(
        request,
        "deliveries/handovers/reconciliation.html",
        {
            "cycle": cycle,
            "rows": rows,
            "totals": totals,
            "drill": drill,
            "page": page,
            "can_complete": allows(request.user, rules.COMPLETE_CYCLE),
        },
    )


@require_POST
@rule_required(rules.COMPLETE_CYCLE)
def cycle_complete(request: HttpRequest, pk: int) -> HttpResponse:
    cycle = get_object_or_404(selectors.cycle_list(user=request.user), pk=pk)
    cycle = handovers.cycle_complete_if_done(cycle_id=cycle.pk)
    if cycle.status == "complete":
        messages.success(
            request, _("Cycle %(n)s is complete: every package is delivered or has its outcome.") % {"n": cycle.number}
        )
    else:
        messages.error(
            request, _("Cycle %(n)s is not complete: packages are still open (listed below).") % {"n": cycle.number}
        )
    return redirect("deliveries:reconciliation", pk=cycle.pk)


@rule_required(rules.MY_PACKAGES)
def my_packages(request: HttpRequest) -> HttpResponse:
    """Where is my package: the household's latest packages with their status and history.

    Loaded into the home and order pages by htmx (``?cycle=`` narrows it to one cycle's), or a page of its own.
    """
    cycle_id = id_param(request.GET, "cycle")
    packages = selectors.resident_packages(user=request.user, cycle_id=cycle_id)
    template = "deliveries/handovers/_my_packages.html" if request.htmx else "deliveries/handovers/my_packages.html"
    return render(request, template, {"packages": packages})


@rule_required(rules.COVERAGE)
def change_coverage(request: HttpRequest, pk: int) -> HttpResponse:
    """Who a lockdown change to stay-at-home covered this cycle, and who is not yet."""
    found = selectors.change_coverage(user=request.user, change_id=pk)
    if found is None:
        raise Http404(_("There is no such lockdown change, or it is not yours to see."))
    change, cycle, rows = found
    counts = {state: sum(1 for r in rows if r.state == state) for state in ("covered", "declined", "waiting")}
    return render(
        request,
        "deliveries/change_coverage.html",
        {
            "change": change,
            "cycle": cycle,
            "rows": rows,
            "counts": counts,
        },
    )
