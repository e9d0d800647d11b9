"""PEP 752 namespaces with the real clients against a real gunicorn.

The namespace ``acme`` is granted to the team ``acme-devs`` (ada is a member) through the
service in ``manage.py shell``, as an operator would. ``acme-legacy`` was uploaded by olga
before the grant. Then: a stranger (wile) creating ``acme-tool`` is refused with a 409 that
twine and ``uv publish`` show; ada creates it; olga's older project still takes a version;
pip and uv install ``acme-tool`` from JSON api-version 1.5 pages carrying ``namespaces``;
the ``/simple/namespaces`` and ``/simple/namespace/<ns>`` endpoints answer over HTTP.

The tests run in file order (xdist keeps a file on one worker): the refusals of ``acme-tool``
come before ada creates it.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from pathlib import Path

import pytest

from harness.dists import build_wheel
from tests.e2e.helpers import SCRIPTS_DIR, Clients, IndexServer, installed_version, started_index_server

PASSWORD = "e2e namespace battery staple"
NAMESPACE = "acme"
TEAM = "acme-devs"
HOLDER = f"team:{TEAM}"
NEW_PROJECT = "acme-tool"
OLD_PROJECT = "acme-legacy"
JSON_V1 = "application/vnd.pypi.simple.v1+json"
HTML_V1 = "application/vnd.pypi.simple.v1+html"
# pip's Accept header for simple pages: JSON first.
PIP_ACCEPT = f"{JSON_V1}, {HTML_V1}; q=0.1, text/html; q=0.01"
WORKER_ROUNDS = 6  # requests in a row: enough to reach each of the server's 2 gunicorn workers


@pytest.fixture(scope="module")
def index_server(tmp_path_factory) -> Iterator[IndexServer]:
    """This module's own server (the grant would change every other module's ``acme-*`` pages).

    wile holds nothing, ada is in the team acme-devs, olga publishes before the grant.
    """
    with started_index_server(tmp_path_factory.mktemp("namespace-index")) as server:
        for user in ("wile", "ada", "olga"):
            server.ensure_user(user, PASSWORD)
        server.shell(
            "from django.contrib.auth.models import Group, User\n"
            f"team, _ = Group.objects.get_or_create(name={TEAM!r})\n"
            "User.objects.get(username='ada').groups.add(team)\n"
        )
        yield server


def one_line(output: str) -> str:
    return re.sub(r"\s+", " ", output)


def project_json(index_server: IndexServer, name: str, accept: str = JSON_V1) -> dict:
    response = index_server.get(f"/simple/{name}/", headers={"Accept": accept})
    assert response.status == 200, response.text
    assert response.headers["Content-Type"].split(";")[0] == JSON_V1
    return json.loads(response.body)


def upload(clients: Clients, dist_dir: Path, user: str, name: str, version: str):
    return clients.twine("upload", build_wheel(dist_dir, name, version), username=user, password=PASSWORD)


@pytest.fixture(scope="module")
def granted(index_server, tmp_path_factory) -> str:
    """olga's acme-legacy 1.0 (its page served by every worker), then ``acme`` granted to acme-devs."""
    clients = Clients(tmp_path_factory.mktemp("before-grant"), index_server.url)
    result = upload(clients, tmp_path_factory.mktemp("legacy-dists"), "olga", OLD_PROJECT, "1.0")
    assert result.returncode == 0, result.stdout + result.stderr
    # Stored pages of the project, from before the grant, in each worker.
    pages = [project_json(index_server, OLD_PROJECT, PIP_ACCEPT)["namespaces"] for _ in range(WORKER_ROUNDS)]
    assert pages == [None] * WORKER_ROUNDS
    index_server.shell(
        "from django.contrib.auth.models import Group\n"
        "from packages_app.services.namespaces import grant_namespace\n"
        f"grant_namespace({NAMESPACE!r}, Group.objects.get(name={TEAM!r}))\n"
    )
    return NAMESPACE


def project_exists(index_server: IndexServer, name: str) -> bool:
    found = index_server.shell(
        f"from packages_app.models import Project; print(Project.objects.filter(normalized_name={name!r}).exists())"
    )
    return found.strip() == "True"


# ---------------------------------------------------------------- creating a project in the namespace


def test_twine_shows_the_409_naming_the_namespace_and_its_holder(index_server, clients, dist_dir, granted):
    assert not project_exists(index_server, NEW_PROJECT)
    result = upload(clients, dist_dir, "wile", NEW_PROJECT, "1.0")
    output = one_line(result.stdout + result.stderr)
    assert result.returncode != 0, output
    assert "409" in output
    assert f"'{NEW_PROJECT}' is in the namespace '{NAMESPACE}', reserved for {HOLDER} (PEP 752)" in output
    assert not project_exists(index_server, NEW_PROJECT)


def test_uv_publish_is_refused_too(index_server, clients, dist_dir, granted):
    wheel = build_wheel(dist_dir, NEW_PROJECT, "1.0")
    url = f"{index_server.url}/legacy/"
    result = clients.uv("publish", "--publish-url", url, "-u", "wile", "-p", PASSWORD, wheel)
    output = one_line(result.stdout + result.stderr)
    assert result.returncode != 0, output
    assert "409" in output
    assert f"in the namespace '{NAMESPACE}', reserved for {HOLDER}" in output
    assert not project_exists(index_server, NEW_PROJECT)


def test_a_member_of_the_holding_team_creates_the_project(index_server, clients, dist_dir, granted):
    result = upload(clients, dist_dir, "ada", NEW_PROJECT, "1.0")
    assert result.returncode == 0, result.stdout + result.stderr
    page = project_json(index_server, NEW_PROJECT)
    assert page["meta"]["api-version"] == "1.5"
    assert page["namespaces"] == [{"name": NAMESPACE, "owned": True}]
    assert [file["filename"] for file in page["files"]] == ["acme_tool-1.0-py3-none-any.whl"]


def test_a_project_from_before_the_grant_still_takes_new_versions(index_server, clients, dist_dir, granted):
    """PEP 752's SHOULD: the grant does not take olga's project from her."""
    # Every worker, before any upload since: the grant alone moved the project's serial, so no
    # page stored before it (``namespaces`` null) is served any more.
    expected = [{"name": NAMESPACE, "owned": False}]
    pages = [project_json(index_server, OLD_PROJECT, PIP_ACCEPT) for _ in range(WORKER_ROUNDS)]
    assert [(page["namespaces"], page["versions"]) for page in pages] == [(expected, ["1.0"])] * WORKER_ROUNDS
    result = upload(clients, dist_dir, "olga", OLD_PROJECT, "2.0")
    assert result.returncode == 0, result.stdout + result.stderr
    page = project_json(index_server, OLD_PROJECT)
    assert page["meta"]["api-version"] == "1.5"
    assert page["namespaces"] == expected
    assert page["versions"] == ["1.0", "2.0"]


def test_the_html_page_stays_at_1_4_without_namespaces(index_server, granted):
    response = index_server.get(f"/simple/{NEW_PROJECT}/", headers={"Accept": HTML_V1})
    assert response.status == 200, response.text
    assert '<meta name="pypi:repository-version" content="1.4">' in response.text
    assert "namespace" not in response.text


# ---------------------------------------------------------------- installing


def test_pip_installs_from_a_page_with_namespaces(index_server, clients, granted):
    python = clients.new_venv("venv-pip")
    index = f"{index_server.url}/simple/"
    general = ["--python", python, "--no-input", "--disable-pip-version-check"]
    result = clients.run([SCRIPTS_DIR / "pip", *general, "install", "-vv", "--index-url", index, NEW_PROJECT])
    assert result.returncode == 0, result.stdout + result.stderr
    # pip really read the 1.5 JSON form, ``namespaces`` and all.
    assert f"Fetched page {index}{NEW_PROJECT}/ as {JSON_V1}" in result.stdout
    assert installed_version(clients, python, NEW_PROJECT) == "1.0"


def test_uv_installs_from_a_page_with_namespaces(index_server, clients, granted):
    python = clients.new_venv("venv-uv")
    index = f"{index_server.url}/simple/"
    result = clients.uv(
        "pip", "install", "--no-python-downloads", "--python", python, "--index-url", index, NEW_PROJECT
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert installed_version(clients, python, NEW_PROJECT) == "1.0"


# ---------------------------------------------------------------- the PEP 752 endpoints


def test_namespace_list_endpoint(index_server, granted):
    response = index_server.get("/simple/namespaces", headers={"Accept": JSON_V1})
    assert response.status == 200, response.text
    assert response.headers["Content-Type"].split(";")[0] == JSON_V1
    assert json.loads(response.body) == [{"name": NAMESPACE}]


def test_namespace_detail_endpoint(index_server, granted):
    response = index_server.get(f"/simple/namespace/{NAMESPACE}", headers={"Accept": JSON_V1})
    assert response.status == 200, response.text
    assert response.headers["Content-Type"].split(";")[0] == JSON_V1
    assert json.loads(response.body) == {"name": NAMESPACE, "parent": None, "children": [], "owner": HOLDER}


def test_an_ungranted_namespace_is_404(index_server, granted):
    assert index_server.get("/simple/namespace/wile", headers={"Accept": JSON_V1}).status == 404


NAMESPACE_PATHS = ["/simple/namespaces", f"/simple/namespace/{NAMESPACE}"]


@pytest.mark.parametrize("accept", [HTML_V1, "text/html"])
@pytest.mark.parametrize("path", NAMESPACE_PATHS)
def test_namespace_endpoints_refuse_an_html_only_accept(index_server, granted, path, accept):
    response = index_server.get(path, headers={"Accept": accept})
    assert response.status == 406, response.text


@pytest.mark.parametrize("fmt", ["html", "text/html", HTML_V1])
@pytest.mark.parametrize("path", NAMESPACE_PATHS)
def test_namespace_endpoints_refuse_an_html_format(index_server, granted, path, fmt):
    response = index_server.get(f"{path}?format={fmt}")
    assert response.status == 406, response.text
