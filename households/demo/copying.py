"""Rows inserted set-based, skipping those that clash with a unique constraint: COPY on PostgreSQL."""

import functools
import io
import queue
import threading
from collections.abc import Iterable, Iterator
from datetime import datetime

from django.db import connection

from households.demo.people_names import BATCH_SIZE


def prefetched(items: Iterable, *, ahead: int = 1) -> Iterator:
    """``items`` made by a thread ``ahead`` of their use: the next batch of the city is planned
    (Python) while this one is written (the database, which lets the planning run meanwhile).
    The order is kept; an error in the making is raised here; stopping early stops the thread."""
    done, stop = object(), threading.Event()
    handoff: queue.Queue = queue.Queue(maxsize=ahead)

    def put(item) -> bool:
        while not stop.is_set():
            try:
                handoff.put(item, timeout=0.5)
                return True
            except queue.Full:
                continue
        return False

    def make() -> None:
        try:
            for item in items:
                if not put((item, None)):
                    return
        except BaseException as error:  # noqa: BLE001 (handed to the consumer, which raises it)
            put((None, error))
            return
        put((done, None))

    thread = threading.Thread(target=make, name="demo-plan", daemon=True)
    thread.start()
    try:
        while True:
            item, error = handoff.get()
            if error is not None:
                raise error
            if item is done:
                return
            yield item
    finally:
        stop.set()
        thread.join()


def chunks(items: list, size: int = BATCH_SIZE):
    for start in range(0, len(items), size):
        yield items[start : start + size]


def insert_rows(model, fields: tuple[str, ...], rows: list[tuple]) -> None:
    """Insert ``rows`` (values in ``fields`` order), skipping rows that clash with a unique constraint.

    On PostgreSQL (psycopg2) the rows are ``COPY``-ed into a temporary table and moved with one
    ``INSERT … SELECT … ON CONFLICT DO NOTHING``: at 250,000 households that is three times
    faster than ``bulk_create``, whose model instances and huge ``VALUES`` lists cost more than the
    database's own work. Elsewhere (SQLite) it is ``bulk_create(ignore_conflicts=True)``. Either
    way ``rows`` must give every column without a database default, ``auto_now`` ones included.
    """
    if not rows:
        return
    if connection.vendor == "postgresql" and connection.Database.__name__ == "psycopg2":
        quote = connection.ops.quote_name
        table = quote(model._meta.db_table)
        scratch = quote(f"seed_{model._meta.db_table}")
        columns = ", ".join(quote(model._meta.get_field(name).column) for name in fields)
        with connection.cursor() as cursor:
            cursor.execute(
                f"CREATE TEMPORARY TABLE {scratch} ON COMMIT DROP AS SELECT {columns} FROM {table} WITH NO DATA"
            )
            for chunk in chunks(rows, 50_000):
                text = "".join("\t".join(map(_copy_text, row)) + "\n" for row in chunk)
                cursor.cursor.copy_expert(f"COPY {scratch} ({columns}) FROM STDIN", io.StringIO(text))
            cursor.execute(f"INSERT INTO {table} ({columns}) SELECT {columns} FROM {scratch} ON CONFLICT DO NOTHING")
            cursor.execute(f"DROP TABLE {scratch}")
        return
    for chunk in chunks(rows):
        model.objects.bulk_create(
            [model(**dict(zip(fields, row, strict=True))) for row in chunk],
            batch_size=BATCH_SIZE,
            ignore_conflicts=True,
        )


_COPY_ESCAPES = str.maketrans({"\\": "\\\\", "\t": "\\t", "\n": "\\n", "\r": "\\r"})
_COPY_FORMATS = {type(None): lambda _value: "\\N", bool: lambda value: "t" if value else "f", int: str}
_iso = functools.lru_cache(maxsize=16)(datetime.isoformat)  # a batch's rows share their timestamps


def _copy_text(value) -> str:
    """One value in COPY's text format."""
    plain = _COPY_FORMATS.get(type(value))
    if plain is not None:
        return plain(value)
    if isinstance(value, datetime):
        return _iso(value)
    return str(value).translate(_COPY_ESCAPES)
