"""Fixtures for end-to-end tests: a real gunicorn serving the index, real clients.

Every test in this folder is marked ``e2e`` (``-m "not e2e"`` skips them).
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.e2e.helpers import Clients, IndexServer, started_index_server

E2E_DIR = Path(__file__).resolve().parent


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    # This hook sees the whole session's items, not only this folder's.
    for item in items:
        if item.path.is_relative_to(E2E_DIR):
            item.add_marker(pytest.mark.e2e)


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo) -> Iterator[None]:
    report = yield
    # The server's side of a failure is only in its log; show it next to the test's.
    server = getattr(item, "funcargs", {}).get("index_server")
    if report.failed and isinstance(server, IndexServer):
        report.sections.append(("gunicorn log (tail)", server.log_tail()))
    return report


@pytest.fixture(scope="session")
def index_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[IndexServer]:
    """gunicorn serving the index with the production settings on a free 127.0.0.1 port."""
    with started_index_server(tmp_path_factory.mktemp("index-server")) as server:
        yield server


@pytest.fixture
def clients(tmp_path: Path, index_server: IndexServer) -> Clients:
    """twine, uv and pip isolated from this machine's configuration, pointed at ``index_server``."""
    return Clients(tmp_path / "clients", index_server.url)


@pytest.fixture
def dist_dir(tmp_path: Path) -> Path:
    """An empty folder for distributions made with ``harness.dists``."""
    path = tmp_path / "dists"
    path.mkdir()
    return path
