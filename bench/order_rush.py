"""Order rush: many concurrent clients place orders over HTTP against gunicorn and PostgreSQL.

    .venv/bin/python bench/order_rush.py --clients 32 --orders 6000 [--seconds 60] \\
        [--households 20000] [--workers 2] [--threads 4] [--runs 1]

One run, all on 127.0.0.1:
1. drop and create a scratch database (``baogong_bench_rush``), migrate, ``seed_demo --households N``
   (the demo catalog and an open cycle come with it);
2. create the bench accounts cheaply: one resident per household (``--accounts-per-client`` for
   each client) in 中原区 (every demo supplier serves it), one password hash shared by all, API
   tokens written directly (the token endpoint is exercised once in the warm-up);
3. start gunicorn (``config.wsgi``, DEBUG off, no REDIS_URL) and warm up (every client reads the
   catalog once, keep-alive connections open);
4. rush: C client threads with keep-alive ``http.client`` connections place orders for their own
   households until ``--orders`` orders were sent or ``--seconds`` have passed. Each order has
   1–4 lines drawn (weighted by capacity) from the products without a household limit, and a
   unique ``Idempotency-Key``. A fraction (``--retry-fraction``) is sent again with the same key,
   half of those at the same moment on a second connection: they must return the first order.
   Another fraction (``--scarce-fraction``) adds one unit of the demo's scarce product, which
   sells out: capacity must hold;
5. check the database: oversold units (accepted quantities above capacity, summed over the
   products; must be 0, and ``reserved`` must equal the accepted quantities) and duplicate
   orders (rows sharing ``(placed_by, idempotency_key)``, retries answered with another order,
   orders in the database beyond the accepted keys; must be 0);
6. ``pgbench -i -s S`` on a second scratch database and ``pgbench -c C -j 2 -T 15`` (TPC-B-like)
   for comparison; stop gunicorn, drop both databases.

Prints the figures of each run, then one JSON line last: ``{"clients", "orders", "orders_per_s",
"p50_ms", "p99_ms", "oversold", "duplicates", "pgbench_tps", …}`` (with ``--runs`` > 1 the medians,
the worst oversold and duplicates, and every run in full under ``runs``). Latencies are over every
order request (201 created, 200 replayed, 409 refused); ``orders`` counts the orders created.
Exits with status 1 if anything was oversold or duplicated.
"""

import argparse
import http.client
import json
import os
import random
import re
import resource
import secrets
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit

import psycopg2
from scratch import recreate_database as _recreate  # bench/scratch.py

ROOT = Path(__file__).resolve().parent.parent
HOST = "127.0.0.1"
PASSWORD = "bench12345"
LOG = Path("/tmp/order_rush_gunicorn.log")


# --- databases ------------------------------------------------------------------------------------


def _manage(url: str, *args: str) -> None:
    env = {**os.environ, "DATABASE_URL": url, "DEBUG": "false"}
    env.pop("REDIS_URL", None)
    subprocess.run([sys.executable, "manage.py", *args], cwd=ROOT, env=env, check=True, stdout=subprocess.DEVNULL)


# Runs in a subprocess with Django set up on the scratch database: creates the bench residents and
# their tokens, and prints what the clients need as JSON.
ACCOUNTS_SNIPPET = r"""
import json, os, secrets
from django.contrib.auth.hashers import make_password
from django.db import transaction
import datetime
from django.utils import timezone
from households.identity import api_token_digest
from households.models import ApiToken, Household, Role, User
from supply.demo import SCARCE
from supply.models import CycleStock, PriceState, Product
from supply.selectors import open_cycle

count = int(os.environ["BENCH_ACCOUNTS"])
district = "zhongyuan"
households = list(
    Household.objects.filter(building__compound__community__office__district__code=district)
    .order_by("pk").values_list("pk", flat=True)[:count]
)
if len(households) < count:
    raise SystemExit(f"only {len(households)} households in {district}; seed a larger city (--households)")
hashed = make_password(os.environ["BENCH_PASSWORD"])  # once: PBKDF2 takes a while and every bench account shares it
with transaction.atomic():
    users = User.objects.bulk_create(
        [User(username=f"bench-{i:05d}", role=Role.RESIDENT, household_id=pk, password=hashed)
         for i, pk in enumerate(households)],
        batch_size=2000,
    )
    keys = [secrets.token_hex(20) for _ in users]
    expires = timezone.now() + datetime.timedelta(days=1)
    ApiToken.objects.bulk_create(
        [ApiToken(user=u, digest=api_token_digest(k), prefix=k[:8], fingerprint=u.get_session_auth_hash(), expires_at=expires)
         for u, k in zip(users, keys)],
        batch_size=2000,
    )
cycle = open_cycle()
stock = dict(CycleStock.objects.filter(cycle=cycle).values_list("product_id", "capacity"))
orderable = Product.objects.filter(
    is_active=True, price_state=PriceState.APPROVED, supplier__is_whitelisted=True, supplier__districts__code=district
)
scarce = orderable.get(supplier__name=SCARCE[0], name=SCARCE[1], size=SCARCE[2])
mix = [(p.pk, stock[p.pk]) for p in orderable.filter(household_limit__isnull=True).exclude(pk=scarce.pk).order_by("pk")]
print(json.dumps({
    "accounts": [[u.username, k, u.household_id] for u, k in zip(users, keys)],
    "cycle": cycle.pk,
    "mix": mix,
    "scarce": [scarce.pk, stock[scarce.pk]],
}))
"""


def _accounts_create(url: str, count: int) -> dict:
    env = {
        **os.environ,
        "DATABASE_URL": url,
        "DEBUG": "false",
        "BENCH_ACCOUNTS": str(count),
        "BENCH_PASSWORD": PASSWORD,
    }
    env.pop("REDIS_URL", None)
    done = subprocess.run(
        [sys.executable, "manage.py", "shell", "-c", ACCOUNTS_SNIPPET],
        cwd=ROOT,
        env=env,
        check=True,
        capture_output=True,
        text=True,
    )
    return json.loads(done.stdout.strip().splitlines()[-1])


def _check(url: str, *, cycle_id: int, accepted_keys: int) -> dict:
    """Oversold units and duplicate orders, from the database after the rush."""
    connection = psycopg2.connect(url)
    try:
        with connection.cursor() as cursor:
            cursor.execute(
                """
                SELECT s.product_id, s.capacity, s.reserved, coalesce(sum(l.quantity), 0)
                FROM supply_cyclestock s
                LEFT JOIN supply_order o ON o.cycle_id = s.cycle_id AND o.status = 'placed'
                LEFT JOIN supply_orderline l ON l.order_id = o.id AND l.product_id = s.product_id
                WHERE s.cycle_id = %s
                GROUP BY s.product_id, s.capacity, s.reserved
                """,
                [cycle_id],
            )
            rows = cursor.fetchall()
            oversold = sum(max(accepted - capacity, 0) for _pid, capacity, _reserved, accepted in rows)
            mismatched = sum(1 for _pid, _capacity, reserved, accepted in rows if reserved != accepted)
            cursor.execute(
                """
                SELECT coalesce(sum(n - 1), 0) FROM (
                    SELECT count(*) AS n FROM supply_order WHERE idempotency_key IS NOT NULL
                    GROUP BY placed_by_id, idempotency_key HAVING count(*) > 1
                ) d
                """
            )
            same_key = int(cursor.fetchone()[0])
            cursor.execute("SELECT count(*) FROM supply_order WHERE idempotency_key LIKE 'rush-%%'")
            bench_orders = cursor.fetchone()[0]
            cursor.execute("SHOW server_version")
            version = cursor.fetchone()[0]
        return {
            "oversold": oversold,
            "reserved_mismatch": mismatched,
            "same_key_rows": same_key,
            "orders_in_db": bench_orders,
            "extra_orders": max(bench_orders - accepted_keys, 0),
            "postgresql": version,
        }
    finally:
        connection.close()


# --- gunicorn -------------------------------------------------------------------------------------


def _free_port() -> int:
    with socket.socket() as s:
        s.bind((HOST, 0))
        return s.getsockname()[1]


def _gunicorn_start(url: str, *, port: int, workers: int, threads: int, log) -> subprocess.Popen:
    env = {**os.environ, "DATABASE_URL": url, "DEBUG": "false"}
    env.pop("REDIS_URL", None)
    # django.request logs every 409 (sold out) as a warning: thousands of lines, kept out of the report.
    process = subprocess.Popen(
        [
            str(ROOT / ".venv" / "bin" / "gunicorn"),
            "config.wsgi",
            "--bind",
            f"{HOST}:{port}",
            "--workers",
            str(workers),
            "--threads",
            str(threads),
            "--log-level",
            "warning",
        ],
        cwd=ROOT,
        env=env,
        start_new_session=True,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise SystemExit(f"gunicorn exited with {process.returncode}")
        try:
            connection = http.client.HTTPConnection(HOST, port, timeout=2)
            connection.request("GET", "/api/v1/catalog/")
            connection.getresponse().read()
            connection.close()
            return process
        except OSError:
            time.sleep(0.2)
    _gunicorn_stop(process)
    raise SystemExit("gunicorn did not answer within 30 s")


def _gunicorn_stop(process: subprocess.Popen) -> None:
    if process.poll() is not None:
        return
    process.send_signal(signal.SIGTERM)
    try:
        process.wait(timeout=30)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)
        process.wait()


def _server_cpu_seconds(process: subprocess.Popen) -> float:
    """User + system CPU of the gunicorn master and its workers so far (Linux /proc)."""
    ticks = os.sysconf("SC_CLK_TCK")
    total = 0
    pids = [process.pid]
    try:
        children = Path(f"/proc/{process.pid}/task/{process.pid}/children").read_text().split()
        pids += [int(pid) for pid in children]
    except OSError:
        pass
    for pid in pids:
        try:
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
            total += int(fields[11]) + int(fields[12])
        except OSError:
            pass
    return total / ticks


def _postgres_cpu_seconds() -> float | None:
    """CPU of the local PostgreSQL server so far: its live processes, plus the backends that have
    exited (the postmaster's reaped children). The whole server: other databases' work counts too."""
    ticks = os.sysconf("SC_CLK_TCK")
    processes: dict[int, tuple[int, list[str]]] = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:
            continue
        if stat[stat.index("(") + 1 : stat.rindex(")")].startswith("postgres"):
            fields = stat.rsplit(")", 1)[1].split()
            processes[int(entry.name)] = (int(fields[1]), fields)
    if not processes:
        return None
    total = 0
    for _pid, (parent, fields) in processes.items():
        total += int(fields[11]) + int(fields[12])
        if parent not in processes:  # the postmaster
            total += int(fields[13]) + int(fields[14])
    return total / ticks


class WaitSampler(threading.Thread):
    """Samples pg_stat_activity every 100 ms: how many of the bench database's backends run a
    query, wait for a row lock, or sit idle in a transaction (Python holding the transaction open)."""

    def __init__(self, url: str):
        super().__init__(name="wait-sampler", daemon=True)
        self.url, self.database = url, urlsplit(url).path.lstrip("/")
        self.samples: list[dict[str, int]] = []
        self.halt = threading.Event()

    def run(self) -> None:
        connection = psycopg2.connect(self.url)
        connection.autocommit = True
        try:
            with connection.cursor() as cursor:
                while not self.halt.wait(0.1):
                    cursor.execute(
                        """
                        SELECT
                          count(*) FILTER (WHERE state = 'active' AND wait_event_type = 'Lock'),
                          count(*) FILTER (WHERE state = 'active' AND coalesce(wait_event_type, '') <> 'Lock'),
                          count(*) FILTER (WHERE state = 'idle in transaction')
                        FROM pg_stat_activity WHERE datname = %s AND pid <> pg_backend_pid()
                        """,
                        [self.database],
                    )
                    waiting, running, idle_in_transaction = cursor.fetchone()
                    self.samples.append({"lock": waiting, "running": running, "idle_in_tx": idle_in_transaction})
        finally:
            connection.close()

    def stop(self) -> None:
        self.halt.set()
        self.join(timeout=5)

    def summary(self) -> dict[str, float]:
        """Average number of backends in each state over the rush."""
        if not self.samples:
            return {}
        return {key: round(sum(s[key] for s in self.samples) / len(self.samples), 1) for key in self.samples[0]}


# --- the clients ----------------------------------------------------------------------------------


@dataclass
class Tally:
    latencies: list[float] = field(default_factory=list)
    created_latencies: list[float] = field(default_factory=list)
    status: dict[int, int] = field(default_factory=dict)
    created: int = 0
    accepted_keys: set = field(default_factory=set)
    replay_mismatches: int = 0  # a retry answered with another order, or created a new one
    retries: int = 0
    reconnects: int = 0
    errors: list[str] = field(default_factory=list)


class Client(threading.Thread):
    def __init__(self, index: int, *, port: int, accounts: list, plan, tally: Tally, budget, deadline_ref, nonce: str):
        super().__init__(name=f"client-{index}", daemon=True)
        self.index, self.port, self.accounts, self.plan, self.tally = index, port, accounts, plan, tally
        self.budget, self.deadline_ref, self.nonce = budget, deadline_ref, nonce
        self.rng = random.Random(index)
        self.connection = http.client.HTTPConnection(HOST, port, timeout=30)
        self.second = http.client.HTTPConnection(HOST, port, timeout=30)
        self.local = Tally()
        self.ready = threading.Event()
        self.go = threading.Event()

    def _post(self, connection, token: str, key: str, body: bytes):
        headers = {"Authorization": f"Token {token}", "Idempotency-Key": key, "Content-Type": "application/json"}
        started = time.perf_counter()
        for attempt in (1, 2):
            try:
                connection.request("POST", "/api/v1/orders/", body=body, headers=headers)
                response = connection.getresponse()
                payload = response.read()
            except (OSError, http.client.HTTPException) as exc:
                connection.close()  # http.client reconnects on the next request
                if attempt == 1 and isinstance(
                    exc, (BrokenPipeError, ConnectionResetError, http.client.RemoteDisconnected)
                ):
                    # gunicorn closed the idle keep-alive connection (its keepalive is 2 s): send again,
                    # as any HTTP client does; the Idempotency-Key makes it safe either way.
                    self.local.reconnects += 1
                    started = time.perf_counter()
                    continue
                return None, None, time.perf_counter() - started, repr(exc)
            return response.status, payload, time.perf_counter() - started, None

    def warm_up(self) -> None:
        for _username, token, _household in self.accounts[:2]:
            for connection in (self.connection, self.second):
                connection.request("GET", "/api/v1/catalog/", headers={"Authorization": f"Token {token}"})
                response = connection.getresponse()
                response.read()
                if response.status != 200:
                    raise SystemExit(f"warm-up: GET /api/v1/catalog/ answered {response.status}")

    def _record(self, status, payload, seconds, error, key) -> int | None:
        tally = self.local
        if error is not None:
            tally.errors.append(error)
            return None
        tally.latencies.append(seconds)
        tally.status[status] = tally.status.get(status, 0) + 1
        if status in (200, 201):
            order_id = json.loads(payload)["id"]
            tally.accepted_keys.add(key)
            if status == 201:
                tally.created += 1
                tally.created_latencies.append(seconds)
            return order_id
        if status != 409:
            tally.errors.append(f"{status}: {payload[:200]!r}")
        return None

    def run(self) -> None:
        self.ready.set()
        self.go.wait()
        n = 0
        mix_ids, mix_weights, scarce_id, retry_fraction, scarce_fraction = self.plan
        while time.monotonic() < self.deadline_ref[0] and self.budget():
            username, token, _household = self.accounts[n % len(self.accounts)]
            n += 1
            key = f"rush-{self.nonce}-{self.index}-{n}"
            chosen: set[int] = set()
            size = self.rng.randint(1, 4)
            while len(chosen) < size:
                chosen.add(self.rng.choices(mix_ids, weights=mix_weights)[0])
            lines = [{"product": pid, "quantity": self.rng.randint(1, 3)} for pid in sorted(chosen)]
            if self.rng.random() < scarce_fraction:
                lines.append({"product": scarce_id, "quantity": 1})
            body = json.dumps({"lines": lines}).encode()
            roll = self.rng.random()
            if roll < retry_fraction / 2:
                # The client's answer was lost: it sends the same request again, later.
                first = self._record(*self._post(self.connection, token, key, body), key)
                again = self._record(*self._post(self.connection, token, key, body), key)
                self.local.retries += 1
                if first is not None and again is not None and first != again:
                    self.local.replay_mismatches += 1
            elif roll < retry_fraction:
                # Two tabs, one double click: the same request twice at the same moment.
                other: list = []
                helper = threading.Thread(
                    target=lambda o=other, t=token, k=key, b=body: o.append(self._post(self.second, t, k, b))
                )
                helper.start()
                mine = self._post(self.connection, token, key, body)
                helper.join()
                first, again = self._record(*mine, key), self._record(*other[0], key)
                self.local.retries += 1
                if mine[0] == 201 and other[0][0] == 201:
                    self.local.replay_mismatches += 1  # both created: a duplicate
                elif first is not None and again is not None and first != again:
                    self.local.replay_mismatches += 1
            else:
                self._record(*self._post(self.connection, token, key, body), key)
        self.connection.close()
        self.second.close()


def _percentile(values: list[float], q: float) -> float:
    if not values:
        return 0.0
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(q * len(ordered)) - 1))]


def _rush(args, *, port: int, setup: dict) -> tuple[Tally, float, float]:
    accounts = setup["accounts"]
    per_client = [accounts[i :: args.clients] for i in range(args.clients)]
    mix_ids = [pid for pid, _capacity in setup["mix"]]
    mix_weights = [capacity for _pid, capacity in setup["mix"]]
    plan = (mix_ids, mix_weights, setup["scarce"][0], args.retry_fraction, args.scarce_fraction)
    lock = threading.Lock()
    sent = [0]

    def budget() -> bool:
        with lock:
            if sent[0] >= args.orders:
                return False
            sent[0] += 1
            return True

    deadline = [float("inf")]
    nonce = secrets.token_hex(3)
    clients = [
        Client(
            i,
            port=port,
            accounts=per_client[i],
            plan=plan,
            tally=Tally(),
            budget=budget,
            deadline_ref=deadline,
            nonce=nonce,
        )
        for i in range(args.clients)
    ]
    for client in clients:
        client.warm_up()
        client.start()
    for client in clients:
        client.ready.wait()
    started = time.perf_counter()
    deadline[0] = time.monotonic() + args.seconds
    for client in clients:
        client.go.set()
    for client in clients:
        client.join()
    elapsed = time.perf_counter() - started
    total = Tally()
    for client in clients:
        local = client.local
        total.latencies += local.latencies
        total.created_latencies += local.created_latencies
        for status, count in local.status.items():
            total.status[status] = total.status.get(status, 0) + count
        total.created += local.created
        total.accepted_keys |= local.accepted_keys
        total.replay_mismatches += local.replay_mismatches
        total.retries += local.retries
        total.reconnects += local.reconnects
        total.errors += local.errors
    return total, elapsed, started


# --- pgbench --------------------------------------------------------------------------------------


def _pgbench_binary() -> str | None:
    found = shutil.which("pgbench")
    if found:
        return found
    candidates = sorted(Path("/usr/lib/postgresql").glob("*/bin/pgbench"))
    return str(candidates[-1]) if candidates else None


def _pgbench(url: str, *, clients: int, seconds: int, scale: int) -> float | None:
    binary = _pgbench_binary()
    if binary is None:
        print("pgbench not found (Debian: postgresql-client / postgresql-contrib): skipped", flush=True)
        return None
    parts = urlsplit(url)
    name = parts.path.lstrip("/")
    connect = ["-h", parts.hostname or HOST, "-p", str(parts.port or 5432), "-U", parts.username or "postgres"]
    _recreate(url)
    try:
        subprocess.run([binary, "-i", "-q", "-s", str(scale), *connect, name], check=True, capture_output=True)
        done = subprocess.run(
            [binary, "-c", str(clients), "-j", "2", "-T", str(seconds), *connect, name],
            check=True,
            capture_output=True,
            text=True,
        )
    finally:
        _recreate(url, drop_only=True)
    match = re.search(r"tps = ([\d.]+) \(without initial connection time\)", done.stdout) or re.search(
        r"tps = ([\d.]+)", done.stdout
    )
    return round(float(match.group(1)), 1) if match else None


# --- one run --------------------------------------------------------------------------------------


def run_once(args) -> dict:
    url = args.database_url
    print(
        f"scratch database {urlsplit(url).path.lstrip('/')}: migrate, seed_demo --households {args.households}",
        flush=True,
    )
    _recreate(url)
    gunicorn = log = None
    try:
        _manage(url, "migrate", "-v", "0")
        _manage(url, "seed_demo", "--households", str(args.households), "--quiet")
        setup = _accounts_create(url, args.clients * args.accounts_per_client)
        port = args.port or _free_port()
        log = open(LOG, "w")  # noqa: SIM115 - closed when gunicorn has stopped
        gunicorn = _gunicorn_start(url, port=port, workers=args.workers, threads=args.threads, log=log)
        # The token endpoint, once: the first bench account signs in over HTTP.
        username, _token, _household = setup["accounts"][0]
        connection = http.client.HTTPConnection(HOST, port, timeout=30)
        connection.request(
            "POST",
            "/api/v1/auth/token/",
            body=json.dumps({"username": username, "password": PASSWORD}),
            headers={"Content-Type": "application/json"},
        )
        response = connection.getresponse()
        answer = json.loads(response.read())
        connection.close()
        if response.status != 200 or not answer.get("token"):  # a new token per sign-in (one per device)
            raise SystemExit(f"POST /api/v1/auth/token/ answered {response.status}: {answer}")

        cpu_client, cpu_server, cpu_postgres = (
            resource.getrusage(resource.RUSAGE_SELF),
            _server_cpu_seconds(gunicorn),
            _postgres_cpu_seconds(),
        )
        print(
            f"rush: {args.clients} clients, up to {args.orders} orders or {args.seconds} s, gunicorn {args.workers}×{args.threads}",
            flush=True,
        )
        sampler = WaitSampler(url)
        sampler.start()
        try:
            tally, elapsed, _started = _rush(args, port=port, setup=setup)
        finally:
            sampler.stop()
        cpu_after = resource.getrusage(resource.RUSAGE_SELF)
        server_cpu = _server_cpu_seconds(gunicorn) - cpu_server
        postgres_after = _postgres_cpu_seconds()
        _gunicorn_stop(gunicorn)
        gunicorn = None
        checked = _check(url, cycle_id=setup["cycle"], accepted_keys=len(tally.accepted_keys))
    finally:
        if gunicorn is not None:
            _gunicorn_stop(gunicorn)
        if log is not None:
            log.close()
        if not args.keep:
            _recreate(url, drop_only=True)

    pgbench_tps = None
    if not args.skip_pgbench:
        print(f"pgbench: -i -s {args.pgbench_scale}, then -c {args.clients} -j 2 -T {args.pgbench_seconds}", flush=True)
        pgbench_tps = _pgbench(
            args.pgbench_url, clients=args.clients, seconds=args.pgbench_seconds, scale=args.pgbench_scale
        )

    requests = len(tally.latencies)
    duplicates = checked["same_key_rows"] + checked["extra_orders"] + tally.replay_mismatches
    figures = {
        "clients": args.clients,
        "orders": tally.created,
        "orders_per_s": round(tally.created / elapsed, 1) if elapsed else 0.0,
        "p50_ms": round(_percentile(tally.latencies, 0.50) * 1000, 1),
        "p99_ms": round(_percentile(tally.latencies, 0.99) * 1000, 1),
        "oversold": checked["oversold"],
        "duplicates": duplicates,
        "pgbench_tps": pgbench_tps,
        # Beyond the figures: what the requests were, and where the CPU went.
        "requests": requests,
        "requests_per_s": round(requests / elapsed, 1) if elapsed else 0.0,
        "status": {str(k): v for k, v in sorted(tally.status.items())},
        "retries": tally.retries,
        "reconnects": tally.reconnects,
        "errors": len(tally.errors),
        "reserved_mismatch": checked["reserved_mismatch"],
        "backends": sampler.summary(),
        "p99_created_ms": round(_percentile(tally.created_latencies, 0.99) * 1000, 1),
        "seconds": round(elapsed, 2),
        "cpu_s": {
            "gunicorn": round(server_cpu, 1),
            "postgres": round(postgres_after - cpu_postgres, 1)
            if postgres_after is not None and cpu_postgres is not None
            else None,
            "clients": round(
                (cpu_after.ru_utime + cpu_after.ru_stime) - (cpu_client.ru_utime + cpu_client.ru_stime), 1
            ),
        },
        "households": args.households,
        "workers": args.workers,
        "threads": args.threads,
        "postgresql": checked["postgresql"],
    }
    print(
        f"  {tally.created} orders in {elapsed:.1f} s = {figures['orders_per_s']} orders/s; {requests} requests "
        f"({figures['status']}), p50 {figures['p50_ms']} ms, p99 {figures['p99_ms']} ms; "
        f"oversold {figures['oversold']}, duplicates {duplicates}, errors {len(tally.errors)}; "
        f"CPU s {figures['cpu_s']}; pgbench {pgbench_tps} tps",
        flush=True,
    )
    for error in tally.errors[:5]:
        print(f"  error: {error}", flush=True)
    return figures


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--clients", type=int, default=32)
    parser.add_argument("--orders", type=int, default=6000, help="orders to send at most (retries not counted)")
    parser.add_argument("--seconds", type=float, default=60, help="stop sending after this long")
    parser.add_argument("--households", type=int, default=20_000)
    parser.add_argument("--accounts-per-client", type=int, default=16)
    parser.add_argument("--workers", type=int, default=2, help="gunicorn worker processes (as `make run`)")
    parser.add_argument("--threads", type=int, default=4, help="gunicorn threads per worker (as `make run`)")
    parser.add_argument("--retry-fraction", type=float, default=0.05)
    parser.add_argument("--scarce-fraction", type=float, default=0.05)
    parser.add_argument("--runs", type=int, default=1, help="repeat and report the medians")
    parser.add_argument("--port", type=int, default=0, help="default: a free port on 127.0.0.1")
    parser.add_argument("--database-url", default="postgres://postgres@127.0.0.1:5432/baogong_bench_rush")
    parser.add_argument("--pgbench-url", default="postgres://postgres@127.0.0.1:5432/baogong_bench_pgbench")
    parser.add_argument("--pgbench-seconds", type=int, default=15)
    parser.add_argument("--pgbench-scale", type=int, default=32)
    parser.add_argument("--skip-pgbench", action="store_true")
    parser.add_argument("--keep", action="store_true", help="keep the scratch database for inspection")
    args = parser.parse_args()
    for url in (args.database_url, args.pgbench_url):
        if urlsplit(url).hostname not in (HOST, "localhost"):
            raise SystemExit("the bench runs against a local PostgreSQL only (127.0.0.1)")

    runs = []
    for run in range(1, args.runs + 1):
        if args.runs > 1:
            print(f"run {run} of {args.runs}", flush=True)
        runs.append(run_once(args))
    if len(runs) == 1:
        figures = runs[0]
    else:
        # The figures as medians over the runs (oversold and duplicates: the worst run),
        # then every run in full.
        figures = {"clients": args.clients}
        for key in ("orders", "orders_per_s", "p50_ms", "p99_ms"):
            figures[key] = statistics.median(r[key] for r in runs)
        figures["oversold"] = max(r["oversold"] for r in runs)
        figures["duplicates"] = max(r["duplicates"] for r in runs)
        tps = [r["pgbench_tps"] for r in runs if r["pgbench_tps"] is not None]
        figures["pgbench_tps"] = statistics.median(tps) if tps else None
        figures["runs"] = [{k: v for k, v in r.items() if k != "clients"} for r in runs]
    print(json.dumps(figures, ensure_ascii=False))
    if figures["oversold"] or figures["duplicates"]:
        sys.exit(1)


if __name__ == "__main__":
    main()
