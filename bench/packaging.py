"""Time closing a cycle into packages on PostgreSQL with one Celery worker process, and with two.

    .venv/bin/python bench/packaging.py --households 250000 [--lines-per-household 4] [--runs 3] \\
        [--two-workers processes|prefork|both] [--keep | --reuse] [--celery-app config] \\
        [--database-url postgres://postgres@127.0.0.1:5432/baogong_bench_pack] \\
        [--redis-url redis://127.0.0.1:6379/14]

What it does, all on 127.0.0.1:
1. drop and create a scratch database (``baogong_bench_pack``), migrate, ``seed_demo --households N``
   (the city, the catalog and an open cycle with its baseline orders come with it);
2. write the orders SET-BASED in SQL (test data: the ordering service places one order per
   transaction, far too slow for a million lines). About 85 % of the households (chosen by an md5
   of their id, so the same city always gets the same orders) get 1 or 2 web orders, paid on
   delivery (to collect), so that the cycle holds about ``N × lines-per-household`` lines in all
   (seed_demo's baseline and demo orders included). Lines are distinct products the household may
   order (on sale, approved price, a whitelisted supplier serving its district) and does not have
   in the cycle yet, named and priced as ``order_place`` writes them, 1–3 units (never above a
   household limit); order totals are the sums of their lines. Each product's stock ``reserved``
   grows by the units ordered (``capacity`` is raised first where they would not fit). Then
   ``VACUUM ANALYZE``;
3. at the start of each run, the set-based floor (``floor_seconds``): one ``INSERT … SELECT … GROUP
   BY`` of as many packages from as many lines into the packages table and one ``INSERT … SELECT``
   of the package orders, timed and rolled back; the JSON gives
   ``floor_ratio_1_worker`` (packing with one worker over the floor) and ``speedup_2_workers``;
4. for each measurement: wait (``--quiet-wait``) until other work leaves the CPUs mostly idle,
   ``CHECKPOINT``, purge the Redis database, start the Celery worker process(es) (``celery -A config
   worker --pool=solo``, or one ``--pool=prefork --concurrency=2``), wait until they are ready, run
   ``manage.py close_cycle --json`` (closes the open cycle, queues one task per community, waits
   until packed) and take its ``seconds`` (and the wall clock of the whole command, Django start-up
   included); stop the workers; check the result (one package per household with orders, every
   placed order in exactly one package, every build done, cycle packed, package totals and items
   equal to the orders', no pick-up slot overfull; exits with an error otherwise); then reset the
   cycle's packages, package orders, pick-up slots, consignments and community builds (TRUNCATE
   when no other cycle has any, else DELETE and VACUUM ANALYZE) and set the cycle open again;
5. drop the database (unless ``--keep``: then it is left packed by the last measurement).

``--two-workers processes`` (the default, reported as ``seconds_2_workers``) runs two separate
solo worker processes; ``prefork`` one worker with ``--pool=prefork --concurrency=2`` (two child
processes); ``both`` measures both and still reports the processes figure. With ``--runs`` > 1 the
medians are reported. ``--reuse`` measures again on a database a ``--keep`` run left (no seeding,
no new orders). ``--celery-app`` starts the workers with another ``-A`` module, e.g. one that
imports ``config.celery`` and patches a candidate ``deliveries.services.community_build`` in, to
compare a change on the same data without editing the project. Prints a line per measurement, then
one JSON line last: ``{"households", "lines", "packages", "seconds_1_worker", "seconds_2_workers", …}``.

``--paper`` lets the workers also draw every printed list after packing (as a deployment does) and
close_cycle wait for them: ``paper_seconds`` (two workers; ``paper_seconds_1_worker``), ``lists``
(places whose lists were drawn) and ``lists_failed``. ``peak_rss_mb`` gives the peak resident
memory of each manage.py command (``seed_demo``, ``close_cycle``, …) and of the largest worker
process (with its pool children).

``--archive`` then marks the packed cycle complete and removes it two ways: the DELETEs a database
without partitions would need (``delete_seconds``, rolled back) and ``archive_cycle`` (files
written, partitions dropped: ``archive_seconds``, ``archive_rows``, ``archive_mb``). A kept
database is left with the cycle archived.
"""

import argparse
import json
import os
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from urllib.parse import urlsplit

import psycopg2
import psycopg2.errors
from psycopg2 import sql
from scratch import recreate_database as _recreate  # bench/scratch.py

ROOT = Path(__file__).resolve().parent.parent
WORKER_START_SECONDS = 60
CLOSE_WAIT_SECONDS = 900

# Orders: which households order, how many lines and orders, which products and how many units.
# Every choice comes from an md5 of the household id (and the line number), so it is repeatable.
# First the catalog per district, the (household, product) pairs the cycle already holds (the
# baseline and demo orders of seed_demo) and the households that will order…
HOUSEHOLDS_SQL = """
CREATE TEMP TABLE bench_catalog ON COMMIT DROP AS
SELECT sd.district_id, p.id AS product_id, btrim(p.name || ' ' || p.size) AS name, p.unit, p.price, p.household_limit,
       (row_number() OVER (PARTITION BY sd.district_id ORDER BY md5('product:' || p.id)) - 1)::int AS idx,
       (count(*) OVER (PARTITION BY sd.district_id))::int AS n
FROM supply_product p
JOIN supply_supplier s ON s.id = p.supplier_id AND s.is_whitelisted
JOIN supply_supplier_districts sd ON sd.supplier_id = s.id
JOIN supply_cyclestock cs ON cs.product_id = p.id AND cs.cycle_id = %(cycle)s
WHERE p.is_active AND p.price_state = 'approved';

CREATE TEMP TABLE bench_existing ON COMMIT DROP AS
SELECT o.household_id, l.product_id
FROM supply_order o JOIN supply_orderline l ON l.order_id = o.id AND l.cycle_id = o.cycle_id
WHERE o.cycle_id = %(cycle)s AND o.status = 'placed'
GROUP BY o.household_id, l.product_id;
CREATE INDEX ON bench_existing (household_id, product_id);
ANALYZE bench_existing;

CREATE TEMP TABLE bench_household ON COMMIT DROP AS
WITH drawn AS (
    SELECT h.id AS household_id, o.district_id,
           ('x' || substr(md5('household:' || h.id), 1, 8))::bit(32)::bigint AS r1,
           ('x' || substr(md5('household:' || h.id), 9, 8))::bit(32)::bigint AS r2,
           ('x' || substr(md5('household:' || h.id), 17, 8))::bit(32)::bigint AS r3,
           ('x' || substr(md5('household:' || h.id), 25, 8))::bit(32)::bigint AS r4
    FROM households_household h
    JOIN households_building b ON b.id = h.building_id
    JOIN households_compound c ON c.id = b.compound_id
    JOIN households_community m ON m.id = c.community_id
    JOIN households_office o ON o.id = m.office_id
)
SELECT d.*, k.n, (SELECT count(*) FROM bench_existing e WHERE e.household_id = d.household_id)::int AS taken
FROM drawn d
JOIN (SELECT district_id, max(n) AS n FROM bench_catalog GROUP BY district_id) k USING (district_id)
WHERE r1 %% 10000 < %(share_per_10000)s;
"""

# … then their lines, orders and the stock. ``mean_lines`` is chosen so that the cycle holds about
# households × lines-per-household lines in all (the orders already there included).
ORDERS_SQL = """
CREATE TEMP TABLE bench_line ON COMMIT DROP AS
WITH sized AS (
    -- lines: uniform on 1 … 2·mean−1; a step coprime with the district's catalog size walks it
    -- without repeating a product; products the household already has in the cycle are skipped
    SELECT h.*, LEAST(h.n - h.taken, 1 + floor((r2 / 4294967296.0) * (2 * %(mean_lines)s - 1)))::int AS lines,
           (r3 / 100 %% n)::int AS first,
           CASE WHEN gcd(s.step, n) = 1 THEN s.step ELSE 1 END AS step,
           (r4 / 16 %% 86400)::int AS placed_seconds_ago
    FROM bench_household h
    CROSS JOIN LATERAL (SELECT (ARRAY[1, 5, 7, 11, 13, 17, 19, 23, 29, 31])[1 + (r4 %% 10)::int] AS step) s
), candidates AS (
    SELECT h.household_id, h.lines, CASE WHEN h.lines >= 3 AND h.r3 %% 100 < 35 THEN 2 ELSE 1 END AS orders,
           h.placed_seconds_ago, j, c.product_id, c.name, c.unit, c.price, c.household_limit,
           row_number() OVER (PARTITION BY h.household_id ORDER BY j) AS rn
    FROM sized h
    CROSS JOIN LATERAL generate_series(0, LEAST(h.n, h.lines + h.taken) - 1) AS j
    JOIN bench_catalog c ON c.district_id = h.district_id AND c.idx = (h.first + j * h.step) %% h.n
    WHERE NOT EXISTS (SELECT 1 FROM bench_existing e WHERE e.household_id = h.household_id AND e.product_id = c.product_id)
)
SELECT x.household_id, ((x.rn - 1) %% x.orders)::int AS order_no, x.product_id, x.name, x.unit, x.price AS unit_price,
       LEAST(COALESCE(x.household_limit, 3), CASE WHEN q.v < 65 THEN 1 WHEN q.v < 92 THEN 2 ELSE 3 END) AS quantity,
       x.placed_seconds_ago
FROM candidates x
CROSS JOIN LATERAL (SELECT ('x' || substr(md5('line:' || x.household_id || ':' || x.j), 1, 8))::bit(32)::bigint %% 100 AS v) q
WHERE x.rn <= x.lines;

CREATE TEMP TABLE bench_order ON COMMIT DROP AS
SELECT nextval(pg_get_serial_sequence('supply_order', 'id')) AS id, t.*
FROM (
    SELECT household_id, order_no, sum(unit_price * quantity) AS total,
           min(placed_seconds_ago) - 600 * order_no AS placed_seconds_ago
    FROM bench_line GROUP BY household_id, order_no ORDER BY household_id, order_no
) t;

INSERT INTO supply_order (id, status, channel, note, total, payment_method, payment_state, idempotency_key,
                          request_hash, created_at, cycle_id, household_id, placed_by_id{extra_columns})
SELECT id, 'placed', 'web', '', total, 'on_delivery', 'to_collect', NULL, '',
       now() - make_interval(secs => GREATEST(placed_seconds_ago, 0)), %(cycle)s, household_id, NULL{extra_values}
FROM bench_order ORDER BY id;

INSERT INTO supply_orderline (name, unit, quantity, unit_price, line_total, order_id, cycle_id, product_id)
SELECT l.name, l.unit, l.quantity, l.unit_price, l.unit_price * l.quantity, o.id, %(cycle)s, l.product_id
FROM bench_line l JOIN bench_order o USING (household_id, order_no)
ORDER BY o.id, l.product_id;

UPDATE supply_cyclestock s
SET capacity = GREATEST(s.capacity, s.reserved + q.units), reserved = s.reserved + q.units
FROM (SELECT product_id, sum(quantity) AS units FROM bench_line GROUP BY product_id) q
WHERE s.cycle_id = %(cycle)s AND s.product_id = q.product_id;
"""

# The reset. When the scratch database holds no other cycle's packages (the usual case) the five
# tables are truncated: they are then exactly as before the first close (never analysed), as on a
# real first close. Deleting and vacuuming would leave them "analysed empty": a worker's cached
# foreign-key check plans (pick-up slots) may then be sequential scans, which grow slower with
# every community built, and make the figures depend on when autovacuum happens to run.
DELIVERY_TABLES = (
    "deliveries_packageorder",
    "deliveries_package",
    "deliveries_pickupslot",
    "deliveries_consignment",
    "deliveries_communitybuild",
    "deliveries_printdocument",
    "deliveries_printfailure",
)
OTHER_CYCLES_SQL = """
SELECT (SELECT count(*) FROM deliveries_package WHERE cycle_id <> %(cycle)s)
     + (SELECT count(*) FROM deliveries_pickupslot WHERE cycle_id <> %(cycle)s)
     + (SELECT count(*) FROM deliveries_consignment WHERE cycle_id <> %(cycle)s)
     + (SELECT count(*) FROM deliveries_communitybuild WHERE cycle_id <> %(cycle)s)
"""
TRUNCATE_SQL = (
    "TRUNCATE "
    + ", ".join(DELIVERY_TABLES)
    + """;
UPDATE supply_cycle SET status = 'open', closed_at = NULL WHERE id = %(cycle)s;
"""
)
RESET_SQL = """
DELETE FROM deliveries_packageorder WHERE cycle_id = %(cycle)s;
DELETE FROM deliveries_package WHERE cycle_id = %(cycle)s;
DELETE FROM deliveries_pickupslot WHERE cycle_id = %(cycle)s;
DELETE FROM deliveries_consignment WHERE cycle_id = %(cycle)s;
DELETE FROM deliveries_communitybuild WHERE cycle_id = %(cycle)s;
DELETE FROM deliveries_printdocument WHERE cycle_id = %(cycle)s;
DELETE FROM deliveries_printfailure WHERE cycle_id = %(cycle)s;
UPDATE supply_cycle SET status = 'open', closed_at = NULL WHERE id = %(cycle)s;
"""

VACUUM_TABLES = (
    "households_household",
    "households_building",
    "households_compound",
    "supply_order",
    "supply_orderline",
    "supply_cyclestock",
    "supply_cycle",
    "deliveries_package",
    "deliveries_packageorder",
    "deliveries_pickupslot",
    "deliveries_consignment",
    "deliveries_communitybuild",
)


# --- the database --------------------------------------------------------------------------------


def _connect(url: str, *, autocommit: bool = False):
    connection = psycopg2.connect(url)
    connection.autocommit = autocommit
    return connection


def _one(url: str, query: str, params: dict | None = None):
    connection = _connect(url)
    try:
        with connection.cursor() as cursor:
            cursor.execute(query, params)
            return cursor.fetchone()
    finally:
        connection.close()


def _vacuum(url: str) -> None:
    connection = _connect(url, autocommit=True)
    try:
        with connection.cursor() as cursor:
            for table in VACUUM_TABLES:
                cursor.execute(sql.SQL("VACUUM ANALYZE {}").format(sql.Identifier(table)))
    finally:
        connection.close()


def _open_cycle(url: str) -> int:
    row = _one(url, "SELECT id FROM supply_cycle WHERE status = 'open'")
    if row is None:
        raise SystemExit("seed_demo left no open cycle")
    return row[0]


# Columns of the tables written directly, and the value of the optional ones (added by later
# migrations). A new NOT NULL column without a default stops the script instead of failing oddly.
WRITTEN_COLUMNS = {
    "supply_order": {
        "id",
        "status",
        "channel",
        "note",
        "total",
        "payment_method",
        "payment_state",
        "idempotency_key",
        "request_hash",
        "created_at",
        "cycle_id",
        "household_id",
        "placed_by_id",
    },
    "supply_orderline": {
        "id",
        "name",
        "unit",
        "quantity",
        "unit_price",
        "line_total",
        "order_id",
        "cycle_id",
        "product_id",
    },
}
OPTIONAL_ORDER_COLUMNS = {
    "urgent": "false",
    "standing_order_id": "NULL",
    "cancelled_at": "NULL",
    "cancelled_by_id": "NULL",
}


def _order_columns(url: str) -> dict[str, str]:
    """The optional supply_order columns present in this schema, with the value bench orders get."""
    connection = _connect(url)
    try:
        with connection.cursor() as cursor:
            cursor.execute(
                """SELECT table_name, column_name, is_nullable = 'YES' OR column_default IS NOT NULL OR is_identity = 'YES'
                   FROM information_schema.columns WHERE table_schema = 'public' AND table_name = ANY(%s)""",
                (list(WRITTEN_COLUMNS),),
            )
            rows = cursor.fetchall()
    finally:
        connection.close()
    extra, unknown = {}, []
    for table, column, optional in rows:
        if column in WRITTEN_COLUMNS[table]:
            continue
        if table == "supply_order" and column in OPTIONAL_ORDER_COLUMNS:
            extra[column] = OPTIONAL_ORDER_COLUMNS[column]
        elif not optional:
            unknown.append(f"{table}.{column}")
    if unknown:
        raise SystemExit(f"new required columns {unknown}: teach bench/packaging.py the value of bench orders")
    return extra


def orders_generate(url: str, *, cycle: int, households: int, lines_per_household: float, share: float) -> dict:
    """Write the bench orders in one transaction; return what the cycle holds now."""
    extra = _order_columns(url)
    statements = ORDERS_SQL.replace("{extra_columns}", "".join(f", {c}" for c in extra)).replace(
        "{extra_values}", "".join(f", {v}" for v in extra.values())
    )
    connection = _connect(url)
    try:
        with connection, connection.cursor() as cursor:
            cursor.execute(HOUSEHOLDS_SQL, {"cycle": cycle, "share_per_10000": round(share * 10000)})
            cursor.execute("SELECT count(*) FROM bench_household")
            ordering = cursor.fetchone()[0]
            cursor.execute(
                "SELECT count(*) FROM supply_orderline l JOIN supply_order o ON o.id = l.order_id "
                "WHERE o.cycle_id = %s AND o.status = 'placed'",
                (cycle,),
            )
            existing = cursor.fetchone()[0]
            mean = max(1.0, (households * lines_per_household - existing) / max(ordering, 1))
            cursor.execute(statements, {"cycle": cycle, "mean_lines": mean})
    finally:
        connection.close()
    _vacuum(url)
    return {**orders_count(url, cycle=cycle), "existing_lines": existing}


def orders_count(url: str, *, cycle: int) -> dict:
    orders, households, lines, units = _one(
        url,
        """SELECT count(DISTINCT o.id), count(DISTINCT o.household_id), count(l.id), coalesce(sum(l.quantity), 0)
           FROM supply_order o JOIN supply_orderline l ON l.order_id = o.id
           WHERE o.cycle_id = %(cycle)s AND o.status = 'placed'""",
        {"cycle": cycle},
    )
    oversold, mismatched = _one(
        url,
        """SELECT count(*) FILTER (WHERE s.reserved > s.capacity),
                  count(*) FILTER (WHERE s.reserved < coalesce(q.units, 0))
           FROM supply_cyclestock s
           LEFT JOIN (SELECT l.product_id, sum(l.quantity) AS units FROM supply_orderline l
                      JOIN supply_order o ON o.id = l.order_id AND o.cycle_id = %(cycle)s AND o.status = 'placed'
                      GROUP BY l.product_id) q ON q.product_id = s.product_id
           WHERE s.cycle_id = %(cycle)s""",
        {"cycle": cycle},
    )
    if oversold or mismatched:
        raise SystemExit(f"stock inconsistent: {oversold} products oversold, {mismatched} reserving less than ordered")
    return {"orders": orders, "households_with_orders": households, "lines": lines, "units": units}


def packaging_check(url: str, *, cycle: int) -> dict:
    """What the close wrote, checked against the orders; raises SystemExit when anything is off."""
    figures = dict(
        zip(
            (
                "status",
                "builds",
                "builds_pending",
                "packages",
                "package_households",
                "package_orders",
                "orders",
                "households_with_orders",
                "orders_unpacked",
                "empty_packages",
                "package_total",
                "order_total",
                "package_items",
                "order_units",
                "slots",
                "overfull_slots",
                "consignments",
            ),
            _one(
                url,
                """SELECT
                    (SELECT status FROM supply_cycle WHERE id = %(cycle)s),
                    (SELECT count(*) FROM deliveries_communitybuild WHERE cycle_id = %(cycle)s),
                    (SELECT count(*) FROM deliveries_communitybuild WHERE cycle_id = %(cycle)s AND status <> 'done'),
                    (SELECT count(*) FROM deliveries_package WHERE cycle_id = %(cycle)s),
                    (SELECT count(DISTINCT household_id) FROM deliveries_package WHERE cycle_id = %(cycle)s),
                    (SELECT count(*) FROM deliveries_packageorder po JOIN deliveries_package p ON p.id = po.package_id
                      WHERE p.cycle_id = %(cycle)s),
                    (SELECT count(*) FROM supply_order WHERE cycle_id = %(cycle)s AND status = 'placed'),
                    (SELECT count(DISTINCT household_id) FROM supply_order WHERE cycle_id = %(cycle)s AND status = 'placed'),
                    (SELECT count(*) FROM supply_order o WHERE o.cycle_id = %(cycle)s AND o.status = 'placed'
                      AND NOT EXISTS (SELECT 1 FROM deliveries_packageorder po WHERE po.order_id = o.id)),
                    (SELECT count(*) FROM deliveries_package WHERE cycle_id = %(cycle)s AND item_count <= 0),
                    (SELECT coalesce(sum(total), 0) FROM deliveries_package WHERE cycle_id = %(cycle)s),
                    (SELECT coalesce(sum(total), 0) FROM supply_order WHERE cycle_id = %(cycle)s AND status = 'placed'),
                    (SELECT coalesce(sum(item_count), 0) FROM deliveries_package WHERE cycle_id = %(cycle)s),
                    (SELECT coalesce(sum(l.quantity), 0) FROM supply_orderline l JOIN supply_order o ON o.id = l.order_id
                      WHERE o.cycle_id = %(cycle)s AND o.status = 'placed'),
                    (SELECT count(*) FROM deliveries_pickupslot WHERE cycle_id = %(cycle)s),
                    (SELECT count(*) FROM deliveries_pickupslot WHERE cycle_id = %(cycle)s AND assigned > capacity),
                    (SELECT count(*) FROM deliveries_consignment WHERE cycle_id = %(cycle)s)
                """,
                {"cycle": cycle},
            ),
            strict=True,
        )
    )
    problems = []
    if figures["status"] != "packed":
        problems.append(f"cycle is {figures['status']}, not packed")
    if figures["builds_pending"]:
        problems.append(f"{figures['builds_pending']} community builds not done")
    if figures["packages"] != figures["households_with_orders"] or figures["package_households"] != figures["packages"]:
        problems.append(
            f"{figures['packages']} packages for {figures['package_households']} households, "
            f"but {figures['households_with_orders']} households have orders"
        )
    if figures["package_orders"] != figures["orders"] or figures["orders_unpacked"]:
        problems.append(
            f"{figures['package_orders']} package orders for {figures['orders']} orders "
            f"({figures['orders_unpacked']} orders in no package)"
        )
    if figures["empty_packages"]:
        problems.append(f"{figures['empty_packages']} empty packages")
    if figures["package_total"] != figures["order_total"] or figures["package_items"] != figures["order_units"]:
        problems.append(
            f"package totals {figures['package_total']} / {figures['package_items']} items, "
            f"orders {figures['order_total']} / {figures['order_units']} units"
        )
    if figures["overfull_slots"]:
        problems.append(f"{figures['overfull_slots']} pick-up slots overfull")
    if problems:
        raise SystemExit("CHECK FAILED: " + "; ".join(problems))
    return figures


# The set-based floor: as many packages from as many lines, in one statement each, in the same
# database and the same run: one INSERT … SELECT … GROUP BY of the cycle's lines into the packages
# table (every index and constraint of a real close) and one INSERT … SELECT of the package orders
# (the link a "package_id on the order" design would write with an UPDATE … FROM; here the orders
# are linked by their own table, as the close links them). Rolled back; the reset that follows
# truncates.
FLOOR_SQL = (
    """
INSERT INTO deliveries_package (cycle_id, community_id, urgent, status, built_at, attempt, household_id, compound_id,
    building_id, code, mode, delivery_date, dispatch_date, orders_count, item_count, item_summary, total, to_collect)
SELECT %(cycle)s, c.community_id, false, 'packed', now(), 0, o.household_id, b.compound_id, h.building_id,
       'F-' || o.household_id, 'door', current_date, current_date, count(DISTINCT o.id), sum(l.quantity),
       string_agg(l.name || ' ×' || l.quantity || l.unit, '、' ORDER BY l.id), sum(l.line_total),
       coalesce(sum(l.line_total) FILTER (WHERE o.payment_state = 'to_collect'), 0)
FROM supply_order o
JOIN supply_orderline l ON l.order_id = o.id AND l.cycle_id = o.cycle_id
JOIN households_household h ON h.id = o.household_id
JOIN households_building b ON b.id = h.building_id
JOIN households_compound c ON c.id = b.compound_id
WHERE o.cycle_id = %(cycle)s AND o.status = 'placed'
GROUP BY o.household_id, c.community_id, b.compound_id, h.building_id
""",
    """
INSERT INTO deliveries_packageorder (package_id, order_id, cycle_id)
SELECT p.id, o.id, p.cycle_id FROM deliveries_package p
JOIN supply_order o ON o.household_id = p.household_id AND o.cycle_id = p.cycle_id AND o.status = 'placed'
WHERE p.cycle_id = %(cycle)s
""",
)


def floor_measure(url: str, *, cycle: int) -> dict:
    """The set-based floor's seconds (its statements' sum, from a clean checkpoint), rolled back."""
    _checkpoint(url)
    connection = _connect(url)
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT count(*) FROM deliveries_package WHERE cycle_id = %s", [cycle])
            if cursor.fetchone()[0]:
                raise SystemExit("the floor needs the cycle unpacked")
            seconds = []
            for statement in FLOOR_SQL:
                t = time.perf_counter()
                cursor.execute(statement, {"cycle": cycle})
                seconds.append(time.perf_counter() - t)
                if len(seconds) == 1:
                    packages = cursor.rowcount
        connection.rollback()
    finally:
        connection.close()
    return {"seconds": round(sum(seconds), 2), "statements": [round(s, 2) for s in seconds], "packages": packages}


# Removing a packed cycle's rows without partitions: one DELETE per table (what archive_cycle
# writes out), keys checked at once.
DELETE_CYCLE_SQL = (
    "SET CONSTRAINTS ALL IMMEDIATE",
    "DELETE FROM supply_shortfall WHERE order_cycle_id = %(cycle)s",
    "DELETE FROM supply_refund WHERE order_cycle_id = %(cycle)s",
    "DELETE FROM supply_payment WHERE order_cycle_id = %(cycle)s",
    "DELETE FROM deliveries_handoverevent WHERE package_cycle_id = %(cycle)s",
    "DELETE FROM deliveries_packageorder WHERE cycle_id = %(cycle)s",
    "DELETE FROM deliveries_package WHERE cycle_id = %(cycle)s",
    "DELETE FROM supply_orderline WHERE cycle_id = %(cycle)s",
    "DELETE FROM supply_order WHERE cycle_id = %(cycle)s",
)


def archive_measure(url: str, redis_url: str, *, cycle: int) -> dict:
    """The packed cycle marked complete, then removed two ways in the same database: the DELETEs a
    database without partitions needs (timed, rolled back), and ``archive_cycle`` (its files written,
    its partitions dropped)."""
    connection = _connect(url)
    try:
        with connection, connection.cursor() as cursor:
            cursor.execute("UPDATE supply_cycle SET status = 'complete' WHERE id = %s RETURNING number", [cycle])
            number = cursor.fetchone()[0]
        _checkpoint(url)
        with connection.cursor() as cursor:
            started = time.perf_counter()
            deleted = 0
            for statement in DELETE_CYCLE_SQL:
                cursor.execute(statement, {"cycle": cycle})
                deleted += max(cursor.rowcount, 0)
            delete_seconds = time.perf_counter() - started
        connection.rollback()
    finally:
        connection.close()
    _checkpoint(url)
    target = Path(tempfile.mkdtemp(prefix="baogong-bench-archive-"))
    try:
        seconds, out = _manage(
            url,
            "archive_cycle",
            "--cycle",
            str(number),
            "--to",
            str(target),
            "--json",
            redis_url=redis_url,
            capture=True,
        )
        archived = json.loads(out.strip().splitlines()[-1])
        size = sum(f.stat().st_size for f in target.rglob("*") if f.is_file())
    finally:
        shutil.rmtree(target, ignore_errors=True)
    return {
        "archive_seconds": round(seconds, 2),
        "archive_rows": sum(archived["rows"].values()),
        "archive_mb": round(size / 2**20, 1),
        "delete_seconds": round(delete_seconds, 2),
        "delete_rows": deleted,
    }


def packaging_reset(url: str, *, cycle: int) -> str:
    """Undo the close of ``cycle``: its packages, links, slots, route legs and builds go, it is open again."""
    connection = _connect(url)
    try:
        with connection, connection.cursor() as cursor:
            cursor.execute(OTHER_CYCLES_SQL, {"cycle": cycle})
            truncate = cursor.fetchone()[0] == 0
        try:
            with connection, connection.cursor() as cursor:
                cursor.execute(TRUNCATE_SQL if truncate else RESET_SQL, {"cycle": cycle})
        except psycopg2.errors.FeatureNotSupported:  # another table now references these: delete instead
            truncate = False
            with connection, connection.cursor() as cursor:
                cursor.execute(RESET_SQL, {"cycle": cycle})
    finally:
        connection.close()
    if not truncate:
        _vacuum(url)
    return "truncate" if truncate else "delete"


def _checkpoints(url: str) -> int:
    return _one(url, "SELECT checkpoints_timed + checkpoints_req FROM pg_stat_bgwriter")[0]


def _checkpoint(url: str) -> int:
    connection = _connect(url, autocommit=True)
    try:
        with connection.cursor() as cursor:
            cursor.execute("CHECKPOINT")
    finally:
        connection.close()
    return _checkpoints(url)


def _server_version(url: str) -> str:
    return _one(url, "SHOW server_version")[0]


# --- processes -------------------------------------------------------------------------------------


OPTIONS = {"paper": False, "media_root": str(Path(tempfile.gettempdir()) / "baogong-bench-media")}


def _peak_rss_mb(pid: int) -> float:
    """The high-water mark of a process's resident memory and its children's (Linux /proc), in MB."""
    total = 0.0
    pids = [pid]
    try:
        pids += [int(c) for c in Path(f"/proc/{pid}/task/{pid}/children").read_text().split()]
    except OSError:
        pass
    for one in pids:
        try:
            for line in Path(f"/proc/{one}/status").read_text().splitlines():
                if line.startswith("VmHWM:"):
                    total = max(total, int(line.split()[1]) / 1024)
        except OSError:
            continue
    return round(total, 1)


def _env(url: str, redis_url: str | None) -> dict:
    env = {
        **os.environ,
        "DATABASE_URL": url,
        "DJANGO_SETTINGS_MODULE": "config.settings",
        "DEBUG": "False",
        "DELIVERIES_BUILD_PAUSE": "0",
        "PYTHONUNBUFFERED": "1",
        # without --paper the packaging alone is measured; with it, close_cycle also waits for every
        # printed list (drawn by the same workers) and reports paper_seconds
        "DELIVERIES_PRINT_ON_PACK": "true" if OPTIONS["paper"] else "false",
        "MEDIA_ROOT": OPTIONS["media_root"],
    }
    env.pop("REDIS_URL", None)
    if redis_url:
        env["REDIS_URL"] = redis_url
    return env


PEAK_RSS_MB: dict[str, float] = {}  # the largest resident memory each manage.py command reached


def _manage(url: str, *args: str, redis_url: str | None = None, capture: bool = False) -> tuple[float, str]:
    """Run ``manage.py *args``: (seconds, stdout). Its peak resident memory goes in PEAK_RSS_MB."""
    started = time.perf_counter()
    with tempfile.TemporaryFile("w+") as out:
        process = subprocess.Popen(
            [sys.executable, "manage.py", *args],
            cwd=ROOT,
            env=_env(url, redis_url),
            text=True,
            stdout=out if capture else subprocess.DEVNULL,
        )
        _pid, status, usage = os.wait4(process.pid, 0)
        process.returncode = os.waitstatus_to_exitcode(status)
        seconds = time.perf_counter() - started
        PEAK_RSS_MB[args[0]] = max(PEAK_RSS_MB.get(args[0], 0.0), round(usage.ru_maxrss / 1024, 1))
        if process.returncode:
            raise subprocess.CalledProcessError(process.returncode, ["manage.py", *args])
        out.seek(0)
        return seconds, out.read() if capture else ""


def _cpu_busy(seconds: float = 1.0) -> float:
    """Share of the machine's CPU time spent busy over ``seconds`` (from /proc/stat; 0 where unavailable)."""

    def sample() -> tuple[int, int]:
        with open("/proc/stat") as stat:
            values = [int(v) for v in stat.readline().split()[1:]]
        idle = values[3] + (values[4] if len(values) > 4 else 0)
        return sum(values), idle

    try:
        total0, idle0 = sample()
        time.sleep(seconds)
        total1, idle1 = sample()
    except OSError:
        return 0.0
    return 1 - (idle1 - idle0) / max(total1 - total0, 1)


def _wait_quiet(limit: float, *, busy_below: float = 0.2) -> float:
    """Wait (at most ``limit`` seconds) until other work leaves the CPUs mostly idle; return the last busy share."""
    deadline = time.monotonic() + limit
    busy = _cpu_busy()
    while busy >= busy_below and time.monotonic() < deadline:
        busy = _cpu_busy(2.0)
    return busy


def _purge(url: str, redis_url: str) -> None:
    subprocess.run(
        [sys.executable, "-m", "celery", "-A", "config", "purge", "-f"],
        cwd=ROOT,
        env=_env(url, redis_url),
        check=True,
        stdout=subprocess.DEVNULL,
    )


class Worker:
    """``celery -A config worker`` in its own process group, logging to a temporary file."""

    def __init__(self, url: str, redis_url: str, *, name: str, pool: str, concurrency: int, app: str = "config"):
        self.log_path = Path(tempfile.mkdtemp(prefix="baogong-bench-pack-")) / f"{name}.log"
        with self.log_path.open("wb") as log:
            self.process = subprocess.Popen(
                [
                    sys.executable,
                    "-m",
                    "celery",
                    "-A",
                    app,
                    "worker",
                    f"--pool={pool}",
                    f"--concurrency={concurrency}",
                    "-l",
                    "info",
                    "--without-gossip",
                    "--without-mingle",
                    "--without-heartbeat",
                    "-n",
                    f"{name}-{os.getpid()}@%h",
                ],
                cwd=ROOT,
                env=_env(url, redis_url),
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )

    def log(self) -> str:
        return self.log_path.read_text(errors="replace") if self.log_path.exists() else ""

    def wait_ready(self) -> None:
        deadline = time.monotonic() + WORKER_START_SECONDS
        while "ready." not in self.log():
            if self.process.poll() is not None:
                raise SystemExit(f"a worker exited with {self.process.returncode}:\n{self.log()[-4000:]}")
            if time.monotonic() > deadline:
                raise SystemExit(f"a worker was not ready in {WORKER_START_SECONDS} s:\n{self.log()[-4000:]}")
            time.sleep(0.1)

    def stop(self) -> None:
        if self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGTERM)  # its own group: the worker and its pool children
            try:
                self.process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                os.killpg(self.process.pid, signal.SIGKILL)
                self.process.wait(timeout=10)

    def remove_log(self) -> None:
        shutil.rmtree(self.log_path.parent, ignore_errors=True)

    def tasks_succeeded(self) -> int:
        return self.log().count(" succeeded in ")


MODES = {
    # label: (processes, pool, concurrency per process)
    "1 worker (solo)": (1, "solo", 1),
    "2 worker processes (solo)": (2, "solo", 1),
    "1 worker, prefork concurrency 2": (1, "prefork", 2),
}


def measure(url: str, redis_url: str, *, cycle: int, mode: str, app: str = "config", quiet_wait: float = 0) -> dict:
    """Close the cycle with the given workers; return close_cycle's figures, the wall clock and the check."""
    processes, pool, concurrency = MODES[mode]
    _purge(url, redis_url)
    workers = [
        Worker(url, redis_url, name=f"pack{i}", pool=pool, concurrency=concurrency, app=app) for i in range(processes)
    ]
    try:
        for worker in workers:
            worker.wait_ready()
        busy = _wait_quiet(quiet_wait)
        checkpoints = _checkpoint(url)  # start every measurement from a clean checkpoint: less WAL noise
        wall, out = _manage(
            url, "close_cycle", "--json", "--wait", str(CLOSE_WAIT_SECONDS), redis_url=redis_url, capture=True
        )
        time.sleep(0.5)  # let the last task's log line land
        tasks = [worker.tasks_succeeded() for worker in workers]
        worker_rss = max(_peak_rss_mb(worker.process.pid) for worker in workers)
        checkpoints = _checkpoints(url) - checkpoints
    except BaseException:
        print("worker logs: " + ", ".join(str(worker.log_path) for worker in workers), file=sys.stderr, flush=True)
        raise
    finally:
        for worker in workers:
            worker.stop()
    try:
        figures = json.loads(out.strip().splitlines()[-1])
        check = packaging_check(url, cycle=cycle)
    except BaseException:
        print("worker logs: " + ", ".join(str(worker.log_path) for worker in workers), file=sys.stderr, flush=True)
        raise
    for worker in workers:
        worker.remove_log()
    return {
        "mode": mode,
        "seconds": figures["seconds"],
        "packing_seconds": figures.get("packing_seconds", figures["seconds"]),
        "paper_seconds": figures.get("paper_seconds", 0.0),
        "lists": figures.get("lists_total", 0),
        "lists_failed": figures.get("lists_failed", 0),
        "worker_peak_rss_mb": worker_rss,
        "wall": wall,
        "close": figures,
        "check": check,
        "tasks": tasks,
        "busy_before": busy,
        "checkpoints": checkpoints,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--households", type=int, default=250_000)
    parser.add_argument(
        "--lines-per-household", type=float, default=4.0, help="order lines per household of the city (default 4)"
    )
    parser.add_argument(
        "--ordering-share", type=float, default=0.85, help="share of households that order (default 0.85)"
    )
    parser.add_argument("--seed", type=int, default=2022)
    parser.add_argument("--runs", type=int, default=1, help="measurements of each worker set-up (medians reported)")
    parser.add_argument("--two-workers", choices=("processes", "prefork", "both"), default="processes")
    parser.add_argument("--keep", action="store_true", help="keep the database (packed by the last measurement)")
    parser.add_argument(
        "--reuse",
        action="store_true",
        help="measure on the database a --keep run left (migrate, reset its cycle, no seeding); implies --keep",
    )
    parser.add_argument(
        "--celery-app",
        default="config",
        help="the workers' -A module (default config); another module can patch a candidate change in for a comparison",
    )
    parser.add_argument(
        "--quiet-wait",
        type=float,
        default=120,
        help="before each measurement wait up to this many seconds for the CPUs to be under 20%% busy (default 120)",
    )
    parser.add_argument(
        "--paper", action="store_true", help="also draw every printed list after packing (paper_seconds)"
    )
    parser.add_argument(
        "--archive",
        action="store_true",
        help="then archive the packed cycle (archive_seconds) against deleting its rows (delete_seconds)",
    )
    parser.add_argument("--database-url", default="postgres://postgres@127.0.0.1:5432/baogong_bench_pack")
    parser.add_argument("--redis-url", default="redis://127.0.0.1:6379/14")
    args = parser.parse_args()
    url, redis_url = args.database_url, args.redis_url
    OPTIONS["paper"] = args.paper
    shutil.rmtree(OPTIONS["media_root"], ignore_errors=True)
    if not 0 < args.ordering_share <= 1:
        parser.error("--ordering-share must be in (0, 1]")
    if args.runs < 1 or args.households < 1 or args.lines_per_household <= 0:
        parser.error("--runs, --households and --lines-per-household must be positive")
    for part in (urlsplit(url).hostname, urlsplit(redis_url).hostname):
        if part not in ("127.0.0.1", "localhost", "::1"):
            parser.error("loopback only: the database and Redis must be on 127.0.0.1")

    modes = ["1 worker (solo)"]
    if args.two_workers in ("processes", "both"):
        modes.append("2 worker processes (solo)")
    if args.two_workers in ("prefork", "both"):
        modes.append("1 worker, prefork concurrency 2")
    two_mode = modes[1]

    results: dict[str, list[dict]] = {mode: [] for mode in modes}
    started = time.perf_counter()
    try:
        if args.reuse:
            _manage(url, "migrate", "-v", "0")
            cycle = _one(url, "SELECT id FROM supply_cycle ORDER BY number DESC LIMIT 1")[0]
            households = _one(url, "SELECT count(*) FROM households_household")[0]
            if households != args.households:
                raise SystemExit(f"--reuse: the database has {households} households, not {args.households}")
            packaging_reset(url, cycle=cycle)
            orders = orders_count(url, cycle=cycle)
            print(f"reusing {urlsplit(url).path.lstrip('/')}: cycle {cycle}", flush=True)
        else:
            _recreate(url)
            _manage(url, "migrate", "-v", "0")
            seconds, _out = _manage(
                url, "seed_demo", "--households", str(args.households), "--seed", str(args.seed), "--quiet"
            )
            print(f"seed_demo --households {args.households}: {seconds:.1f} s", flush=True)
            cycle = _open_cycle(url)
            t = time.perf_counter()
            orders = orders_generate(
                url,
                cycle=cycle,
                households=args.households,
                lines_per_household=args.lines_per_household,
                share=args.ordering_share,
            )
            print(
                f"  ({orders['existing_lines']} lines were already in the cycle: seed_demo's baseline and demo orders)",
                flush=True,
            )
            print(f"orders written in SQL in {time.perf_counter() - t:.1f} s", flush=True)
        print(
            f"cycle {cycle}: {orders['orders']} placed orders, {orders['lines']} lines, {orders['units']} units "
            f"for {orders['households_with_orders']} households",
            flush=True,
        )
        version = _server_version(url)
        first = True
        floors: list[float] = []
        for run in range(1, args.runs + 1):
            for mode in modes:
                if not first:
                    packaging_reset(url, cycle=cycle)
                first = False
                if mode == modes[0]:
                    floor = floor_measure(url, cycle=cycle)
                    floors.append(floor["seconds"])
                    packaging_reset(url, cycle=cycle)
                    print(
                        f"run {run}, the set-based floor: {floor['seconds']:.2f} s for {floor['packages']} packages "
                        f"(statements {floor['statements']})",
                        flush=True,
                    )
                result = measure(
                    url, redis_url, cycle=cycle, mode=mode, app=args.celery_app, quiet_wait=args.quiet_wait
                )
                results[mode].append(result)
                c = result["check"]
                print(
                    f"run {run}, {mode}: close_cycle {result['seconds']:.2f} s (packing {result['packing_seconds']} s, "
                    f"paper {result['paper_seconds']} s for {result['lists']} places, {result['lists_failed']} failed; "
                    f"wall {result['wall']:.2f} s, "
                    f"CPUs {result['busy_before']:.0%} busy before, {result['checkpoints']} checkpoints during, "
                    f"tasks per process {result['tasks']})",
                    flush=True,
                )
                print(
                    f"  check OK: {c['packages']} packages == {c['households_with_orders']} households with orders; "
                    f"{c['package_orders']} package orders == {c['orders']} orders; {c['builds']} builds done; "
                    f"totals {c['package_total']} == {c['order_total']}; {c['package_items']} items; "
                    f"{c['slots']} pick-up slots; {c['consignments']} consignments",
                    flush=True,
                )
        archive = archive_measure(url, redis_url, cycle=cycle) if args.archive else {}
        if archive:
            print(
                f"archive_cycle {archive['archive_seconds']} s for {archive['archive_rows']} rows "
                f"({archive['archive_mb']} MB of files); deleting them instead {archive['delete_seconds']} s "
                f"({archive['delete_rows']} rows, rolled back)",
                flush=True,
            )
    finally:
        if not (args.keep or args.reuse):
            _recreate(url, drop_only=True)

    def median(mode: str, key: str) -> float:
        return round(statistics.median(r[key] for r in results[mode]), 2)

    last = results[modes[0]][-1]["check"]
    figures = {
        "households": args.households,
        "lines": orders["lines"],
        "packages": last["packages"],
        "seconds_1_worker": median(modes[0], "seconds"),
        "seconds_2_workers": median(two_mode, "seconds"),
        "packing_seconds_1_worker": median(modes[0], "packing_seconds"),
        "packing_seconds_2_workers": median(two_mode, "packing_seconds"),
        "floor_seconds": round(statistics.median(floors), 2),
        "floor_ratio_1_worker": round(median(modes[0], "packing_seconds") / statistics.median(floors), 2),
        "speedup_2_workers": round(median(modes[0], "packing_seconds") / median(two_mode, "packing_seconds"), 2),
        "paper_seconds": median(two_mode, "paper_seconds"),
        "paper_seconds_1_worker": median(modes[0], "paper_seconds"),
        "lists": results[two_mode][-1]["lists"],
        "lists_failed": max(r["lists_failed"] for rs in results.values() for r in rs),
        "peak_rss_mb": {
            **PEAK_RSS_MB,
            "worker": max(r["worker_peak_rss_mb"] for rs in results.values() for r in rs),
        },
        "two_workers": two_mode,
        "orders": orders["orders"],
        "households_with_orders": orders["households_with_orders"],
        "runs": args.runs,
        "seconds": {mode: [r["seconds"] for r in rs] for mode, rs in results.items()},
        "wall_seconds": {mode: [round(r["wall"], 2) for r in rs] for mode, rs in results.items()},
        "cpus_busy_before": {mode: [round(r["busy_before"], 2) for r in rs] for mode, rs in results.items()},
        "total_seconds": round(time.perf_counter() - started, 1),
        "celery_app": args.celery_app,
        "postgresql": version,
        "python": sys.version.split()[0],
        "cpus": os.cpu_count(),
    }
    for mode in modes[2:]:
        figures["seconds_prefork_2"] = median(mode, "seconds")
    figures.update(archive)
    print(
        "medians: "
        + ", ".join(f"{mode} {median(mode, 'seconds')} s (wall {median(mode, 'wall')} s)" for mode in modes),
        flush=True,
    )
    print(json.dumps(figures, ensure_ascii=False))


if __name__ == "__main__":
    main()
