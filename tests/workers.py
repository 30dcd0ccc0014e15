"""Real Celery worker processes for the tests that must prove the deployed path."""

import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from urllib.parse import quote

from django.conf import settings
from django.db import connection

WORKER_START_SECONDS = 60


def test_database_url() -> str:
    """A postgres:// URL for the database this test runs against (test_…, not the configured one)."""
    db = connection.settings_dict
    credentials = quote(db["USER"] or "", safe="")
    if db.get("PASSWORD"):
        credentials += ":" + quote(db["PASSWORD"], safe="")
    host = db["HOST"] or ""
    if ":" in host and not host.startswith("["):
        host = f"[{host}]"
    port = f":{db['PORT']}" if db.get("PORT") else ""
    at = "@" if credentials else ""
    return f"postgres://{credentials}{at}{host}{port}/{quote(db['NAME'], safe='')}"


class Worker:
    """``celery -A config worker`` in its own process, on the test database and the test Redis."""

    def __init__(self, name: str, *, queues: str | None = None, **env: str):
        self.log_path = Path(tempfile.mkdtemp(prefix="baogong-worker-")) / "worker.log"
        environment = {
            **os.environ,
            "DJANGO_SETTINGS_MODULE": "config.settings",
            "DATABASE_URL": test_database_url(),
            "REDIS_URL": settings.REDIS_URL,
            "PYTHONUNBUFFERED": "1",
            # the packaging tests do not draw every printed list (tests/deliveries/test_printing.py does)
            "DELIVERIES_PRINT_ON_PACK": "false",
            "MEDIA_ROOT": str(self.log_path.parent / "media"),
            **env,
        }
        with self.log_path.open("wb") as log:
            self.process = subprocess.Popen(
                [
                    sys.executable,
                    "-m",
                    "celery",
                    "-A",
                    "config",
                    "worker",
                    "--pool=solo",
                    "--concurrency=1",
                    "-l",
                    "info",
                    "--without-gossip",
                    "--without-mingle",
                    "--without-heartbeat",
                    "-n",
                    f"{name}-{os.getpid()}@%h",
                    *(["-Q", queues] if queues else []),  # without -Q: every queue (settings)
                ],
                cwd=settings.BASE_DIR,
                env=environment,
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
            )

    def log(self) -> str:
        text = self.log_path.read_text(errors="replace") if self.log_path.exists() else ""
        return text[-6000:]

    def wait_ready(self) -> None:
        deadline = time.monotonic() + WORKER_START_SECONDS
        while "ready." not in self.log():
            assert self.process.poll() is None, f"the worker exited with {self.process.returncode}:\n{self.log()}"
            assert time.monotonic() < deadline, f"the worker was not ready in {WORKER_START_SECONDS} s:\n{self.log()}"
            time.sleep(0.2)

    def alive(self) -> bool:
        return self.process.poll() is None

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=10)


def wait_for(condition, *, seconds: float, what: str, worker: Worker | None = None):
    deadline = time.monotonic() + seconds
    while True:
        value = condition()
        if value:
            return value
        if worker is not None:
            assert worker.alive(), f"the worker exited while waiting for {what}:\n{worker.log()}"
        assert time.monotonic() < deadline, f"{what}: not after {seconds} s" + (f"\n{worker.log()}" if worker else "")
        time.sleep(0.2)


def free_port() -> int:
    """A free TCP port on loopback (for a private server of a test)."""
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def answers(url: str) -> bool:
    """True when ``url`` answers 200 (a server that is up)."""
    import urllib.request

    try:
        with urllib.request.urlopen(url, timeout=2) as response:
            return response.status == 200
    except OSError:
        return False
