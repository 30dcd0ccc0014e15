from django.contrib.auth.backends import ModelBackend

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
