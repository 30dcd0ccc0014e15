"""Volunteers register (on a phone, the number proven by a code, or by the worker), are approved by
the community's worker, and declare their health each day (issue 16)."""

import pytest
from django.contrib.auth.hashers import make_password

from core.errors import BaogongError, Conflict, NotFound, WrongAnswer
from households import identity, volunteers
from households.models import CodePurpose, Role, User, Volunteer, VolunteerStatus
from households.volunteers import VolunteerDetails

IP = "203.0.113.9"


def details(city, **overrides) -> VolunteerDetails:
    values = {
        "name": "王志愿",
        "community_id": city.a.pk,
        "cadre": True,
        "employer": "郑州市交通运输局",
        "home_address": "3号楼2单元501",
        "skills": ("carry", "dialect"),
        "availability": 0b11,  # Monday morning and afternoon
    }
    values.update(overrides)
    return VolunteerDetails(**values)


def test_a_volunteer_registers_with_a_code_and_waits_for_the_worker(city, sms_outbox):
    sent = identity.phone_code_send(phone="13712345678", purpose=CodePurpose.VOLUNTEER, client_ip=IP)
    with pytest.raises(WrongAnswer):
        volunteers.volunteer_register(
            phone="13712345678",
            code="000000" if sent.code != "000000" else "111111",
            password_hash="",
            details=details(city),
        )
    assert not Volunteer.objects.filter(name="王志愿").exists()
    volunteer = volunteers.volunteer_register(
        phone="13712345678", code=sent.code, password_hash=make_password("红马甲2022!"), details=details(city)
    )
    user = volunteer.user
    assert user.role == Role.VOLUNTEER and user.community_id == city.a.pk and not user.is_active
    assert volunteer.status == VolunteerStatus.PENDING and volunteer.skills == ["carry", "dialect"]
    assert volunteer.available(0, 0) and volunteer.available(0, 1) and not volunteer.available(1, 0)

    # another community's worker cannot decide; the worker of A can, once
    with pytest.raises(NotFound):
        volunteers.volunteer_approve(volunteer_id=volunteer.pk, by=city.users.worker_b)
    volunteers.volunteer_approve(volunteer_id=volunteer.pk, by=city.users.worker)
    with pytest.raises(Conflict):
        volunteers.volunteer_approve(volunteer_id=volunteer.pk, by=city.users.worker)
    user.refresh_from_db()
    assert user.is_active
    # and signs in by code like a resident
    sign_in = identity.phone_code_send(phone="13712345678", purpose=CodePurpose.SIGN_IN, client_ip=IP)
    assert identity.resident_sign_in_by_code(phone="13712345678", code=sign_in.code) == user


def test_details_are_checked_before_the_code_is_used(city):
    for bad, field in (
        (details(city, name=" "), "name"),
        (details(city, cadre=True, employer=""), "employer"),
        (details(city, skills=("juggling",)), "skills"),
        (details(city, availability=1 << 14), "availability"),
    ):
        with pytest.raises(BaogongError) as caught:
            volunteers.volunteer_details_clean(bad)
        assert field in caught.value.errors


def test_one_account_per_number_and_a_refusal_says_why(city, sms_outbox):
    resident_phone = city.users.resident.phone
    with pytest.raises(BaogongError):
        volunteers.volunteer_register_by_worker(by=city.users.worker, phone=resident_phone, details=details(city))
    sent = identity.phone_code_send(phone="13712340000", purpose=CodePurpose.VOLUNTEER, client_ip=IP)
    volunteer = volunteers.volunteer_register(
        phone="13712340000", code=sent.code, password_hash=make_password(None), details=details(city)
    )
    with pytest.raises(BaogongError):
        volunteers.volunteer_refuse(volunteer_id=volunteer.pk, by=city.users.worker, note="")
    volunteers.volunteer_refuse(volunteer_id=volunteer.pk, by=city.users.worker, note="已在其他社区报到")
    volunteer.refresh_from_db()
    assert volunteer.status == VolunteerStatus.REFUSED and volunteer.note == "已在其他社区报到"
    assert not User.objects.get(pk=volunteer.user_id).is_active


def test_a_worker_registers_a_volunteer_of_its_own_community_only(city):
    volunteer = volunteers.volunteer_register_by_worker(
        by=city.users.worker, phone="13700001111", details=details(city)
    )
    assert volunteer.status == VolunteerStatus.APPROVED and volunteer.user.is_active
    assert not volunteer.user.has_usable_password()
    with pytest.raises(NotFound):
        volunteers.volunteer_register_by_worker(
            by=city.users.worker, phone="13700002222", details=details(city, community_id=city.b.pk)
        )
    for user in (city.users.office, city.users.resident, city.users.volunteer):
        with pytest.raises(NotFound):
            volunteers.volunteer_register_by_worker(by=user, phone="13700003333", details=details(city))


def test_the_day_s_health_declaration_can_only_get_worse(city):
    user = city.users.volunteer
    assert volunteers.health_declare(user=user, well=True).well
    assert not volunteers.health_declare(user=user, well=False).well
    with pytest.raises(Conflict):
        volunteers.health_declare(user=user, well=True)
    with pytest.raises(NotFound):
        volunteers.health_declare(user=city.users.resident, well=True)


def test_the_worker_s_page_approves_and_registers(city, client):
    sent = identity.phone_code_send(phone="13712349999", purpose=CodePurpose.VOLUNTEER, client_ip=IP)
    pending = volunteers.volunteer_register(
        phone="13712349999", code=sent.code, password_hash=make_password(None), details=details(city, name="李待批")
    )
    client.force_login(city.users.worker)
    page = client.get("/volunteers/")
    assert page.status_code == 200 and "李待批" in page.content.decode()
    response = client.post(f"/volunteers/{pending.pk}/decide/", {"decision": "approve"})
    assert response.status_code == 302
    pending.refresh_from_db()
    assert pending.status == VolunteerStatus.APPROVED
    bad = client.post(f"/volunteers/{pending.pk}/decide/", {"decision": "maybe"})
    assert bad.status_code == 400
    form = {
        "phone": "13712348888",
        "name": "赵来访",
        "community": city.a.pk,
        "skills": ["carry"],
        "availability": ["0", "13"],
    }
    assert client.post("/volunteers/new/", form).status_code == 302
    made = Volunteer.objects.get(name="赵来访")
    assert made.availability == (1 | 1 << 13) and made.status == VolunteerStatus.APPROVED
    client.force_login(city.users.worker_b)
    assert f'id="volunteer-{made.pk}"' not in client.get("/volunteers/").content.decode()
