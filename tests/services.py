"""The machine's own PostgreSQL and Redis, which some tests need in every run: skip clearly when absent."""

from __future__ import annotations

import contextlib
import socket

import pytest

POSTGRES_URL = "postgres://postgres@127.0.0.1:5432/postgres"
REDIS_URL = "redis://127.0.0.1:6379/0"
_PORTS = {"PostgreSQL": 5432, "Redis": 6379}


def listening(port: int) -> bool:
    with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", port), timeout=2):
        return True
    return False


def require(*names: str) -> None:
    """Skip the calling test unless each named service listens on its usual loopback port."""
    for name in names:
        if not listening(_PORTS[name]):
            pytest.skip(f"{name} is not listening on 127.0.0.1:{_PORTS[name]}")
