"""A demo city for ``seed_demo``: Zhengzhou's three supply districts, down to households and phones.

The city is planned in memory from one ``random.Random(seed)`` (so the same arguments always plan
the same city, whatever the database holds), then written set-based: places by their natural keys
(codes); compounds, buildings, households and phones by inserts that skip rows clashing with a
unique constraint (``bulk_create(ignore_conflicts=True)``; on PostgreSQL ``COPY`` and
``INSERT … ON CONFLICT DO NOTHING``); accounts only when missing. Existing rows are never updated.
"""

from households.demo.people_names import DEMO_PASSWORD, DEMO_USERNAMES
from households.demo.plan import DemoAccount, DemoResult
from households.demo.writing import demo_city_seed, demo_registration_example

__all__ = [
    "DEMO_PASSWORD",
    "DEMO_USERNAMES",
    "DemoAccount",
    "DemoResult",
    "demo_city_seed",
    "demo_registration_example",
]
