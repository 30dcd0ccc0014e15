"""The printed lists (deliveries.printing): the index, one list as a page, PDF or spreadsheet, and a
scanned label's package."""

from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from core.edges import id_param, int_param
from core.errors import NotFound
from deliveries import rules, selectors
from deliveries.models import ExceptionReason
from households.permissions import allows, rule_required
from supply import rules as supply_rules
from supply import selectors as supply_selectors

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
            "progress": printing.lists_progress(cycle_id=cycle.pk) if cycle and printing_on else None,
        },
    )


@rule_required(rules.PRINT)
def print_list(request: HttpRequest, cycle_id: int, kind: str, place: str, date: str) -> HttpResponse:
    """One list: the page (phone-friendly, prints on A4), or its kept PDF or XLSX (``?format=``)."""
    from django.core.paginator import Paginator
    from django.http import FileResponse

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
    packages = selectors.packages_get_for_staff(
        user=request.user, code=code, cycle=int_param(request.GET, "cycle", maximum=10**9)
    )
    if not packages:
        raise Http404(_("There is no such package, or it is not yours to see."))
    if len(packages) > 1:  # a code typed without its cycle, on packages of several cycles
        return render(request, "deliveries/package_choose.html", {"packages": packages, "code": code})
    package = packages[0]
    selectors.door_outcomes_mark([package], user=request.user, now=timezone.now())
    return render(
        request,
        "deliveries/package_scan.html",
        {
            "package": package,
            "can_mark": allows(request.user, rules.DOORS),
            "reasons": ExceptionReason.choices,
            "here": request.get_full_path(),
            "refundable": (
                list(
                    supply_selectors.refundable_lines(
                        user=request.user, order_ids=package.order_links.values("order_id")
                    )
                )
                if allows(request.user, supply_rules.REFUND_LINE)
                else []
            ),
        },
    )
