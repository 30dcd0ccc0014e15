"""Forms of the volunteers' pages: registering (by the volunteer or by a worker), the worker's decision."""

from django import forms
from django.utils.text import format_lazy
from django.utils.translation import gettext_lazy as _

from households.forms import PhoneField
from households.models import HALF_DAYS, Community, Skill
from households.volunteers import VolunteerDetails

DAYS = (_("Mon"), _("Tue"), _("Wed"), _("Thu"), _("Fri"), _("Sat"), _("Sun"))
HALVES = (_("morning"), _("afternoon"))
# Lazy: each label is put together in the language of the request that shows it.
HALF_DAY_CHOICES = [(str(bit), format_lazy("{} {}", DAYS[bit // 2], HALVES[bit % 2])) for bit in range(HALF_DAYS)]


class VolunteerForm(forms.Form):
    """Who the volunteer is, what they can do and when (asked the same of everyone: the number is
    proven by a code in the second step, or vouched for by the worker who registers them)."""

    phone = PhoneField()
    name = forms.CharField(label=_("Your name"), max_length=50)
    community = forms.ModelChoiceField(
        label=_("Community where you help"),
        queryset=Community.objects.order_by("office__district__code", "office__code", "code"),
        empty_label=_("— choose —"),
    )
    cadre = forms.BooleanField(
        label=_("I am a cadre reporting to my home community (双报到)"),
        required=False,
    )
    employer = forms.CharField(label=_("Employer"), max_length=100, required=False)
    home_address = forms.CharField(
        label=_("Home address"), max_length=100, required=False, help_text=_("Building, unit and room.")
    )
    skills = forms.MultipleChoiceField(
        label=_("What you can do"), choices=Skill.choices, required=False, widget=forms.CheckboxSelectMultiple
    )
    availability = forms.MultipleChoiceField(
        label=_("When you can help"),
        choices=HALF_DAY_CHOICES,
        required=False,
        widget=forms.CheckboxSelectMultiple,
    )
    password = forms.CharField(
        label=_("Password (optional)"),
        required=False,
        strip=False,
        widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}),
        help_text=_("You can always sign in with a text-message code instead."),
    )

    def __init__(self, *args, communities=None, with_password: bool = True, **kwargs):
        super().__init__(*args, **kwargs)
        if communities is not None:
            self.fields["community"].queryset = communities
        if not with_password:
            del self.fields["password"]

    def details(self) -> VolunteerDetails:
        data = self.cleaned_data
        return VolunteerDetails(
            name=data["name"],
            community_id=data["community"].pk,
            cadre=data["cadre"],
            home_address=data["home_address"],
            employer=data["employer"],
            skills=tuple(data["skills"]),
            availability=sum(1 << int(bit) for bit in data["availability"]),
        )


class HealthForm(forms.Form):
    well = forms.TypedChoiceField(
        label=_("How are you today?"),
        choices=(
            ("1", _("Well: no fever or cough, no contact with a case, today's test negative")),
            ("0", _("Not well")),
        ),
        coerce=lambda value: value == "1",
        widget=forms.RadioSelect,
    )
