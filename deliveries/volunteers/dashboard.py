"""Volunteers on the dashboards (see households.dashboard): who is on duty today, how many doors
volunteers carried today, and doors per volunteer. Registered by ``DeliveriesConfig.ready()``."""

import datetime

from django.db.models import Count
from django.utils import timezone
from django.utils.translation import gettext_lazy

from core.dashboard import Column, Provider, ProviderResult, Table, register_provider
from deliveries.models import HandoverEvent, HandoverKind, ShiftSignup, SignupStatus
from households.dashboard import DashboardQuery, place_paths
from households.models import Role

SIGNUP_PATHS = place_paths(community="shift__community")
EVENT_PATHS = place_paths(compound="package__compound", community="package__community")
GROUP = gettext_lazy("Volunteers today (红马甲)")


def _volunteers(query: DashboardQuery) -> ProviderResult:
    """Live figures of today, whatever cycle is shown: two grouped counts and one small table."""
    today = timezone.localdate(query.now)
    start = timezone.make_aware(datetime.datetime.combine(today, datetime.time.min))
    on_duty = ShiftSignup.objects.filter(status=SignupStatus.CONFIRMED, shift__day=today)
    doors = HandoverEvent.objects.filter(
        kind=HandoverKind.DELIVERED, at__gte=start, by__role=Role.VOLUNTEER, undone_by__isnull=True
    )
    by_child: dict[int | None, dict[str, int]] = {}
    if query.child_level == "compound":  # shifts belong to the community, not to a compound
        total_duty = query.narrow(on_duty, SIGNUP_PATHS).values("user_id").distinct().count()
        by_child[None] = {"volunteers_on_duty": total_duty}
    else:
        rows = query.by_child(on_duty, SIGNUP_PATHS).annotate(volunteers_on_duty=Count("user_id", distinct=True))
        by_child.update(query.group(rows, SIGNUP_PATHS))
        # A volunteer serves one community: the communities' distinct counts add up.
        total_duty = sum(figures.get("volunteers_on_duty", 0) for figures in by_child.values())
    for child, figures in query.group(
        query.by_child(doors, EVENT_PATHS).annotate(volunteer_doors=Count("id")), EVENT_PATHS
    ).items():
        by_child.setdefault(child, {}).update(figures)
    total_doors = sum(figures.get("volunteer_doors", 0) for figures in by_child.values())
    per = f"{total_doors / total_duty:.1f}" if total_duty else "—"
    table = [{"on_duty": total_duty, "doors": total_doors, "per_volunteer": per}]
    return ProviderResult(by_child=by_child, tables={"volunteers": table})


def register() -> None:
    register_provider(
        Provider(
            name="volunteers",
            compute=_volunteers,
            columns=(
                Column("volunteers_on_duty", gettext_lazy("Volunteers on duty"), GROUP),
                Column("volunteer_doors", gettext_lazy("Doors carried by volunteers"), GROUP),
            ),
            tables=(
                Table(
                    "volunteers",
                    gettext_lazy("Volunteers today"),
                    (
                        Column("on_duty", gettext_lazy("On duty")),
                        Column("doors", gettext_lazy("Doors delivered")),
                        Column("per_volunteer", gettext_lazy("Doors per volunteer"), kind="text"),
                    ),
                ),
            ),
        )
    )
