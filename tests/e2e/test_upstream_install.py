"""pip and uv installing an upstream-only project through the index under gunicorn (docs/upstream.md).

The upstream is harness/upstream_index.py on 127.0.0.1; the clients know only this index.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from harness.dists import build_wheel
from harness.upstream_index import UpstreamIndex
from tests.e2e.helpers import Clients, IndexServer, installed_version, started_index_server
from tests.e2e.test_install_clients import install


@pytest.fixture(scope="module")
def upstream(tmp_path_factory: pytest.TempPathFactory) -> Iterator[UpstreamIndex]:
    dists = tmp_path_factory.mktemp("upstream-dists")
    with UpstreamIndex() as index:
        index.add("far-away", build_wheel(dists / "1", "far-away", "1.0"), build_wheel(dists / "2", "far-away", "2.0"))
        index.add("acme-secret", build_wheel(dists / "3", "acme-secret", "9.0"))
        yield index


@pytest.fixture(scope="module")
def proxy_server(tmp_path_factory: pytest.TempPathFactory, upstream: UpstreamIndex) -> Iterator[IndexServer]:
    env = {"UPSTREAM_INDEX_URL": upstream.url, "UPSTREAM_BLOCKED_PREFIXES": "acme", "UPSTREAM_TIMEOUT_SECONDS": "5"}
    with started_index_server(tmp_path_factory.mktemp("proxy-server"), extra_env=env) as server:
        yield server


@pytest.mark.parametrize("installer", ["pip", "uv"])
def test_an_upstream_only_project_installs_through_the_index(proxy_server, upstream, tmp_path: Path, installer):
    clients = Clients(tmp_path / "clients", proxy_server.url)
    python = clients.new_venv("venv")
    result = install(clients, installer, python, "far-away")
    assert result.returncode == 0, result.stdout + result.stderr
    assert installed_version(clients, python, "far-away") == "2.0"
    assert upstream.hits("/files/far_away-2.0-py3-none-any.whl")


def test_a_blocked_name_is_not_installed_and_upstream_never_asked(proxy_server, upstream, tmp_path: Path):
    clients = Clients(tmp_path / "clients", proxy_server.url)
    python = clients.new_venv("venv")
    result = install(clients, "pip", python, "acme-secret")
    assert result.returncode != 0
    assert upstream.hits("acme") == []


def test_prefetched_files_install_with_upstream_gone(tmp_path: Path):
    """docs/upstream.md#warming-the-cache: prefetch_upstream, then upstream stops, then pip installs."""
    dists = tmp_path / "dists"
    with UpstreamIndex() as warm_upstream:
        warm_upstream.add(
            "warm-lib", build_wheel(dists / "1", "warm-lib", "1.0"), build_wheel(dists / "2", "warm-lib", "1.5")
        )
        env = {"UPSTREAM_INDEX_URL": warm_upstream.url, "UPSTREAM_TIMEOUT_SECONDS": "2"}
        with started_index_server(tmp_path / "server", extra_env=env) as server:
            output = server.manage("prefetch_upstream", "warm-lib")
            assert "Fetched 1 file(s) and 1 .metadata file(s)" in output
            warm_upstream.__exit__(None, None, None)  # upstream gone: only what was kept remains
            clients = Clients(tmp_path / "clients", server.url)
            python = clients.new_venv("venv")
            result = install(clients, "pip", python, "warm-lib")
            assert result.returncode == 0, result.stdout + result.stderr
            assert installed_version(clients, python, "warm-lib") == "1.5"
