"""A real Celery worker process takes a queued household import from Redis and runs it.

Everything else in the suite runs tasks eagerly; this test proves the deployed path: the service
enqueues on commit, the message crosses the Redis broker, a separate worker process (its own
Django, its own database connection) runs the task and the result is visible in the database.
"""

import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from urllib.parse import quote

import pytest
from django.conf import settings
from django.db import connection

from households import services
from households.models import Household, HouseholdImport, ImportStatus
from tests.factories import BuildingFactory

pytestmark = [pytest.mark.redis, pytest.mark.postgres]

WORKER_START_SECONDS = 60
IMPORT_SECONDS = 60


def _test_database_url() -> str:
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


def _worker_log(path: Path) -> str:
    text = path.read_text(errors="replace") if path.exists() else ""
    return text[-6000:]


@pytest.mark.django_db(transaction=True)
def test_real_worker_runs_a_queued_household_import():
    from config import celery_app

    building = BuildingFactory()
    compound = building.compound
    csv_text = f"小区,楼栋,单元,室,联系人,电话\n{compound.name},{building.number},1,101,王芳,13812345678\n"

    # Only this test's messages: an empty queue before the worker starts.
    celery_app.control.purge()

    log_path = Path(tempfile.mkdtemp(prefix="baogong-worker-")) / "worker.log"
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "config.settings",
        "DATABASE_URL": _test_database_url(),
        "REDIS_URL": settings.REDIS_URL,
        "PYTHONUNBUFFERED": "1",
    }
    with log_path.open("wb") as log:
        worker = subprocess.Popen(
            [
                sys.executable, "-m", "celery", "-A", "config", "worker",
                "--pool=solo", "--concurrency=1", "-l", "info",
                "--without-gossip", "--without-mingle", "--without-heartbeat",
                "-n", f"pytest-{os.getpid()}@%h",
            ],
            cwd=settings.BASE_DIR,
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
    try:
        deadline = time.monotonic() + WORKER_START_SECONDS
        while "ready." not in _worker_log(log_path):
            assert worker.poll() is None, f"the worker exited with {worker.returncode}:\n{_worker_log(log_path)}"
            assert time.monotonic() < deadline, f"the worker was not ready in {WORKER_START_SECONDS} s:\n{_worker_log(log_path)}"
            time.sleep(0.2)

        # The test is not wrapped in a transaction (transaction=True), so the service's own atomic
        # block commits and its on_commit hook sends the task to Redis instead of running it here.
        celery_app.conf.task_always_eager = False
        household_import = services.household_import_create(
            community_id=compound.community_id,
            uploaded_by=None,
            filename="register.csv",
            content=csv_text.encode("utf-8"),
        )

        deadline = time.monotonic() + IMPORT_SECONDS
        while True:
            household_import = HouseholdImport.objects.get(pk=household_import.pk)
            if household_import.status != ImportStatus.PENDING:
                break
            assert worker.poll() is None, f"the worker exited with {worker.returncode}:\n{_worker_log(log_path)}"
            assert time.monotonic() < deadline, (
                f"the import was still pending after {IMPORT_SECONDS} s:\n{_worker_log(log_path)}"
            )
            time.sleep(0.25)

        assert household_import.status == ImportStatus.DONE, (household_import.error, household_import.report)
        assert (household_import.created_count, household_import.rejected_count) == (1, 0), household_import.report
        household = Household.objects.get(building=building, unit="1", room="101")
        assert household.contact_name == "王芳"
        assert list(household.phones.values_list("number", flat=True)) == ["+8613812345678"]
        assert "household_import_run_task" in _worker_log(log_path)
    finally:
        worker.terminate()
        try:
            worker.wait(timeout=20)
        except subprocess.TimeoutExpired:
            worker.kill()
            worker.wait(timeout=10)
