"""Pages for the cycle's packaging: progress, closing, levelling delivery days."""

from django.contrib import messages
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from deliveries import selectors, services
from households import selectors as household_selectors
from households import services as household_services
from households.errors import BaogongError
from households.models import Role
from households.permissions import role_required

CYCLE_VIEWERS = (Role.TASKFORCE, Role.OFFICE, Role.WORKER, Role.ADMIN)
CLOSERS = (Role.TASKFORCE, Role.ADMIN)
LEVELLERS = (Role.TASKFORCE, Role.OFFICE, Role.ADMIN)


@role_required(*CYCLE_VIEWERS)
def cycle_list(request: HttpRequest) -> HttpResponse:
    cycles = list(selectors.cycle_list(user=request.user)[:6])
    progress = [selectors.cycle_progress(user=request.user, cycle=cycle) for cycle in cycles]
    return render(
        request,
        "deliveries/cycle_list.html",
        {"progress": progress, "can_close": request.user.role in CLOSERS or request.user.is_superuser,
         "can_level": request.user.role in LEVELLERS or request.user.is_superuser},
    )


@require_POST
@role_required(*CLOSERS)
def cycle_close(request: HttpRequest, pk: int) -> HttpResponse:
    cycle = get_object_or_404(selectors.cycle_list(user=request.user), pk=pk)
    try:
        services.cycle_close(cycle_id=cycle.pk)
    except BaogongError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, _("Cycle %(n)s is closing: each community's packages are being built.") % {"n": cycle.number})
    return redirect("deliveries:cycle_list")


@require_POST
@role_required(*LEVELLERS)
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

PRINT_VIEWERS = (Role.SUPPLIER, Role.OFFICE, Role.WORKER, Role.TASKFORCE, Role.ADMIN)
SCANNERS = (Role.WORKER, Role.OFFICE, Role.OPERATOR, Role.TASKFORCE, Role.ADMIN)
LABELS_PER_PAGE = 60


@role_required(*PRINT_VIEWERS)
def print_index(request: HttpRequest) -> HttpResponse:
    """The lists of a packed cycle that the user may print, by delivery day."""
    from django.core.paginator import Paginator

    from deliveries.printing import selectors as printing

    cycles = list(printing.printable_cycles(user=request.user)[:6])
    cycle = cycles[0] if cycles else None
    wanted = request.GET.get("cycle", "")
    if wanted:
        cycle = next((c for c in cycles if str(c.pk) == wanted), None)
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
        request, "deliveries/print/index.html",
        {"cycles": cycles, "cycle": cycle, "page": page, "query": request.GET},
    )


@role_required(*PRINT_VIEWERS)
def print_list(request: HttpRequest, cycle_id: int, kind: str, place: str, date: str) -> HttpResponse:
    """One list: the page (phone-friendly, prints on A4), or its kept PDF or XLSX (``?format=``)."""
    from django.core.paginator import Paginator
    from django.http import FileResponse

    from deliveries.printing import rendering, selectors as printing
    from deliveries.printing import services as printing_services
    from households.errors import NotFound

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
            field.open("rb"), as_attachment=fmt == "xlsx", filename=f"{document.title}.{fmt}".replace("/", "-"),
            content_type="application/pdf" if fmt == "pdf" else
            "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
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
    worker = request.user.display_name if request.user.role == Role.WORKER else ""
    context = rendering.context(
        data, paper=False, worker=worker, base_url=request.build_absolute_uri("/").rstrip("/"), labels=shown_labels,
    )
    context.update({"key": key, "page": labels_page, "query": request.GET,
                    "list_url": reverse("deliveries:print_list", args=key.url_args())})
    return render(request, "deliveries/print/screen.html", context)


def package_scan(request: HttpRequest, code: str) -> HttpResponse:
    """What a label's QR code opens: the package's summary for staff in scope (the handover actions
    come here later). Anyone else gets 404, whether the package exists or not."""
    from django.contrib.auth.views import redirect_to_login

    from deliveries.printing import selectors as printing
    from households.permissions import role_of

    if not request.user.is_authenticated:
        return redirect_to_login(request.get_full_path())
    if role_of(request.user) not in SCANNERS:
        raise Http404(_("There is no such package, or it is not yours to see."))
    package = printing.package_for_scan(user=request.user, code=code, cycle=request.GET.get("cycle"))
    if package is None:
        raise Http404(_("There is no such package, or it is not yours to see."))
    return render(request, "deliveries/package_scan.html", {"package": package})
