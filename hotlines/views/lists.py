"""The task force's and worker's lists: price complaints, unsealing, the offline archive."""

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from core.edges import id_param
from core.errors import BaogongError, NotFound
from core.replica import reads_from_replica
from hotlines import offline as offline_archive
from hotlines import rules, selectors
from households import selectors as household_selectors
from households.permissions import allows, rule_required


@reads_from_replica
@require_GET
@rule_required(rules.PRICE_COMPLAINTS)
def price_complaints(request: HttpRequest) -> HttpResponse:
    """Products named by price complaints to the hotline (明码标价), next to their posted price and cap."""
    return render(
        request,
        "hotlines/price_complaints.html",
        {
            "rows": selectors.price_complaints(user=request.user),
            "days": 30,
            # the product's page (price history, cap) is the task force's
            "can_open_product": allows(request.user, rules.PRODUCTS),
        },
    )


@require_GET
@rule_required(rules.UNSEALING)
def unsealing_list(request: HttpRequest) -> HttpResponse:
    """Sealed places and their runs of negative days, eligible ones first, next to the hotline's
    reports that a compound qualifies but is still sealed."""
    statuses = household_selectors.unsealing_list(user=request.user)
    reports = selectors.unsealing_reports(user=request.user, compound_ids={s.compound.pk for s in statuses})
    for status in statuses:
        status.reports = reports.get(status.compound.pk) if status.building is None else None
    return render(
        request,
        "hotlines/unsealing_list.html",
        {
            "eligible": [s for s in statuses if s.eligible],
            "waiting": [s for s in statuses if not s.eligible][:3000],
            "days": household_selectors.UNSEAL_AFTER_NEGATIVE_DAYS,
        },
    )


@require_GET
@rule_required(rules.OFFLINE)
def offline(request: HttpRequest) -> HttpResponse:
    """The offline fallback: download the next three days' lists and the ledger as one archive."""
    communities = household_selectors.community_list(user=request.user).order_by("name")[:500]
    return render(
        request,
        "hotlines/offline.html",
        {
            "communities": communities,
            "days": offline_archive.OFFLINE_DAYS,
            "min_length": offline_archive.MIN_PASSWORD_LENGTH,
        },
    )


@require_POST
@rule_required(rules.OFFLINE)
def offline_download(request: HttpRequest) -> HttpResponse:
    """The encrypted archive, with the password the community chose (typed twice); a refused
    password shows the page again with the reason (400)."""
    from django.http import Http404

    community_id = request.user.community_id or id_param(request.POST, "community")
    if community_id is None:
        raise Http404(_("Choose a community."))
    try:
        password = offline_archive.check_password(
            request.POST.get("password", ""), request.POST.get("password_again", "")
        )
        archive = offline_archive.community_offline_archive(
            user=request.user, community_id=community_id, password=password
        )
    except NotFound as exc:
        raise Http404(exc.message) from None
    except BaogongError as exc:
        communities = household_selectors.community_list(user=request.user).order_by("name")[:500]
        return render(
            request,
            "hotlines/offline.html",
            {
                "communities": communities,
                "days": offline_archive.OFFLINE_DAYS,
                "error": exc.message,
                "min_length": offline_archive.MIN_PASSWORD_LENGTH,
            },
            status=exc.status_code,
        )
    response = HttpResponse(archive.content, content_type="application/zip")
    response["Content-Disposition"] = f'attachment; filename="{archive.filename}"'
    response["Cache-Control"] = "no-store"
    return response
