"""The demo's registry: ``seed_demo`` runs the steps the apps register, in order, in one transaction.

Each app seeds its own rows (``households``: the city and the accounts; ``supply``: the suppliers,
the catalog, the open cycle and a few orders; ``hotlines``: calls, tickets and a check-in) and says
what it did as :class:`DemoSection` s. ``core`` knows none of them: an app registers its step in its
``AppConfig.ready()`` by a dotted path, imported only when the demo is seeded.
"""

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from django.db import transaction
from django.utils.module_loading import import_string


@dataclass
class DemoRun:
    """The arguments of one ``seed_demo`` and what one step leaves for a later one
    (``shared["supplier_id"]``: the demo supplier account's supplier)."""

    households: int
    seed: int
    shared: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class DemoSection:
    """A heading and its lines in the command's report; ``warnings`` are printed as such."""

    heading: str
    lines: tuple[str, ...] = ()
    warnings: tuple[str, ...] = ()


@dataclass(frozen=True)
class DemoStep:
    name: str
    order: int  # steps run from the lowest
    path: str  # dotted path of a ``(DemoRun) -> list[DemoSection]``


_STEPS: dict[str, DemoStep] = {}


def register_step(name: str, *, order: int, path: str) -> None:
    """Add (or replace, on a second ``ready()``) a step of the demo."""
    _STEPS[name] = DemoStep(name=name, order=order, path=path)


def steps() -> list[DemoStep]:
    return sorted(_STEPS.values(), key=lambda step: (step.order, step.name))


@transaction.atomic
def demo_seed(*, households: int, seed: int) -> list[DemoSection]:
    """Run every registered step in order. Guarantees: one transaction (a failing step leaves no
    half-seeded city behind); each step writes only what is missing, so running it twice changes
    nothing. Returns the steps' report, in order."""
    run = DemoRun(households=households, seed=seed)
    sections: list[DemoSection] = []
    for step in steps():
        seed_step: Callable[[DemoRun], list[DemoSection]] = import_string(step.path)
        sections += seed_step(run)
    return sections
