"""pip and uv installing from the real server through the simple API: what a person gets.

Every project is published through the real upload path (twine, or the
``import_dists`` command for old upload times) and installed with the real
clients into throw-away venvs, pointed at this index only. What a client
fetched is read back from gunicorn's access log.
"""

from __future__ import annotations

import json
import os
import re
import sys
import time
import urllib.parse
import uuid
from datetime import UTC, datetime
from pathlib import Path

import pytest

from harness.dists import build_wheel, normalized_name
from tests.e2e.helpers import SCRIPTS_DIR, installed_version

PASSWORD = "e2e installer battery staple"
PUBLISHER = "install-publisher"
JSON_V1 = "application/vnd.pypi.simple.v1+json"
# The exact Accept headers pip 23.2 and uv 0.13 send for simple pages.
PIP_ACCEPT = "application/vnd.pypi.simple.v1+json, application/vnd.pypi.simple.v1+html; q=0.1, text/html; q=0.01"
UV_ACCEPT = "application/vnd.pypi.simple.v1+json, application/vnd.pypi.simple.v1+html;q=0.2, text/html;q=0.01"
INSTALLERS = ["pip", "uv"]
LOG_WAIT = 5.0  # seconds: gunicorn writes an access line just after the response
WORKER_ROUNDS = 6  # requests in a row: enough to reach each of the server's 2 gunicorn workers
# gunicorn.conf.py: %(h)s "%(r)s" %(s)s ...
_ACCESS_LINE = re.compile(r'^\S+ "(?P<method>[A-Z]+) (?P<target>\S+) HTTP/[\d.]+" (?P<status>\d{3}) ')


def unique(prefix: str) -> str:
    return f"{prefix}-{uuid.uuid4().hex[:8]}"


# ---------------------------------------------------------------- publishing


@pytest.fixture(scope="module")
def publisher(index_server) -> str:
    """A user who may create projects, made through the shell like an operator would."""
    index_server.ensure_user(PUBLISHER, PASSWORD)
    return PUBLISHER


def publish(clients, *dists: Path) -> None:
    """Upload with twine, in the given order; twine sends Requires-Python from METADATA as the form field."""
    result = clients.twine("upload", *dists, username=PUBLISHER, password=PASSWORD)
    assert result.returncode == 0, result.stdout + result.stderr


def project_json(index_server, name: str) -> dict:
    response = index_server.get(f"/simple/{normalized_name(name)}/", headers={"Accept": JSON_V1})
    assert response.status == 200, response.text
    return json.loads(response.body)


def file_paths(index_server, name: str) -> dict[str, str]:
    """Filename -> URL path of every file the project page lists."""
    files = project_json(index_server, name)["files"]
    return {file["filename"]: urllib.parse.urlsplit(file["url"]).path for file in files}


# ---------------------------------------------------------------- clients


def install(clients, installer: str, python: Path, *args: str):
    """``pip install`` or ``uv pip install`` into ``python``'s venv, from this index only."""
    index = ["--index-url", f"{clients.index_url}/simple/"]
    if installer == "pip":
        general = ["--python", python, "--no-input", "--disable-pip-version-check"]
        return clients.run([SCRIPTS_DIR / "pip", *general, "install", *index, *args])
    return clients.uv("pip", "install", "--no-python-downloads", "--python", python, *index, *args)


def install_one(clients, installer: str, requirement: str, name: str, label: str) -> tuple[str | None, str]:
    """Install ``requirement`` into a new venv; return the installed version of ``name`` and the output."""
    python = clients.new_venv(f"venv-{label}")
    result = install(clients, installer, python, requirement)
    output = result.stdout + result.stderr
    assert result.returncode == 0, output
    return installed_version(clients, python, name), output


# ---------------------------------------------------------------- access log


def log_offset(index_server) -> int:
    return index_server.log_path.stat().st_size


def requests_since(index_server, offset: int) -> list[tuple[str, str, str]]:
    """(method, path, status) of every request gunicorn logged after ``offset``."""
    with open(index_server.log_path, "rb") as log:
        log.seek(offset)
        lines = log.read().decode("utf-8", errors="replace").splitlines()
    found = []
    for line in lines:
        match = _ACCESS_LINE.match(line)
        if match:
            path = urllib.parse.urlsplit(match["target"]).path
            found.append((match["method"], path, match["status"]))
    return found


def wait_for_request(index_server, offset: int, method: str, path: str) -> list[tuple[str, str, str]]:
    """The requests logged since ``offset``, once ``method path`` is among them (fail after LOG_WAIT)."""
    deadline = time.monotonic() + LOG_WAIT
    while True:
        seen = requests_since(index_server, offset)
        if any(request[:2] == (method, path) for request in seen):
            return seen
        if time.monotonic() > deadline:
            pytest.fail(f"no {method} {path} in the access log; logged:\n" + "\n".join(map(str, seen)))
        time.sleep(0.05)


def got(seen: list[tuple[str, str, str]], path: str) -> list[str]:
    """Statuses of the requests for ``path``, whatever their method (clients only GET)."""
    return [status for _method, each, status in seen if each == path]


# ---------------------------------------------------------------- tests


@pytest.mark.parametrize("installer", INSTALLERS)
def test_install_picks_the_newest_version(index_server, clients, dist_dir, publisher, installer):
    """A plain ``install <name>`` gets the highest of three versions, whatever order they came in."""
    name = unique(f"newest-{installer}")
    publish(clients, *(build_wheel(dist_dir, name, version) for version in ("1.0", "3.0", "2.0")))
    version, _ = install_one(clients, installer, name, name, "newest")
    assert version == "3.0"


def test_pip_reads_the_json_form(index_server, clients, dist_dir, publisher):
    """pip (which asks for JSON first) is answered with PEP 691 JSON, as its own debug log says."""
    name = unique("pip-json")
    publish(clients, build_wheel(dist_dir, name, "1.0"))
    python = clients.new_venv("venv-json")
    result = install(clients, "pip", python, "-vv", name)
    assert result.returncode == 0, result.stdout + result.stderr
    page = f"{index_server.url}/simple/{normalized_name(name)}/"
    assert f"Fetched page {page} as {JSON_V1}" in result.stdout
    assert installed_version(clients, python, name) == "1.0"


def test_pip_resolves_with_pep658_metadata_and_never_downloads_the_rejected_wheel(
    index_server, clients, dist_dir, publisher
):
    """2.0 needs a project that does not exist: pip learns that from 2.0's ``.metadata``
    alone, backtracks, and downloads only 1.0's wheel."""
    name = unique("pep658")
    missing = unique("does-not-exist")
    old = build_wheel(dist_dir, name, "1.0")
    new = build_wheel(dist_dir, name, "2.0", requires_dist=[missing])
    publish(clients, old, new)
    paths = file_paths(index_server, name)
    python = clients.new_venv("venv-pep658")

    offset = log_offset(index_server)
    result = install(clients, "pip", python, name)
    assert result.returncode == 0, result.stdout + result.stderr
    seen = wait_for_request(index_server, offset, "GET", paths[old.name])

    assert installed_version(clients, python, name) == "1.0"
    assert got(seen, paths[new.name] + ".metadata") == [index_server.file_status]
    assert got(seen, paths[new.name]) == [], "pip downloaded the wheel it could judge from its metadata"
    assert got(seen, paths[old.name]) == [index_server.file_status]
    # The dependency was really looked for (and is really absent), so 2.0 was rejected for it.
    assert got(seen, f"/simple/{normalized_name(missing)}/") == ["404"]


@pytest.fixture(scope="module")
def imported_history(index_server, tmp_path_factory) -> str:
    """A project whose 1.0 was uploaded on 2021-01-01 and 2.0 on 2022-01-01.

    Made the way an operator brings in old files: ``import_dists --upload-time-from-mtime``.
    """
    name = unique("history")
    folder = tmp_path_factory.mktemp("history")
    for version, year in (("1.0", 2021), ("2.0", 2022)):
        wheel = build_wheel(folder, name, version)
        moment = datetime(year, 1, 1, tzinfo=UTC).timestamp()
        os.utime(wheel, (moment, moment))
    output = index_server.manage("import_dists", str(folder), "--upload-time-from-mtime")
    assert "Imported 2, skipped 0 (already present), rejected 0." in output
    times = {file["filename"]: file["upload-time"] for file in project_json(index_server, name)["files"]}
    assert sorted(times.values()) == ["2021-01-01T00:00:00Z", "2022-01-01T00:00:00Z"], times
    return name


@pytest.mark.parametrize(
    ("exclude_newer", "expected"),
    [("2021-06-01T00:00:00Z", "1.0"), ("2022-06-01T00:00:00Z", "2.0")],
)
def test_uv_compile_exclude_newer_picks_what_existed_then(clients, imported_history, exclude_newer, expected):
    """``uv pip compile --exclude-newer`` pins the newest version uploaded before the cut-off."""
    name = imported_history
    (clients.workdir / "requirements.in").write_text(f"{name}\n")
    result = clients.uv(
        "pip", "compile", "--no-python-downloads", "--python", sys.executable,
        "--index-url", f"{clients.index_url}/simple/", "--exclude-newer", exclude_newer,
        "--no-header", "--no-annotate", "requirements.in",
    )  # fmt: skip
    assert result.returncode == 0, result.stdout + result.stderr
    assert result.stdout.split() == [f"{normalized_name(name)}=={expected}"]


def test_uv_compile_exclude_newer_before_any_upload_finds_nothing(clients, imported_history):
    """A cut-off before the first upload leaves no version at all: upload times really filter."""
    (clients.workdir / "requirements.in").write_text(f"{imported_history}\n")
    result = clients.uv(
        "pip", "compile", "--no-python-downloads", "--python", sys.executable,
        "--index-url", f"{clients.index_url}/simple/", "--exclude-newer", "2020-06-01T00:00:00Z",
        "requirements.in",
    )  # fmt: skip
    assert result.returncode != 0
    assert imported_history in result.stderr


@pytest.mark.parametrize("installer", INSTALLERS)
def test_install_skips_versions_needing_a_newer_python(index_server, clients, dist_dir, publisher, installer):
    """2.0 says ``Requires-Python: >=4``: the client takes 1.0 without fetching anything of 2.0,
    so it was the index's ``requires-python`` that ruled 2.0 out."""
    name = unique(f"pyreq-{installer}")
    old = build_wheel(dist_dir, name, "1.0")
    new = build_wheel(dist_dir, name, "2.0", requires_python=">=4")
    publish(clients, old, new)
    paths = file_paths(index_server, name)
    listed = {file["filename"]: file["requires-python"] for file in project_json(index_server, name)["files"]}
    assert listed == {old.name: None, new.name: ">=4"}

    offset = log_offset(index_server)
    version, _ = install_one(clients, installer, name, name, "pyreq")
    seen = wait_for_request(index_server, offset, "GET", paths[old.name])
    assert version == "1.0"
    assert got(seen, paths[new.name]) == []
    assert got(seen, paths[new.name] + ".metadata") == []


@pytest.mark.parametrize("installer", INSTALLERS)
def test_yanked_version_is_skipped_unless_pinned_exactly(index_server, clients, dist_dir, publisher, installer):
    """PEP 592: after ``manage.py yank`` 2.0 is passed over by ``install <name>``,
    but ``install <name>==2.0`` still gets it, with the yank reason shown."""
    name = unique(f"yank-{installer}")
    reason = f"broken build {uuid.uuid4().hex[:6]}"
    publish(clients, build_wheel(dist_dir, name, "1.0"), build_wheel(dist_dir, name, "2.0"))
    index_server.manage("yank", name, "2.0", "--reason", reason)

    unpinned, _ = install_one(clients, installer, name, name, "unpinned")
    pinned, output = install_one(clients, installer, f"{name}==2.0", name, "pinned")
    assert unpinned == "1.0"
    assert pinned == "2.0"
    assert reason in output


def pip_page_yanked(index_server, name: str) -> dict[str, bool | str]:
    """Filename -> ``yanked`` of the project page as pip asks for it."""
    response = index_server.get(f"/simple/{normalized_name(name)}/", headers={"Accept": PIP_ACCEPT})
    return {file["filename"]: file["yanked"] for file in json.loads(response.body)["files"]}


def test_pip_sees_a_yank_made_after_the_page_was_served(index_server, clients, dist_dir, publisher):
    """A yank after the page was built and served is seen at once: the yank moves the project's
    serial, so no gunicorn worker serves its stored copy of the old page any more.

    Each worker keeps its own pages (no Redis here) and connections go to the workers in turn,
    so a few requests before the yank make every worker store the old page. pip revalidates the
    page on every run (it caches nothing over plain HTTP); uv trusts its copy for Cache-Control's
    max-age, so uv is not asked here.
    """
    name = unique("yank-later")
    old = build_wheel(dist_dir, name, "1.0")
    new = build_wheel(dist_dir, name, "2.0")
    publish(clients, old, new)
    served = [pip_page_yanked(index_server, name) for _ in range(WORKER_ROUNDS)]
    assert served == [{old.name: False, new.name: False}] * WORKER_ROUNDS
    before, _ = install_one(clients, "pip", name, name, "before")

    index_server.manage("yank", name, "2.0")
    after, _ = install_one(clients, "pip", name, name, "after")
    assert (before, after) == ("2.0", "1.0")
    served = [pip_page_yanked(index_server, name) for _ in range(WORKER_ROUNDS)]
    assert served == [{old.name: False, new.name: True}] * WORKER_ROUNDS


# ---------------------------------------------------------------- content negotiation


@pytest.mark.parametrize(
    ("accept", "content_type"),
    [
        pytest.param(PIP_ACCEPT, JSON_V1, id="pip"),
        pytest.param(UV_ACCEPT, JSON_V1, id="uv"),
        pytest.param("application/vnd.pypi.simple.v1+html", "application/vnd.pypi.simple.v1+html", id="v1-html"),
        pytest.param(None, "text/html", id="no-accept"),
    ],
)
def test_project_page_form_follows_accept(index_server, clients, dist_dir, publisher, accept, content_type):
    """The same project page is JSON for the installers' Accept headers and HTML otherwise;
    both forms list the same file."""
    name = unique("negotiate")
    wheel = build_wheel(dist_dir, name, "1.0")
    publish(clients, wheel)
    response = index_server.get(f"/simple/{normalized_name(name)}/", headers={"Accept": accept} if accept else None)
    assert response.status == 200, response.text
    assert response.headers["Content-Type"].split(";")[0] == content_type
    if content_type == JSON_V1:
        assert [file["filename"] for file in json.loads(response.body)["files"]] == [wheel.name]
    else:
        assert response.text.startswith("<!DOCTYPE html>")
        assert f">{wheel.name}</a>" in response.text
