"""Chinese phone numbers: parsing, validation, storage form, display and masking.

Stored form is E.164 (``+8613812341234``, ``+863716718038``) so that one number typed in any way
("138 1234 1234", "+86 138-1234-1234", "0371-67180381") is found by the same look-up.
"""

import unicodedata

import phonenumbers
from django.utils.translation import gettext as _

from core.errors import BaogongError


class InvalidPhone(BaogongError):
    pass


def phone_normalize(raw: str) -> str:
    """Return the E.164 form of a Chinese mobile or landline number, or raise InvalidPhone."""
    text = (raw or "").strip()
    if not text:
        raise InvalidPhone(_("Enter a phone number."))
    if len(text) > 40 or any(unicodedata.category(ch) in ("Cc", "Cf", "Cs", "Co", "Cn") for ch in text):
        raise InvalidPhone(
            _("“%(phone)s” is not a phone number.") % {"phone": text[:40].encode("unicode_escape").decode()}
        )
    try:
        parsed = phonenumbers.parse(text, "CN")
    except phonenumbers.NumberParseException:
        raise InvalidPhone(_("“%(phone)s” is not a phone number.") % {"phone": text}) from None
    if parsed.country_code != 86 or not phonenumbers.is_valid_number(parsed):
        raise InvalidPhone(
            _("“%(phone)s” is not a valid Chinese mobile or landline number (e.g. 13812345678 or 0371-67180381).")
            % {"phone": text}
        )
    return phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.E164)


def phone_display(e164: str) -> str:
    """National form as people write it: a mobile in groups (138 1234 1234), a landline with its
    area code apart (0371-67180381), as it is printed on every notice in China."""
    if not e164:
        return ""
    try:
        parsed = phonenumbers.parse(e164, "CN")
    except phonenumbers.NumberParseException:
        return e164
    area = phonenumbers.length_of_geographical_area_code(parsed)
    if parsed.country_code == 86 and area:
        significant = phonenumbers.national_significant_number(parsed)
        return f"0{significant[:area]}-{significant[area:]}"
    return phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.NATIONAL)


def phone_masked(e164: str) -> str:
    """The form printed on paper: 138****1234 (the middle four digits hidden)."""
    digits = phone_display(e164).replace(" ", "").replace("-", "")
    if len(digits) < 8:
        return "****"
    return f"{digits[:3]}****{digits[-4:]}"
