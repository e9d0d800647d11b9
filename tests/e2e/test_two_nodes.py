"""Two app servers on shared PostgreSQL, S3 and Redis: a change through one is seen at once through the other.

This is the production shape of docs/deploy.md: stateless gunicorn instances that
share nothing but the database, the object store and the cache. Node B's pages
are fetched (and so cached, in its memory and in Redis) before every change made
through node A, so a stale cache anywhere would show.
"""

from __future__ import annotations

import hashlib
import json
import secrets
import urllib.parse
import uuid
from pathlib import Path

import pytest

from harness import s3
from harness.dists import build_sdist, build_wheel
from harness.loopback import http_get, http_post
from harness.servers import free_port, server_environment
from tests import services
from tests.e2e.helpers import Clients, IndexServer, _throwaway_postgres

PASSWORD = "two nodes battery staple"
JSON = "application/vnd.pypi.simple.v1+json"
MAKE_USER = f"from django.contrib.auth.models import User\nUser.objects.create_user('ops', password={PASSWORD!r})"


@pytest.fixture(scope="module")
def nodes(tmp_path_factory):
    services.require("PostgreSQL", "Redis")  # what the two nodes share, with the S3 server started here
    base = tmp_path_factory.mktemp("two-nodes")
    with s3.moto_server() as endpoint, _throwaway_postgres(services.POSTGRES_URL) as database_url:
        shared = {
            **s3.storage_environment(endpoint, s3.new_bucket(endpoint, "pyindex-two-nodes")),
            "REDIS_URL": services.REDIS_URL,
            "CACHE_KEY_PREFIX": f"two-nodes-{secrets.token_hex(4)}",
        }
        servers = []
        for label in ("a", "b"):
            data_dir = base / label
            env = {**server_environment(data_dir, database_url), **shared}
            servers.append(
                IndexServer(
                    url=f"http://127.0.0.1:{free_port()}", env=env, data_dir=data_dir, log_path=base / f"{label}.log"
                )
            )
        node_a, node_b = servers
        node_a.prepare()  # migrates the shared database
        node_b.manage("collectstatic", "--noinput", "--verbosity", "0")
        node_a.shell(MAKE_USER)
        with node_a.running(), node_b.running():
            yield node_a, node_b


def simple_json(node: IndexServer, name: str) -> dict:
    response = node.get(f"/simple/{name}/", headers={"Accept": JSON})
    assert response.status == 200, response.text
    return json.loads(response.body)


def upload(node: IndexServer, root: Path, *dists: Path) -> None:
    result = Clients(root, node.url).twine("upload", *dists, username="ops", password=PASSWORD)
    assert result.returncode == 0, result.stdout + result.stderr


def test_health_of_both_nodes_covers_database_storage_and_cache(nodes):
    for node in nodes:
        response = node.get("/_health/")
        assert response.status == 200, response.text
        assert '"database": "ok"' in response.text
        assert '"storage": "ok"' in response.text
        assert '"cache": "ok"' in response.text


def test_an_upload_through_one_node_is_seen_at_once_through_the_other(nodes, tmp_path):
    node_a, node_b = nodes
    name = f"shared-{uuid.uuid4().hex[:8]}"
    first = build_wheel(tmp_path / "d1", name, "1.0")
    upload(node_a, tmp_path / "c1", first)
    # Node B builds and caches its pages for 1.0 ...
    assert [f["filename"] for f in simple_json(node_b, name)["files"]] == [first.name]
    assert node_b.get(f"/pypi/{name}/json").status == 200
    assert node_b.get(f"/simple/{name}/").status == 200

    # ... then 2.0 arrives through node A, and node B answers with it straight away.
    wheel = build_wheel(tmp_path / "d2", name, "2.0")
    sdist = build_sdist(tmp_path / "d2", name, "2.0")
    upload(node_a, tmp_path / "c2", wheel, sdist)

    page = simple_json(node_b, name)
    assert page["versions"] == ["1.0", "2.0"]
    assert {f["filename"] for f in page["files"]} >= {wheel.name, sdist.name}
    assert wheel.name in node_b.get(f"/simple/{name}/").text

    legacy = node_b.get(f"/pypi/{name}/json")
    assert legacy.status == 200
    assert json.loads(legacy.body)["info"]["version"] == "2.0"

    release = node_b.get(f"/api/v1/projects/{name}/releases/2.0/")
    assert release.status == 200, release.text
    assert wheel.name in release.text

    # The file itself: node B sends the client to the object store, which has the bytes.
    entry = next(f for f in page["files"] if f["filename"] == wheel.name)
    download = http_get(urllib.parse.urljoin(f"{node_b.url}/simple/{name}/", entry["url"]))
    assert download.status == 302, download.text
    stored = http_get(download.headers["Location"])
    assert stored.status == 200
    assert hashlib.sha256(stored.body).hexdigest() == entry["hashes"]["sha256"] == _sha256(wheel)


def test_a_yank_through_one_node_changes_both(nodes, tmp_path):
    node_a, node_b = nodes
    name = f"yanked-{uuid.uuid4().hex[:8]}"
    upload(node_a, tmp_path / "c", build_wheel(tmp_path / "d", name, "1.0"))
    for node in nodes:  # both nodes cache the unyanked page first
        assert simple_json(node, name)["files"][0]["yanked"] is False

    token = node_a.manage("create_token", "ops", "--project", name).strip()
    yanked = http_post(f"{node_a.url}/api/v1/projects/{name}/releases/1.0/yank/", {"reason": "broken build"}, token)
    assert yanked.status == 200, yanked.text

    for node in nodes:
        assert simple_json(node, name)["files"][0]["yanked"] == "broken build"
        assert 'data-yanked="broken build"' in node.get(f"/simple/{name}/").text
        legacy = json.loads(node.get(f"/pypi/{name}/1.0/json").body)
        assert (legacy["info"]["yanked"], legacy["info"]["yanked_reason"]) == (True, "broken build")


def _sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()
