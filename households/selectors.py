"""Reads of places and households, always narrowed by :mod:`households.access`."""

import datetime
import re
import unicodedata
from collections import defaultdict
from dataclasses import dataclass

from django.db.models import Case, Count, Exists, F, IntegerField, OuterRef, Prefetch, Q, QuerySet, Value, When
from django.db.models.functions import Greatest
from django.shortcuts import get_object_or_404
from django.utils import timezone

from core.phones import InvalidPhone, phone_normalize
from households.access import restrict, scope_of
from households.models import (
    ApiToken,
    Building,
    Community,
    Compound,
    District,
    HealthDeclaration,
    Household,
    HouseholdImport,
    HouseholdPhone,
    LockdownChange,
    LockdownLevel,
    Office,
    RegistrationStatus,
    ResidentRegistration,
    User,
    Volunteer,
)


def hotline_for(*, user: User | None) -> str | None:
    """The supply hotline of the user's district, or None (the city's number applies)."""
    scope = scope_of(user)
    if scope.district_id is None:
        return None
    cache_attr = "_baogong_hotline"
    if not hasattr(user, cache_attr):
        setattr(
            user, cache_attr, District.objects.filter(pk=scope.district_id).values_list("hotline", flat=True).first()
        )
    return getattr(user, cache_attr)


def user_place_name(*, user: User) -> str:
    """The name of the place (or supplier) the user works for, for page headings; "" for the city."""
    scope = scope_of(user)
    if scope.level == "supplier":
        supplier_model = User._meta.get_field("supplier").related_model  # households does not import supply
        names = supplier_model.objects.filter(pk=scope.supplier_id)  # type: ignore[union-attr]
        return names.values_list("name", flat=True).first() or ""
    for level, model in (("household", None), ("community", Community), ("office", Office), ("district", District)):
        if scope.level == level and model is not None:
            place_id = scope.id_at(level)
            if place_id is None:
                return ""
            return model.objects.filter(pk=place_id).values_list("name", flat=True).first() or ""
    return ""


def service_health() -> dict[str, str]:
    """Whether the database and the cache/broker answer: {"database": "ok"|"down", "redis": …}."""
    from django.conf import settings
    from django.db import DatabaseError, connection

    checks = {}
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
        checks["database"] = "ok"
    except DatabaseError:
        checks["database"] = "down"
    if settings.REDIS_URL:
        import redis

        try:
            redis.Redis.from_url(settings.REDIS_URL, socket_connect_timeout=1, socket_timeout=1).ping()
            checks["redis"] = "ok"
        except redis.RedisError:
            checks["redis"] = "down"
    return checks


def notification_list(*, user: User) -> QuerySet:
    """The notifications of the user's own household (residents only; nobody else's)."""
    from households.models import Notification

    if not user.household_id:
        return Notification.objects.none()
    return Notification.objects.filter(household_id=user.household_id).order_by("-created_at", "-id")


def office_list(*, user: User) -> QuerySet[Office]:
    return restrict(Office.objects.select_related("district"), user)


def community_list(*, user: User) -> QuerySet[Community]:
    return restrict(Community.objects.select_related("office__district"), user)


def compound_list(*, user: User, community_id: int | None = None) -> QuerySet[Compound]:
    """Compounds in scope with their household counts and the strictest building level."""
    qs = restrict(Compound.objects.select_related("community"), user)
    if community_id is not None:
        qs = qs.filter(community_id=community_id)
    return qs.annotate(
        household_count=Count("buildings__households", distinct=True),
        sealed_buildings=Count("buildings", filter=Q(buildings__lockdown_level__gt=0), distinct=True),
    ).order_by("community_id", "code")


def compound_get(*, user: User, pk: int) -> Compound:
    return get_object_or_404(restrict(Compound.objects.select_related("community__office__district"), user), pk=pk)


def building_list(*, user: User, compound_id: int) -> QuerySet[Building]:
    return restrict(Building.objects.filter(compound_id=compound_id), user).annotate(
        household_count=Count("households")
    )


def lockdown_history(*, user: User, compound: Compound) -> QuerySet[LockdownChange]:
    return restrict(
        LockdownChange.objects.filter(Q(compound=compound) | Q(building__compound=compound)).select_related(
            "building", "changed_by"
        ),
        user,
    )


def case_reports_recent(*, user: User, compound: Compound, days: int = 14) -> QuerySet:
    """The compound's positive case reports of the last ``days`` days, newest first."""
    from households.models import PositiveCaseReport

    since = timezone.localdate() - datetime.timedelta(days=days)
    return restrict(
        PositiveCaseReport.objects.filter(compound=compound, date__gte=since).select_related("building", "recorded_by"),
        user,
    )


UNSEAL_AFTER_NEGATIVE_DAYS = 7


@dataclass
class UnsealStatus:
    """A sealed compound, or a building sealed on its own, and its run of negative days."""

    compound: Compound
    building: Building | None
    level: int
    negative_days: int  # consecutive days reported negative, up to today (or yesterday if today is not in yet)
    last_report: datetime.date | None

    @property
    def eligible(self) -> bool:
        return self.negative_days >= UNSEAL_AFTER_NEGATIVE_DAYS


def _negative_run(days: dict, today: datetime.date) -> int:
    """Consecutive days whose reports all say 0, going back from today; a day with no report ends
    the run. Today may not be reported yet: then the run is counted from yesterday."""
    day = today if today in days else today - datetime.timedelta(days=1)
    run = 0
    while run < UNSEAL_AFTER_NEGATIVE_DAYS and day in days and not any(days[day]):
        run += 1
        day -= datetime.timedelta(days=1)
    return run


def unsealing_list(*, user: User, today: datetime.date | None = None) -> list[UnsealStatus]:
    """Every sealed compound and every building sealed beyond its compound, in the user's scope,
    with its run of negative days: eligible to unseal after 7 (解除封控), eligible ones first.

    A compound's day is negative when it has at least one report that day and every report of
    the compound (whole or any building) says 0; a building's day counts its own reports and the
    compound-wide ones. Three queries, whatever the number of places.
    """
    from households.models import PositiveCaseReport

    today = today or timezone.localdate()
    compounds = list(
        restrict(Compound.objects.filter(lockdown_level__gt=LockdownLevel.OPEN), user).select_related("community")
    )
    buildings = list(
        restrict(Building.objects.filter(lockdown_level__gt=F("compound__lockdown_level")), user).select_related(
            "compound__community"
        )
    )
    compound_ids = {c.pk for c in compounds} | {b.compound_id for b in buildings}
    by_compound: dict = defaultdict(lambda: defaultdict(list))
    by_building: dict = defaultdict(lambda: defaultdict(list))
    compound_wide: dict = defaultdict(lambda: defaultdict(list))
    reports = PositiveCaseReport.objects.filter(
        compound_id__in=compound_ids,
        date__gte=today - datetime.timedelta(days=UNSEAL_AFTER_NEGATIVE_DAYS),
        date__lte=today,
    ).values_list("compound_id", "building_id", "date", "cases")
    last: dict = {}
    for compound_id, building_id, date, cases in reports:
        by_compound[compound_id][date].append(cases)
        (by_building[building_id] if building_id else compound_wide[compound_id])[date].append(cases)
        key = ("b", building_id) if building_id else ("c", compound_id)
        last[key] = max(last.get(key, date), date)
        last[("c", compound_id)] = max(last.get(("c", compound_id), date), date)
    statuses = [
        UnsealStatus(
            compound=c,
            building=None,
            level=c.lockdown_level,
            negative_days=_negative_run(by_compound[c.pk], today),
            last_report=last.get(("c", c.pk)),
        )
        for c in compounds
    ]
    for b in buildings:
        days = defaultdict(list, {d: list(v) for d, v in compound_wide[b.compound_id].items()})
        for d, v in by_building[b.pk].items():
            days[d].extend(v)
        statuses.append(
            UnsealStatus(
                compound=b.compound,
                building=b,
                level=b.lockdown_level,
                negative_days=_negative_run(days, today),
                last_report=last.get(("b", b.pk)),
            )
        )
    statuses.sort(
        key=lambda s: (
            not s.eligible,
            -s.negative_days,
            s.compound.community_id,
            s.compound.code,
            s.building.sort_key if s.building else -1,
        )
    )
    return statuses


def _household_base(user: User) -> QuerySet[Household]:
    return (
        restrict(Household.objects.all(), user)
        .select_related("building__compound__community", "assigned_worker")
        .prefetch_related(Prefetch("phones", queryset=HouseholdPhone.objects.order_by("-is_primary", "id")))
        .annotate(effective=Greatest("building__lockdown_level", "building__compound__lockdown_level"))
    )


def household_list(
    *,
    user: User,
    community_id: int | None = None,
    compound_id: int | None = None,
    search: str = "",
    care_only: bool = False,
    level: int | None = None,
) -> QuerySet[Household]:
    """Households the user may see, ordered compound → building → unit → floor → room.

    ``search`` is what a caller says: a phone number (any of the household's; the last 4 to 10
    digits are enough, so a landline without its area code is found), a contact name, or an
    address — a compound name or its pinyin initials, optionally followed by the building,
    unit and room ("正商城 1号楼 101", "zsc 1 101").
    """
    qs = _household_base(user)
    if community_id is not None:
        qs = qs.filter(building__compound__community_id=community_id)
    if compound_id is not None:
        qs = qs.filter(building__compound_id=compound_id)
    if care_only:
        qs = qs.filter(
            Q(elderly_alone=True)
            | Q(disabled=True)
            | Q(pregnant=True)
            | Q(chronic_medicine=True)
            | Q(dialysis=True)
            | ~Q(care_note="")
        )
    if level is not None:
        qs = qs.filter(effective=level)  # type: ignore[misc]  # an annotation of household_list
    search = unicodedata.normalize("NFKC", search).strip()
    order: list = []
    if search:
        qs = qs.filter(_search_q(search))
        exact = _address_in_order_q(search)
        if exact is not None:  # the address as said (building, [unit,] room) before its neighbours
            qs = qs.annotate(inexact=Case(When(exact, then=Value(0)), default=Value(1)))
            order = ["inexact"]
    return qs.order_by(
        *order,
        "building__compound__community_id",
        "building__compound__code",
        "building__sort_key",
        "building__number",
        "unit",
        "floor",
        "room",
    )


def _building_q(token: str) -> Q:
    bare = _bare(token)
    return Q(building__sort_key=int(bare)) if bare.isdigit() and len(bare) <= 6 else Q(building__number=token)


def _bare(token: str) -> str:
    return token.removesuffix("号楼").removesuffix("栋").removesuffix("单元").removesuffix("室")


def _address_in_order_q(search: str) -> Q | None:
    """For "place building room" or "place building unit room": the households at exactly that
    address, in that order (None for any other search)."""
    tokens = search.split()[1:]
    if len(tokens) == 2:
        return _building_q(tokens[0]) & Q(room=_bare(tokens[1]))
    if len(tokens) == 3:
        return _building_q(tokens[0]) & Q(unit=_bare(tokens[1])) & Q(room=_bare(tokens[2]))
    return None


def _search_q(search: str) -> Q:
    digits = re.sub(r"[\s\-()+]", "", search)
    if digits.isdigit():
        try:
            phone = phone_normalize(search)
        except InvalidPhone:
            phone = None
        if phone:
            return Q(Exists(HouseholdPhone.objects.filter(household=OuterRef("pk"), number=phone)))
        if 4 <= len(digits) <= 10:
            return Q(Exists(HouseholdPhone.objects.filter(household=OuterRef("pk"), number__endswith=digits)))
    first, *rest = search.split()
    place = Q(building__compound__name__contains=first) | Q(building__compound__initials__startswith=first.lower())
    q = (Q(contact_name__contains=search) | place) if not rest else place
    for token in rest:
        bare = _bare(token)
        q &= _building_q(token) | Q(unit=bare) | Q(room=bare)
    return q


def household_get(*, user: User, pk: int) -> Household:
    """One household the user may see, or 404 (never another household's data)."""
    return get_object_or_404(_household_base(user), pk=pk)


def households_with_phone(*, phone: str) -> QuerySet[Household]:
    """Every household that lists ``phone`` (E.164); unscoped, for registration only."""
    return Household.objects.filter(phones__number=phone).select_related("building__compound__community").distinct()


def level_counts(*, user: User) -> dict[int, int]:
    """Households in scope by effective lockdown level: {0: n, 1: n, 2: n}."""
    rows = (
        restrict(Household.objects.all(), user)
        .annotate(effective=Greatest("building__lockdown_level", "building__compound__lockdown_level"))
        .values("effective")
        .annotate(n=Count("id"))
    )
    counts = {level: 0 for level in LockdownLevel.values}
    for row in rows:
        counts[row["effective"]] = row["n"]
    return counts


def registration_pending_list(*, user: User) -> QuerySet[ResidentRegistration]:
    return restrict(
        ResidentRegistration.objects.filter(status=RegistrationStatus.PENDING).select_related(
            "building__compound", "registered_household__building__compound"
        ),
        user,
    ).order_by("created_at", "id")


def households_at_addresses(*, registrations) -> dict[tuple[int, str, str], Household]:
    """The households already registered at the addresses of these registrations (one query)."""
    keys = Q(pk__in=[])
    for r in registrations:
        keys |= Q(building_id=r.building_id, unit=r.unit, room=r.room)
    return {(h.building_id, h.unit, h.room): h for h in Household.objects.filter(keys).prefetch_related("phones")}


def registration_get(*, user: User, pk: int) -> ResidentRegistration:
    return get_object_or_404(
        restrict(ResidentRegistration.objects.select_related("building__compound__community"), user), pk=pk
    )


def household_import_list(*, user: User) -> QuerySet[HouseholdImport]:
    return restrict(HouseholdImport.objects.select_related("community", "uploaded_by"), user).defer("content")


def household_import_get(*, user: User, pk: int) -> HouseholdImport:
    return get_object_or_404(household_import_list(user=user), pk=pk)


def api_token_list(*, user: User) -> QuerySet[ApiToken]:
    """The user's own API tokens that still work, newest first (only their prefixes: keys are
    never stored). Expired ones and those revoked by a change of password, role or place are left out."""
    return ApiToken.objects.filter(
        user=user, expires_at__gt=timezone.now(), fingerprint=user.get_session_auth_hash()
    ).order_by("-created_at", "-id")


def volunteer_list(*, user: User, status: str | None = None, community_id: int | None = None) -> QuerySet:
    """The volunteers the user may see (a worker: its community's; ``community_id``: of that
    community only), those waiting for approval first."""
    volunteers = restrict(Volunteer.objects.select_related("user", "community"), user)
    if community_id is not None:
        volunteers = volunteers.filter(community_id=community_id)
    if status:
        volunteers = volunteers.filter(status=status)
    pending_first = Case(When(status="pending", then=Value(0)), default=Value(1), output_field=IntegerField())
    return volunteers.order_by(pending_first, "name", "pk")


def health_declaration_today(*, user: User):
    return HealthDeclaration.objects.filter(volunteer__user_id=user.pk, day=timezone.localdate()).first()
