from django.contrib.auth import authenticate
from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import extend_schema
from rest_framework import serializers, status
from rest_framework.authtoken.models import Token
from rest_framework.permissions import AllowAny
from rest_framework.response import Response
from rest_framework.views import APIView

from households.throttling import SignInThrottle


class AuthTokenApi(APIView):
    """Exchange a username (or a resident's phone number) and password for an API token."""

    permission_classes = [AllowAny]
    authentication_classes: list = []
    throttle_classes = [SignInThrottle]

    class InputSerializer(serializers.Serializer):
        username = serializers.CharField(label=_("Username or phone number"), max_length=150)
        password = serializers.CharField(label=_("Password"), max_length=128, trim_whitespace=False)

    class OutputSerializer(serializers.Serializer):
        token = serializers.CharField()

    @extend_schema(request=InputSerializer, responses={200: OutputSerializer})
    def post(self, request):
        serializer = self.InputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        user = authenticate(
            request=request, username=serializer.validated_data["username"], password=serializer.validated_data["password"]
        )
        if user is None:
            message = str(_("The username or phone number and the password do not match."))
            return Response(
                {"detail": message, "errors": {"password": [message]}}, status=status.HTTP_400_BAD_REQUEST
            )
        token, _created = Token.objects.get_or_create(user=user)
        return Response(self.OutputSerializer({"token": token.key}).data)
