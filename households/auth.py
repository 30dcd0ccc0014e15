from django.contrib.auth.backends import ModelBackend
from django.db import connection
from django.utils.translation import gettext_lazy
from rest_framework import authentication, exceptions
from rest_framework.authtoken.models import Token

from households.models import Role, User
from households.phones import InvalidPhone, phone_normalize


class PhoneNumberBackend(ModelBackend):
    """Residents sign in with the phone number of their account and a password."""

    def authenticate(self, request, username=None, password=None, **kwargs):
        if not username or password is None:
            return None
        try:
            phone = phone_normalize(username)
        except InvalidPhone:
            return None
        try:
            user = User.objects.get(phone=phone, role=Role.RESIDENT)
        except User.DoesNotExist:
            User().set_password(password)  # same work as a real check: no timing oracle
            return None
        if user.check_password(password) and self.user_can_authenticate(user):
            return user
        return None


class TokenAuthentication(authentication.TokenAuthentication):
    """DRF's token authentication (``Authorization: Token …``), with the token and its user read in
    one hand-written query instead of the ORM's ``select_related`` (the ORM spent longer building
    that query than the database running it; every API request pays it).

    No cache: a deleted token or a deactivated or re-linked account counts from the next request.
    Same answers as DRF's, with DRF's messages (and their translations): an unknown token or an
    inactive user → 401.
    """

    def authenticate_credentials(self, key):
        fields = User._meta.concrete_fields
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT t.created, %s FROM authtoken_token t JOIN households_user u ON u.id = t.user_id WHERE t.key = %%s"
                % ", ".join(f"u.{connection.ops.quote_name(field.column)}" for field in fields),
                [key],
            )
            row = cursor.fetchone()
        if row is None:
            raise exceptions.AuthenticationFailed(gettext_lazy("Invalid token."))
        created, values = row[0], list(row[1:])
        for index, field in enumerate(fields):  # what the ORM would convert (SQLite: booleans, times)
            col = field.get_col(User._meta.db_table)
            for converter in connection.ops.get_db_converters(col) + col.get_db_converters(connection):
                values[index] = converter(values[index], col, connection)
        user = User.from_db(connection.alias, [field.attname for field in fields], values)
        if not user.is_active:
            raise exceptions.AuthenticationFailed(gettext_lazy("User inactive or deleted."))
        token = Token(key=key, user=user)
        token.created = created
        token._state.adding, token._state.db = False, connection.alias
        return user, token
