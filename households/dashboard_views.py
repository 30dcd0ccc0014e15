"""The dashboard page and its CSV export (the figures come from households.dashboard)."""

import csv

from django.http import Http404, HttpRequest, HttpResponse, HttpResponseBadRequest
from django.shortcuts import render
from django.utils import timezone
from django.utils.translation import gettext as _

from core.edges import csv_cells
from core.errors import BaogongError, NotFound
from core.replica import reads_from_replica
from households import dashboard as dash
from households import rules
from households.permissions import rule_required


def _board(request: HttpRequest) -> dash.Dashboard:
    return dash.dashboard(user=request.user, place=request.GET.get("place"), cycle=request.GET.get("cycle"))


def _error(request: HttpRequest, exc: BaogongError) -> HttpResponse:
    if isinstance(exc, NotFound) or exc.status_code == 404:
        raise Http404(exc.message)
    return HttpResponseBadRequest(exc.message, content_type="text/plain; charset=utf-8")


@reads_from_replica
@rule_required(rules.DASHBOARD)
def dashboard_page(request: HttpRequest) -> HttpResponse:
    try:
        board = _board(request)
    except BaogongError as exc:
        return _error(request, exc)
    return render(request, "households/dashboard.html", {"board": board, "cycle_param": request.GET.get("cycle", "")})


@reads_from_replica
@rule_required(rules.DASHBOARD)
def dashboard_csv(request: HttpRequest) -> HttpResponse:
    """One row per child place, one column per figure; UTF-8 with a byte-order mark so that
    spreadsheet programs read the Chinese names."""
    try:
        board = _board(request)
    except BaogongError as exc:
        return _error(request, exc)
    response = HttpResponse(content_type="text/csv; charset=utf-8")
    stamp = timezone.localtime(board.computed_at).strftime("%Y%m%d-%H%M")
    name = f"dashboard-{board.place.level}-{board.place.id or 'city'}-{stamp}.csv"
    response["Content-Disposition"] = f'attachment; filename="{name}"'
    response.write("\ufeff")
    writer = csv.writer(response)
    writer.writerow(csv_cells([_("Level"), _("ID"), _("Name"), *[str(c.label) for c in board.columns]]))
    for row in board.rows:
        writer.writerow(
            csv_cells([row.place.level_name, row.place.id, row.place.name, *[row.values[c.key] for c in board.columns]])
        )
    return response
