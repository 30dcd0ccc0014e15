"""Issue 19: dashboards and reports read from a PostgreSQL streaming replica.

The test starts its own primary (initdb, a replication line in pg_hba) and a real streaming
replica of it (pg_basebackup -R, a second cluster on another port), loads the demo city into the
primary, and asks a separate Django process which database each request's queries went to: a
dashboard request issues no query to the primary; a page that is not a report does; a person
who just wrote reads the primary.
"""

import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import pytest
from django.conf import settings

from tests.workers import free_port

pytestmark = pytest.mark.postgres


def _bin(name: str) -> str:
    found = sorted(Path("/usr/lib/postgresql").glob(f"*/bin/{name}"))
    if found:
        return str(found[-1])
    path = shutil.which(name)
    assert path, f"{name} (PostgreSQL's server programs) is not installed"
    return path


def _as_postgres(command: list[str], **kwargs) -> subprocess.CompletedProcess:
    """PostgreSQL's servers refuse to run as root: as the postgres user then."""
    if os.geteuid() == 0:
        command = ["runuser", "-u", "postgres", "--", *command]
    return subprocess.run(command, check=True, capture_output=True, text=True, timeout=180, **kwargs)


class Cluster:
    def __init__(self, root: Path, name: str):
        self.data = root / name
        self.port = free_port()
        self.root = root

    def configure(self, *extra: str) -> None:
        with (self.data / "postgresql.conf").open("a") as conf:
            conf.write(
                "\n".join(
                    [
                        f"port = {self.port}",
                        "listen_addresses = '127.0.0.1'",
                        f"unix_socket_directories = '{self.root}'",
                        "fsync = off",
                        *extra,
                    ]
                )
                + "\n"
            )

    def start(self) -> None:
        _as_postgres([_bin("pg_ctl"), "-D", str(self.data), "-l", str(self.data / "server.log"), "-w", "start"])

    def stop(self) -> None:
        if (self.data / "postmaster.pid").exists():
            _as_postgres([_bin("pg_ctl"), "-D", str(self.data), "-m", "immediate", "-w", "stop"])

    def url(self, database: str = "baogong") -> str:
        return f"postgres://postgres@127.0.0.1:{self.port}/{database}"


@pytest.fixture(scope="module")
def primary_and_replica():
    root = Path(tempfile.mkdtemp(prefix="baogong-replica-"))
    if os.geteuid() == 0:
        shutil.chown(root, "postgres", "postgres")
    primary, replica = Cluster(root, "primary"), Cluster(root, "replica")
    try:
        _as_postgres([_bin("initdb"), "-D", str(primary.data), "-U", "postgres", "--auth=trust", "-E", "UTF8"])
        primary.configure("wal_level = replica", "max_wal_senders = 4")
        with (primary.data / "pg_hba.conf").open("a") as hba:
            hba.write("host replication postgres 127.0.0.1/32 trust\n")
        primary.start()
        _as_postgres([_bin("createdb"), "-h", "127.0.0.1", "-p", str(primary.port), "-U", "postgres", "baogong"])
        environment = {**os.environ, "DATABASE_URL": primary.url(), "DJANGO_SETTINGS_MODULE": "config.settings"}
        environment.pop("DATABASE_REPLICA_URL", None)
        for command in (["migrate", "--noinput"], ["seed_demo", "--households", "300", "--quiet"]):
            subprocess.run(
                [sys.executable, "manage.py", *command], cwd=settings.BASE_DIR, env=environment, check=True, timeout=600
            )
        _as_postgres(
            [
                _bin("pg_basebackup"),
                *("-h", "127.0.0.1", "-p", str(primary.port), "-U", "postgres"),
                *("-D", str(replica.data), "-R", "-X", "stream", "--checkpoint=fast"),
            ]
        )
        replica.configure("hot_standby = on")
        replica.start()
        yield primary, replica
    finally:
        for cluster in (replica, primary):
            try:
                cluster.stop()
            except subprocess.CalledProcessError:
                pass
        shutil.rmtree(root, ignore_errors=True)


def test_a_dashboard_request_reads_the_replica_and_never_the_primary(primary_and_replica):
    primary, replica = primary_and_replica
    environment = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "config.settings",
        "DATABASE_URL": primary.url(),
        "DATABASE_REPLICA_URL": replica.url(),
        "REDIS_URL": "",
        "ALLOWED_HOSTS": "testserver",
    }
    started = time.monotonic()
    run = subprocess.run(
        [sys.executable, "-m", "tests.replica_probe"],
        cwd=settings.BASE_DIR,
        env=environment,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert run.returncode == 0, run.stderr[-4000:]
    result = json.loads(run.stdout.strip().splitlines()[-1])
    assert result["standby"] is True, "the second cluster is a streaming replica"
    for page in ("dashboard", "dashboard_api", "statements"):
        assert result[page]["status"] == 200, (page, result[page])
        assert result[page]["primary"] == [], (page, result[page]["primary"])
        assert result[page]["replica"] > 0, page
    assert result["unmarked"]["status"] == 200 and result["unmarked"]["primary"], "other pages read the primary"
    assert result["unmarked"]["replica"] == 0
    assert result["after_a_write"]["status"] == 200
    assert result["after_a_write"]["primary"] and result["after_a_write"]["replica"] == 0, "read-your-writes"
    assert time.monotonic() - started < 300
