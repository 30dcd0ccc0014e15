import unicodedata

from django import forms
from django.contrib.auth.forms import AuthenticationForm
from django.core.validators import RegexValidator
from django.utils.translation import gettext_lazy as _

from core.guard import Guard, client_ip, wait_message
from core.phones import InvalidPhone, phone_normalize
from households.identity import account_key, registration_password_matches
from households.importing import MAX_FILE_BYTES
from households.models import Building, Community, LockdownLevel, RegistrationStatus


class SignInForm(AuthenticationForm):
    """Username (or a resident's phone) and password, under the guard against guessing: wrong
    passwords are counted per account and per client address, and beyond the limit the form is
    refused for a growing time without the password being checked."""

    username = forms.CharField(
        label=_("Username or phone number"),
        max_length=150,
        widget=forms.TextInput(attrs={"autofocus": True, "autocomplete": "username", "inputmode": "text"}),
    )
    error_messages = {
        "invalid_login": _("The username or phone number and the password do not match. Passwords are case-sensitive."),
        "inactive": _("This account is disabled. Call your community."),
    }

    def clean(self):
        username, password = self.cleaned_data.get("username"), self.cleaned_data.get("password")
        if username is None or not password:
            return super().clean()
        guard = Guard(ACCOUNT=account_key(username), ADDRESS=client_ip(self.request))
        wait = guard.wait_seconds()
        if wait:
            self.locked_out = True
            raise forms.ValidationError(wait_message(wait), code="locked")
        try:
            data = super().clean()
        except forms.ValidationError:
            guard.failed()
            raise
        guard.succeeded()
        return data

    def get_invalid_login_error(self):
        """Tell an applicant whose account does not exist yet how their registration stands —
        only when the password typed is the one chosen with it (nobody else learns anything)."""
        registration = registration_password_matches(
            phone=self.cleaned_data.get("username", ""), password=self.cleaned_data.get("password", "")
        )
        if registration is not None:
            if registration.status == RegistrationStatus.PENDING:
                return forms.ValidationError(
                    _(
                        "Your registration is waiting for approval by your community. You can sign in once it is approved."
                    ),
                    code="pending",
                )
            if registration.status == RegistrationStatus.REJECTED:
                return forms.ValidationError(
                    _("Your registration was not approved: %(reason)s. Call your community or the supply hotline.")
                    % {"reason": registration.decision_note},
                    code="rejected",
                )
        return super().get_invalid_login_error()


_ADDRESS_TEXT = RegexValidator(
    r"^[0-9A-Za-z\-\u4e00-\u9fff]*$",
    _("Use digits, letters and - only (for example 1201 or B-302)."),
)


def _address_text(value: str) -> str:
    value = unicodedata.normalize("NFKC", value or "").strip()
    _ADDRESS_TEXT(value)
    return value


class PhoneField(forms.CharField):
    """A Chinese phone number, refused with :func:`phone_normalize`'s message; the value stays as typed."""

    def __init__(self, **kwargs):
        kwargs.setdefault("label", _("Mobile phone number"))
        kwargs.setdefault("max_length", 20)
        kwargs.setdefault("widget", forms.TextInput(attrs={"inputmode": "tel", "autocomplete": "tel"}))
        super().__init__(**kwargs)

    def validate(self, value):
        super().validate(value)
        if value:
            try:
                phone_normalize(value)
            except InvalidPhone as exc:
                raise forms.ValidationError(exc.message) from None


class RegistrationForm(forms.Form):
    """The first step of registering: who and where. Everything is asked of everyone, so the
    form says nothing about the number; the number is proven by a code in the second step."""

    phone = PhoneField()
    contact_name = forms.CharField(label=_("Your name"), max_length=50)
    community = forms.ModelChoiceField(
        label=_("Community"),
        queryset=Community.objects.order_by("office__district__code", "office__code", "code"),
        empty_label=_("— choose —"),
    )
    building = forms.ModelChoiceField(
        label=_("Building"), queryset=Building.objects.none(), empty_label=_("— choose —")
    )
    unit = forms.CharField(label=_("Unit"), max_length=10, required=False)
    room = forms.CharField(label=_("Room"), max_length=10)
    password = forms.CharField(
        label=_("Password (optional)"),
        required=False,
        strip=False,
        widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}),
        help_text=_("You can always sign in with a text-message code instead; a password is only an extra way in."),
    )
    password_again = forms.CharField(
        label=_("Password again"),
        required=False,
        strip=False,
        widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}),
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        community_id = self.data.get("community") or None
        if community_id and str(community_id).isascii() and str(community_id).isdigit() and len(str(community_id)) < 12:
            self.fields["building"].queryset = (
                Building.objects.filter(compound__community_id=community_id)
                .select_related("compound")
                .order_by("compound__code", "sort_key", "number")
            )

    def clean_unit(self):
        return _address_text(self.cleaned_data["unit"])

    def clean_room(self):
        room = _address_text(self.cleaned_data["room"])
        if not room:
            raise forms.ValidationError(_("Enter your room number."))
        return room

    def clean(self):
        data = super().clean()
        if data.get("password") != data.get("password_again"):
            self.add_error("password_again", _("The two passwords differ."))
        return data


class PhoneForm(forms.Form):
    """The first step of signing in or resetting a password by code."""

    phone = PhoneField()


class CodeForm(forms.Form):
    code = forms.CharField(
        label=_("Code from the text message"),
        min_length=6,
        max_length=6,
        validators=[RegexValidator(r"^[0-9]{6}$", _("The code is 6 digits."))],
        widget=forms.TextInput(attrs={"inputmode": "numeric", "autocomplete": "one-time-code", "autofocus": True}),
    )

    def clean_code(self):
        return unicodedata.normalize("NFKC", self.cleaned_data["code"]).strip()


class PasswordResetCodeForm(CodeForm):
    new_password = forms.CharField(
        label=_("New password"), strip=False, widget=forms.PasswordInput(attrs={"autocomplete": "new-password"})
    )
    new_password_again = forms.CharField(
        label=_("New password again"), strip=False, widget=forms.PasswordInput(attrs={"autocomplete": "new-password"})
    )

    def clean(self):
        data = super().clean()
        if data.get("new_password") and data.get("new_password") != data.get("new_password_again"):
            self.add_error("new_password_again", _("The two passwords differ."))
        return data


class LockdownLevelForm(forms.Form):
    level = forms.TypedChoiceField(label=_("Lockdown level"), choices=LockdownLevel.choices, coerce=int)
    reason = forms.CharField(label=_("Reason"), max_length=300)
    effective_at = forms.DateTimeField(
        label=_("Takes effect at"),
        required=False,
        widget=forms.DateTimeInput(attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M"),
        help_text=_("Leave empty for now. A later time schedules the change; it can be cancelled until then."),
    )


class CaseReportForm(forms.Form):
    building = forms.TypedChoiceField(label=_("Where"), required=False, coerce=int, empty_value=None)
    date = forms.DateField(label=_("Day"), widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"))
    cases = forms.IntegerField(
        label=_("Positive cases"),
        min_value=0,
        max_value=100000,
        help_text=_("0 when every test of the day was negative."),
    )

    def __init__(self, *args, buildings=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["building"].choices = [("", _("The whole compound"))] + [(b.pk, b.number) for b in buildings]


class HouseholdImportForm(forms.Form):
    community = forms.ModelChoiceField(label=_("Community"), queryset=Community.objects.none(), empty_label=None)
    file = forms.FileField(label=_("Household register file (.xlsx or .csv)"))
    dry_run = forms.BooleanField(label=_("Only check the file, change nothing"), required=False)

    def __init__(self, *args, communities=None, **kwargs):
        super().__init__(*args, **kwargs)
        if communities is not None:
            self.fields["community"].queryset = communities

    def clean_file(self):
        upload = self.cleaned_data["file"]
        name = upload.name.lower()
        if not (name.endswith(".xlsx") or name.endswith(".csv")):
            raise forms.ValidationError(_("Upload a .csv or .xlsx file."))
        if upload.size > MAX_FILE_BYTES:
            raise forms.ValidationError(
                _("The file is too large (at most %(mb)d MB).") % {"mb": MAX_FILE_BYTES // (1024 * 1024)}
            )
        return upload
