"""What residents are told, in words. Texts are drawn from a notification's kind and parameters in
the active language, so the same notification reads in Chinese on the phone and in English for an
English-speaking reader. How a message is sent is core.sms's business."""

import datetime

from django.utils.translation import gettext as _

from core.dates import day_text


def _readable(params: dict) -> dict:
    """The parameters with a day stored as ISO (``date``: 2026-12-11) written as people read it
    (12月11日; core.dates)."""
    value = params.get("date")
    if isinstance(value, str) and len(value) == 10:
        try:
            return {**params, "date": day_text(datetime.date.fromisoformat(value))}
        except ValueError:
            pass
    return params


def message_text(kind: str, params: dict) -> str:
    """One notification's text in the active language."""
    p = _readable(params)
    if kind == "order_confirmed":
        return (
            _("Order %(order)s confirmed: %(items)s items, ¥%(total)s. It comes with your package of this cycle.") % p
        )
    if kind == "package_scheduled":
        if p.get("slot"):
            return (
                _("Package %(code)s: collect it at %(point)s on %(date)s between %(slot)s (stay-in-compound pick-up).")
                % p
            )
        return _("Package %(code)s will be brought to your door on %(date)s.") % p
    if kind == "out_for_delivery":
        return _("Package %(code)s is on its way to you today.") % p
    if kind == "delivered":
        return _("Package %(code)s was delivered at %(time)s.") % p
    if kind == "exception":
        return _("Package %(code)s could not be delivered (%(reason)s); it comes again on %(date)s.") % p
    if kind == "restock":
        return _("%(product)s is back: %(left)s left in this cycle. Order it before %(cutoff)s.") % p
    if kind == "shortfall":
        if p.get("substitute"):
            text = _("Order %(order)s: %(product)s is out; %(quantity)s %(unit)s of %(substitute)s come instead.") % p
        else:
            text = _("Order %(order)s: %(product)s is out; %(quantity)s %(unit)s are left out of your package.") % p
        if p.get("given_back") and p["given_back"] != "0.00":
            if "refunded" not in p:  # told before the two cases were told apart
                text += _(" ¥%(given_back)s is refunded or no longer to pay.") % p
            elif p["refunded"]:
                text += _(" ¥%(given_back)s is refunded to the account you paid from.") % p
            else:
                text += _(" You pay ¥%(given_back)s less at the door.") % p
        return text
    return _("Notice about %(key)s") % {"key": p.get("key", kind)}
