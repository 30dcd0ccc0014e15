"""``GET /api/v1/dashboard/``: the dashboard figures of the caller's scope as JSON (see households.dashboard).

Task force (a district, or the city), office staff and community workers get their own place's
figures; ``?place=district:ID|office:ID|community:ID`` narrows them to a place within the scope
(outside it, or unknown → 404; malformed → 400); ``?cycle=N`` picks a cycle by its number.
Residents, suppliers and hotline operators → 403.
"""

from django.utils.translation import gettext_lazy
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import serializers
from rest_framework.permissions import BasePermission, IsAuthenticated
from rest_framework.response import Response
from rest_framework.views import APIView

from core.replica import reads_from_replica
from households import dashboard as dash


class CanSeeDashboards(BasePermission):
    message = gettext_lazy("Dashboards are for the task force, office staff and community workers.")

    def has_permission(self, request, view) -> bool:
        return dash.can_open(request.user)


class DashboardErrorSerializer(serializers.Serializer):
    detail = serializers.CharField()
    errors = serializers.DictField(child=serializers.ListField(child=serializers.CharField()))

    class Meta:
        ref_name = "DashboardError"


def _field(column: dash.Column) -> serializers.Field:
    help_text = str(column.label)
    if column.kind == "rate":
        return serializers.FloatField(allow_null=True, help_text=help_text)
    if column.kind == "text":
        return serializers.CharField(help_text=help_text)
    return serializers.IntegerField(help_text=help_text)


def _serializer(ref_name: str, columns, /, **extra) -> type[serializers.Serializer]:
    fields = {column.key: _field(column) for column in columns}
    meta = type("Meta", (), {"ref_name": ref_name})
    return type(ref_name, (serializers.Serializer,), {**fields, **extra, "Meta": meta})


class PlaceSerializer(serializers.Serializer):
    level = serializers.ChoiceField(choices=dash.LEVELS)
    id = serializers.IntegerField(allow_null=True, help_text=gettext_lazy("null for the city"))
    name = serializers.CharField()

    class Meta:
        ref_name = "DashboardPlace"


class CycleSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    number = serializers.IntegerField()
    status = serializers.CharField()
    opens_at = serializers.DateTimeField()
    cutoff_at = serializers.DateTimeField()
    first_delivery_date = serializers.DateField()

    class Meta:
        ref_name = "DashboardCycle"


def output_serializer() -> type[serializers.Serializer]:
    """The response's shape, from the registered providers' columns and tables."""
    figures = _serializer("DashboardFigures", dash.columns())
    child = _serializer(
        "DashboardChild",
        [],
        level=serializers.ChoiceField(choices=dash.LEVELS),
        id=serializers.IntegerField(),
        name=serializers.CharField(),
        figures=figures(),
    )
    tables = {
        table.key: _serializer(f"Dashboard{table.key.title().replace('_', '')}Row", table.columns)(
            many=True, help_text=str(table.title)
        )
        for provider in dash.providers()
        for table in provider.tables
    }
    return _serializer(
        "Dashboard",
        [],
        place=PlaceSerializer(),
        cycle=CycleSerializer(allow_null=True),
        computed_at=serializers.DateTimeField(),
        totals=figures(help_text=gettext_lazy("The place's own figures: the sums of its children's.")),
        children_level=serializers.ChoiceField(choices=dash.LEVELS[1:]),
        children=child(many=True),
        **tables,
    )


DashboardOutput = output_serializer()

PLACE = OpenApiParameter(
    "place",
    str,
    description="district:ID, office:ID or community:ID — a place within the caller's scope",
    required=False,
    pattern=dash.PLACE_PARAM.pattern,
)
CYCLE = OpenApiParameter("cycle", int, description="the cycle's number (default: the latest cycle)", required=False)


@reads_from_replica
class DashboardApi(APIView):
    """This cycle's figures of a place and of each of its children (one entry per child place)."""

    permission_classes = [IsAuthenticated, CanSeeDashboards]

    @extend_schema(
        tags=["dashboard"],
        operation_id="dashboard_retrieve",
        parameters=[PLACE, CYCLE],
        responses={200: DashboardOutput, **{code: DashboardErrorSerializer for code in (400, 401, 403, 404)}},
    )
    def get(self, request):
        board = dash.dashboard(
            user=request.user, place=request.query_params.get("place"), cycle=request.query_params.get("cycle")
        )
        return Response(DashboardOutput(board.as_data()).data)
