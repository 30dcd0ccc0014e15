"""``GET /api/v1/statements/?cycle=N[&supplier=ID]``: a cycle's money statement in the caller's
scope (the task force its district or the city, an office or community worker its area, a supplier
its own goods), the same figures as the statements page (deliveries.statements)."""

from django.utils.translation import gettext_lazy
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import serializers
from rest_framework.permissions import BasePermission, IsAuthenticated
from rest_framework.response import Response
from rest_framework.views import APIView

from core.replica import reads_from_replica
from deliveries import rules
from deliveries.views.statements import statement_for
from households.permissions import allows

MONEY = {"help_text": gettext_lazy("yuan, a string with 2 decimals")}


class CanSeeStatements(BasePermission):
    message = gettext_lazy("Statements are for suppliers, the task force, offices and community workers.")

    def has_permission(self, request, view) -> bool:
        return allows(request.user, rules.STATEMENTS)


class _Figures(serializers.Serializer):
    sold = serializers.CharField(**MONEY)
    paid_online = serializers.CharField(**MONEY)
    collected_in_cash = serializers.CharField(**MONEY)
    refunded = serializers.CharField(**MONEY)
    outstanding = serializers.CharField(help_text=gettext_lazy("to_collect + refund_due"))
    to_collect = serializers.CharField(**MONEY)
    refund_due = serializers.CharField(**MONEY)
    free_baseline = serializers.CharField(**MONEY)
    owed = serializers.CharField(help_text=gettext_lazy("paid_online + collected_in_cash + free_baseline"))

    class Meta:
        ref_name = "StatementFigures"


class _SupplierFigures(_Figures):
    supplier = serializers.IntegerField()
    name = serializers.CharField()

    class Meta:
        ref_name = "SupplierStatement"


class _CommunityCash(serializers.Serializer):
    community = serializers.IntegerField()
    name = serializers.CharField()
    collected = serializers.CharField(**MONEY)
    handed_over = serializers.CharField(**MONEY)
    not_handed_over = serializers.CharField(**MONEY)

    class Meta:
        ref_name = "CommunityCash"


class _Online(serializers.Serializer):
    received = serializers.CharField(**MONEY)
    refunded = serializers.CharField(**MONEY)
    refund_due = serializers.CharField(**MONEY)

    class Meta:
        ref_name = "OnlineMoney"


class _Disagreement(serializers.Serializer):
    order = serializers.IntegerField()
    household = serializers.IntegerField()
    problem = serializers.CharField()
    message = serializers.CharField()

    class Meta:
        ref_name = "Disagreement"


class StatementOutput(serializers.Serializer):
    cycle = serializers.IntegerField()
    suppliers = _SupplierFigures(many=True)
    totals = _Figures()
    communities = _CommunityCash(many=True)
    online = _Online()
    disagreements = _Disagreement(many=True)

    class Meta:
        ref_name = "Statement"


@reads_from_replica
class StatementsApi(APIView):
    """A cycle's money statement: per supplier sold = paid online + collected in cash + refunded +
    outstanding; the communities' cash; the online money; the orders whose payment and package disagree."""

    permission_classes = [IsAuthenticated, CanSeeStatements]

    @extend_schema(
        tags=["statements"],
        operation_id="statements_retrieve",
        parameters=[
            OpenApiParameter("cycle", int, description="the cycle's number (default: the latest)", required=False),
            OpenApiParameter("supplier", int, description="one supplier's goods", required=False),
        ],
        responses={200: StatementOutput},
    )
    def get(self, request):
        return Response(StatementOutput(statement_for(request.user, request.query_params).as_dict()).data)
