"""A cycle's money statement: the page, its CSV and XLSX files (the API is deliveries.apis)."""

import csv
import io

from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET

from core.edges import csv_cells, id_param, int_param, xlsx_append
from core.replica import reads_from_replica
from deliveries import rules, selectors
from deliveries.statements import Statement, statement_build
from households.models import User
from households.permissions import rule_required
from supply.models import Cycle


def statement_for(user: User, params) -> Statement:
    """The statement a request asks for: ``cycle`` (its number; the latest by default) and
    ``supplier`` (an id), each parsed strictly (400 otherwise); an unknown cycle is 404."""
    number = int_param(params, "cycle", minimum=1, maximum=2**31 - 1)
    supplier_id = id_param(params, "supplier")
    cycles = selectors.cycle_list(user=user)
    cycle: Cycle | None = cycles.filter(number=number).first() if number else cycles.first()
    if cycle is None:
        raise Http404(_("No such cycle."))
    if user.supplier_id is not None:
        supplier_id = user.supplier_id  # a supplier's statement is its own, whatever was asked
    return statement_build(user=user, cycle=cycle, supplier_id=supplier_id)


@reads_from_replica
@require_GET
@rule_required(rules.STATEMENTS)
def statements_page(request: HttpRequest) -> HttpResponse:
    statement = statement_for(request.user, request.GET)
    return render(
        request,
        "deliveries/statements.html",
        {
            "statement": statement,
            "totals": statement.totals,
            "cycles": list(selectors.cycle_list(user=request.user).values_list("number", flat=True)[:8]),
            "supplier": request.GET.get("supplier", ""),
        },
    )


def _rows(statement: Statement) -> list[list]:
    """The statement as rows of cells: suppliers with a total, then the communities' cash."""
    header = [
        _("Supplier"),
        _("Sold"),
        _("Paid online"),
        _("Collected in cash"),
        _("Refunded"),
        _("Outstanding"),
        _("Free baseline items"),
        _("Owed to the supplier"),
    ]
    rows: list[list] = [[_("Cycle %(n)s") % {"n": statement.cycle.number}], header]
    for s in [*statement.suppliers, statement.totals]:
        rows.append([s.supplier, s.sold, s.online, s.cash, s.refunded, s.outstanding, s.free, s.owed])
    if statement.communities:
        rows += [[], [_("Community"), _("Cash collected"), _("Handed over"), _("Not yet handed over")]]
        rows += [[c.community, c.collected, c.handed_over, c.not_handed_over] for c in statement.communities]
    return rows


@reads_from_replica
@require_GET
@rule_required(rules.STATEMENTS)
def statements_export(request: HttpRequest, fmt: str) -> HttpResponse:
    statement = statement_for(request.user, request.GET)
    name = f"statement-{statement.cycle.number}"
    if fmt == "csv":
        buffer = io.StringIO()
        writer = csv.writer(buffer)
        for row in _rows(statement):
            writer.writerow(csv_cells(row))
        response = HttpResponse("\ufeff" + buffer.getvalue(), content_type="text/csv; charset=utf-8")
    elif fmt == "xlsx":
        from openpyxl import Workbook

        book = Workbook()
        sheet = book.active
        sheet.title = _("Statement")
        for row in _rows(statement):
            xlsx_append(sheet, row)
        for cell in sheet.iter_rows(min_row=3, min_col=2):
            for c in cell:
                c.number_format = "0.00"
        out = io.BytesIO()
        book.save(out)
        response = HttpResponse(
            out.getvalue(), content_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
        )
    else:
        raise Http404
    response["Content-Disposition"] = f'attachment; filename="{name}.{fmt}"'
    return response
