"""The dashboard registry: what the apps declare about their figures (columns, charts, tables), the
providers that compute them and the one resolver of the period the figures are about.

The places, their scope and the page live in ``households.dashboard``; each app registers its
provider in its ``AppConfig.ready()``. A provider's ``compute`` gets a ``households.dashboard.DashboardQuery``.
"""

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

# --- what providers declare -----------------------------------------------------------------------


@dataclass(frozen=True)
class Column:
    """One figure: a count per child place (added up for the place), or a cell of a provider's table."""

    key: str
    label: Any  # a lazy translation
    group: Any = ""  # the heading the column is shown under (one table per group)
    kind: str = "count"  # "count", "rate" (0…1, or None when there is nothing to divide) or "text"


@dataclass(frozen=True)
class Chart:
    """A 100 % stacked bar per child place (and one for the place) drawn from some count columns."""

    key: str
    title: Any
    columns: tuple[str, ...]


@dataclass(frozen=True)
class Table:
    """A table about the place as a whole (not per child), e.g. the suppliers' fill rates."""

    key: str
    title: Any
    columns: tuple[Column, ...]
    note: Any = ""


@dataclass
class ProviderResult:
    # Counts per child place id; ``None`` holds what belongs to the place but to none of its
    # children (a supplier → office leg seen from a community): it counts in the place's totals.
    by_child: dict[int | None, dict[str, int]] = field(default_factory=dict)
    tables: dict[str, list[dict]] = field(default_factory=dict)


@dataclass(frozen=True)
class Provider:
    name: str
    compute: Callable[[Any], ProviderResult]  # gets a households.dashboard.DashboardQuery
    columns: tuple[Column, ...] = ()
    charts: tuple[Chart, ...] = ()
    tables: tuple[Table, ...] = ()


@dataclass(frozen=True)
class Period:
    """What the figures are about in time (supply's cycle): households knows no cycles."""

    obj: Any  # the cycle, or None when there is none yet
    label: str
    data: dict | None  # the JSON form
    options: tuple[tuple[str, str], ...] = ()  # (``?cycle=`` value, label) of recent cycles, for the page
    key: str = ""


_PROVIDERS: dict[str, Provider] = {}
_PERIOD: list[Callable[[str | None], Period]] = []


def register_provider(provider: Provider) -> None:
    """Add (or replace, on a second ``ready()``) a provider; figures are shown in registration order."""
    keys = {c.key for p in _PROVIDERS.values() if p.name != provider.name for c in p.columns}
    clash = keys & {c.key for c in provider.columns}
    if clash:
        raise ValueError(f"dashboard columns {clash} are already registered")
    _PROVIDERS[provider.name] = provider


def register_period(resolver: Callable[[str | None], Period]) -> None:
    """The one resolver of ``?cycle=``: returns the :class:`Period`; raises BaogongError (400/404)."""
    _PERIOD[:] = [resolver]


def providers() -> list[Provider]:
    return list(_PROVIDERS.values())


def columns() -> list[Column]:
    return [column for provider in _PROVIDERS.values() for column in provider.columns]


def period_resolve(param: str | None) -> Period:
    """The period of ``?cycle=`` by the registered resolver (none registered: no period)."""
    return _PERIOD[0](param) if _PERIOD else Period(obj=None, label="", data=None)
