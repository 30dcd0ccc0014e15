"""Faults, on PostgreSQL and a real Redis: the broker dies while residents order.

Orders are still accepted and saved (the work they need is queued after commit, and a broker
that cannot be reached drops the message instead of failing the request); once Redis is back, a
real Celery worker does that work from the database state: the beat's sweep builds the urgent
package, and closing the cycle packs every order exactly once.

Bounded: a private redis-server on a free loopback port (the shared one is never stopped), one
worker, a few dozen orders, under a minute.
"""

import shutil
import subprocess
import time

import pytest

from deliveries import services as delivery_services
from deliveries.models import Package, PackageOrder
from deliveries.tasks import urgent_packages_sweep_task
from households.identity import api_token_issue
from supply import services as supply_services
from supply.models import Cycle, CycleStatus, Order, OrderStatus
from tests.workers import Worker, answers, free_port, wait_for

pytestmark = [pytest.mark.redis, pytest.mark.postgres, pytest.mark.django_db(transaction=True)]


class PrivateRedis:
    """A redis-server of this test's own, that it may stop and start again on the same port."""

    def __init__(self):
        self.port = free_port()
        self.url = f"redis://127.0.0.1:{self.port}/0"
        self.process = None

    def start(self) -> None:
        self.process = subprocess.Popen(
            [
                shutil.which("redis-server") or "redis-server",
                "--port",
                str(self.port),
                "--bind",
                "127.0.0.1",
                "--save",
                "",
                "--appendonly",
                "no",
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        import redis

        wait_for(lambda: self.answers(redis), seconds=20, what="private redis-server up")

    def answers(self, redis) -> bool:
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
    settings.CACHES = {
        "default": {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": redis_server.url}
    }

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
    medicine = supply_services.product_create(
        supplier_id=shop.supplier.pk,
        by=None,
        name="硝苯地平缓释片",
        category="medicine",
        unit="盒",
        size="30片",
        price="12.50",
        capacity=50,
    )
    resident = api_token_issue(user=city.users.resident)[1]
    operator = api_token_issue(user=city.users.operator)[1]

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
    urgent = order(
        operator, "urgent", household=city.household_b.pk, urgent=True, lines=[{"product": medicine.pk, "quantity": 1}]
    )
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
        wait_for(
            lambda: PackageOrder.objects.filter(order_id=urgent_id).exists(),
            seconds=60,
            what="the urgent package built after Redis came back",
            worker=worker,
        )
        delivery_services.cycle_close(cycle_id=shop.cycle.pk)
        wait_for(
            lambda: Cycle.objects.get(pk=shop.cycle.pk).status == CycleStatus.PACKED,
            seconds=60,
            what="the cycle packed",
            worker=worker,
        )
    finally:
        worker.stop()
    placed = Order.objects.filter(cycle=shop.cycle, status=OrderStatus.PLACED)
    links = PackageOrder.objects.filter(order__in=placed)
    assert links.count() == placed.count() and links.values("order_id").distinct().count() == placed.count()
    assert (
        Package.objects.filter(cycle=shop.cycle, urgent=False).values("household_id").distinct().count()
        == Package.objects.filter(cycle=shop.cycle, urgent=False).count()
    )


# --- PostgreSQL restarted during a load ------------------------------------------------------------


class PrivatePostgres:
    """A PostgreSQL cluster of this test's own (initdb in a temporary folder, a free loopback
    port), that it may restart while gunicorn serves orders from it. Run as the ``postgres``
    system user when the tests run as root (CI), as initdb and the server refuse root."""

    def __init__(self):
        import glob
        import os
        import tempfile

        self.bindir = sorted(glob.glob("/usr/lib/postgresql/*/bin"), key=lambda p: int(p.split("/")[-2]))[-1]
        self.root = tempfile.mkdtemp(prefix="baogong-pg-", dir="/tmp")
        os.chmod(self.root, 0o755)
        self.data = f"{self.root}/data"
        self.port = free_port()
        self.url = f"postgres://postgres@127.0.0.1:{self.port}/baogong"
        self.as_root = os.geteuid() == 0

    def _run(self, *command: str, timeout: float = 120) -> None:
        if self.as_root:
            command = ("runuser", "-u", "postgres", "--", *command)
        done = subprocess.run(command, capture_output=True, text=True, timeout=timeout)
        assert done.returncode == 0, f"{command}: {done.stdout}\n{done.stderr}"

    def start(self) -> None:
        import os
        import shutil as sh

        os.makedirs(self.data)
        if self.as_root:
            sh.chown(self.root, "postgres")
            sh.chown(self.data, "postgres")
        os.chmod(self.data, 0o700)
        self._run(f"{self.bindir}/initdb", "-D", self.data, "-A", "trust", "-U", "postgres", "-E", "UTF8", "--no-sync")
        self._run(
            f"{self.bindir}/pg_ctl",
            "-D",
            self.data,
            "-w",
            "-t",
            "60",
            "-l",
            f"{self.root}/log",
            "-o",
            self.options,
            "start",
        )
        import psycopg2

        connection = psycopg2.connect(host="127.0.0.1", port=self.port, user="postgres", dbname="postgres")
        connection.autocommit = True
        connection.cursor().execute("CREATE DATABASE baogong")
        connection.close()

    @property
    def options(self) -> str:
        return f"-p {self.port} -k {self.root} -c listen_addresses=127.0.0.1 -c fsync=off"

    def restart(self) -> None:
        # -l: the server must not inherit this process's pipes (it would hold them open)
        self._run(
            f"{self.bindir}/pg_ctl",
            "-D",
            self.data,
            "-w",
            "-t",
            "60",
            "-m",
            "fast",
            "-l",
            f"{self.root}/log",
            "-o",
            self.options,
            "restart",
        )

    def stop(self) -> None:
        import shutil as sh

        try:
            self._run(f"{self.bindir}/pg_ctl", "-D", self.data, "-w", "-m", "immediate", "stop", timeout=60)
        finally:
            sh.rmtree(self.root, ignore_errors=True)

    def execute(self, sql: str, params) -> None:
        import psycopg2

        connection = psycopg2.connect(host="127.0.0.1", port=self.port, user="postgres", dbname="baogong")
        try:
            with connection, connection.cursor() as cursor:
                cursor.execute(sql, params)
        finally:
            connection.close()

    def order_ids(self, ids) -> set[int]:
        import psycopg2

        connection = psycopg2.connect(host="127.0.0.1", port=self.port, user="postgres", dbname="baogong")
        try:
            cursor = connection.cursor()
            cursor.execute("SELECT id FROM supply_order WHERE id = ANY(%s)", [list(ids)])
            return {row[0] for row in cursor.fetchall()}
        finally:
            connection.close()


@pytest.mark.django_db(transaction=False)
def test_a_postgresql_restart_fails_requests_in_flight_cleanly_and_loses_no_acknowledged_order():
    import json
    import os
    import sys
    import threading
    import urllib.error
    import urllib.request

    from django.conf import settings

    database = PrivatePostgres()
    database.start()
    port = free_port()
    env = {k: v for k, v in os.environ.items() if k not in {"REDIS_URL", "DJANGO_SETTINGS_MODULE"}}
    env.update(
        DATABASE_URL=database.url,
        DEBUG="false",
        DJANGO_SETTINGS_MODULE="config.settings",
        ORDER_RATE="100000/m",
        SIGN_IN_RATE="1000/m",
        PYTHONUNBUFFERED="1",
    )
    server = None
    try:
        for command in (["migrate", "-v", "0"], ["seed_demo", "--households", "300"]):
            done = subprocess.run(
                [sys.executable, "manage.py", *command],
                cwd=settings.BASE_DIR,
                env=env,
                capture_output=True,
                text=True,
                timeout=300,
            )
            assert done.returncode == 0, done.stdout + done.stderr
        server = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "gunicorn",
                "config.wsgi",
                "--bind",
                f"127.0.0.1:{port}",
                "--workers",
                "2",
                "--threads",
                "4",
                "--log-level",
                "warning",
            ],
            cwd=settings.BASE_DIR,
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        base = f"http://127.0.0.1:{port}"

        def call(method, path, body=None, headers=None):
            request = urllib.request.Request(
                base + path,
                method=method,
                data=json.dumps(body).encode() if body else None,
                headers={"Content-Type": "application/json", **(headers or {})},
            )
            try:
                with urllib.request.urlopen(request, timeout=30) as response:
                    return response.status, json.loads(response.read() or b"null")
            except urllib.error.HTTPError as error:
                return error.code, json.loads(error.read() or b"null")

        wait_for(lambda: answers(base + "/healthz/"), seconds=60, what="gunicorn up")
        status, body = call("POST", "/api/v1/auth/token/", {"username": "resident", "password": "demo12345"})
        assert status == 200, body
        auth = {"Authorization": f"Token {body['token']}"}
        status, catalog = call("GET", "/api/v1/catalog/", headers=auth)
        assert status == 200, catalog
        product = max((p for p in catalog if p["household_limit"] is None), key=lambda p: p["available"])
        database.execute("UPDATE supply_cyclestock SET capacity = 1000000 WHERE product_id = %s", [product["id"]])

        results, stop, lock = [], threading.Event(), threading.Lock()
        restarted_at = []

        def client(n):
            i = 0
            while not stop.is_set():
                i += 1
                status, body = call(
                    "POST",
                    "/api/v1/orders/",
                    {"lines": [{"product": product["id"], "quantity": 1}]},
                    headers={**auth, "Idempotency-Key": f"load-{n}-{i}"},
                )
                with lock:
                    results.append((time.monotonic(), status, body))
                time.sleep(0.02)

        threads = [threading.Thread(target=client, args=(n,)) for n in range(4)]
        for thread in threads:
            thread.start()
        time.sleep(2)
        database.restart()  # in flight: fast shutdown, then up again
        restarted_at.append(time.monotonic())
        time.sleep(4)
        stop.set()
        for thread in threads:
            thread.join(60)
    finally:
        if server is not None:
            server.terminate()
            server.wait(timeout=20)
        try:
            statuses = [status for _at, status, _body in results] if "results" in locals() else []
            acknowledged = {
                body["id"] for _at, status, body in (results if "results" in locals() else []) if status == 201
            }
            saved = database.order_ids(acknowledged) if acknowledged else set()
        finally:
            database.stop()

    from collections import Counter

    print(
        f"PostgreSQL restart under load: {len(statuses)} requests, statuses {dict(Counter(statuses))}, "
        f"{len(acknowledged)} acknowledged orders, {len(saved)} found after the restart"
    )
    assert statuses, "no request was made"
    unexpected = [(status, body) for _at, status, body in results if status not in (201, 409, 503)]
    assert not unexpected, f"only 201, 409 (sold out) and a clean 503 are acceptable: {unexpected[:5]}"
    for _at, status, body in results:
        if status == 503:
            assert set(body) == {"detail", "errors"} and body["detail"]
    assert acknowledged == saved, f"acknowledged orders lost: {sorted(acknowledged - saved)[:10]}"
    after = [status for at, status, _body in results if at > restarted_at[0] + 1]
    assert 201 in after, f"no order succeeded after the restart: {after[:20]}"
