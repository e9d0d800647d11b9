"""Real clients against snapshot and cool-down URLs of the real server.

Upload times are spread over years the way an operator brings in old files
(``import_dists --upload-time-from-mtime``); fresh uploads go through twine.
Clients run isolated from this machine's configuration (``Clients``) and are
pointed at this index only. The cool-down test runs on the real clock with a
cool-down of a few seconds.
"""

from __future__ import annotations

import json
import os
import sys
import time
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
import requests
from pypi_simple import ACCEPT_HTML_ONLY, PyPISimple

from harness.dists import build_wheel, normalized_name
from tests.e2e.helpers import SCRIPTS_DIR, installed_version

PASSWORD = "e2e time travel battery staple"
# Long enough for pip to finish an install inside it on a busy machine, short enough to wait out.
COOLDOWN_SECONDS = 15
PUBLISHER = "time-publisher"
JSON_V1 = "application/vnd.pypi.simple.v1+json"
INSTALLERS = ["pip", "uv"]


def unique(prefix: str) -> str:
    return f"{prefix}-{uuid.uuid4().hex[:8]}"


def at(year: int, month: int = 1, day: int = 1) -> str:
    return datetime(year, month, day, tzinfo=UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def next_second_text() -> str:
    """A whole second after everything done so far (snapshots are read to the second), once it has passed."""
    moment = datetime.now(UTC).replace(microsecond=0) + timedelta(seconds=1)
    time.sleep((moment - datetime.now(UTC)).total_seconds() + 0.05)
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")


def import_with_times(index_server, folder: Path, dists: dict[Path, str]) -> None:
    """Import ``dists`` with the given upload times (ISO, UTC) through ``import_dists``."""
    for path, moment in dists.items():
        seconds = datetime.fromisoformat(moment).timestamp()
        os.utime(path, (seconds, seconds))
    output = index_server.manage("import_dists", str(folder), "--upload-time-from-mtime", "--owner", PUBLISHER)
    assert f"Imported {len(dists)}, skipped 0 (already present), rejected 0." in output, output


@pytest.fixture(scope="module")
def publisher(index_server) -> str:
    index_server.ensure_user(PUBLISHER, PASSWORD)
    return PUBLISHER


@pytest.fixture(scope="module")
def lib_and_app(index_server, publisher, tmp_path_factory) -> tuple[str, str]:
    """lib 1.0 (2021), 2.0 (2022), 3.0 (2023); app 1.0 (mid-2021) needs lib, app 2.0 (mid-2022) needs lib>=2."""
    lib, app = unique("tt-lib"), unique("tt-app")
    folder = tmp_path_factory.mktemp("lib-and-app")
    import_with_times(
        index_server,
        folder,
        {
            build_wheel(folder, lib, "1.0"): at(2021),
            build_wheel(folder, lib, "2.0"): at(2022),
            build_wheel(folder, lib, "3.0"): at(2023),
            build_wheel(folder, app, "1.0", requires_dist=[lib]): at(2021, 6),
            build_wheel(folder, app, "2.0", requires_dist=[f"{lib}>=2"]): at(2022, 6),
        },
    )
    return lib, app


def install(clients, installer: str, index_url: str, name: str, label: str, *extra: str) -> tuple[str | None, str]:
    """Install ``name`` into a new venv from ``index_url`` only; the installed version and the output."""
    python = clients.new_venv(f"venv-{label}")
    if installer == "pip":
        general = ["--python", python, "--no-input", "--disable-pip-version-check"]
        result = clients.run([SCRIPTS_DIR / "pip", *general, "install", "--index-url", index_url, *extra, name])
    else:
        result = clients.uv(
            "pip", "install", "--no-python-downloads", "--python", python, "--index-url", index_url, *extra, name
        )
    output = result.stdout + result.stderr
    assert result.returncode == 0, output
    return installed_version(clients, python, name), output


def compile_pins(clients, *options: str) -> list[str]:
    result = clients.uv(
        "pip", "compile", "--no-python-downloads", "--python", sys.executable,
        "--no-header", "--no-annotate", *options, "requirements.in",
    )  # fmt: skip
    assert result.returncode == 0, result.stdout + result.stderr
    return result.stdout.split()


# ---------------------------------------------------------------- snapshots


@pytest.mark.parametrize("installer", INSTALLERS)
@pytest.mark.parametrize(("moment", "expected"), [(at(2021, 6), "1.0"), (at(2022, 6), "2.0"), (at(2024), "3.0")])
def test_install_from_a_snapshot_gets_the_newest_version_then(clients, lib_and_app, installer, moment, expected):
    lib, _ = lib_and_app
    version, _ = install(clients, installer, f"{clients.index_url}/snapshot/{moment}/simple/", lib, "snapshot")
    assert version == expected


def test_pip_reads_the_snapshot_as_json(index_server, clients, lib_and_app):
    lib, _ = lib_and_app
    index = f"{clients.index_url}/snapshot/{at(2022, 6)}/simple/"
    version, output = install(clients, "pip", index, lib, "json", "-vv")
    assert f"Fetched page {index}{normalized_name(lib)}/ as {JSON_V1}" in output
    assert version == "2.0"


def test_an_html_only_installer_gets_the_newest_version_then(clients, lib_and_app):
    """uv reads a ``--find-links`` page as HTML only (it asks with ``Accept: text/html``), and
    the snapshot's project page is such a page: a list of links to files."""
    lib, _ = lib_and_app
    page = f"{clients.index_url}/snapshot/{at(2022, 6)}/simple/{normalized_name(lib)}/"
    python = clients.new_venv("venv-html")
    found = clients.uv("pip", "install", "--no-python-downloads", "--python", python, "--no-index",
                       "--find-links", page, lib)  # fmt: skip
    assert found.returncode == 0, found.stdout + found.stderr
    assert installed_version(clients, python, lib) == "2.0"
    # The JSON form of the same page means nothing to it: the links above came from the HTML.
    python = clients.new_venv("venv-json-refused")
    refused = clients.uv("pip", "install", "--no-python-downloads", "--python", python, "--no-index",
                         "--find-links", f"{page}?format=json", lib)  # fmt: skip
    assert refused.returncode != 0
    assert f"{lib} was not found in the provided package locations" in refused.stderr


def test_an_html_only_client_library_sees_the_snapshot(index_server, lib_and_app):
    """pypi-simple asking for HTML only: the root and project pages as of mid-2022."""
    lib, app = lib_and_app
    session = requests.Session()
    session.trust_env = False  # no proxy of this machine between us and 127.0.0.1
    with PyPISimple(
        f"{index_server.url}/snapshot/{at(2022, 6)}/simple/", session=session, accept=ACCEPT_HTML_ONLY
    ) as client:
        index = client.get_index_page()
        assert {normalized_name(lib), normalized_name(app)} <= set(index.projects)
        page = client.get_project_page(lib)
    assert sorted(package.version for package in page.packages) == ["1.0", "2.0"]
    assert all(package.url.startswith(f"{index_server.url}/packages/") for package in page.packages)


@pytest.mark.parametrize(
    ("moment", "app_version", "lib_version"),
    [(at(2021, 9), "1.0", "1.0"), (at(2022, 9), "2.0", "2.0"), (at(2023, 6), "2.0", "3.0")],
)
def test_uv_compile_against_a_snapshot_matches_exclude_newer(clients, lib_and_app, moment, app_version, lib_version):
    lib, app = lib_and_app
    (clients.workdir / "requirements.in").write_text(f"{app}\n")
    through_snapshot = compile_pins(clients, "--index-url", f"{clients.index_url}/snapshot/{moment}/simple/")
    exclude_newer = compile_pins(clients, "--index-url", f"{clients.index_url}/simple/", "--exclude-newer", moment)
    assert through_snapshot == exclude_newer
    assert sorted(through_snapshot) == sorted(
        [f"{normalized_name(app)}=={app_version}", f"{normalized_name(lib)}=={lib_version}"]
    )


def test_a_yank_shows_in_snapshots_after_it_and_not_before(index_server, clients, publisher, tmp_path):
    name = unique("tt-yank")
    folder = tmp_path / "dists"
    import_with_times(
        index_server, folder, {build_wheel(folder, name, "1.0"): at(2021), build_wheel(folder, name, "2.0"): at(2022)}
    )
    before_yank = next_second_text()
    index_server.manage("yank", name, "2.0", "--reason", "broken")
    after_yank = next_second_text()

    def version_from(index: str, label: str) -> str | None:
        return install(clients, "pip", f"{clients.index_url}{index}", name, label)[0]

    assert version_from(f"/snapshot/{before_yank}/simple/", "before") == "2.0"
    assert version_from(f"/snapshot/{after_yank}/simple/", "after") == "1.0"
    assert version_from("/simple/", "live") == "1.0"


# ---------------------------------------------------------------- cool-downs


def test_a_cooldown_hides_a_fresh_upload_until_it_has_passed(index_server, clients, publisher, tmp_path):
    """On the real clock: 2.0, uploaded with twine a moment ago, is hidden by the cool-down and
    installed once the cool-down (and its cut-off's one-second step) has passed."""
    name = unique("tt-cool")
    old = tmp_path / "old"
    import_with_times(index_server, old, {build_wheel(old, name, "1.0"): at(2021)})
    fresh = build_wheel(tmp_path / "fresh", name, "2.0")
    result = clients.twine("upload", fresh, username=PUBLISHER, password=PASSWORD)
    assert result.returncode == 0, result.stdout + result.stderr
    live = json.loads(index_server.get(f"/simple/{normalized_name(name)}/", headers={"Accept": JSON_V1}).body)
    uploaded = datetime.fromisoformat(live["files"][-1]["upload-time"])
    cooldown = timedelta(seconds=COOLDOWN_SECONDS)

    index = f"{clients.index_url}/cooldown/{COOLDOWN_SECONDS}s/simple/"
    hidden, _ = install(clients, "pip", index, name, "hidden")
    assert datetime.now(UTC) < uploaded + cooldown, "pip took longer than the cool-down: nothing to conclude"
    assert hidden == "1.0"

    time.sleep(max(0.0, (uploaded + cooldown + timedelta(seconds=1.5) - datetime.now(UTC)).total_seconds()))
    shown, _ = install(clients, "pip", index, name, "shown")
    assert shown == "2.0"
