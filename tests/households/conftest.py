from types import SimpleNamespace

import pytest

from households.models import LockdownLevel, Role
from tests.factories import (
    BuildingFactory,
    CommunityFactory,
    CompoundFactory,
    DistrictFactory,
    HouseholdFactory,
    HouseholdPhoneFactory,
    OfficeFactory,
    SupplierFactory,
    UserFactory,
)


@pytest.fixture
def city(db):
    """Two districts; district 1 has an office with communities A and B, district 2 one community C.

    Each community has one compound with one building and two households, and a worker.
    Users: one of every role, scoped to community A's chain where a place is needed.
    """
    d1, d2 = DistrictFactory(name="中原区", hotline="0371-67635762"), DistrictFactory(name="二七区", hotline="0371-68812345")
    o1, o2 = OfficeFactory(district=d1), OfficeFactory(district=d2)
    a, b, c = CommunityFactory(office=o1), CommunityFactory(office=o1), CommunityFactory(office=o2)
    places = {}
    for community, level in ((a, LockdownLevel.STAY_AT_HOME), (b, LockdownLevel.STAY_IN_COMPOUND), (c, LockdownLevel.OPEN)):
        compound = CompoundFactory(community=community, lockdown_level=level)
        building = BuildingFactory(compound=compound)
        first = HouseholdFactory(building=building, room="301", floor=3, elderly_alone=True)
        second = HouseholdFactory(building=building, room="1201", floor=12)
        HouseholdPhoneFactory(household=first)
        HouseholdPhoneFactory(household=second)
        places[community.pk] = SimpleNamespace(compound=compound, building=building, households=[first, second])
    supplier = SupplierFactory()
    users = SimpleNamespace(
        resident=UserFactory(role=Role.RESIDENT, household=places[a.pk].households[0], phone="+8613900000001"),
        worker=UserFactory(role=Role.WORKER, community=a, is_staff=True),
        worker_b=UserFactory(role=Role.WORKER, community=b, is_staff=True),
        office=UserFactory(role=Role.OFFICE, office=o1, is_staff=True),
        operator=UserFactory(role=Role.OPERATOR, district=d1, is_staff=True),
        operator2=UserFactory(role=Role.OPERATOR, district=d2, is_staff=True),
        taskforce=UserFactory(role=Role.TASKFORCE, district=d1, is_staff=True),
        city_taskforce=UserFactory(role=Role.TASKFORCE, is_staff=True),
        supplier=UserFactory(role=Role.SUPPLIER, supplier=supplier),
        admin=UserFactory(role=Role.ADMIN, is_staff=True, is_superuser=True),
    )
    return SimpleNamespace(
        districts=(d1, d2), offices=(o1, o2), a=a, b=b, c=c, places=places, supplier=supplier, users=users,
        household_a=places[a.pk].households[0], household_b=places[b.pk].households[0], household_c=places[c.pk].households[0],
    )
