"""Scope registrations of supply models (see households.access)."""

from households.access import register
from supply.models import Supplier

register(Supplier, supplier="")
