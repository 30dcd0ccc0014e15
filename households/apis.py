"""Signing in through the API: tokens for a password or a text-message code, listed and revoked by their owner."""

from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import extend_schema, inline_serializer
from rest_framework import serializers, status
from rest_framework.permissions import AllowAny
from rest_framework.response import Response
from rest_framework.views import APIView

from core.guard import Guard, client_ip, guarded
from core.throttling import SignInThrottle
from households import identity, selectors
from households.models import ApiToken, CodePurpose


class TokenOutputSerializer(serializers.Serializer):
    token = serializers.CharField()
    expires_at = serializers.DateTimeField()


class AuthTokenApi(APIView):
    """Exchange a username (or a resident's phone number) and password, or a resident's phone
    number and the text-message code sent to it, for an API token.

    Wrong answers are counted per account and per client address; beyond the limit the answer is
    429 for a growing time, whatever is sent.
    """

    permission_classes = [AllowAny]
    authentication_classes: list = []
    throttle_classes = [SignInThrottle]

    class InputSerializer(serializers.Serializer):
        class Meta:
            ref_name = "AuthTokenInput"

        username = serializers.CharField(label=_("Username or phone number"), max_length=150, required=False)
        password = serializers.CharField(label=_("Password"), max_length=128, trim_whitespace=False, required=False)
        phone = serializers.CharField(label=_("Mobile phone number"), max_length=20, required=False)
        code = serializers.CharField(label=_("Code"), max_length=6, required=False)

        def validate(self, data):
            if data.get("phone") and data.get("code"):
                return data
            if data.get("username") and data.get("password"):
                return data
            raise serializers.ValidationError(
                _("Send a username (or phone number) and password, or a phone number and the code sent to it.")
            )

    @extend_schema(request=InputSerializer, responses={200: TokenOutputSerializer})
    def post(self, request):
        serializer = self.InputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data, ip = serializer.validated_data, client_ip(request)
        if data.get("code"):
            guard = Guard(ACCOUNT=identity.account_key(data["phone"]), ADDRESS=ip)
            user = guarded(guard, lambda: identity.resident_sign_in_by_code(phone=data["phone"], code=data["code"]))
        else:
            guard = Guard(ACCOUNT=identity.account_key(data["username"]), ADDRESS=ip)
            user = guarded(
                guard,
                lambda: identity.password_authenticate(
                    request=request, username=data["username"], password=data["password"]
                ),
            )
        token, key = identity.api_token_issue(user=user, name=request.META.get("HTTP_USER_AGENT", ""))
        return Response(TokenOutputSerializer({"token": key, "expires_at": token.expires_at}).data)

    @extend_schema(request=None, responses={204: None})
    def delete(self, request):
        """Sign out: revoke the token that signs this request."""
        from households.auth import TokenAuthentication

        authenticated = TokenAuthentication().authenticate(request)
        if authenticated is None:
            return Response(
                {"detail": str(_("Send the token to revoke in the Authorization header.")), "errors": {}},
                status=status.HTTP_401_UNAUTHORIZED,
            )
        user, token = authenticated
        identity.api_token_revoke(user=user, token_id=token.pk)
        return Response(status=status.HTTP_204_NO_CONTENT)


class AuthCodeApi(APIView):
    """Ask for a text-message code to sign in (``purpose`` ``sign_in``, the default) or to
    register. The answer is the same for every well-formed number: 202, whether or not a code
    could be sent to it."""

    permission_classes = [AllowAny]
    authentication_classes: list = []
    throttle_classes = [SignInThrottle]

    class InputSerializer(serializers.Serializer):
        class Meta:
            ref_name = "AuthCodeInput"

        phone = serializers.CharField(label=_("Mobile phone number"), max_length=20)
        purpose = serializers.ChoiceField(
            choices=[CodePurpose.SIGN_IN, CodePurpose.REGISTER], default=CodePurpose.SIGN_IN, required=False
        )

    @extend_schema(
        request=InputSerializer,
        responses={202: inline_serializer("AuthCodeOutput", {"detail": serializers.CharField()})},
    )
    def post(self, request):
        serializer = self.InputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        identity.phone_code_send(
            phone=serializer.validated_data["phone"],
            purpose=serializer.validated_data["purpose"],
            client_ip=client_ip(request),
        )
        return Response({"detail": identity.code_sent_message()}, status=status.HTTP_202_ACCEPTED)


class ApiTokenListApi(APIView):
    """The caller's own API tokens (never their keys)."""

    class OutputSerializer(serializers.ModelSerializer):
        class Meta:
            model = ApiToken
            ref_name = "ApiToken"
            fields = ["id", "prefix", "name", "created_at", "expires_at", "last_used_at"]

    @extend_schema(responses={200: OutputSerializer(many=True)})
    def get(self, request):
        tokens = selectors.api_token_list(user=request.user)
        return Response(self.OutputSerializer(tokens, many=True).data)


class ApiTokenRevokeApi(APIView):
    """Revoke one of the caller's own tokens (404 for anyone else's)."""

    @extend_schema(request=None, responses={204: None})
    def delete(self, request, pk: int):
        from django.http import Http404

        if not identity.api_token_revoke(user=request.user, token_id=pk):
            raise Http404
        return Response(status=status.HTTP_204_NO_CONTENT)
