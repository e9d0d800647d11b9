"""The metadata API on the real gunicorn: its OpenAPI schema, its offline docs, and schemathesis against it."""

from __future__ import annotations

import copy
import hashlib
import json
import re
import subprocess
import urllib.error
import urllib.parse
import urllib.request
import uuid
from html.parser import HTMLParser
from pathlib import Path

import pytest
import schemathesis
import yaml

from harness.dists import build_sdist, build_wheel
from harness.loopback import HttpResponse, http_post
from tests.e2e.helpers import SCRIPTS_DIR, Clients, isolated_environment

PASSWORD = "e2e api schema battery"
OPENAPI_JSON = "application/vnd.oai.openapi+json"
SCHEMATHESIS_TIMEOUT = 80
EXPECTED_PATHS = {
    "/api/v1/",
    "/api/v1/projects/",
    "/api/v1/projects/{name}/",
    "/api/v1/projects/{name}/status/",
    "/api/v1/projects/{name}/visibility/",
    "/api/v1/projects/{name}/releases/",
    "/api/v1/projects/{name}/releases/{version}/",
    "/api/v1/projects/{name}/releases/{version}/yank/",
    "/api/v1/projects/{name}/releases/{version}/unyank/",
    "/api/v1/files/{sha256}/",
    "/api/v1/events/",
    "/api/v1/users/{username}/projects/",
    "/api/v1/namespaces/",
    "/api/v1/namespaces/{namespace}/",
    "/api/v1/namespaces/{namespace}/revoke/",
    "/api/v1/projects/{name}/publishers/",
    "/api/v1/projects/{name}/publishers/{id}/",
    "/api/v1/pending-publishers/",
    "/api/v1/pending-publishers/{id}/",
    "/api/v1/projects/{name}/retention/",
    "/api/v1/projects/{name}/retention/preview/",
    "/api/v1/projects/{name}/retention/{id}/",
    "/api/v1/projects/{name}/releases/{version}/keep/",
    "/api/v1/retention/",
    "/api/v1/retention/{id}/",
    "/api/v1/projects/{name}/downloads/",
    "/api/v1/projects/{name}/webhooks/",
    "/api/v1/projects/{name}/webhooks/{id}/",
    "/api/v1/webhooks/",
    "/api/v1/webhooks/{id}/",
}


@pytest.fixture(scope="module")
def published(index_server, tmp_path_factory):
    """Two projects uploaded with twine by a fresh user, one release registered and one yanked through the API."""
    root = tmp_path_factory.mktemp("api-schema")
    clients = Clients(root / "clients", index_server.url)
    user = f"api-{uuid.uuid4().hex[:8]}"
    index_server.shell(
        "from django.contrib.auth import get_user_model as g\n"
        f"g().objects.create_user({user!r}, password={PASSWORD!r})\n"
    )
    alpha, beta = (f"{prefix}-{uuid.uuid4().hex[:8]}" for prefix in ("api-alpha", "api-beta"))
    dists = [build_wheel(root / "a", alpha, "1.0"), build_sdist(root / "a", alpha, "1.0")]
    dists += [build_wheel(root / "b", beta, "0.1", requires_python=">=3.9")]
    result = clients.twine("upload", *dists, username=user, password=PASSWORD)
    assert result.returncode == 0, result.stdout + result.stderr
    token = index_server.manage("create_token", user, "--project", alpha, "--project", beta).strip()
    registered = http_post(f"{index_server.url}/api/v1/projects/{alpha}/releases/", {"version": "2.0rc1"}, token)
    assert registered.status == 201, registered.text
    yanked = http_post(f"{index_server.url}/api/v1/projects/{beta}/releases/0.1/yank/", {"reason": "e2e"}, token)
    assert yanked.status == 200, yanked.text
    return {"user": user, "alpha": alpha, "beta": beta, "token": token, "wheel": dists[0]}


def fetch_schema(index_server, accept: str | None = None) -> HttpResponse:
    response = index_server.get("/api/v1/schema/", headers={"Accept": accept} if accept else None)
    assert response.status == 200, response.text
    return response


def test_schema_is_valid_openapi_3(index_server, published):
    """The schema parses (YAML and JSON alike) and validates against the OpenAPI 3 meta-schema."""
    as_yaml = yaml.safe_load(fetch_schema(index_server).text)
    as_json = json.loads(fetch_schema(index_server, OPENAPI_JSON).body)
    assert as_yaml == as_json
    assert as_json["openapi"].startswith("3.")
    schemathesis.openapi.from_dict(as_json).validate()
    broken = copy.deepcopy(as_json)
    broken["paths"]["/api/v1/events/"]["get"]["responses"] = "not responses"
    with pytest.raises(Exception, match="not responses"):  # the validation can fail
        schemathesis.openapi.from_dict(broken).validate()


def test_schema_describes_every_endpoint(index_server, published):
    """Every route is described, writes as POST with the bearer scheme, errors as problem details."""
    schema = json.loads(fetch_schema(index_server, OPENAPI_JSON).body)
    assert set(schema["paths"]) == EXPECTED_PATHS
    assert schema["components"]["securitySchemes"]["apiToken"] == {
        "type": "http",
        "scheme": "bearer",
        "description": "An API token: Bearer pyidx_...",
    }
    writes = {path for path, operations in schema["paths"].items() if "post" in operations}
    assert writes == {
        "/api/v1/projects/{name}/status/",
        "/api/v1/projects/{name}/visibility/",
        "/api/v1/projects/{name}/releases/",
        "/api/v1/projects/{name}/releases/{version}/yank/",
        "/api/v1/projects/{name}/releases/{version}/unyank/",
        "/api/v1/namespaces/",
        "/api/v1/namespaces/{namespace}/revoke/",
        "/api/v1/projects/{name}/publishers/",
        "/api/v1/pending-publishers/",
        "/api/v1/projects/{name}/retention/",
        "/api/v1/projects/{name}/releases/{version}/keep/",
        "/api/v1/retention/",
        "/api/v1/projects/{name}/webhooks/",
        "/api/v1/webhooks/",
    }
    releases = schema["paths"]["/api/v1/projects/{name}/releases/"]["get"]
    parameters = {parameter["name"] for parameter in releases["parameters"]}
    assert {"name", "order", "files", "cursor", "page_size"} <= parameters


class _Assets(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.urls: list[str] = []

    def handle_starttag(self, tag, attrs):
        for name, value in attrs:
            if name in ("src", "href") and value:
                self.urls.append(value)


@pytest.mark.parametrize("page", ["/api/v1/docs/", "/api/v1/redoc/"])
def test_docs_use_only_local_assets(index_server, published, page):
    """Swagger UI and Redoc load only this server's static files, which it serves."""
    response = index_server.get(page)
    assert response.status == 200, response.text
    assert response.headers["Content-Type"].startswith("text/html")
    parser = _Assets()
    parser.feed(response.text)
    assert parser.urls, "the page references no assets at all"
    for url in parser.urls:
        parts = urllib.parse.urlsplit(urllib.parse.urljoin(index_server.url + page, url))
        assert parts.netloc == urllib.parse.urlsplit(index_server.url).netloc, url
        assert index_server.get(parts.path).status == 200, url
    # The nonce is random base64, which may hold "//": it names no address.
    text = re.sub(r'nonce="[^"]*"', "", response.text)
    for found in re.findall(r"""(?:https?:)?//[^\s"'<>)]+""", text):
        assert found.startswith(("//" + urllib.parse.urlsplit(index_server.url).netloc, index_server.url)), found


def test_api_over_real_http(index_server, published):
    """The twine uploads and the API writes show through gunicorn, with working ETags."""
    alpha, beta = published["alpha"], published["beta"]
    project = index_server.get(f"/api/v1/projects/{alpha}/")
    assert project.status == 200
    assert json.loads(project.body)["latest_version"] == "1.0"
    assert (
        index_server.get(f"/api/v1/projects/{alpha}/", headers={"If-None-Match": project.headers["ETag"]}).status == 304
    )
    listed = json.loads(index_server.get(f"/api/v1/projects/{alpha}/releases/").body)["results"]
    assert [(r["version"], r["file_count"]) for r in listed] == [("2.0rc1", 0), ("1.0", 2)]
    digest = hashlib.sha256(published["wheel"].read_bytes()).hexdigest()
    file = json.loads(index_server.get(f"/api/v1/files/{digest}/").body)
    assert (file["project"], file["version"], file["filename"]) == (alpha, "1.0", published["wheel"].name)
    release = json.loads(index_server.get(f"/api/v1/projects/{beta}/releases/0.1/").body)
    assert (release["yanked_reason"], release["requires_python"]) == ("e2e", ">=3.9")
    mine = json.loads(index_server.get(f"/api/v1/users/{published['user']}/projects/").body)["results"]
    assert sorted(r["project"]["name"] for r in mine) == sorted([alpha, beta])


def schemathesis_env(home: Path) -> dict[str, str]:
    """Built from nothing: no proxy, no user configuration, HOME in a temporary folder."""
    env = isolated_environment(home)
    env.update(NO_PROXY="127.0.0.1,localhost", no_proxy="127.0.0.1,localhost", NO_COLOR="1", COLUMNS="200")
    return env


def fuzz_config(path: Path, **dictionaries: list[str]) -> Path:
    """A schemathesis.toml that draws path parameters from real objects half of the time, random text otherwise."""
    lines = []
    for name, values in dictionaries.items():
        lines += [f"[dictionaries.{name}]", f"values = {json.dumps(values)}", ""]
    lines.append("[parameters]")
    lines += [f'"path.{name}" = {{ dictionary = "{name}", probability = 0.5 }}' for name in dictionaries]
    path.write_text("\n".join(lines) + "\n")
    return path


@pytest.fixture
def fuzz_target(index_server, tmp_path):
    """A project of its own for the fuzzer's writes: one Owner (one role), files, a file-less pre-release."""
    clients = Clients(tmp_path / "clients", index_server.url)
    user = f"fuzz-{uuid.uuid4().hex[:8]}"
    name = f"fuzz-{uuid.uuid4().hex[:8]}"
    index_server.shell(
        "from django.contrib.auth import get_user_model as g\n"
        f"g().objects.create_user({user!r}, password={PASSWORD!r})\n"
    )
    dists = [build_wheel(tmp_path / "d", name, "1.0"), build_sdist(tmp_path / "d", name, "1.0")]
    result = clients.twine("upload", *dists, username=user, password=PASSWORD)
    assert result.returncode == 0, result.stdout + result.stderr
    token = index_server.manage("create_token", user, "--project", name).strip()
    assert http_post(f"{index_server.url}/api/v1/projects/{name}/releases/", {"version": "2.0rc1"}, token).status == 201
    digests = [hashlib.sha256(dist.read_bytes()).hexdigest() for dist in dists]
    return {"user": user, "name": name, "token": token, "digests": digests}


def test_schemathesis_finds_no_server_errors(index_server, fuzz_target, tmp_path):
    """Generated requests to every operation (with a real token, often on real objects) never get a 5xx."""
    home = tmp_path / "home"
    home.mkdir()
    report = tmp_path / "report.xml"
    config = fuzz_config(
        tmp_path / "schemathesis.toml",
        name=[fuzz_target["name"]],
        version=["1.0", "1.0.0", "2.0rc1"],
        sha256=fuzz_target["digests"],
        username=[fuzz_target["user"]],
    )
    command = [
        SCRIPTS_DIR / "schemathesis",
        "--config-file",
        config,
        "run",
        f"{index_server.url}/api/v1/schema/",
        "--url",
        index_server.url,
        "--checks",
        "not_a_server_error",
        "--max-examples",
        "25",
        "--phases",
        "examples,coverage,fuzzing",
        # One worker: hypothesis's lambda descriptions race in ast.parse on Python 3.11 with several.
        "--workers",
        "1",
        "--seed",
        "20240601",
        "--request-timeout",
        "10",
        "--generation-database",
        "none",
        "--header",
        f"Authorization: Bearer {fuzz_target['token']}",
        "--report",
        "junit",
        "--report-junit-path",
        report,
        "--no-color",
    ]
    result = subprocess.run(
        [str(part) for part in command],
        cwd=tmp_path,
        env=schemathesis_env(home),
        capture_output=True,
        text=True,
        timeout=SCHEMATHESIS_TIMEOUT,
        check=False,
    )
    output = result.stdout + result.stderr
    assert result.returncode == 0, output
    assert "Server error" not in output
    junit = report.read_text()
    # Each operation of the schema was exercised, and none failed.
    assert junit.count("<testcase") == sum(
        len(operations) for operations in json.loads(fetch_schema(index_server, OPENAPI_JSON).body)["paths"].values()
    )
    assert "<failure" not in junit
    assert "<error" not in junit
