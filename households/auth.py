import datetime

from django.contrib.auth.backends import ModelBackend
from django.db import connection
from django.utils import timezone
from django.utils.crypto import constant_time_compare
from django.utils.translation import gettext_lazy
from rest_framework import authentication, exceptions

from core.phones import InvalidPhone, phone_normalize
from households.identity import api_token_digest
from households.models import ApiToken, Role, User


class PhoneNumberBackend(ModelBackend):
    """Residents and volunteers sign in with the phone number of their account and a password."""

    def authenticate(self, request, username=None, password=None, **kwargs):
        if not username or password is None:
            return None
        try:
            phone = phone_normalize(username)
        except InvalidPhone:
            return None
        try:
            user = User.objects.get(phone=phone, role__in=(Role.RESIDENT, Role.VOLUNTEER))
        except User.DoesNotExist:
            User().set_password(password)  # same work as a real check: no timing oracle
            return None
        if user.check_password(password) and self.user_can_authenticate(user):
            return user
        return None


class TokenAuthentication(authentication.TokenAuthentication):
    """``Authorization: Token …`` against :class:`ApiToken` (only the key's SHA-256 is stored),
    the token and its user read in one hand-written query instead of the ORM's ``select_related``
    (the ORM spent longer building that query than the database running it; every API request
    pays it).

    No cache: a revoked or expired token, a deactivated account, or a changed password, role or
    place (the token's fingerprint no longer matches) counts from the next request → 401 with
    DRF's messages (and their translations) or ours.
    """

    def authenticate_credentials(self, key):
        fields = User._meta.concrete_fields
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT t.id, t.expires_at, t.fingerprint, t.last_used_at, %s FROM households_apitoken t "
                "JOIN households_user u ON u.id = t.user_id WHERE t.digest = %%s"
                % ", ".join(f"u.{connection.ops.quote_name(field.column)}" for field in fields),
                [api_token_digest(key)],
            )
            row = cursor.fetchone()
        if row is None:
            raise exceptions.AuthenticationFailed(gettext_lazy("Invalid token."))
        token_values, values = list(row[:4]), list(row[4:])
        for index, column in ((1, "expires_at"), (3, "last_used_at")):
            token_values[index] = _convert(ApiToken, column, token_values[index])
        for index, field in enumerate(fields):  # what the ORM would convert (SQLite: booleans, times)
            values[index] = _convert(User, field.name, values[index])
        user = User.from_db(connection.alias, [field.attname for field in fields], values)
        token_id, expires_at, fingerprint, last_used_at = token_values
        now = timezone.now()
        if expires_at <= now:
            raise exceptions.AuthenticationFailed(gettext_lazy("The token has expired. Sign in again for a new one."))
        if not user.is_active:
            raise exceptions.AuthenticationFailed(gettext_lazy("User inactive or deleted."))
        if not constant_time_compare(fingerprint, user.get_session_auth_hash()):
            raise exceptions.AuthenticationFailed(
                gettext_lazy("The token was revoked by a change of password, role or place. Sign in again.")
            )
        if last_used_at is None or now - last_used_at > TOKEN_USE_RESOLUTION:
            ApiToken.objects.filter(pk=token_id).update(last_used_at=now)
        token = ApiToken(pk=token_id, user=user, expires_at=expires_at, fingerprint=fingerprint)
        token._state.adding, token._state.db = False, connection.alias
        return user, token


# "Last used" is kept to the quarter hour, so that a token in steady use writes once per 15 minutes.
TOKEN_USE_RESOLUTION = datetime.timedelta(minutes=15)


def _convert(model, field_name: str, value):
    col = model._meta.get_field(field_name).get_col(model._meta.db_table)
    for converter in connection.ops.get_db_converters(col) + col.get_db_converters(connection):
        value = converter(value, col, connection)
    return value
