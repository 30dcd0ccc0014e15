"""Scratch PostgreSQL databases for the benchmarks: each script drops and creates its own."""

from urllib.parse import urlsplit, urlunsplit

import psycopg2
from psycopg2 import sql


def admin_connection(url: str):
    """A connection to the server's maintenance database, in autocommit (CREATE DATABASE needs it)."""
    parts = urlsplit(url)
    connection = psycopg2.connect(urlunsplit(parts._replace(path="/postgres")))
    connection.autocommit = True
    return connection


def recreate_database(url: str, *, drop_only: bool = False) -> None:
    """Drop the database named by ``url`` (closing its connections) and, unless ``drop_only``, create it empty."""
    name = urlsplit(url).path.lstrip("/")
    connection = admin_connection(url)
    try:
        with connection.cursor() as cursor:
            cursor.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name)))
            if not drop_only:
                cursor.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    finally:
        connection.close()
