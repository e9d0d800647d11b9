"""Throw-away PostgreSQL databases for a test or a benchmark run: made empty, dropped at the end."""

from __future__ import annotations

import contextlib
import urllib.parse
from collections.abc import Iterator


@contextlib.contextmanager
def throwaway_postgres(server_url: str, name: str, *, connect_timeout: int | None = None) -> Iterator[str]:
    """Create database ``name`` on the server of ``server_url`` and yield its URL; drop it afterwards."""
    import psycopg
    from psycopg import sql

    options = {} if connect_timeout is None else {"connect_timeout": connect_timeout}
    parts = urllib.parse.urlsplit(server_url)
    # libpq accepts postgres:// URLs; the maintenance database always exists.
    maintenance = parts._replace(path="/postgres").geturl()
    with psycopg.connect(maintenance, autocommit=True, **options) as conn:
        conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    try:
        yield parts._replace(path=f"/{name}").geturl()
    finally:
        with psycopg.connect(maintenance, autocommit=True, **options) as conn:
            # FORCE: a killed worker may have left a connection behind.
            conn.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name)))
