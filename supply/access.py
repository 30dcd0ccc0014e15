"""Scope registrations of supply models (see households.access)."""

from households.access import register
from supply.models import Cycle, CycleStock, Order, OrderLine, PriceChange, Product, Shortfall, Supplier

_COMMUNITY = "household__building__compound__community"

register(Cycle)  # city-wide: everyone signed in may see the cycles
register(Supplier, supplier="")
register(Product, supplier="supplier")
register(PriceChange, supplier="product__supplier")
register(CycleStock, supplier="product__supplier")
register(Order, household="household", community=_COMMUNITY)
register(OrderLine, household="order__household", community=f"order__{_COMMUNITY}", supplier="product__supplier")
register(Shortfall, household="order__household", community=f"order__{_COMMUNITY}", supplier="product__supplier")
