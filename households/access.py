"""The one place that decides what a user may see.

Every selector, page and admin list narrows its queryset with :func:`restrict`. A user's
:class:`Scope` is one level of the place tree (the city, a district, an office, a community, a
household) or a supplier. A model is registered with the ORM paths from it to the places it
belongs to; :func:`restrict` filters on the path at the user's level, or, for a model that sits
above that level (an office seen by a community worker), on the user's own ancestor of it.

Rules that are not about places:
- supplier staff never see households or anything registered with a household path;
- residents see their own household, and the places of their own community;
- volunteers see the places of their own community and, of other models, only the rows a
  volunteer filter gives (deliveries registers one for packages: the team's round), nothing else;
- anonymous users and users without a place see nothing.
"""

from collections.abc import Callable
from dataclasses import dataclass

from django.db.models import Model, Q, QuerySet

from households.models import (
    Building,
    Community,
    Compound,
    District,
    HealthDeclaration,
    Household,
    HouseholdImport,
    HouseholdPhone,
    HouseholdViewLog,
    LockdownChange,
    Notification,
    Office,
    PositiveCaseReport,
    ResidentRegistration,
    Role,
    User,
    Volunteer,
)

LEVELS = ("district", "office", "community", "household")

Path = str | tuple[str, ...]

_REGISTRY: dict[type[Model], dict[str, Path]] = {}
_VOLUNTEER: dict[type[Model], Callable[[User], Q]] = {}
# The place models a volunteer may see (its own community and the places above and in it).
_PLACES = (District, Office, Community, Compound, Building)


def register(model: type[Model], **paths: Path) -> None:
    """Declare how ``model`` reaches the place tree: ``community="building__compound__community"``.

    Keys are ``district``, ``office``, ``community``, ``household`` and ``supplier``; a path of
    ``""`` means the row is that place itself; a tuple means any of several paths.
    """
    unknown = set(paths) - set(LEVELS) - {"supplier"}
    if unknown:
        raise ValueError(f"unknown scope levels {unknown}")
    _REGISTRY[model] = dict(paths)


def register_volunteer(model: type[Model], rows: Callable[[User], Q]) -> None:
    """Declare what of ``model`` a volunteer sees: ``rows(user)`` is the filter (the team's round)."""
    _VOLUNTEER[model] = rows


@dataclass(frozen=True)
class Scope:
    level: str  # "all", "district", "office", "community", "household", "volunteer", "supplier" or "none"
    district_id: int | None = None
    office_id: int | None = None
    community_id: int | None = None
    household_id: int | None = None
    supplier_id: int | None = None

    def id_at(self, level: str) -> int | None:
        return getattr(self, f"{level}_id")


NOTHING = Scope(level="none")
EVERYTHING = Scope(level="all")


def scope_of(user: User | None) -> Scope:
    """The user's scope, computed once per user object (two small queries at most)."""
    if user is None or not user.is_authenticated or not user.is_active:
        return NOTHING
    cached = getattr(user, "_baogong_scope", None)
    if cached is not None:
        return cached
    scope = _compute_scope(user)
    user._baogong_scope = scope
    return scope


def _compute_scope(user: User) -> Scope:
    role = user.role
    if user.is_superuser or role == Role.ADMIN:
        return EVERYTHING
    if role == Role.TASKFORCE:
        return Scope("district", district_id=user.district_id) if user.district_id else EVERYTHING
    if role == Role.OPERATOR and user.district_id:
        return Scope("district", district_id=user.district_id)
    if role == Role.OFFICE and user.office_id:
        office = Office.objects.only("district_id").get(pk=user.office_id)
        return Scope("office", district_id=office.district_id, office_id=office.pk)
    if role == Role.WORKER and user.community_id:
        community = Community.objects.select_related("office").only("office__district_id").get(pk=user.community_id)
        return Scope(
            "community",
            district_id=community.office.district_id,
            office_id=community.office_id,
            community_id=community.pk,
        )
    if role == Role.VOLUNTEER and user.community_id:
        community = Community.objects.select_related("office").only("office__district_id").get(pk=user.community_id)
        return Scope(
            "volunteer",
            district_id=community.office.district_id,
            office_id=community.office_id,
            community_id=community.pk,
        )
    if role == Role.SUPPLIER and user.supplier_id:
        return Scope("supplier", supplier_id=user.supplier_id)
    if role == Role.RESIDENT and user.household_id:
        household = (
            Household.objects.select_related("building__compound__community__office")
            .only("building__compound__community__office__district_id")
            .get(pk=user.household_id)
        )
        community = household.building.compound.community
        return Scope(
            "household",
            district_id=community.office.district_id,
            office_id=community.office_id,
            community_id=community.pk,
            household_id=household.pk,
        )
    return NOTHING


def _join(path: str, step: str) -> str:
    return f"{path}__{step}" if path else step


def _full_paths(paths: dict[str, Path]) -> dict[str, Path]:
    """Fill in the levels above the deepest place path given (community → office → district)."""
    full = dict(paths)
    for lower, upper in (("community", "office"), ("office", "district")):
        if lower in full and upper not in full:
            lower_path = full[lower]
            if isinstance(lower_path, tuple):
                full[upper] = tuple(_join(p, upper) for p in lower_path)
            else:
                full[upper] = _join(lower_path, upper)
    return full


def _q(path: Path, value: int | None) -> Q:
    if value is None:
        return Q(pk__in=[])
    alternatives = path if isinstance(path, tuple) else (path,)
    q = Q()
    for p in alternatives:
        q |= Q(**{_join(p, "id") if p else "pk": value})
    return q


def scope_q(user: User | None, model: type[Model], **paths: Path) -> Q | None:
    """The filter that narrows ``model`` to what ``user`` may see; ``None`` means "everything".

    Paths default to the model's registration.
    """
    scope = scope_of(user)
    if not paths:
        try:
            paths = _REGISTRY[model]
        except KeyError:
            raise LookupError(f"{model.__name__} has no scope registration in households.access") from None
    full = _full_paths(paths)
    if scope.level == "all":
        return None
    if scope.level == "none":
        return Q(pk__in=[])
    if scope.level == "volunteer":
        return _volunteer_q(user, model, full)
    if scope.level == "supplier":
        if "supplier" in full:
            return _q(full["supplier"], scope.supplier_id)
        if "household" in full:
            return Q(pk__in=[])
        return None
    place_levels = [level for level in LEVELS if level in full]
    if not place_levels:
        # Not a place-bound model (a supplier's own data): staff and residents may see it.
        return None
    if scope.level in full:
        return _q(full[scope.level], scope.id_at(scope.level))
    if scope.level == "household":
        # A resident sees the places of the own community; another household's rows never.
        if "household" in full:
            return Q(pk__in=[])
    deepest = place_levels[-1]
    if LEVELS.index(deepest) < LEVELS.index(scope.level):
        # The model sits above the user's level: the user sees the own ancestor only.
        return _q(full[deepest], scope.id_at(deepest))
    return Q(pk__in=[])


def _volunteer_q(user, model: type[Model], full: dict[str, Path]) -> Q:
    """The narrowest scope: the registered volunteer rows, the places of the own community, nothing else."""
    rows = _VOLUNTEER.get(model)
    if rows is not None:
        return rows(user)
    if model in _PLACES:
        deepest = [level for level in LEVELS if level in full][-1]
        return _q(full[deepest], scope_of(user).id_at(deepest))
    return Q(pk__in=[])


def restrict(queryset: QuerySet, user: User | None, **paths: Path) -> QuerySet:
    """``queryset`` narrowed to the rows ``user`` may see (see the module docstring)."""
    q = scope_q(user, queryset.model, **paths)
    return queryset if q is None else queryset.filter(q)


register(District, district="")
register(Office, office="")
register(Community, community="")
register(Compound, community="community")
register(Building, community="compound__community")
register(Household, household="", community="building__compound__community")
register(HouseholdPhone, household="household", community="household__building__compound__community")
register(LockdownChange, community=("compound__community", "building__compound__community"))
register(ResidentRegistration, community="building__compound__community")
register(HouseholdImport, community="community")
register(Notification, household="household", community="household__building__compound__community")
register(PositiveCaseReport, community="compound__community")
register(Volunteer, community="community")
register(HealthDeclaration, community="volunteer__community")
register_volunteer(Volunteer, lambda user: Q(user_id=user.pk))
register_volunteer(HealthDeclaration, lambda user: Q(volunteer__user_id=user.pk))
register(HouseholdViewLog, household="household", community="household__building__compound__community")


CARE_VIEWERS = ("worker", "operator", "admin", "volunteer")


def sees_care(user: User | None) -> bool:
    """Care flags (elderly living alone, disabled, pregnant…) are for the household's community
    and the hotline: community workers, hotline operators, admins and the volunteers at the door see
    them (rows still in their scope); offices, task forces and suppliers do not."""
    if user is None or not user.is_authenticated:
        return False
    return user.is_superuser or user.role in CARE_VIEWERS
