"""The upstream proxy (packages_app/upstream/) against a real upstream index on 127.0.0.1."""

from __future__ import annotations

import hashlib
import os
import time

import orjson
import pytest

from harness.dists import build_wheel
from packages_app.models import CachedUpstreamFile
from packages_app.storage import package_storage, stored_paths
from tests.functional.upload_client import publish

JSON = "application/vnd.pypi.simple.v1+json"


@pytest.fixture
def wheel(tmp_path):
    return build_wheel(tmp_path / "up", "tool-kit", "1.0", requires_python=">=3.8")


def page(client, name: str, accept: str = JSON):
    return client.get(f"/simple/{name}/", HTTP_ACCEPT=accept)


def body(response) -> bytes:
    return b"".join(response.streaming_content) if response.streaming else response.content


def upstream_paths() -> list[str]:
    return [path for path in stored_paths(package_storage()) if path.startswith("upstream/")]


# ---------------------------------------------------------------- pages


def test_json_page_carries_upstream_fields_with_our_file_urls(client, db, upstream, wheel):
    upstream.add("tool-kit", wheel, status={"status": "deprecated", "reason": "use other"})
    response = page(client, "tool-kit")
    assert response.status_code == 200
    assert response["X-Index-Source"] == "upstream"
    assert response["Content-Type"] == JSON
    data = orjson.loads(response.content)
    assert data["name"] == "tool-kit"
    assert data["versions"] == ["1.0"]
    assert data["project-status"] == {"status": "deprecated", "reason": "use other"}
    (file,) = data["files"]
    sha256 = hashlib.sha256(wheel.read_bytes()).hexdigest()
    assert file["url"] == f"/packages/upstream/tool-kit/{sha256}/{wheel.name}"
    assert file["hashes"] == {"sha256": sha256}
    assert file["size"] == wheel.stat().st_size
    assert file["upload-time"] == "2024-01-02T03:04:05.123456Z"
    assert file["requires-python"] == ">=3.8"
    assert file["yanked"] is False
    assert file["core-metadata"]["sha256"]
    assert "127.0.0.1" not in response.content.decode()  # a client never sees upstream


def test_html_page_has_our_urls_and_status(client, db, upstream, wheel):
    project = upstream.add("tool-kit", wheel)
    project.files[0].yanked = "broken"
    response = page(client, "tool-kit", "text/html")
    assert response.status_code == 200
    text = response.content.decode()
    sha256 = hashlib.sha256(wheel.read_bytes()).hexdigest()
    assert f'href="/packages/upstream/tool-kit/{sha256}/{wheel.name}#sha256={sha256}"' in text
    assert 'data-yanked="broken"' in text
    assert 'data-requires-python="&gt;=3.8"' in text
    assert "data-core-metadata=" in text
    assert '<meta name="pypi:project-status" content="active">' in text


def test_an_html_only_upstream_is_read_too(client, db, upstream, wheel):
    upstream.add("tool-kit", wheel, mode="html")
    data = orjson.loads(page(client, "tool-kit").content)
    assert [file["filename"] for file in data["files"]] == [wheel.name]
    assert data["versions"] == ["1.0"]
    assert data["files"][0]["requires-python"] == ">=3.8"


def test_an_unnormalised_name_redirects_after_the_guard(client, db, upstream, wheel):
    upstream.add("tool-kit", wheel)
    response = client.get("/simple/Tool_Kit/")
    assert response.status_code == 301
    assert response["Location"] == "/simple/tool-kit/"


def test_unknown_upstream_is_404(client, db, upstream):
    assert page(client, "nowhere").status_code == 404


def test_off_by_default_never_asks(client, db, upstream, settings, wheel):
    upstream.add("tool-kit", wheel)
    settings.UPSTREAM_INDEX_URL = ""
    assert page(client, "tool-kit").status_code == 404
    assert upstream.hits() == []


# ---------------------------------------------------------------- the guard


def test_local_wins_and_upstream_is_not_asked(client, upstream, auth, tmp_path, wheel):
    upstream.add("tool-kit", wheel)
    publish(client, tmp_path / "local", "tool-kit", "2.0", auth=auth)
    response = page(client, "tool-kit")
    assert response["X-Index-Source"] == "local"
    data = orjson.loads(response.content)
    assert [file["filename"] for file in data["files"]] == ["tool_kit-2.0-py3-none-any.whl"]
    sha256 = hashlib.sha256(wheel.read_bytes()).hexdigest()
    assert client.get(f"/packages/upstream/tool-kit/{sha256}/{wheel.name}").status_code == 404
    assert upstream.hits() == []


def test_a_local_project_without_files_still_wins(client, db, upstream, wheel):
    from packages_app.models import Project

    upstream.add("tool-kit", wheel)
    Project.objects.create(name="Tool-Kit", normalized_name="tool-kit")
    response = page(client, "tool-kit")
    assert response["X-Index-Source"] == "local"
    assert orjson.loads(response.content)["files"] == []
    assert upstream.hits() == []


@pytest.mark.parametrize("name", ["acme", "acme-tools", "acme-x-y"])
def test_blocked_prefix_is_never_asked_and_says_why(client, db, upstream, settings, wheel, name):
    settings.UPSTREAM_BLOCKED_PREFIXES = ["ACME"]
    upstream.add(name, wheel)
    response = page(client, name)
    assert response.status_code == 404
    assert "UPSTREAM_BLOCKED_PREFIXES" in response.content.decode()
    assert client.get(f"/packages/upstream/{name}/{'0' * 64}/{wheel.name}").status_code == 404
    assert upstream.hits() == []


def test_a_name_that_only_starts_like_a_blocked_prefix_is_not_blocked(client, db, upstream, settings, wheel):
    settings.UPSTREAM_BLOCKED_PREFIXES = ["acme"]
    upstream.add("acmetools", wheel)
    assert page(client, "acmetools").status_code == 200


def test_allow_list(client, db, upstream, settings, wheel):
    settings.UPSTREAM_ALLOWED_PROJECTS = ["Tool_Kit"]
    upstream.add("tool-kit", wheel)
    upstream.add("other", wheel)
    assert page(client, "tool-kit").status_code == 200
    refused = page(client, "other")
    assert refused.status_code == 404
    assert "UPSTREAM_ALLOWED_PROJECTS" in refused.content.decode()
    assert upstream.hits("other") == []


def test_private_index_needs_credentials_for_upstream_pages_too(client, db, upstream, settings, wheel):
    settings.READ_ACCESS = "authenticated"
    upstream.add("tool-kit", wheel)
    assert page(client, "tool-kit").status_code == 401
    sha256 = hashlib.sha256(wheel.read_bytes()).hexdigest()
    assert client.get(f"/packages/upstream/tool-kit/{sha256}/{wheel.name}").status_code == 401
    assert upstream.hits() == []


# ---------------------------------------------------------------- caching


def test_page_is_kept_for_the_ttl_then_revalidated(client, db, upstream, settings, wheel):
    upstream.add("tool-kit", wheel)
    first = page(client, "tool-kit")
    assert page(client, "tool-kit").content == first.content
    assert len(upstream.hits("/simple/")) == 1
    settings.UPSTREAM_PAGE_TTL = 0
    again = page(client, "tool-kit")
    assert again.content == first.content
    assert again["ETag"] == first["ETag"]  # a 304 upstream: same page, same tag
    assert len(upstream.hits("/simple/")) == 2


def test_a_change_upstream_gives_a_new_page(client, db, upstream, settings, wheel, tmp_path):
    project = upstream.add("tool-kit", wheel)
    first = page(client, "tool-kit")
    second_wheel = build_wheel(tmp_path / "up2", "tool-kit", "2.0")
    project.files.append(upstream.add("scratch", second_wheel).files[0])
    project.versions.append("2.0")
    settings.UPSTREAM_PAGE_TTL = 0
    second = page(client, "tool-kit")
    assert second["ETag"] != first["ETag"]
    assert orjson.loads(second.content)["versions"] == ["1.0", "2.0"]


def test_a_yank_and_a_deletion_upstream_show_at_the_next_revalidation(client, db, upstream, settings, tmp_path):
    wheels = [build_wheel(tmp_path / v, "tool-kit", v) for v in ("1.0", "2.0")]
    project = upstream.add("tool-kit", *wheels)
    first = orjson.loads(page(client, "tool-kit").content)
    kept_url = first["files"][0]["url"]
    assert body(client.get(kept_url)) == wheels[0].read_bytes()
    project.files[1].yanked = "broken"
    deleted = project.files.pop(0)
    project.versions.remove("1.0")
    assert orjson.loads(page(client, "tool-kit").content) == first  # within the TTL: as kept
    settings.UPSTREAM_PAGE_TTL = 0
    after = orjson.loads(page(client, "tool-kit").content)
    assert [(f["filename"], f["yanked"]) for f in after["files"]] == [(wheels[1].name, "broken")]
    assert after["versions"] == ["2.0"]
    # The kept copy of the deleted file stays at its URL (a lock file naming it keeps working).
    assert deleted.filename in kept_url
    assert body(client.get(kept_url)) == wheels[0].read_bytes()


def test_our_etag_revalidates(client, db, upstream, wheel):
    upstream.add("tool-kit", wheel)
    first = page(client, "tool-kit")
    assert client.get("/simple/tool-kit/", HTTP_ACCEPT=JSON, HTTP_IF_NONE_MATCH=first["ETag"]).status_code == 304


@pytest.mark.parametrize("mode", ["500", "malformed", "slow", "oversized", "down"])
def test_stale_page_when_upstream_fails(client, db, upstream, settings, wheel, mode):
    project = upstream.add("tool-kit", wheel)
    first = page(client, "tool-kit")
    settings.UPSTREAM_PAGE_TTL = 0
    settings.UPSTREAM_MAX_PAGE_BYTES = 64 * 1024
    if mode == "down":
        settings.UPSTREAM_INDEX_URL = "http://127.0.0.1:9/simple/"
    project.mode = mode
    started = time.monotonic()
    stale = page(client, "tool-kit")
    assert time.monotonic() - started < 2.5  # bounded by UPSTREAM_TIMEOUT_SECONDS, not upstream's 3 s
    assert stale.status_code == 200
    assert stale.content == first.content
    assert stale["X-Index-Source"] == "upstream"
    assert "upstream unavailable" in stale["X-Index-Stale"]
    assert "X-Index-Stale" not in first


@pytest.mark.parametrize(
    ("mode", "status", "words"),
    [
        ("500", 502, "answered 500"),
        ("malformed", 502, "malformed"),
        ("slow", 504, "did not answer in"),
        ("oversized", 502, "UPSTREAM_MAX_PAGE_BYTES"),
        ("down", 502, "cannot be reached"),
    ],
)
def test_never_seen_project_when_upstream_fails(client, db, upstream, settings, wheel, mode, status, words):
    upstream.add("tool-kit", wheel, mode=mode)
    settings.UPSTREAM_MAX_PAGE_BYTES = 64 * 1024
    if mode == "down":
        settings.UPSTREAM_INDEX_URL = "http://127.0.0.1:9/simple/"
    started = time.monotonic()
    response = page(client, "tool-kit")
    assert time.monotonic() - started < 2.5
    assert response.status_code == status
    text = response.content.decode()
    assert words in text
    assert "tool-kit" in text


# ---------------------------------------------------------------- files


def test_download_streams_stores_and_is_then_served_locally(client, db, upstream, wheel):
    upstream.add("tool-kit", wheel)
    url = orjson.loads(page(client, "tool-kit").content)["files"][0]["url"]
    response = client.get(url)
    assert response.status_code == 200
    assert response.streaming
    assert response["Content-Length"] == str(wheel.stat().st_size)
    assert response["X-Index-Source"] == "upstream"
    assert body(response) == wheel.read_bytes()
    assert len(upstream_paths()) == 1
    hits = len(upstream.hits())
    again = client.get(url)
    assert body(again) == wheel.read_bytes()
    assert len(upstream.hits()) == hits  # served from our storage
    ranged = client.get(url, HTTP_RANGE="bytes=0-3")
    assert ranged.status_code == 206
    assert body(ranged) == wheel.read_bytes()[:4]


def test_download_without_a_page_fetches_the_page_first(client, db, upstream, wheel):
    upstream.add("tool-kit", wheel)
    sha256 = hashlib.sha256(wheel.read_bytes()).hexdigest()
    response = client.get(f"/packages/upstream/tool-kit/{sha256}/{wheel.name}")
    assert body(response) == wheel.read_bytes()


def test_metadata_is_fetched_checked_and_kept(client, db, upstream, wheel):
    project = upstream.add("tool-kit", wheel)
    file = orjson.loads(page(client, "tool-kit").content)["files"][0]
    response = client.get(file["url"] + ".metadata")
    assert response.status_code == 200
    metadata = body(response)
    assert metadata == project.files[0].metadata
    assert hashlib.sha256(metadata).hexdigest() == file["core-metadata"]["sha256"]
    hits = len(upstream.hits())
    assert body(client.get(file["url"] + ".metadata")) == project.files[0].metadata
    assert len(upstream.hits()) == hits


def test_sha256_mismatch_of_a_small_file_is_a_502_and_nothing_kept(client, db, upstream, wheel):
    project = upstream.add("tool-kit", wheel)
    project.files[0].tamper = True
    url = orjson.loads(page(client, "tool-kit").content)["files"][0]["url"]
    response = client.get(url)
    # The whole file fits in the first read: checked before the answer starts.
    assert response.status_code == 502
    assert "upstream listed" in body(response).decode()
    assert upstream_paths() == []
    assert not CachedUpstreamFile.objects.exists()


def test_sha256_mismatch_of_a_big_file_cuts_the_download_and_keeps_nothing(client, db, upstream, tmp_path):
    big = build_wheel(tmp_path / "big", "tool-kit", "1.0", module_body=f"DATA = {os.urandom(300_000).hex()!r}\n")
    assert big.stat().st_size > 2 * 64 * 1024  # more than the read before the answer starts
    project = upstream.add("tool-kit", big)
    project.files[0].tamper = True
    url = orjson.loads(page(client, "tool-kit").content)["files"][0]["url"]
    response = client.get(url)
    assert response.status_code == 200  # started before the last bytes came: the client gets less
    with pytest.raises(Exception, match="sha256"):
        body(response)
    assert upstream_paths() == []


def test_a_file_dripped_slower_than_the_floor_is_refused_and_nothing_kept(client, db, upstream, wheel):
    project = upstream.add("tool-kit", wheel)
    project.files[0].drip_seconds = 0.2  # each read well within the 1 s timeout, the whole far beyond
    url = orjson.loads(page(client, "tool-kit").content)["files"][0]["url"]
    started = time.monotonic()
    response = client.get(url)
    assert response.status_code == 504
    assert "too slowly" in body(response).decode()
    assert time.monotonic() - started < 3
    assert upstream_paths() == []


def test_a_file_upstream_does_not_list_is_404(client, db, upstream, wheel):
    upstream.add("tool-kit", wheel)
    assert client.get(f"/packages/upstream/tool-kit/{'a' * 64}/{wheel.name}").status_code == 404
    assert client.get("/packages/upstream/tool-kit/x").status_code == 404


def test_head_of_an_unfetched_file_does_not_download_it(client, db, upstream, wheel):
    upstream.add("tool-kit", wheel)
    url = orjson.loads(page(client, "tool-kit").content)["files"][0]["url"]
    response = client.head(url)
    assert response.status_code == 200
    assert response["Content-Length"] == str(wheel.stat().st_size)
    assert upstream.hits("/files/") == []
    assert upstream_paths() == []


def test_a_restricted_local_project_is_404_to_others_and_never_upstream(client, db, upstream, wheel):
    from packages_app.models import Project, Visibility

    upstream.add("tool-kit", wheel)
    Project.objects.create(name="tool-kit", normalized_name="tool-kit", visibility=Visibility.RESTRICTED)
    assert page(client, "tool-kit").status_code == 404
    assert upstream.hits() == []


def test_a_quarantined_upstream_project_offers_no_files(client, db, upstream, wheel):
    upstream.add("tool-kit", wheel, status={"status": "quarantined"})
    data = orjson.loads(page(client, "tool-kit").content)
    assert data["project-status"] == {"status": "quarantined"}
    assert data["files"] == []
    sha256 = hashlib.sha256(wheel.read_bytes()).hexdigest()
    assert client.get(f"/packages/upstream/tool-kit/{sha256}/{wheel.name}").status_code == 404
