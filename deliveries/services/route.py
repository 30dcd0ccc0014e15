"""What a community's build wrote, counted for its route legs (the consignments)."""

from collections import defaultdict
from dataclasses import dataclass, field


@dataclass
class RouteCounts:
    """What a build wrote, counted for its route legs: packages and items per delivery day, per
    (compound, day) and per (supplier, day) (packages holding that supplier's products, and how
    many of its items); the days with door packages; packages and order links in all."""

    to_community: dict = field(default_factory=lambda: defaultdict(lambda: [0, 0]))
    to_compound: dict = field(default_factory=lambda: defaultdict(lambda: [0, 0]))
    from_supplier: dict = field(default_factory=lambda: defaultdict(lambda: [0, 0]))
    door_days: set = field(default_factory=set)
    packages: int = 0
    links: int = 0

    def add(self, table: dict, key, packages: int, items: int) -> None:
        counts = table[key]
        counts[0] += packages
        counts[1] += items
