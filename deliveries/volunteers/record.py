"""The service record on paper: a volunteer's certificate of service hours (志愿服务时长证明) as a PDF."""

from __future__ import annotations

import datetime
from collections import defaultdict

from django.conf import settings
from django.http import HttpResponse
from django.template.loader import render_to_string
from django.utils import timezone

from deliveries.volunteers.selectors import ServiceDay
from households.models import Volunteer


def certificates_pdf(*, rows: list[ServiceDay], start: datetime.date, end: datetime.date) -> bytes:
    """One A4 page per volunteer in ``rows``: each day served, hours and doors, the totals."""
    from weasyprint import HTML

    by_volunteer: dict[int, list[ServiceDay]] = defaultdict(list)
    for row in rows:
        by_volunteer[row.volunteer_id].append(row)
    people = {v.pk: v for v in Volunteer.objects.filter(pk__in=by_volunteer).select_related("community")}
    pages = [
        {
            "volunteer": people[pk],
            "days": days,
            "hours": round(sum(d.hours for d in days), 2),
            "doors": sum(d.doors for d in days),
        }
        for pk, days in sorted(by_volunteer.items(), key=lambda item: people[item[0]].name)
    ]
    html = render_to_string(
        "deliveries/volunteers/certificate.html",
        {"pages": pages, "start": start, "end": end, "issued": timezone.localdate()},
    )
    return HTML(string=html, base_url=str(settings.BASE_DIR)).write_pdf()


def certificate_response(*, rows: list[ServiceDay], start: datetime.date, end: datetime.date) -> HttpResponse:
    response = HttpResponse(certificates_pdf(rows=rows, start=start, end=end), content_type="application/pdf")
    response["Content-Disposition"] = f'attachment; filename="service-record-{start:%Y%m%d}-{end:%Y%m%d}.pdf"'
    return response
