"""Forms of the hotline and ledger pages: they shape input; the rules live in hotlines.services."""

from django import forms
from django.utils.translation import gettext_lazy as _

from hotlines.models import CallCategory, CallOutcome, CheckInKind, CheckInOutcome, TicketCategory, TransportNeed


def _blank(choices, label):
    return [("", label), *choices]


class CallStartForm(forms.Form):
    phone = forms.CharField(
        label=_("Caller's number"),
        max_length=40,
        widget=forms.TextInput(
            attrs={
                "type": "tel",
                "inputmode": "tel",
                "autocomplete": "off",
                "autofocus": True,
                "placeholder": "13812345678 / 0371-67180381",
            }
        ),
    )


class CallFinishForm(forms.Form):
    """Shown on the call page next to the ticket form: its own ids, so each label finds its field."""

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("auto_id", "finish_%s")
        super().__init__(*args, **kwargs)

    category = forms.ChoiceField(label=_("What the call was about"), choices=_blank(CallCategory.choices, "—"))
    outcome = forms.ChoiceField(label=_("Outcome"), choices=_blank(CallOutcome.choices, "—"))
    summary = forms.CharField(
        label=_("Summary"), max_length=500, required=False, widget=forms.Textarea(attrs={"rows": 2})
    )


class TicketOpenForm(forms.Form):
    def __init__(self, *args, **kwargs):
        kwargs.setdefault("auto_id", "ticket_%s")
        super().__init__(*args, **kwargs)

    category = forms.ChoiceField(label=_("Kind of request"), choices=_blank(TicketCategory.choices, "—"))
    summary = forms.CharField(label=_("The request"), max_length=500, widget=forms.Textarea(attrs={"rows": 2}))
    # A caller not on the register: where they live, and the community the ticket goes to.
    community = forms.TypedChoiceField(label=_("Community"), required=False, coerce=int, empty_value=None)
    caller_address = forms.CharField(
        label=_("Where the caller lives"),
        max_length=200,
        required=False,
        help_text=_("The address as the caller says it, or how to find them (a building, a landmark)."),
    )
    appointment_at = forms.DateTimeField(
        label=_("Appointment"),
        required=False,
        input_formats=["%Y-%m-%dT%H:%M", "%Y-%m-%d %H:%M"],
        widget=forms.DateTimeInput(attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M"),
    )
    destination = forms.CharField(label=_("Destination (hospital)"), max_length=200, required=False)
    need = forms.ChoiceField(label=_("Treatment"), choices=_blank(TransportNeed.choices, "—"), required=False)
    product = forms.TypedChoiceField(
        label=_("Product (a price complaint)"),
        required=False,
        coerce=int,
        empty_value=None,
        help_text=_("For a complaint about a price: the product, so the task force sees it next to the posted price."),
    )

    def set_communities(self, communities) -> "TicketOpenForm":
        self.fields["community"].choices = [("", "—")] + [(c.pk, f"{c.name} · {c.office.name}") for c in communities]
        return self

    def set_products(self, products) -> "TicketOpenForm":
        self.fields["product"].choices = [("", "—")] + [
            (p.pk, f"{p.name} {p.size} · {p.supplier.name} · ¥{p.price}") for p in products
        ]
        return self


class TicketNoteForm(forms.Form):
    note = forms.CharField(label=_("Note"), max_length=500, widget=forms.Textarea(attrs={"rows": 2}))


class TicketResolveForm(forms.Form):
    resolution = forms.CharField(label=_("What was done"), max_length=500, widget=forms.Textarea(attrs={"rows": 2}))


class CheckInForm(forms.Form):
    def __init__(self, *args, **kwargs):
        kwargs.setdefault("auto_id", "checkin_%s")
        super().__init__(*args, **kwargs)

    kind = forms.ChoiceField(
        label=_("How"), choices=CheckInKind.choices, widget=forms.RadioSelect, initial=CheckInKind.CALL
    )
    outcome = forms.ChoiceField(
        label=_("Outcome"), choices=CheckInOutcome.choices, widget=forms.RadioSelect, initial=CheckInOutcome.WELL
    )
    note = forms.CharField(
        label=_("Note"), max_length=300, required=False, help_text=_("Required when help is needed: say what.")
    )


class CadenceForm(forms.Form):
    every_days = forms.IntegerField(label=_("Check in every (days)"), min_value=1, max_value=30)


class StandingOrderForm(forms.Form):
    product = forms.TypedChoiceField(label=_("Product"), coerce=int, choices=())
    quantity = forms.IntegerField(label=_("Quantity per cycle"), min_value=1, max_value=99, initial=1)
    note = forms.CharField(label=_("Note"), max_length=200, required=False)

    def __init__(self, *args, products=(), **kwargs):
        kwargs.setdefault("auto_id", "standing_%s")
        super().__init__(*args, **kwargs)
        self.fields["product"].choices = [("", "—")] + [
            (p.pk, f"{p.name} {p.size} · ¥{p.price}/{p.unit} · {p.supplier.name}".replace("  ", " ")) for p in products
        ]


def first_error(form: forms.Form) -> str:
    for field, errors in form.errors.items():
        label = form.fields[field].label if field in form.fields else ""
        return f"{label}: {errors[0]}" if label else errors[0]
    return ""
