"""The hotline API of ``/api/v1/``: a telephone system logs an incoming call and pops the console.

``POST /api/v1/hotline/calls/`` ``{"phone": "…"}`` (hotline operators) → 201
``{"id": …, "households": [...]}``; a malformed number → 400 in the project's error shape.
"""

from django.urls import reverse
from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import extend_schema
from rest_framework import serializers, status
from rest_framework.permissions import BasePermission, IsAuthenticated
from rest_framework.response import Response
from rest_framework.views import APIView

from core.phones import phone_normalize
from hotlines import rules, selectors, services
from households.permissions import allows
from supply.apis import ErrorOutputSerializer


class IsOperator(BasePermission):
    message = _("Only supply-hotline operators log hotline calls.")

    def has_permission(self, request, view) -> bool:
        return allows(request.user, rules.CONSOLE) and request.user.district_id is not None


class CallHouseholdSerializer(serializers.Serializer):
    class Meta:
        ref_name = "HotlineCallHousehold"

    id = serializers.IntegerField()
    address = serializers.CharField()
    contact_name = serializers.CharField()
    community = serializers.CharField(source="building.compound.community.name")
    lockdown_level = serializers.IntegerField(source="effective")
    care = serializers.ListField(child=serializers.CharField(), source="care_labels")


class CallCreateApi(APIView):
    """Log an incoming call to the operator's district hotline and return the caller's households."""

    permission_classes = [IsAuthenticated, IsOperator]

    class InputSerializer(serializers.Serializer):
        phone = serializers.CharField(label=_("Caller number"), max_length=40)

        class Meta:
            ref_name = "HotlineCallInput"

    class OutputSerializer(serializers.Serializer):
        id = serializers.IntegerField()
        phone = serializers.CharField(source="caller_number")
        console = serializers.CharField()
        households = CallHouseholdSerializer(many=True)

        class Meta:
            ref_name = "HotlineCall"

    @extend_schema(
        request=InputSerializer,
        responses={
            201: OutputSerializer,
            400: ErrorOutputSerializer,
            401: ErrorOutputSerializer,
            403: ErrorOutputSerializer,
        },
    )
    def post(self, request):
        serializer = self.InputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        phone = serializer.validated_data["phone"]
        # Validate the number before looking anything up: a malformed one is a 400 and logs nothing.
        number = phone_normalize(phone)
        households = list(selectors.caller_households(user=request.user, phone=number)[:50])
        call = services.call_start(operator=request.user, phone=number, household_ids=[h.pk for h in households])
        data = {
            "id": call.pk,
            "caller_number": call.caller_number,
            "console": request.build_absolute_uri(reverse("hotlines:call", args=[call.pk])),
            "households": households,
        }
        return Response(self.OutputSerializer(data).data, status=status.HTTP_201_CREATED)
