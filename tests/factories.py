import factory

from households.models import (
    Building,
    Community,
    Compound,
    District,
    Household,
    HouseholdPhone,
    LockdownLevel,
    Office,
    Role,
    User,
)
from supply.models import Supplier


class DistrictFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = District

    name = factory.Sequence(lambda n: f"测试区{n}")
    code = factory.Sequence(lambda n: f"d{n}")
    hotline = "0371-67635762"


class OfficeFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Office

    district = factory.SubFactory(DistrictFactory)
    name = factory.Sequence(lambda n: f"测试街道{n}")
    code = factory.Sequence(lambda n: f"o{n}")


class CommunityFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Community

    office = factory.SubFactory(OfficeFactory)
    name = factory.Sequence(lambda n: f"测试社区{n}")
    code = factory.Sequence(lambda n: f"c{n}")
    receiving_point = "社区东门接收点"


class CompoundFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Compound

    community = factory.SubFactory(CommunityFactory)
    name = factory.Sequence(lambda n: f"丰产路{n}号院")
    code = factory.Sequence(lambda n: f"p{n}")
    initials = "fcl"
    lockdown_level = LockdownLevel.OPEN


class BuildingFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Building

    compound = factory.SubFactory(CompoundFactory)
    number = factory.Sequence(lambda n: f"{n + 1}号楼")
    sort_key = factory.Sequence(lambda n: n + 1)


class HouseholdFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Household

    building = factory.SubFactory(BuildingFactory)
    unit = "1"
    floor = factory.Sequence(lambda n: n % 30 + 1)
    room = factory.Sequence(lambda n: f"{n % 30 + 1}{n % 4 + 1:02d}-{n}")
    contact_name = "张伟"
    members = 2


class HouseholdPhoneFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = HouseholdPhone

    household = factory.SubFactory(HouseholdFactory)
    number = factory.Sequence(lambda n: f"+86138{n:08d}")
    is_primary = True


class SupplierFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Supplier

    name = factory.Sequence(lambda n: f"保供超市{n}")
    is_whitelisted = True


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = User
        skip_postgeneration_save = True

    username = factory.Sequence(lambda n: f"user{n}")
    role = Role.RESIDENT
    password = factory.PostGenerationMethodCall("set_password", "demo12345")

    @factory.post_generation
    def saved(obj, create, extracted, **kwargs):
        if create:
            obj.save()


class ProductFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = "supply.Product"

    supplier = factory.SubFactory(SupplierFactory)
    name = factory.Sequence(lambda n: f"蔬菜包{n}")
    category = "vegetables"
    unit = "袋"
    size = "5kg"
    price = "39.90"
    capacity = 100


def resident_registered(
    phone: str, *, building, room: str, unit: str = "", contact_name: str = "测试", password=None, client_ip="192.0.2.1"
):
    """Register the way a resident does: ask for a code for ``phone``, enter it with the address."""
    from households import identity
    from households.models import CodePurpose

    sent = identity.phone_code_send(phone=phone, purpose=CodePurpose.REGISTER, client_ip=client_ip)
    assert sent.code, f"no registration code for {phone}: it already has an account"
    return identity.resident_register(
        phone=phone,
        code=sent.code,
        password_hash=identity.password_hash_for(password, phone=phone, name=contact_name),
        contact_name=contact_name,
        building_id=building.pk,
        unit=unit,
        room=room,
    )
