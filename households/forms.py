from django import forms
from django.contrib.auth.forms import AuthenticationForm
from django.utils.translation import gettext_lazy as _

from households.importing import MAX_FILE_BYTES
from households.models import Building, Community, LockdownLevel


class SignInForm(AuthenticationForm):
    username = forms.CharField(
        label=_("Username or phone number"),
        max_length=150,
        widget=forms.TextInput(attrs={"autofocus": True, "autocomplete": "username", "inputmode": "text"}),
    )
    error_messages = {
        "invalid_login": _("The username or phone number and the password do not match. Passwords are case-sensitive."),
        "inactive": _("This account is disabled. Call your community."),
    }

    def get_invalid_login_error(self):
        """Tell an applicant whose account does not exist yet why, instead of "wrong password"."""
        from households.models import RegistrationStatus
        from households.selectors import registration_latest_for_phone

        registration = registration_latest_for_phone(phone=self.cleaned_data.get("username", ""))
        if registration is not None and registration.user_id is None:
            if registration.status == RegistrationStatus.PENDING:
                return forms.ValidationError(
                    _("Your registration is waiting for approval by your community. You can sign in once it is approved."),
                    code="pending",
                )
            if registration.status == RegistrationStatus.REJECTED:
                return forms.ValidationError(
                    _("Your registration was not approved: %(reason)s. Call your community or the supply hotline.")
                    % {"reason": registration.decision_note},
                    code="rejected",
                )
        return super().get_invalid_login_error()


class RegistrationForm(forms.Form):
    phone = forms.CharField(
        label=_("Mobile phone number"), max_length=20, widget=forms.TextInput(attrs={"inputmode": "tel", "autocomplete": "tel"})
    )
    password = forms.CharField(label=_("Password"), widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}))
    password_again = forms.CharField(
        label=_("Password again"), widget=forms.PasswordInput(attrs={"autocomplete": "new-password"})
    )
    contact_name = forms.CharField(label=_("Your name"), max_length=50, required=False)
    community = forms.ModelChoiceField(
        label=_("Community"), queryset=Community.objects.order_by("office__district__code", "office__code", "code"),
        required=False, empty_label=_("— choose —"),
    )
    building = forms.ModelChoiceField(
        label=_("Building"), queryset=Building.objects.none(), required=False, empty_label=_("— choose —")
    )
    unit = forms.CharField(label=_("Unit"), max_length=10, required=False)
    room = forms.CharField(label=_("Room"), max_length=10, required=False)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        community_id = self.data.get("community") or None
        if community_id and str(community_id).isdigit():
            self.fields["building"].queryset = Building.objects.filter(compound__community_id=community_id).select_related(
                "compound"
            ).order_by("compound__code", "sort_key", "number")

    def clean(self):
        data = super().clean()
        if data.get("password") and data.get("password") != data.get("password_again"):
            self.add_error("password_again", _("The two passwords differ."))
        return data


class LockdownLevelForm(forms.Form):
    level = forms.TypedChoiceField(label=_("Lockdown level"), choices=LockdownLevel.choices, coerce=int)
    reason = forms.CharField(label=_("Reason"), max_length=300)
    effective_at = forms.DateTimeField(
        label=_("Takes effect at"), required=False,
        widget=forms.DateTimeInput(attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M"),
        help_text=_("Leave empty for now. A later time schedules the change; it can be cancelled until then."),
    )


class CaseReportForm(forms.Form):
    building = forms.TypedChoiceField(label=_("Where"), required=False, coerce=int, empty_value=None)
    date = forms.DateField(label=_("Day"), widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"))
    cases = forms.IntegerField(
        label=_("Positive cases"), min_value=0, max_value=100000, help_text=_("0 when every test of the day was negative.")
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
            raise forms.ValidationError(_("The file is too large (at most %(mb)d MB).") % {"mb": MAX_FILE_BYTES // (1024 * 1024)})
        return upload
