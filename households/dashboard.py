"""Dashboards: the figures of one place (the city, a district, an office or a community) and of
each of its children (districts, offices, communities, compounds), for the task force, offices and
community workers.

``households`` knows places, not orders or packages: the figures come from providers that the other
apps register in their ``AppConfig.ready()`` (supply: orders, sold-out products, supplier fill
rates; deliveries: packages and the route; hotlines: tickets and the care ledger). A provider gets a
:class:`DashboardQuery` and answers with set-based aggregates GROUPed BY the child place: a handful
of queries per provider, whatever the number of rows. The cycle the figures are about is supply's
business too: supply registers the :func:`register_period` resolver.

Scope: the place comes from :func:`place_resolve`, which accepts only places at or below the user's
own level that :func:`households.access.restrict` lets the user see; a provider narrows every
queryset with :meth:`DashboardQuery.narrow` (the place filter and ``restrict`` both).
"""

import datetime
import re
from dataclasses import dataclass, field
from typing import Any

from django.db.models import Count, Q, QuerySet
from django.db.models.functions import Greatest
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from core.dashboard import (
    Chart,
    Column,
    Period,
    Provider,
    ProviderResult,
    Table,
    columns,
    period_resolve,
    providers,
    register_provider,
)
from core.errors import BaogongError, NotFound
from households import rules
from households.access import restrict, scope_of
from households.models import Community, Compound, District, Household, LockdownLevel, Office, User
from households.permissions import allows

# Who may open a dashboard: the task force (a district, or the city), office staff, community workers, admins.

LEVELS = ("city", "district", "office", "community", "compound")
CHILD_LEVEL = {"city": "district", "district": "office", "office": "community", "community": "compound"}
PLACE_MODELS = {"district": District, "office": Office, "community": Community, "compound": Compound}
LEVEL_NAMES = {
    "city": gettext_lazy("City"),
    "district": gettext_lazy("District"),
    "office": gettext_lazy("Office"),
    "community": gettext_lazy("Community"),
    "compound": gettext_lazy("Compound"),
}
# ?place=district:12 — only the levels a dashboard is drawn for (a compound is a row, not a dashboard).
PLACE_PARAM = re.compile(r"^(district|office|community):([1-9][0-9]{0,17})$")


# --- places ---------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Place:
    level: str
    id: int | None
    name: str
    district_id: int | None = None

    @property
    def param(self) -> str:
        return "" if self.level == "city" else f"{self.level}:{self.id}"

    @property
    def level_name(self) -> str:
        return str(LEVEL_NAMES[self.level])

    @property
    def has_dashboard(self) -> bool:
        return self.level in ("district", "office", "community")


def can_open(user: User) -> bool:
    return allows(user, rules.DASHBOARD) and scope_of(user).level in ("all", "district", "office", "community")


def _own_place(user: User) -> tuple[str, int | None]:
    scope = scope_of(user)
    if scope.level == "all":
        return "city", None
    return scope.level, scope.id_at(scope.level)


def place_resolve(*, user: User, param: str | None) -> tuple[Place, list[Place]]:
    """The place of ``?place=`` (or the user's own), with its ancestors down from the user's own
    place (for the breadcrumbs). Malformed → 400; unknown, or not at or below the user's own
    place → 404. Two queries at most."""
    own_level, own_id = _own_place(user)
    if param:
        match = PLACE_PARAM.match(param.strip())
        if not match:
            message = _("Choose a place as district:ID, office:ID or community:ID.")
            raise BaogongError(message, errors={"place": [message]})
        level, pk = match.group(1), int(match.group(2))
    else:
        level, pk = own_level, own_id
    not_yours = NotFound(_("Not found: it does not exist, or it is not yours to see."))
    if LEVELS.index(level) < LEVELS.index(own_level):
        raise not_yours
    if level == "city":
        return Place("city", None, _("The whole city")), []
    related = {"district": [], "office": ["district"], "community": ["office__district"]}[level]
    obj = restrict(PLACE_MODELS[level].objects.select_related(*related), user).filter(pk=pk).first()
    if obj is None:
        raise not_yours
    if level == "district":
        chain = [obj]
    elif level == "office":
        chain = [obj.district, obj]
    else:
        chain = [obj.office.district, obj.office, obj]
    places = [
        Place(lvl, o.pk, o.name, district_id=chain[0].pk)
        for lvl, o in zip(("district", "office", "community"), chain, strict=False)
    ]
    # The user's own place is inside the scope (restrict checked it); show only it and below.
    start = 0 if own_level == "city" else ("district", "office", "community").index(own_level)
    ancestors = places[start:-1]
    if own_level == "city":
        ancestors = [Place("city", None, _("The whole city")), *ancestors]
    return places[-1], ancestors


def _children(user: User, place: Place) -> list[Place]:
    child_level = CHILD_LEVEL[place.level]
    model = PLACE_MODELS[child_level]
    qs = restrict(model.objects.all(), user)
    if place.level != "city":
        qs = qs.filter(**{f"{place.level}_id": place.id})
    rows = qs.order_by("name", "pk").values_list("pk", "name", *(["district_id"] if child_level == "office" else []))
    district = place.district_id
    return [
        Place(
            child_level,
            row[0],
            row[1],
            district_id=row[0] if child_level == "district" else (row[2] if len(row) > 2 else district),
        )
        for row in rows
    ]


# --- the query a provider answers -----------------------------------------------------------------

# From a compound, the path up to each place.
_UP = {"community": "community", "office": "community__office", "district": "community__office__district"}


def place_paths(*, compound: str | None = None, community: str | None = None) -> dict[str, str]:
    """ORM paths from a model to each place level, from its path to the compound and/or community
    (``""`` means the model is that place): ``place_paths(compound="household__building__compound")``."""
    paths: dict[str, str] = {}
    if compound is not None:
        paths["compound"] = compound
        for level, up in _UP.items():
            paths[level] = f"{compound}__{up}" if compound else up
    if community is not None:
        paths["community"] = community
        for level, up in (("office", "office"), ("district", "office__district")):
            paths[level] = f"{community}__{up}" if community else up
    return paths


def _id(path: str) -> str:
    return f"{path}_id" if path else "id"


@dataclass(frozen=True)
class DashboardQuery:
    user: User
    place: Place
    child_level: str
    period: Period
    now: datetime.datetime
    cache: dict = field(default_factory=dict, compare=False, repr=False)

    @property
    def cycle(self):
        return self.period.obj

    def narrow(self, queryset: QuerySet, paths: dict[str, str]) -> QuerySet:
        """``queryset`` narrowed to what the user may see and to the place."""
        queryset = restrict(queryset, self.user)
        if self.place.level != "city":
            queryset = queryset.filter(**{_id(paths[self.place.level]): self.place.id})
        return queryset

    def grain(self, paths: dict[str, str]) -> str:
        """The level the rows are GROUPed BY. For a city or a district dashboard, the compound or
        the community below the child, whichever is reached with fewer joins (a community first on
        a tie: fewer groups), summed up to the child by :meth:`group`: joining every row through
        community → office → district cost about a fifth of the time at 250,000 households."""
        if self.child_level not in ("district", "office"):
            return self.child_level
        fine = [level for level in ("community", "compound") if level in paths]
        if not fine:
            return self.child_level
        return min(fine, key=lambda level: paths[level].count("__") + bool(paths[level]))

    def by_child(self, queryset: QuerySet, paths: dict[str, str]) -> QuerySet:
        """``narrow(queryset)`` as ``values(…)`` GROUPed BY :meth:`grain`, ready for
        ``.annotate(Count(…))``; :meth:`group` turns the rows into figures per child."""
        grain = self.grain(paths)
        if paths.get(self.child_level) is None:
            raise LookupError(f"no path to the {self.child_level} level")
        return self.narrow(queryset, paths).order_by().values(_id(paths[grain])).annotate()

    def child_key(self, paths: dict[str, str]) -> str:
        return _id(paths[self.child_level])

    def group(self, rows, paths: dict[str, str]) -> dict[int | None, dict[str, int]]:
        """The rows of ``by_child(…).annotate(…)`` as ``{child_id: {figure: n}}`` (see :func:`group_rows`)."""
        grain = self.grain(paths)
        grouped = group_rows(rows, _id(paths[grain]))
        if grain == self.child_level:
            return grouped
        parents = self._parents()[grain]
        figures: dict[int | None, dict[str, int]] = {}
        for fine_id, values in grouped.items():
            target = figures.setdefault(parents.get(fine_id), {})
            for key, value in values.items():
                target[key] = target.get(key, 0) + value
        return figures

    def _parents(self) -> dict[str, dict[int, int]]:
        """Each compound's and community's child place of this dashboard: one query, at most once."""
        if "parents" not in self.cache:
            up = "office__district_id" if self.child_level == "district" else "office_id"
            compounds: dict[int, int] = {}
            communities: dict[int, int] = {}
            for community_id, child_id, compound_id in Community.objects.order_by().values_list(
                "pk", up, "compounds__pk"
            ):
                communities[community_id] = child_id
                if compound_id is not None:
                    compounds[compound_id] = child_id
            self.cache["parents"] = {"compound": compounds, "community": communities}
        return self.cache["parents"]


def group_rows(rows, key: str) -> dict[int | None, dict[str, int]]:
    """``[{key: child_id, fig: n, …}]`` → ``{child_id: {fig: n, …}}`` (None and 0 counts as 0)."""
    return {row.pop(key): {k: (v or 0) for k, v in row.items()} for row in rows}


# --- the dashboard --------------------------------------------------------------------------------


@dataclass
class Segment:
    label: str
    value: int
    percent: float
    index: int


@dataclass
class Row:
    place: Place
    values: dict[str, Any]
    charts: dict[str, list[Segment]] = field(default_factory=dict)


@dataclass
class Dashboard:
    place: Place
    ancestors: list[Place]
    child_level: str
    period: Period
    columns: list[Column]
    charts: list[Chart]
    tables: list[Table]
    totals: Row
    rows: list[Row]
    table_rows: dict[str, list[dict]]
    computed_at: datetime.datetime

    @property
    def child_level_name(self) -> str:
        return str(LEVEL_NAMES[self.child_level])

    @property
    def groups(self) -> list[tuple[str, list[Column]]]:
        """Columns by their heading, in order: one table per heading on the page."""
        groups: dict[str, list[Column]] = {}
        for column in self.columns:
            groups.setdefault(str(column.group), []).append(column)
        return list(groups.items())

    # --- for the page (templates display, they do not compute) ---

    @property
    def chart_views(self) -> list[dict]:
        views = []
        for chart in self.charts:

            def line(row: Row, chart=chart) -> dict:
                segments = row.charts[chart.key]
                return {"place": row.place, "total": sum(s.value for s in segments), "segments": segments}

            views.append(
                {
                    "chart": chart,
                    "legend": self.totals.charts[chart.key],
                    "rows": [line(r) for r in self.rows],
                    "total": line(self.totals),
                }
            )
        return views

    @property
    def group_views(self) -> list[dict]:
        return [
            {
                "title": title,
                "columns": cols,
                "rows": [(row.place, [(c, row.values[c.key]) for c in cols]) for row in self.rows],
                "totals": [(c, self.totals.values[c.key]) for c in cols],
            }
            for title, cols in self.groups
        ]

    @property
    def table_views(self) -> list[dict]:
        views = []
        for table in self.tables:
            cols = [c for c in table.columns if c.kind != "id"]
            rows = self.table_rows.get(table.key, [])
            cells = [
                [
                    {
                        "column": c,
                        "value": item.get(c.key),
                        "percent": None if c.kind != "rate" or item.get(c.key) is None else round(100 * item[c.key]),
                    }
                    for c in cols
                ]
                for item in rows
            ]
            views.append({"table": table, "columns": cols, "rows": cells})
        return views

    def as_data(self) -> dict:
        """The JSON form (``GET /api/v1/dashboard/``)."""

        def place(p: Place) -> dict:
            return {"level": p.level, "id": p.id, "name": p.name}

        return {
            "place": place(self.place),
            "cycle": self.period.data,
            "computed_at": self.computed_at,
            "totals": {c.key: self.totals.values[c.key] for c in self.columns},
            "children_level": self.child_level,
            "children": [
                {**place(row.place), "figures": {c.key: row.values[c.key] for c in self.columns}} for row in self.rows
            ],
            **{table.key: self.table_rows.get(table.key, []) for table in self.tables},
        }


def _segments(chart: Chart, values: dict[str, int], labels: dict[str, str]) -> list[Segment]:
    total = sum(values[key] for key in chart.columns)
    return [
        Segment(
            label=labels[key], value=values[key], percent=round(100 * values[key] / total, 1) if total else 0.0, index=i
        )
        for i, key in enumerate(chart.columns)
    ]


def dashboard(
    *, user: User, place: str | None = None, cycle: str | None = None, now: datetime.datetime | None = None
) -> Dashboard:
    """The figures of ``place`` (``district:ID``…; the user's own place by default) and of each of
    its children, for ``cycle`` (supply's ``?cycle=``; the latest by default).

    Guarantees: nothing outside the user's scope (404 for a place outside it, 400 for a malformed
    one); every provider answers with a fixed number of set-based queries, so the number of
    queries does not grow with the number of places or rows; the place's totals are the sums of
    its children's figures (plus what belongs to the place but to no child).
    """
    if not can_open(user):
        raise BaogongError(_("Dashboards are for the task force, office staff and community workers."), status_code=403)
    now = now or timezone.now()
    the_place, ancestors = place_resolve(user=user, param=place)
    period = period_resolve(cycle)
    child_level = CHILD_LEVEL[the_place.level]
    query = DashboardQuery(user=user, place=the_place, child_level=child_level, period=period, now=now)
    children = _children(user, the_place)
    all_columns = columns()
    counts = [c.key for c in all_columns if c.kind == "count"]
    per_child: dict[int | None, dict[str, int]] = {child.id: dict.fromkeys(counts, 0) for child in children}
    table_rows: dict[str, list[dict]] = {}
    for provider in providers():
        result = provider.compute(query)
        for child_id, figures in result.by_child.items():
            # A child the user may not see (or that is gone) is not shown, but still counts in the place's totals.
            target = per_child.setdefault(child_id, dict.fromkeys(counts, 0))
            for key, value in figures.items():
                target[key] = target.get(key, 0) + value
        table_rows.update(result.tables)
    totals = dict.fromkeys(counts, 0)
    for figures in per_child.values():
        for key in counts:
            totals[key] += figures.get(key, 0)
    labels = {c.key: str(c.label) for c in all_columns}
    charts = [chart for p in providers() for chart in p.charts]

    def row(place_: Place, values: dict) -> Row:
        return Row(
            place=place_, values=values, charts={chart.key: _segments(chart, values, labels) for chart in charts}
        )

    return Dashboard(
        place=the_place,
        ancestors=ancestors,
        child_level=child_level,
        period=period,
        columns=all_columns,
        charts=charts,
        tables=[table for p in providers() for table in p.tables],
        totals=row(the_place, totals),
        rows=[row(child, per_child[child.id]) for child in children],
        table_rows=table_rows,
        computed_at=now,
    )


# --- households' own figures: households by lockdown level ---------------------------------------

HOUSEHOLD_PATHS = place_paths(compound="building__compound")


def _households(query: DashboardQuery) -> ProviderResult:
    level = Greatest("building__lockdown_level", "building__compound__lockdown_level")
    rows = query.by_child(Household.objects.annotate(effective=level), HOUSEHOLD_PATHS).annotate(
        households=Count("id"),
        households_open=Count("id", filter=Q(effective=LockdownLevel.OPEN)),
        households_in_compound=Count("id", filter=Q(effective=LockdownLevel.STAY_IN_COMPOUND)),
        households_at_home=Count("id", filter=Q(effective=LockdownLevel.STAY_AT_HOME)),
    )
    return ProviderResult(by_child=query.group(rows, HOUSEHOLD_PATHS))


HOUSEHOLDS_GROUP = gettext_lazy("Households by lockdown level")

register_provider(
    Provider(
        name="households",
        compute=_households,
        columns=(
            Column("households", gettext_lazy("Households"), HOUSEHOLDS_GROUP),
            Column("households_open", LockdownLevel.OPEN.label, HOUSEHOLDS_GROUP),
            Column("households_in_compound", LockdownLevel.STAY_IN_COMPOUND.label, HOUSEHOLDS_GROUP),
            Column("households_at_home", LockdownLevel.STAY_AT_HOME.label, HOUSEHOLDS_GROUP),
        ),
        charts=(
            Chart("lockdown", HOUSEHOLDS_GROUP, ("households_open", "households_in_compound", "households_at_home")),
        ),
    )
)
