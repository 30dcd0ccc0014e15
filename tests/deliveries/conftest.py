"""The deliveries tests' fixtures: one small packed cycle at three stages of custody."""

import pytest

from tests.deliveries.custody import pack, receive_upstream


@pytest.fixture
def packed(city, shop, django_capture_on_commit_callbacks):
    """A packed cycle delivering in a few days, nothing received yet: both households of
    community A (door), one of B (pick-up), one of C; A's first household also buys from a
    second supplier."""
    return pack(city, shop, django_capture_on_commit_callbacks)


@pytest.fixture
def due_today(city, shop, django_capture_on_commit_callbacks):
    """The same cycle, delivering today, nothing received yet."""
    return pack(city, shop, django_capture_on_commit_callbacks, today=True)


@pytest.fixture
def arrived(due_today, city):
    """The same cycle, delivering today, its goods at every community (not yet at the compounds)."""
    receive_upstream(due_today.cycle, city.users.admin)
    return due_today
