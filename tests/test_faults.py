"""Faults, on PostgreSQL and a real Redis: the broker dies while residents order.

Orders are still accepted and saved (the work they need is queued after commit, and a broker
that cannot be reached drops the message instead of failing the request); once Redis is back, a
real Celery worker does that work from the database state: the beat's sweep builds the urgent
package, and closing the cycle packs every order exactly once.

Bounded: a private redis-server on a free loopback port (the shared one is never stopped), one
worker, a few dozen orders, under a minute.
"""

import shutil
import socket
import subprocess
import time

import pytest
from rest_framework.authtoken.models import Token

from deliveries import services as delivery_services
from deliveries.models import Package, PackageOrder
from deliveries.tasks import urgent_packages_sweep_task
from supply import services as supply_services
from supply.models import Cycle, CycleStatus, Order, OrderStatus
from tests.workers import Worker, wait_for

pytestmark = [pytest.mark.redis, pytest.mark.postgres, pytest.mark.django_db(transaction=True)]


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class PrivateRedis:
    """A redis-server of this test's own, that it may stop and start again on the same port."""

    def __init__(self):
        self.port = _free_port()
        self.url = f"redis://127.0.0.1:{self.port}/0"
        self.process = None

    def start(self) -> None:
        self.process = subprocess.Popen(
            [shutil.which("redis-server") or "redis-server", "--port", str(self.port), "--bind", "127.0.0.1",
             "--save", "", "--appendonly", "no"],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        )
        import redis

        wait_for(lambda: self._answers(redis), seconds=20, what="private redis-server up")

    def _answers(self, redis) -> bool:
        try:
            return redis.Redis.from_url(self.url, socket_connect_timeout=0.5).ping()
        except redis.RedisError:
            return False

    def stop(self) -> None:
        if self.process and self.process.poll() is None:
            self.process.terminate()
            self.process.wait(timeout=10)


@pytest.fixture
def broker(settings):
    """The app's broker and cache pointed at a private Redis, restored afterwards."""
    from config import celery_app

    redis_server = PrivateRedis()
    redis_server.start()
    conf = celery_app.conf
    saved = conf.broker_url, conf.task_always_eager
    settings.CACHES = {"default": {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": redis_server.url}}

    def use(url):
        conf.broker_url = url
        celery_app._pool = None  # producers connect again, to the new broker
        celery_app.amqp._producer_pool = None

    use(redis_server.url)
    conf.task_always_eager = False
    try:
        yield redis_server
    finally:
        redis_server.stop()
        use(saved[0])
        conf.task_always_eager = saved[1]


def test_orders_are_accepted_while_redis_is_down_and_the_work_happens_when_it_is_back(broker, shop, city, api_client):
    medicine = supply_services.product_create(supplier_id=shop.supplier.pk, by=None, name="硝苯地平缓释片", category="medicine",
                                              unit="盒", size="30片", price="12.50", capacity=50)
    resident = Token.objects.create(user=city.users.resident).key
    operator = Token.objects.create(user=city.users.operator).key

    def order(token, key, **body):
        api_client.credentials(HTTP_AUTHORIZATION=f"Token {token}")
        return api_client.post("/api/v1/orders/", body, format="json", HTTP_IDEMPOTENCY_KEY=key)

    assert order(resident, "before", lines=[{"product": shop.masks.pk, "quantity": 1}]).status_code == 201

    broker.stop()  # Redis dies in the middle of the morning
    started = time.monotonic()
    accepted = []
    for n in range(5):
        response = order(resident, f"during-{n}", lines=[{"product": shop.cabbage.pk, "quantity": 1}])
        assert response.status_code == 201, response.content
        accepted.append(response.json()["id"])
    urgent = order(operator, "urgent", household=city.household_b.pk, urgent=True,
                   lines=[{"product": medicine.pk, "quantity": 1}])
    assert urgent.status_code == 201, urgent.content
    assert time.monotonic() - started < 20, "requests must not hang on the dead broker"
    urgent_id = urgent.json()["id"]
    assert Order.objects.filter(pk__in=accepted + [urgent_id], status=OrderStatus.PLACED).count() == 6
    assert not PackageOrder.objects.filter(order_id=urgent_id).exists()  # its message was lost

    broker.start()  # Redis is back; a worker comes up
    worker = Worker("pytest-faults", REDIS_URL=broker.url)
    try:
        worker.wait_ready()
        urgent_packages_sweep_task.delay()  # what the beat schedule sends every minute
        wait_for(lambda: PackageOrder.objects.filter(order_id=urgent_id).exists(), seconds=60,
                 what="the urgent package built after Redis came back", worker=worker)
        delivery_services.cycle_close(cycle_id=shop.cycle.pk)
        wait_for(lambda: Cycle.objects.get(pk=shop.cycle.pk).status == CycleStatus.PACKED, seconds=60,
                 what="the cycle packed", worker=worker)
    finally:
        worker.stop()
    placed = Order.objects.filter(cycle=shop.cycle, status=OrderStatus.PLACED)
    links = PackageOrder.objects.filter(order__in=placed)
    assert links.count() == placed.count() and links.values("order_id").distinct().count() == placed.count()
    assert Package.objects.filter(cycle=shop.cycle, urgent=False).values("household_id").distinct().count() == \
        Package.objects.filter(cycle=shop.cycle, urgent=False).count()
