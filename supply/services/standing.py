"""Standing orders: the regular needs of ledger households, ordered at every cycle opening."""

from django.db import transaction
from django.utils.translation import gettext as _

from core.errors import BaogongError, NotFound
from households.models import Household, User
from supply.models import (
    StandingOrder,
)
from supply.services.limits import MAX_QUANTITY
from supply.services.order_sql import orderable_products

# --- standing orders (regular needs of ledger households, ordered at every cycle opening) -------


@transaction.atomic
def standing_order_save(*, household_id: int, product_id: int, quantity, note: str = "", by: User) -> StandingOrder:
    """Add (or change the quantity of) a regular need of a ledger household, ordered at every cycle opening.

    Guarantees: only a product the household can order (on sale, price shown, sold in its district);
    one standing order per household and product; quantity 1 to 99.
    """
    try:
        quantity = int(quantity)
    except (TypeError, ValueError):
        quantity = 0
    if not 1 <= quantity <= MAX_QUANTITY:
        message = _("Enter a quantity from 1 to %(n)d.") % {"n": MAX_QUANTITY}
        raise BaogongError(message, errors={"quantity": [message]})
    if note is not None and not isinstance(note, str):
        raise BaogongError(_("The note must be text."), errors={"note": [_("Must be text.")]})
    note = (note or "").strip()
    if len(note) > 200:
        message = _("The note is too long (at most %(n)d characters).") % {"n": 200}
        raise BaogongError(message, errors={"note": [message]})
    household = (
        Household.objects.select_related("building__compound__community__office").filter(pk=household_id).first()
    )
    if household is None:
        raise NotFound(_("Unknown household."))
    if product_id not in orderable_products(household=household, product_ids=[product_id]):
        message = _("This product cannot be ordered for this household (not on sale, or not sold in its district).")
        raise BaogongError(message, errors={"product": [message]})
    standing, _created = StandingOrder.objects.update_or_create(
        household_id=household_id,
        product_id=product_id,
        defaults={"quantity": quantity, "note": note, "is_active": True, "created_by": by},
    )
    return standing


@transaction.atomic
def standing_order_stop(*, standing_order_id: int, by: User) -> StandingOrder:
    """Stop a standing order from the next cycle on (orders already placed stay)."""
    standing = StandingOrder.objects.select_for_update().filter(pk=standing_order_id).first()
    if standing is None:
        raise NotFound(_("Unknown standing order."))
    standing.is_active = False
    standing.save(update_fields=["is_active"])
    return standing
