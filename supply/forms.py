"""Forms of the ordering pages. They check the shape of what was typed; services decide the rest."""

import re
import unicodedata
from decimal import Decimal

from django import forms
from django.utils.translation import gettext_lazy as _

from supply.models import PaymentMethod, Product, WhenOut
from supply.services import MAX_NOTE, MAX_QUANTITY

# What a resident or an operator may choose; "free" is for baseline packages only.
PAYMENT_CHOICES = [
    (PaymentMethod.ON_DELIVERY.value, _("Pay on delivery")),
    (PaymentMethod.ONLINE.value, _("Pay online")),
]
_WHOLE_NUMBER = re.compile(r"[0-9]{1,4}")


class QuantityField(forms.CharField):
    """A whole number of units. Full-width digits (１２, from a Chinese keyboard) count as digits.

    A CharField underneath, so "1.5", "-1" and "abc" get this field's own message rather than a
    browser's or a cast's.
    """

    def __init__(self, *, min_value: int = 1, max_value: int = MAX_QUANTITY, message=None, **kwargs):
        self.min_value, self.max_value = min_value, max_value
        # Lazy, with a %(max)d placeholder: filled in when shown, in the language of the request.
        self.message = message or _("The quantity must be a whole number from 1 to %(max)d.")
        kwargs.setdefault(
            "widget",
            forms.NumberInput(attrs={"min": max(min_value, 1), "max": max_value, "step": 1, "inputmode": "numeric"}),
        )
        super().__init__(strip=True, **kwargs)

    def _error(self, code: str) -> forms.ValidationError:
        return forms.ValidationError(self.message, code=code, params={"max": self.max_value})

    def to_python(self, value):
        value = unicodedata.normalize("NFKC", super().to_python(value))
        if value in self.empty_values:
            return None
        if not _WHOLE_NUMBER.fullmatch(value) or not self.min_value <= int(value) <= self.max_value:
            raise self._error("invalid")
        return int(value)

    def validate(self, value):
        if value is None and self.required:
            raise self._error("required")


class BasketLineForm(forms.Form):
    """Add a product to the basket, or set its quantity there."""

    product = forms.IntegerField(min_value=1, widget=forms.HiddenInput)
    quantity = QuantityField(label=_("Quantity"))

    def first_error(self) -> str:
        for errors in self.errors.values():
            return str(errors[0])
        return ""


class OrderDetailsForm(forms.Form):
    """How the household pays, a note for the packers, and the key that makes a double submit harmless."""

    payment_method = forms.ChoiceField(
        label=_("Payment"),
        choices=PAYMENT_CHOICES,
        widget=forms.RadioSelect,
        initial=PaymentMethod.ON_DELIVERY,
        error_messages={"required": _("Choose how to pay."), "invalid_choice": _("Choose how to pay.")},
    )
    when_out = forms.ChoiceField(
        label=_("If an item is out"),
        choices=WhenOut.choices,
        widget=forms.RadioSelect,
        initial=WhenOut.DROP,
        required=False,
        error_messages={"invalid_choice": _("Choose what to do if an item is out.")},
    )
    note = forms.CharField(
        label=_("Note for the packers (optional)"),
        max_length=MAX_NOTE,
        required=False,
        widget=forms.Textarea(attrs={"rows": 2, "maxlength": MAX_NOTE}),
    )
    idempotency_key = forms.CharField(max_length=100, widget=forms.HiddenInput)
    # The total the person saw (or heard): if a posted price changed since, they see the new one first.
    expected_total = forms.DecimalField(max_digits=10, decimal_places=2, required=False, widget=forms.HiddenInput)
    # The price of each line as the page showed it ("12:28.00 15:6.80"), so a change can be named.
    seen_prices = forms.CharField(max_length=2000, required=False, widget=forms.HiddenInput)


class OnBehalfOrderForm(OrderDetailsForm):
    """One quantity box per catalog product (blank means none), then payment and note.

    ``products`` is the household's catalog; each gets a field ``qty_<id>``.
    """

    PREFIX = "qty_"
    urgent = forms.BooleanField(
        label=_("Urgent medicine: deliver today as an urgent package"),
        required=False,
        help_text=_("Only for medicine that cannot wait until the cycle's delivery day."),
    )
    quantity_message = _("Enter a whole number from 1 to %(max)d, or leave it blank.")

    def __init__(self, *args, products: list[Product], **kwargs):
        super().__init__(*args, **kwargs)
        # paid at the door: the household cannot pay online from the operator's screen
        self.fields["payment_method"].choices = PAYMENT_CHOICES[:1]
        self.fields["payment_method"].widget = forms.HiddenInput()
        self.products = products
        for product in products:
            self.fields[f"{self.PREFIX}{product.pk}"] = QuantityField(
                label=str(product), required=False, min_value=0, message=self.quantity_message
            )

    def product_rows(self) -> list[tuple[Product, forms.BoundField]]:
        return [(product, self[f"{self.PREFIX}{product.pk}"]) for product in self.products]

    def clean(self):
        data = super().clean()
        known = {f"{self.PREFIX}{product.pk}" for product in self.products}
        # A product read back to the caller that has left the catalog since must not vanish silently.
        if any(
            name.startswith(self.PREFIX) and name not in known and str(value).strip() not in ("", "0")
            for name, value in self.data.items()
        ):
            raise forms.ValidationError(
                _("Some products are no longer sold to this household. Check the items and read them back again.")
            )
        if not any(field.startswith(self.PREFIX) for field in self.errors) and not self.quantities():
            raise forms.ValidationError(_("Enter a quantity for at least one product."))
        return data

    def quantities(self) -> dict[int, int]:
        """{product id: quantity} of the boxes filled in with more than 0."""
        data = getattr(self, "cleaned_data", {})
        return {
            product.pk: data[f"{self.PREFIX}{product.pk}"]
            for product in self.products
            if data.get(f"{self.PREFIX}{product.pk}")
        }

    def order_lines(self) -> list[dict[str, int]]:
        return [{"product": pid, "quantity": quantity} for pid, quantity in sorted(self.quantities().items())]

    def total(self) -> Decimal:
        prices = {product.pk: product.price for product in self.products}
        return sum((prices[pid] * quantity for pid, quantity in self.quantities().items()), Decimal("0.00"))
