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
