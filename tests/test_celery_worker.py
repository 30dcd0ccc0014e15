"""A real Celery worker process takes a queued household import from Redis and runs it.

Everything else in the suite runs tasks eagerly; this test proves the deployed path: the service
enqueues on commit, the message crosses the Redis broker, a separate worker process (its own
Django, its own database connection) runs the task and the result is visible in the database.
"""

import time

import pytest

from households import services
from households.models import Household, HouseholdImport, ImportStatus
from tests.factories import BuildingFactory
from tests.workers import Worker

pytestmark = [pytest.mark.redis, pytest.mark.postgres]

IMPORT_SECONDS = 60


@pytest.mark.django_db(transaction=True)
def test_real_worker_runs_a_queued_household_import():
    from config import celery_app

    building = BuildingFactory()
    compound = building.compound
    csv_text = f"小区,楼栋,单元,室,联系人,电话\n{compound.name},{building.number},1,101,王芳,13812345678\n"

    # Only this test's messages: an empty queue before the worker starts.
    celery_app.control.purge()

    worker = Worker("pytest-import")
    try:
        worker.wait_ready()

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
            assert worker.alive(), f"the worker exited:\n{worker.log()}"
            assert time.monotonic() < deadline, (
                f"the import was still pending after {IMPORT_SECONDS} s:\n{worker.log()}"
            )
            time.sleep(0.25)

        assert household_import.status == ImportStatus.DONE, (household_import.error, household_import.report)
        assert (household_import.created_count, household_import.rejected_count) == (1, 0), household_import.report
        household = Household.objects.get(building=building, unit="1", room="101")
        assert household.contact_name == "王芳"
        assert list(household.phones.values_list("number", flat=True)) == ["+8613812345678"]
        assert "household_import_run_task" in worker.log()
    finally:
        worker.stop()
