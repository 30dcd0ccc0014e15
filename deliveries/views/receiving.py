"""Consignments received at a hop, and a resident's own packages."""

import datetime

from django.contrib import messages
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from core.edges import id_param, redirect_back
from core.errors import BaogongError, NotFound
from deliveries import handovers, rules, selectors
from deliveries.views.rounds import _day
from households.permissions import allows, rule_required


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


@rule_required(rules.MY_PACKAGES)
def my_packages(request: HttpRequest) -> HttpResponse:
    """Where is my package: the household's latest packages with their status and history.

    Loaded into the home and order pages by htmx (``?cycle=`` narrows it to one cycle's), or a page of its own.
    """
    cycle_id = id_param(request.GET, "cycle")
    packages = selectors.resident_packages(user=request.user, cycle_id=cycle_id)
    template = "deliveries/handovers/_my_packages.html" if request.htmx else "deliveries/handovers/my_packages.html"
    return render(request, template, {"packages": packages})
