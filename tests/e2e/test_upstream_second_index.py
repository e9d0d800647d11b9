"""Our index as the upstream of our index: pip, uv and poetry through a pull-through proxy (docs/upstream.md).

A second instance of this index under gunicorn plays upstream. It holds real wheels, rebuilt
offline from distributions installed in the test environment (``wheel_of_installed``) and
uploaded with twine, and a few built ones. A proxy instance (``UPSTREAM_INDEX_URL`` set to
the upstream's ``/simple/``, ``UPSTREAM_BLOCKED_PREFIXES=acme``) holds local projects; the
clients know only the proxy's URL. What reached upstream is read back from the upstream's
gunicorn access log.
"""

from __future__ import annotations

import http.client
import json
import os
import subprocess
import time
import urllib.parse
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest

from harness.dists import build_wheel, wheel_of_installed
from tests.e2e.helpers import SCRIPTS_DIR, Clients, IndexServer, installed_version, started_index_server
from tests.e2e.test_install_clients import LOG_WAIT, install, requests_since

PUBLISHER = "upstream-e2e-publisher"
PASSWORD = "upstream e2e battery staple"
JSON_V1 = "application/vnd.pypi.simple.v1+json"
# Nothing listens on port 9 (discard): a client that tried to leave this machine fails fast.
NOWHERE = "http://127.0.0.1:9"
# Real wheels from the test environment, served by the upstream instance.
UPSTREAM_REAL = ("six", "idna", "packaging", "pluggy")
# Uploaded upstream with a 2021 upload time, so that a one-hour cool-down lets it through.
UPSTREAM_OLD = "iniconfig"
LOCAL_APP = "local-app"  # local on the proxy; needs six and idna (upstream)
SHADOWED = "shadowed"  # local 1.0 on the proxy, 9.0 upstream
BLOCKED = "acme-tools"  # upstream only, under the proxy's blocked prefix
TAMPERED = "tampered-dist"  # upstream only; its stored bytes are replaced after upload


def installed(name: str) -> str:
    from importlib import metadata

    return metadata.version(name)


def publish(server: IndexServer, root: Path, *dists: Path) -> None:
    clients = Clients(root, server.url)
    result = clients.twine("upload", *dists, username=PUBLISHER, password=PASSWORD)
    assert result.returncode == 0, result.stdout + result.stderr


def page(server: IndexServer, name: str) -> tuple[int, dict, dict[str, str]]:
    response = server.get(f"/simple/{name}/", headers={"Accept": JSON_V1})
    body = json.loads(response.body) if response.status == 200 else {}
    return response.status, body, response.headers


def upstream_paths(upstream: IndexServer, fragment: str) -> list[str]:
    """Paths of every request the upstream instance logged that contain ``fragment``, up to now.

    gunicorn writes an access line just after its response: a request of our own is made, and
    waited for in the log, so that what reached upstream before it has been written too.
    """
    marker = f"/simple/log-marker-{uuid.uuid4().hex}/"
    assert upstream.get(marker).status == 404
    deadline = time.monotonic() + LOG_WAIT
    while True:
        paths = [path for _method, path, _status in requests_since(upstream, 0)]
        if marker in paths:
            return [path for path in paths if fragment in path]
        assert time.monotonic() < deadline, f"{marker} not in the upstream's access log"
        time.sleep(0.05)


def replace_stored_file(server: IndexServer, filename: str) -> None:
    """Overwrite a stored file in place with as many other bytes: its listed sha256 no longer matches."""
    server.shell(
        "from django.core.files.base import ContentFile\n"
        "from packages_app.models import File\n"
        "from packages_app.storage import package_storage\n"
        "storage = package_storage()\n"
        f"stored = File.objects.get(filename={filename!r})\n"
        "size = storage.size(stored.path)\n"
        "storage.delete(stored.path)\n"
        "assert storage.save(stored.path, ContentFile(b'X' * size)) == stored.path\n"
    )


def download_fails(server: IndexServer, path: str) -> bool:
    """Whether a download fails: an error status, or fewer bytes than ``Content-Length``."""
    try:
        return server.get(path).status != 200
    except (http.client.IncompleteRead, ConnectionError):
        return True


# ---------------------------------------------------------------- servers


@pytest.fixture(scope="module")
def upstream(tmp_path_factory: pytest.TempPathFactory) -> Iterator[IndexServer]:
    base = tmp_path_factory.mktemp("upstream-index")
    dists = base / "dists"
    with started_index_server(base) as server:
        server.ensure_user(PUBLISHER, PASSWORD)
        wheels = [wheel_of_installed(name, dists / "real") for name in UPSTREAM_REAL]
        wheels += [
            build_wheel(dists / "built", SHADOWED, "9.0"),
            build_wheel(dists / "built", BLOCKED, "1.0"),
            build_wheel(dists / "built", TAMPERED, "1.0"),
        ]
        publish(server, base / "twine", *wheels)
        old = wheel_of_installed(UPSTREAM_OLD, dists / "old")
        moment = datetime(2021, 1, 1, tzinfo=UTC).timestamp()
        os.utime(old, (moment, moment))
        assert "Imported 1," in server.manage("import_dists", str(old.parent), "--upload-time-from-mtime")
        replace_stored_file(server, f"{TAMPERED.replace('-', '_')}-1.0-py3-none-any.whl")
        yield server


def proxy_environment(upstream: IndexServer, **more: str) -> dict[str, str]:
    return {
        "UPSTREAM_INDEX_URL": f"{upstream.url}/simple/",
        "UPSTREAM_BLOCKED_PREFIXES": "acme",
        "UPSTREAM_TIMEOUT_SECONDS": "5",
        **more,
    }


@pytest.fixture(scope="module")
def proxy(tmp_path_factory: pytest.TempPathFactory, upstream: IndexServer) -> Iterator[IndexServer]:
    base = tmp_path_factory.mktemp("proxy-index")
    with started_index_server(base, extra_env=proxy_environment(upstream)) as server:
        server.ensure_user(PUBLISHER, PASSWORD)
        local = [
            build_wheel(base / "dists", LOCAL_APP, "1.0", requires_dist=["six", "idna"]),
            build_wheel(base / "dists", SHADOWED, "1.0"),
        ]
        publish(server, base / "twine", *local)
        yield server


@pytest.fixture(scope="module")
def cool_proxy(tmp_path_factory: pytest.TempPathFactory, upstream: IndexServer) -> Iterator[IndexServer]:
    """A proxy that holds back upstream files younger than an hour."""
    env = proxy_environment(upstream, UPSTREAM_COOLDOWN="1h")
    with started_index_server(tmp_path_factory.mktemp("cool-proxy-index"), extra_env=env) as server:
        yield server


# ---------------------------------------------------------------- clients


MIX = [LOCAL_APP, "packaging"]  # local-app (local) pulls six and idna; packaging: upstream
MIX_VERSIONS = {LOCAL_APP: "1.0", **{name: installed(name) for name in ("six", "idna", "packaging")}}


def assert_mix_installed(clients: Clients, python: Path) -> None:
    found = {name: installed_version(clients, python, name) for name in MIX_VERSIONS}
    assert found == MIX_VERSIONS


def poetry_add(clients: Clients, python: Path, *requirements: str) -> None:
    """``poetry add`` into ``python``'s venv (active, as ``VIRTUAL_ENV``), the proxy as the only source."""
    project = clients.workdir / "poetry-consumer"
    project.mkdir()
    env = {
        **clients.env,
        "VIRTUAL_ENV": str(python.parent.parent),
        "PATH": os.pathsep.join([str(python.parent), clients.env["PATH"]]),
        "HTTP_PROXY": NOWHERE,
        "HTTPS_PROXY": NOWHERE,
        "http_proxy": NOWHERE,
        "https_proxy": NOWHERE,
    }
    poetry = str(SCRIPTS_DIR / "poetry")
    steps = [
        [poetry, "init", "--no-interaction", "--name", "poetry-consumer"],
        [poetry, "source", "add", "--priority=primary", "company", f"{clients.index_url}/simple/"],
        [poetry, "config", "--local", "virtualenvs.create", "false"],
        [poetry, "add", *requirements],
    ]
    for step in steps:
        if step[1] == "add":
            with open(project / "pyproject.toml", "a") as handle:
                handle.write("\n[tool.poetry]\npackage-mode = false\n")
        result = subprocess.run(step, cwd=project, env=env, capture_output=True, text=True, timeout=180, check=False)
        assert result.returncode == 0, f"{step[1:3]}:\n{result.stdout}{result.stderr}"


@pytest.mark.parametrize("installer", ["pip", "uv", "poetry"])
def test_a_mix_of_local_and_upstream_projects_installs_through_the_proxy_alone(
    proxy, upstream, tmp_path: Path, installer
):
    clients = Clients(tmp_path / "clients", proxy.url)
    python = clients.new_venv("venv")
    if installer == "poetry":
        poetry_add(clients, python, *MIX)
    else:
        result = install(clients, installer, python, *MIX)
        assert result.returncode == 0, result.stdout + result.stderr
    assert_mix_installed(clients, python)
    # The upstream projects came through upstream; the local one never went there.
    for name in ("six", "idna", "packaging"):
        assert f"/simple/{name}/" in upstream_paths(upstream, f"/simple/{name}/")
    assert upstream_paths(upstream, LOCAL_APP) == []


def test_a_second_install_works_with_upstream_stopped(proxy, upstream, tmp_path: Path):
    """Once fetched, pages and files are served from the proxy's own storage."""
    first = Clients(tmp_path / "first", proxy.url)
    python = first.new_venv("venv")
    result = install(first, "pip", python, *MIX)
    assert result.returncode == 0, result.stdout + result.stderr

    upstream._stop()
    try:
        for installer in ("pip", "uv"):
            clients = Clients(tmp_path / f"again-{installer}", proxy.url)  # an empty client cache
            python = clients.new_venv("venv")
            result = install(clients, installer, python, *MIX)
            assert result.returncode == 0, result.stdout + result.stderr
            assert_mix_installed(clients, python)
    finally:
        upstream._start()
        upstream._wait_until_ready()


def test_a_local_name_is_served_from_local_files_only(proxy, upstream, tmp_path: Path):
    status, body, headers = page(proxy, SHADOWED)
    assert status == 200
    assert headers.get("X-Index-Source") == "local"
    assert [file["filename"] for file in body["files"]] == [f"{SHADOWED}-1.0-py3-none-any.whl"]
    assert body["versions"] == ["1.0"]
    assert not any("/packages/upstream/" in file["url"] for file in body["files"])

    clients = Clients(tmp_path / "clients", proxy.url)
    for installer in ("pip", "uv"):
        python = clients.new_venv(f"venv-{installer}")
        result = install(clients, installer, python, SHADOWED)
        assert result.returncode == 0, result.stdout + result.stderr
        assert installed_version(clients, python, SHADOWED) == "1.0"
    # Upstream is not even asked for the name, though it holds 9.0, which would win a version race.
    assert upstream_paths(upstream, SHADOWED) == []
    assert page(upstream, SHADOWED)[1]["versions"] == ["9.0"]


def test_a_blocked_prefix_never_reaches_upstream(proxy, upstream, tmp_path: Path):
    status, _, _ = page(proxy, BLOCKED)
    assert status == 404
    clients = Clients(tmp_path / "clients", proxy.url)
    for installer in ("pip", "uv"):
        result = install(clients, installer, clients.new_venv(f"venv-{installer}"), BLOCKED)
        assert result.returncode != 0
    assert upstream_paths(upstream, "acme") == []
    # Upstream does hold it: asked directly, it answers (and logs it).
    assert page(upstream, BLOCKED)[0] == 200
    assert upstream_paths(upstream, f"/simple/{BLOCKED}/") == [f"/simple/{BLOCKED}/"]


def test_a_cooldown_hides_a_fresh_upstream_file_until_its_time(proxy, cool_proxy, upstream, tmp_path: Path):
    """With UPSTREAM_COOLDOWN=1h, pluggy (uploaded upstream a moment ago) is held back;
    iniconfig (uploaded upstream in 2021) is not. The proxy without a cool-down offers both."""
    fresh = page(proxy, "pluggy")[1]["files"]
    assert [file["filename"] for file in fresh] == [f"pluggy-{installed('pluggy')}-py3-none-any.whl"]
    # A request's own cool-down view holds it back on the proxy without one, but not the 2021 file.
    response = proxy.get("/cooldown/1h/simple/pluggy/", headers={"Accept": JSON_V1})
    assert response.status in (200, 404)
    assert (json.loads(response.body) if response.status == 200 else {}).get("files", []) == []
    response = proxy.get(f"/cooldown/1h/simple/{UPSTREAM_OLD}/", headers={"Accept": JSON_V1})
    assert response.status == 200, response.text
    assert len(json.loads(response.body)["files"]) == 1
    status, held, _ = page(cool_proxy, "pluggy")
    assert status in (200, 404)
    assert held.get("files", []) == []
    assert held.get("versions", []) == []
    # Nor can the held-back file be downloaded by its URL.
    response = cool_proxy.get(urllib.parse.urlsplit(fresh[0]["url"]).path)
    assert response.status == 404, response.text
    assert "cool-down" in response.text

    old = page(cool_proxy, UPSTREAM_OLD)[1]
    assert [file["upload-time"][:10] for file in old["files"]] == ["2021-01-01"]

    clients = Clients(tmp_path / "clients", cool_proxy.url)
    result = install(clients, "pip", clients.new_venv("venv-fresh"), "pluggy")
    assert result.returncode != 0
    python = clients.new_venv("venv-old")
    result = install(clients, "pip", python, UPSTREAM_OLD)
    assert result.returncode == 0, result.stdout + result.stderr
    assert installed_version(clients, python, UPSTREAM_OLD) == installed(UPSTREAM_OLD)


def test_a_corrupted_upstream_file_is_refused_and_not_kept(proxy, upstream, tmp_path: Path):
    """The upstream instance's stored bytes no longer match the sha256 its page lists."""
    status, body, _ = page(proxy, TAMPERED)
    assert status == 200, body
    (listed,) = body["files"]
    path = urllib.parse.urlsplit(listed["url"]).path
    assert path.startswith(f"/packages/upstream/{TAMPERED}/{listed['hashes']['sha256']}/")
    file_path = urllib.parse.urlsplit(page(upstream, TAMPERED)[1]["files"][0]["url"]).path

    for attempt in (1, 2):
        assert download_fails(proxy, path)
        # Nothing was kept: the second attempt asks upstream again.
        assert upstream_paths(upstream, file_path) == [file_path] * attempt

    clients = Clients(tmp_path / "clients", proxy.url)
    python = clients.new_venv("venv")
    # --retries 0: pip retries a failed download five times, with back-off, to the same end.
    result = install(clients, "pip", python, "--retries", "0", TAMPERED)
    assert result.returncode != 0
    assert installed_version(clients, python, TAMPERED) is None
