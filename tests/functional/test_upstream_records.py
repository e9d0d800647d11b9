"""What the database records of the upstream (packages_app/upstream/records.py): the admin's list
of proxied projects, removing their cached files, the root list, the logs and the credentials."""

from __future__ import annotations

import base64
import io
import logging

import orjson
import pytest
from django.contrib.auth.models import Permission
from django.core.management import call_command
from django.db import connection
from django.test.utils import CaptureQueriesContext

from harness.dists import build_wheel
from harness.upstream_index import UpstreamIndex
from packages_app.models import CachedUpstreamFile, UpstreamProject
from packages_app.storage import package_storage
from tests.factories import UserFactory
from tests.functional.test_upstream import JSON, body, page, upstream_paths
from tests.functional.upload_client import publish

CHANGELIST = "/admin/packages_app/upstreamproject/"


@pytest.fixture
def upstream(settings):
    with UpstreamIndex(files_host="localhost") as index:
        settings.UPSTREAM_INDEX_URL = index.url
        settings.UPSTREAM_BLOCKED_PREFIXES = []
        settings.UPSTREAM_ALLOWED_PROJECTS = []
        settings.UPSTREAM_TIMEOUT_SECONDS = 2.0
        yield index


@pytest.fixture
def wheels(tmp_path):
    return [build_wheel(tmp_path / v, "tool-kit", v) for v in ("1.0", "2.0")]


def download_all(client, name: str) -> list[bytes]:
    data = orjson.loads(page(client, name).content)
    return [body(client.get(file["url"])) for file in data["files"]]


def root_names(client, accept: str = JSON) -> list[str]:
    response = client.get("/simple/", HTTP_ACCEPT=accept)
    assert response.status_code == 200
    if accept == JSON:
        return [project["name"] for project in orjson.loads(response.content)["projects"]]
    return [line.split(">")[1].split("<")[0] for line in response.content.decode().splitlines() if "<a " in line]


# ---------------------------------------------------------------- records


def test_a_fetched_page_and_its_kept_files_are_recorded(client, db, upstream, wheels):
    upstream.add("tool-kit", *wheels)
    assert not UpstreamProject.objects.exists()
    download_all(client, "tool-kit")
    project = UpstreamProject.objects.get()
    assert project.normalized_name == "tool-kit"
    kept = {(f.filename, f.size) for f in CachedUpstreamFile.objects.filter(project=project)}
    assert kept == {(w.name, w.stat().st_size) for w in wheels}
    assert {f.path for f in CachedUpstreamFile.objects.all()} == set(upstream_paths())


def test_an_unknown_or_blocked_name_is_not_recorded(client, db, upstream, wheels, settings):
    settings.UPSTREAM_BLOCKED_PREFIXES = ["acme"]
    upstream.add("acme-tool", *wheels)
    assert page(client, "nowhere").status_code == 404
    assert page(client, "acme-tool").status_code == 404
    assert not UpstreamProject.objects.exists()


# ---------------------------------------------------------------- the root list


@pytest.mark.parametrize("accept", [JSON, "text/html"])
def test_proxied_projects_join_the_root_list_once_fetched(client, db, upstream, wheels, accept):
    upstream.add("tool-kit", *wheels)
    upstream.add("never-asked", *wheels)
    assert root_names(client, accept) == []
    assert page(client, "tool-kit").status_code == 200
    assert root_names(client, accept) == ["tool-kit"]  # never the whole upstream list


def test_a_local_project_is_listed_once_over_a_proxied_one(client, upstream, wheels, auth, tmp_path):
    upstream.add("tool-kit", *wheels)
    upstream.add("other", *wheels)
    assert page(client, "tool-kit").status_code == 200
    assert page(client, "other").status_code == 200
    publish(client, tmp_path / "local", "tool-kit", "9.0", auth=auth)
    listed = orjson.loads(client.get("/simple/", HTTP_ACCEPT=JSON).content)["projects"]
    assert sorted(project["name"] for project in listed) == ["other", "tool-kit"]
    (local,) = [project for project in listed if project["name"] == "tool-kit"]
    assert local["_last-serial"] > 0  # ours, not a proxied line


def test_a_name_blocked_later_leaves_the_root_list(client, db, upstream, wheels, settings):
    upstream.add("acme-tool", *wheels)
    assert page(client, "acme-tool").status_code == 200
    assert root_names(client) == ["acme-tool"]
    settings.UPSTREAM_BLOCKED_PREFIXES = ["acme"]
    assert root_names(client) == []


def test_the_root_list_costs_one_more_query_with_upstream_on(client, db, upstream, wheels, settings):
    upstream.add("tool-kit", *wheels)
    assert page(client, "tool-kit").status_code == 200
    root_names(client)  # built and kept
    with CaptureQueriesContext(connection) as with_upstream:
        assert root_names(client) == ["tool-kit"]
    queries_with_upstream = len(with_upstream)
    settings.UPSTREAM_INDEX_URL = ""
    root_names(client)
    with CaptureQueriesContext(connection) as without:
        root_names(client)
    assert queries_with_upstream == len(without) + 1


# ---------------------------------------------------------------- the admin


def test_the_admin_lists_proxied_projects_with_their_cached_files(admin_client, upstream, wheels):
    upstream.add("tool-kit", *wheels)
    download_all(admin_client, "tool-kit")
    listing = admin_client.get(CHANGELIST).content.decode()
    assert "tool-kit" in listing
    size = sum(w.stat().st_size for w in wheels)
    assert f"{size / 1024:.1f}\xa0KB" in listing
    detail = admin_client.get(f"{CHANGELIST}{UpstreamProject.objects.get().pk}/change/").content.decode()
    assert all(w.name in detail for w in wheels)


def test_removing_cached_files_deletes_the_bytes_and_the_next_download_fetches_again(admin_client, upstream, wheels):
    upstream.add("tool-kit", *wheels)
    download_all(admin_client, "tool-kit")
    project = UpstreamProject.objects.get()
    response = admin_client.post(CHANGELIST, {"action": "remove_cached_files", "_selected_action": [project.pk]})
    assert response.status_code == 302
    assert upstream_paths() == []
    assert not CachedUpstreamFile.objects.exists()
    fetched = len(upstream.hits("/files/"))
    assert download_all(admin_client, "tool-kit") == [w.read_bytes() for w in wheels]
    assert len(upstream.hits("/files/")) == fetched + 2


def test_removing_cached_files_needs_the_delete_permission(client, db, upstream, wheels):
    upstream.add("tool-kit", *wheels)
    download_all(client, "tool-kit")
    viewer = UserFactory(username="viewer", is_staff=True)
    viewer.user_permissions.add(Permission.objects.get(codename="view_upstreamproject"))
    client.force_login(viewer)
    listing = client.get(CHANGELIST)
    assert listing.status_code == 200
    assert "remove_cached_files" not in listing.content.decode()
    project = UpstreamProject.objects.get()
    client.post(CHANGELIST, {"action": "remove_cached_files", "_selected_action": [project.pk]})
    assert len(upstream_paths()) == 2
    assert client.get(f"{CHANGELIST}{project.pk}/delete/").status_code == 403


# ---------------------------------------------------------------- logs and credentials


def test_upstream_requests_are_logged(client, db, upstream, wheels, caplog):
    upstream.add("tool-kit", *wheels)
    upstream.add("broken", *wheels, mode="500")
    with caplog.at_level(logging.INFO, logger="packages_app.upstream"):
        download_all(client, "tool-kit")
        page(client, "broken")
    lines = [record.getMessage() for record in caplog.records if record.name.startswith("packages_app.upstream")]
    assert any("/simple/tool-kit/ -> 200" in line for line in lines)
    assert any("/files/tool_kit-2.0-py3-none-any.whl -> 200" in line for line in lines)
    assert any("upstream file kept: upstream/tool-kit/" in line for line in lines)
    assert any("/simple/broken/ -> 500" in line for line in lines)


def test_credentials_in_the_url_go_to_the_index_host_only_and_never_to_the_logs(
    client, db, upstream, wheels, settings, caplog
):
    upstream.add("tool-kit", *wheels)
    settings.UPSTREAM_INDEX_URL = upstream.url.replace("http://", "http://ci-reader:s%3Acret@")
    with caplog.at_level(logging.DEBUG):
        assert len(download_all(client, "tool-kit")) == 2
    sent = dict(upstream.authorizations)
    assert sent["/simple/tool-kit/"] == "Basic " + base64.b64encode(b"ci-reader:s:cret").decode()
    # The files are linked on another host name ("localhost"): no credentials there.
    assert sent["/files/tool_kit-1.0-py3-none-any.whl"] is None
    assert "s%3Acret" not in caplog.text
    assert "s:cret" not in caplog.text
    assert package_storage().exists(upstream_paths()[0])


def test_verify_storage_leaves_kept_upstream_files_alone(client, db, upstream, wheels):
    upstream.add("tool-kit", *wheels)
    download_all(client, "tool-kit")
    out = io.StringIO()
    call_command("verify_storage", "--repair", "--grace-minutes", "0", "--json", stdout=out)
    assert orjson.loads(out.getvalue())["problems"] == []
    assert len(upstream_paths()) == 2
