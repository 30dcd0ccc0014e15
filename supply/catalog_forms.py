"""Forms of the catalog pages. They check the shape of the input; the services decide the rest."""

import re
from decimal import Decimal

from django import forms
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from supply.models import Category
from supply.services import MAX_CAPACITY, MAX_QUANTITY, PHOTO_MAX_BYTES

MONEY_ERRORS = {
    "required": _("Enter a price like 12.50."),
    "invalid": _("Enter a price like 12.50."),
    "min_value": _("A price must be at least 0.01."),
    "max_value": _("A price must be at most 99999.99."),
    "max_digits": _("A price must be at most 99999.99."),
    "max_whole_digits": _("A price must be at most 99999.99."),
    "max_decimal_places": _("A price has at most two decimals (yuan and fen), like 12.50."),
}


# Digits with at most two decimals; full-width digits (a Chinese keyboard) and a ¥ sign are accepted.
_MONEY = re.compile(r"^-?[0-9]+(\.[0-9]*)?$")
_FULL_WIDTH = str.maketrans("０１２３４５６７８９．－", "0123456789.-")


class MoneyField(forms.DecimalField):
    def to_python(self, value):
        if isinstance(value, str):
            value = value.translate(_FULL_WIDTH).strip().lstrip("¥￥").strip()
            if value and not _MONEY.match(value):  # no "1e3", "NaN", "Infinity"
                raise forms.ValidationError(self.error_messages["invalid"], code="invalid")
        return super().to_python(value)


def money_field(label, *, required: bool = True, help_text: str = "") -> forms.DecimalField:
    # A text box with a decimal keypad, not type=number: the server gives the message, the same in every browser.
    return MoneyField(
        label=label,
        required=required,
        max_digits=7,
        decimal_places=2,
        min_value=Decimal("0.01"),
        max_value=Decimal("99999.99"),
        error_messages=MONEY_ERRORS,
        help_text=help_text,
        widget=forms.TextInput(attrs={"inputmode": "decimal", "autocomplete": "off", "placeholder": "12.50"}),
    )


def _number_widget() -> forms.TextInput:
    return forms.TextInput(attrs={"inputmode": "numeric", "autocomplete": "off"})


class ProductDetailsForm(forms.Form):
    """What supplier staff keep about a product, except its price."""

    name = forms.CharField(
        label=pgettext_lazy("product", "Name"),
        max_length=100,
        help_text=_("The Chinese name residents know, e.g. 大白菜"),
    )
    category = forms.ChoiceField(label=_("Category"), choices=Category.choices)
    size = forms.CharField(label=_("Size"), max_length=30, required=False, help_text=_("e.g. 5kg, 500g×2"))
    unit = forms.CharField(label=pgettext_lazy("product", "Unit"), max_length=10, help_text=_("e.g. 袋, 盒, 斤"))
    description = forms.CharField(label=_("Description"), max_length=300, required=False)
    is_bundle = forms.BooleanField(
        label=_("Standard bundle"), required=False, help_text=_("A fixed pack such as a 5 kg vegetable pack.")
    )
    capacity = forms.IntegerField(
        label=_("Capacity per cycle"),
        min_value=0,
        max_value=MAX_CAPACITY,
        initial=500,
        widget=_number_widget(),
        error_messages={"invalid": _("Enter a whole number.")},
        help_text=_("How many you can deliver in one 3-day cycle."),
    )
    household_limit = forms.IntegerField(
        label=_("Limit per household per cycle (限购)"),
        min_value=1,
        max_value=MAX_QUANTITY,
        required=False,
        widget=_number_widget(),
        error_messages={"invalid": _("Enter a whole number.")},
        help_text=_("Blank for no limit."),
    )
    photo = forms.ImageField(
        label=_("Photo"),
        required=False,
        help_text=_("Optional. A JPEG or PNG of at most 2 MB."),
        widget=forms.ClearableFileInput(attrs={"accept": "image/*"}),
    )

    field_order = [
        "name",
        "category",
        "size",
        "unit",
        "price",
        "description",
        "is_bundle",
        "capacity",
        "household_limit",
        "is_active",
        "photo",
    ]

    def clean_photo(self):
        photo = self.cleaned_data.get("photo")
        if photo and getattr(photo, "size", 0) > PHOTO_MAX_BYTES:
            raise forms.ValidationError(_("The photo is too large (at most 2 MB)."))
        return photo


class ProductCreateForm(ProductDetailsForm):
    price = money_field(
        _("Posted price (yuan)"), help_text=_("The price residents pay per unit, fixed in their order.")
    )


class ProductUpdateForm(ProductDetailsForm):
    is_active = forms.BooleanField(label=_("On sale"), required=False)

    def changes(self) -> dict:
        """The changed fields as product_update arguments (a cleared photo is ``None``)."""
        changes = {name: self.cleaned_data[name] for name in self.changed_data if name in self.cleaned_data}
        if changes.get("photo") is False:
            changes["photo"] = None
        return changes


class PriceForm(forms.Form):
    price = money_field(_("New posted price (yuan)"))


class ShortfallForm(forms.Form):
    available = forms.IntegerField(
        label=_("How many you can supply in this cycle"),
        min_value=0,
        max_value=MAX_CAPACITY,
        help_text=_(
            "Residents' newest orders are cut first; each household gets a similar product costing no more, or its "
            "money back, as it chose. Nothing more can be ordered."
        ),
        error_messages={"required": _("Enter a whole number."), "invalid": _("Enter a whole number.")},
    )


class ReferenceCapForm(forms.Form):
    reference_cap = money_field(_("Reference cap (yuan)"), required=False, help_text=_("Blank for no cap."))


class PriceDecisionForm(forms.Form):
    decision = forms.ChoiceField(choices=[("approve", _("Approve")), ("refuse", _("Refuse"))])


class WhitelistForm(forms.Form):
    whitelisted = forms.TypedChoiceField(choices=[("1", _("On")), ("0", _("Off"))], coerce=lambda value: value == "1")
