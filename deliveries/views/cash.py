"""The community's cash sheets: what each person collected at the doors on a day, and the handover."""

from decimal import Decimal

from django.contrib import messages
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from core.edges import date_param, id_param, redirect_back
from core.errors import BaogongError, NotFound
from deliveries import rules
from deliveries.handovers import cash
from deliveries.views.teams import _community
from households.permissions import rule_required


@rule_required(rules.CASH)
def cash_page(request: HttpRequest) -> HttpResponse:
    community = _community(request)
    day = date_param(request.GET, "date") or timezone.localdate()
    rows = cash.cash_sheet(user=request.user, community_id=community.pk, day=day)
    total = sum((r.amount for r in rows), Decimal("0.00"))
    return render(request, "deliveries/cash.html", {"community": community, "day": day, "rows": rows, "total": total})


@require_POST
@rule_required(rules.CASH)
def cash_confirm(request: HttpRequest) -> HttpResponse:
    community = _community(request, request.POST)
    day = date_param(request.POST, "date") or timezone.localdate()
    collector_id = id_param(request.POST, "collector")
    try:
        if collector_id is None:
            raise NotFound(_("Choose whose cash."))
        handover = cash.cash_handover_confirm(
            community_id=community.pk, collector_id=collector_id, day=day, by=request.user
        )
    except NotFound as exc:
        raise Http404(exc.message) from None
    except BaogongError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, _("Handed over and confirmed: ¥%(amount)s.") % {"amount": handover.amount})
    return redirect_back(request, reverse("deliveries:cash") + f"?community={community.pk}&date={day.isoformat()}")
