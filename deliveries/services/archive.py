"""Archiving a cycle: its rows written out to files, then its partitions dropped (PostgreSQL).

On PostgreSQL the order, order-line, package and package-order tables are partitioned by cycle
(deliveries/migrations/0013_partition_by_cycle.py), so a finished cycle leaves the database by
dropping its four tables, not by deleting millions of rows: the primary keeps the open cycle and
the last few. What points at those rows from outside (payments, refunds, shortfalls, handover
events) carries the cycle in a column of its own and is written out and deleted with them.
"""

import datetime
import gzip
import hashlib
import json
import os
import shutil
from dataclasses import dataclass
from pathlib import Path

from django.db import OperationalError, connection, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from core.errors import BaogongError, Conflict, NotFound
from core.postgresql import PARTITIONED_TABLES
from supply.models import Cycle, CycleStatus
from supply.services import cycle_step

# What an archive holds, in the order it is written and (reversed) deleted: (table, the column
# holding the cycle). The first four are partitioned: their partition is detached and dropped.
ARCHIVED = (
    ("supply_order", "cycle_id"),
    ("supply_orderline", "cycle_id"),
    ("deliveries_package", "cycle_id"),
    ("deliveries_packageorder", "cycle_id"),
    ("supply_payment", "order_cycle_id"),
    ("supply_refund", "order_cycle_id"),
    ("supply_shortfall", "order_cycle_id"),
    ("deliveries_handoverevent", "package_cycle_id"),
)
# Pointing at each other, so deleted (or dropped) in this order.
DROP_ORDER = (
    "supply_shortfall",
    "supply_refund",
    "supply_payment",
    "deliveries_handoverevent",
    "deliveries_packageorder",
    "deliveries_package",
    "supply_orderline",
    "supply_order",
)


@dataclass(frozen=True)
class ArchiveSummary:
    cycle_number: int
    directory: Path
    rows: dict[str, int]

    def as_json(self) -> dict:
        return {"cycle": self.cycle_number, "directory": str(self.directory), "rows": self.rows}


# How long the archive waits for another transaction's lock before giving up (and saying so):
# detaching takes the parent tables for a moment, and nobody should queue behind it for long.
LOCK_TIMEOUT = "5s"


def _unsettled(cursor, cycle_id: int) -> int:
    cursor.execute(
        """SELECT (SELECT count(*) FROM supply_payment WHERE order_cycle_id = %(cycle)s AND status = 'pending')
                + (SELECT count(*) FROM supply_refund WHERE order_cycle_id = %(cycle)s AND status = 'pending')""",
        {"cycle": cycle_id},
    )
    return cursor.fetchone()[0]


def _lock(cursor, cycle_id: int) -> None:
    """Hold still what is written out, in one order: the cycle's partitions (reads of them go on,
    writes wait) and its payment and refund rows; the other cycles are not locked."""
    cursor.execute(f"SET LOCAL lock_timeout = '{LOCK_TIMEOUT}'")
    for table, _column in ARCHIVED:
        if table in PARTITIONED_TABLES:
            cursor.execute(f"LOCK TABLE {table}_cycle_{int(cycle_id)} IN EXCLUSIVE MODE")
    for table in ("supply_payment", "supply_refund"):
        cursor.execute(f"SELECT 1 FROM {table} WHERE order_cycle_id = %s ORDER BY id FOR UPDATE", [cycle_id])


def _write(cursor, directory: Path, table: str, column: str, cycle_id: int) -> tuple[int, str]:
    """One table's rows of the cycle as gzipped CSV with a header, on disk; (rows, its SHA-256)."""
    path = directory / f"{table}.csv.gz"
    with path.open("wb") as raw:
        with gzip.GzipFile(fileobj=raw, mode="wb") as out:
            cursor.copy_expert(
                f"COPY (SELECT * FROM {table} WHERE {column} = {int(cycle_id)} ORDER BY id) TO STDOUT WITH CSV HEADER",
                out,
            )
            rows = cursor.rowcount
        raw.flush()
        os.fsync(raw.fileno())
    return rows, hashlib.sha256(path.read_bytes()).hexdigest()


def _drop(cursor, cycle_id: int, rows: dict[str, int]) -> None:
    """The rows pointing in deleted (handover events only with ``baogong.archiving`` on, their
    append-only trigger's one exception), then the four partitions detached and dropped."""
    cursor.execute("SET LOCAL baogong.archiving = 'on'")
    for table in DROP_ORDER:
        if table in PARTITIONED_TABLES:
            partition = f"{table}_cycle_{int(cycle_id)}"
            cursor.execute(f"ALTER TABLE {table} DETACH PARTITION {partition}")
            cursor.execute(f"DROP TABLE {partition}")
        else:
            cursor.execute(f"DELETE FROM {table} WHERE {dict(ARCHIVED)[table]} = %s", [cycle_id])
            if cursor.rowcount != rows[table]:  # cannot happen with the locks held; checked all the same
                raise Conflict(_("The cycle changed while it was being archived: try again."))
    cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")


def _sync_directory(path: Path) -> None:
    descriptor = os.open(path, os.O_RDONLY)
    try:
        os.fsync(descriptor)
    finally:
        os.close(descriptor)


def _publish(partial: Path, directory: Path) -> None:
    """After the commit: the written files take their name (a failed archive leaves ``.partial``)."""
    if directory.exists():
        shutil.rmtree(directory)
    partial.rename(directory)
    _sync_directory(directory.parent)


@transaction.atomic
def cycle_archive(*, cycle_id: int, to: Path, now: datetime.datetime | None = None) -> ArchiveSummary:
    """Write a complete cycle's orders, lines, packages, their links, payments, refunds, shortfalls
    and handover events to ``to/cycle-<number>/`` (one gzipped CSV per table and a manifest with
    each file's rows and SHA-256), then drop them from the database and mark the cycle archived.

    Guarantees: PostgreSQL only; only a complete cycle, with no payment or refund still pending;
    what is written is locked first (so the files hold every row dropped), written and synced to
    disk before anything is dropped, all in one transaction: a failure, or a lock not granted
    within ``LOCK_TIMEOUT``, leaves the database as it was and the files under ``.partial``; the
    directory takes its name only once the transaction has committed; the other cycles are not
    touched (their rows are in other partitions)."""
    if connection.vendor != "postgresql":
        raise BaogongError(_("Archiving a cycle needs PostgreSQL, where the tables are partitioned by cycle."))
    now = now or timezone.now()
    cycle = Cycle.objects.select_for_update().filter(pk=cycle_id).first()
    if cycle is None:
        raise NotFound(_("No such cycle."))
    if cycle.status != CycleStatus.COMPLETE:
        raise Conflict(
            _("Only a complete cycle can be archived: cycle %(number)s is “%(status)s”.")
            % {"number": cycle.number, "status": cycle.get_status_display()}
        )
    directory = Path(to) / f"cycle-{cycle.number}"
    partial = directory.with_name(directory.name + ".partial")
    rows: dict[str, int] = {}
    files: dict[str, dict] = {}
    try:
        with connection.cursor() as cursor:
            # checked now, not at commit: a table with checks pending cannot be altered (detached)
            cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
            _lock(cursor, cycle.pk)
            if _unsettled(cursor, cycle.pk):
                raise Conflict(_("This cycle still has payments or refunds pending: settle them first."))
            shutil.rmtree(partial, ignore_errors=True)
            partial.mkdir(parents=True)
            for table, column in ARCHIVED:
                rows[table], digest = _write(cursor, partial, table, column, cycle.pk)
                files[f"{table}.csv.gz"] = {"rows": rows[table], "sha256": digest}
            manifest = {
                "cycle": {"id": cycle.pk, "number": cycle.number},
                "archived_at": now.isoformat(),
                "files": files,
            }
            (partial / "manifest.json").write_text(json.dumps(manifest, indent=2, sort_keys=True))
            _sync_directory(partial)
            _drop(cursor, cycle.pk, rows)
    except OperationalError as error:  # a lock not granted in time
        raise Conflict(_("The cycle's tables are busy: try again at a quieter moment.")) from error
    cycle_step(cycle=cycle, step="archive", now=now)
    transaction.on_commit(lambda: _publish(partial, directory))
    return ArchiveSummary(cycle_number=cycle.number, directory=directory, rows=rows)
