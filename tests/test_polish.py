"""Issue 18's polish list: pages compressed on the wire, static files kept by browsers, a GET of
the sign-out address answered with a page, landlines written as people write them."""

import pytest
from django.urls import reverse

from core.phones import phone_display
from core.storage import StaticStorage


def test_landlines_keep_their_area_code_apart_and_mobiles_their_groups():
    assert phone_display("+8613812341234") == "138 1234 1234"
    assert phone_display("+8637167180381") == "0371-67180381"
    assert phone_display("+861067180381") == "010-67180381"


@pytest.mark.django_db
def test_pages_are_compressed_on_the_wire(client, city, shop):
    client.force_login(city.users.resident)
    plain = client.get(reverse("supply:shop"))
    squeezed = client.get(reverse("supply:shop"), HTTP_ACCEPT_ENCODING="gzip")
    assert squeezed["Content-Encoding"] == "gzip" and "Accept-Encoding" in squeezed["Vary"]
    assert len(squeezed.content) < len(plain.content) / 2


@pytest.mark.django_db
def test_a_get_of_the_sign_out_address_asks_with_a_button(client, city):
    client.force_login(city.users.resident)
    page = client.get(reverse("logout"))
    assert page.status_code == 200 and 'action="/accounts/logout/"' in page.content.decode()
    assert client.get(reverse("home")).status_code == 200  # still signed in
    assert client.post(reverse("logout")).status_code == 302
    assert "_auth_user_id" not in client.session


def test_collected_static_files_get_hashed_names_and_plain_names_otherwise(tmp_path):
    """Browsers kept every static file for 60 s; a hashed name is kept for a year (immutable)."""
    from django.core.files.base import ContentFile

    storage = StaticStorage(location=tmp_path, base_url="/static/")
    assert storage.stored_name("a.css") == "a.css"  # nothing collected: the plain name, no error
    storage.save("a.css", ContentFile(b"body { color: red; }"))
    list(storage.post_process({"a.css": (storage, "a.css")}, dry_run=False))
    hashed = StaticStorage(location=tmp_path, base_url="/static/").stored_name("a.css")
    assert hashed.startswith("a.") and hashed.endswith(".css") and hashed != "a.css"


@pytest.mark.django_db
def test_large_text_is_remembered_with_the_account_on_every_device(client, city):
    """适老化: the switch in the header; signed in, it is kept with the account, so another phone
    (a new session) shows large text too; signed out it lasts for the session."""
    from django.test import Client

    client.force_login(city.users.resident)
    assert 'class="large-text"' not in client.get(reverse("home")).content.decode()
    response = client.post(reverse("large_text"), {"large_text": "on", "next": "/shop/orders/"})
    assert response.status_code == 302 and response["Location"] == "/shop/orders/"
    city.users.resident.refresh_from_db()
    assert city.users.resident.large_text
    other_phone = Client()
    other_phone.force_login(city.users.resident)
    page = other_phone.get(reverse("home")).content.decode()
    assert 'class="large-text"' in page and 'aria-pressed="true"' in page
    other_phone.post(reverse("large_text"), {"large_text": "off"})
    city.users.resident.refresh_from_db()
    assert not city.users.resident.large_text
    stranger = Client()
    stranger.post(reverse("large_text"), {"large_text": "on"})
    assert 'class="large-text"' in stranger.get(reverse("login")).content.decode()


def test_pages_write_dates_one_way():
    """CONTRIBUTING.md's writing rules: pages write a day as 12月7日 (the year when it is not this
    one) and a moment as 12月7日 09:30, through core.dates (the ``day`` and ``moment`` filters);
    paper and machine values (a link's or a field's, single-quoted) stay ISO 8601."""
    import re
    from pathlib import Path

    allowed = {'"H:i"', '"l"', '"D"'}
    found = []
    for path in Path("templates").rglob("*.html"):
        if "print/_" in str(path) or "certificate" in path.name:
            continue  # paper
        for fmt in re.findall(r'\|date:("[^"]*")', path.read_text()):
            if fmt not in allowed:
                found.append(f"{path}: {fmt}")
    assert found == []


def test_days_and_moments_read_the_same_everywhere():
    import datetime

    from django.utils import translation

    from core.dates import day_text, moment_text

    today = datetime.date(2026, 12, 7)
    moment = datetime.datetime(2026, 12, 7, 1, 30, tzinfo=datetime.UTC)  # 09:30 in Zhengzhou
    with translation.override("zh-hans"):
        assert day_text(datetime.date(2026, 9, 5), today=today) == "9月5日"
        assert day_text(datetime.date(2027, 1, 2), today=today) == "2027年1月2日"
        assert moment_text(moment, today=today) == "12月7日 09:30"
        assert day_text(None) == "" and moment_text(None) == ""
    with translation.override("en"):
        assert moment_text(moment, today=today) == "Dec. 7 09:30"


def test_a_label_s_colon_follows_the_page_s_language():
    """CONTRIBUTING.md: a label's colon is "：" in Chinese and ": " in English. A page writes it
    with ``{% colon %}`` (and Django's forms with their translated suffix), never a colon of one
    language after a translated label."""
    import re
    from pathlib import Path

    from django.template import Context, Template
    from django.utils import translation

    found = [
        f"{path}: {match}"
        for path in Path("templates").rglob("*.html")
        if "print/_" not in str(path)  # paper has its own layout
        for match in re.findall(r"(?:translate \"[^\"]*\" %\}|endblocktranslate %\})[:：]", path.read_text())
    ]
    assert found == []
    tag = Template("{% load baogong %}{% colon %}")
    with translation.override("zh-hans"):
        assert tag.render(Context()) == "："
        from django import forms

        assert forms.Form().label_suffix == "："
    with translation.override("en"):
        assert tag.render(Context()) == ": "
