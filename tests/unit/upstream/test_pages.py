"""packages_app/upstream/pages.py: upstream pages parsed into our form, and fetched once at a time."""

from __future__ import annotations

import threading

import orjson
import pytest
from django.db import connection

from harness.dists import build_wheel
from harness.upstream_index import UpstreamIndex
from packages_app.upstream import pages

SHA = "a" * 64


def test_json_page_keeps_pep_700_and_714_fields_and_drops_unhashed_files():
    body = orjson.dumps(
        {
            "meta": {"api-version": "1.1", "_last-serial": 5},
            "name": "demo",
            "versions": ["1.0"],
            "project-status": {"status": "archived"},
            "files": [
                {
                    "filename": "demo-1.0.tar.gz",
                    "url": "/f/demo-1.0.tar.gz#sha256=" + SHA,
                    "hashes": {"sha256": SHA.upper()},
                    "requires-python": ">=3.9",
                    "yanked": "bad",
                    "size": 10,
                    "upload-time": "2020-01-01T00:00:00Z",
                    "dist-info-metadata": {"sha256": "b" * 64},
                },
                {"filename": "demo-0.9.tar.gz", "url": "x", "hashes": {"md5": "0" * 32}},
                {"filename": "../evil.tar.gz", "url": "x", "hashes": {"sha256": SHA}},
            ],
        }
    )
    page = pages.parse_json(body, "https://up.example/simple/demo/")
    (file,) = page.files
    assert file.url == "https://up.example/f/demo-1.0.tar.gz"
    assert (file.sha256, file.size, file.upload_time, file.yanked) == (SHA, 10, "2020-01-01T00:00:00Z", "bad")
    assert file.requires_python == ">=3.9"
    assert file.metadata_sha256 == "b" * 64
    assert (page.status, page.last_serial, page.versions) == ("archived", 5, ["1.0"])


@pytest.mark.parametrize(
    "body", [b"[]", b'{"files": 3}', b'{"meta": {"api-version": "2.0"}, "files": []}', b"{", b'{"files": [{}]}']
)
def test_malformed_json_is_refused(body):
    with pytest.raises((ValueError, TypeError, KeyError, AttributeError)):
        pages.parse_json(body, "https://up.example/simple/demo/")


def test_html_page():
    body = (
        '<html><head><meta name="pypi:project-status" content="deprecated"></head><body>'
        f'<a href="../../f/demo-1.0-py3-none-any.whl#sha256={SHA}" data-requires-python="&gt;=3.8" '
        f'data-yanked="" data-core-metadata="sha256={"c" * 64}">demo-1.0-py3-none-any.whl</a>'
        f'<a href="demo-0.9.tar.gz#sha256={SHA}">demo-0.9.tar.gz</a>'
        '<a href="demo-0.8.tar.gz">demo-0.8.tar.gz</a></body></html>'
    ).encode()
    page = pages.parse_html(body, "https://up.example/simple/demo/")
    assert [file.filename for file in page.files] == ["demo-1.0-py3-none-any.whl", "demo-0.9.tar.gz"]
    wheel = page.files[0]
    assert wheel.url == "https://up.example/f/demo-1.0-py3-none-any.whl"
    assert (wheel.requires_python, wheel.yanked, wheel.metadata_sha256) == (">=3.8", True, "c" * 64)
    assert page.versions == ["0.9", "1.0"]
    assert page.status == "deprecated"


def test_quarantined_page_offers_no_files():
    page = pages.UpstreamPage(name="demo", status="quarantined", versions=["1.0"])
    page.files.append(pages.UpstreamFile("demo-1.0.tar.gz", "https://up.example/x", SHA))
    data = pages.project_page(page, "/packages/")
    assert (data["files"], data["versions"]) == ([], [])


@pytest.mark.django_db(transaction=True)  # the fetch is recorded (upstream.records), from a thread
def test_concurrent_requests_ask_upstream_once(settings, tmp_path):
    with UpstreamIndex(slow_seconds=0.5) as index:
        index.add("demo", build_wheel(tmp_path, "demo", "1.0"), mode="slow")
        settings.UPSTREAM_INDEX_URL = index.url
        settings.UPSTREAM_TIMEOUT_SECONDS = 5.0
        results: list[str] = []

        def read() -> None:
            try:
                page, stale = pages.current("demo")
                results.append(page.files[0].filename)
            finally:
                connection.close()

        threads = [threading.Thread(target=read) for _ in range(6)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        assert results == ["demo-1.0-py3-none-any.whl"] * 6
        assert len(index.hits("/simple/")) == 1


def test_concurrent_requests_share_a_failure(settings, tmp_path):
    with UpstreamIndex(slow_seconds=2.0) as index:
        index.add("demo", build_wheel(tmp_path, "demo", "1.0"), mode="slow")
        settings.UPSTREAM_INDEX_URL = index.url
        settings.UPSTREAM_TIMEOUT_SECONDS = 0.5
        statuses: list[int] = []

        def read() -> None:
            try:
                pages.current("demo")
            except pages.UpstreamError as error:
                statuses.append(error.status)

        threads = [threading.Thread(target=read) for _ in range(4)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        assert statuses == [504] * 4
        assert len(index.hits("/simple/")) == 1


@pytest.mark.django_db
def test_a_warm_read_of_the_head_leaves_the_files_on_disk(settings, tmp_path):
    """A kept page's head (what a warm request reads) carries no files; ``whole`` reads them."""
    with UpstreamIndex() as index:
        index.add("demo", build_wheel(tmp_path, "demo", "1.0"))
        settings.UPSTREAM_INDEX_URL = index.url
        fetched, _ = pages.current("demo")
        head, stale = pages.current("demo", head_only=True)
        assert stale is None
        assert head.head
        assert head.files == []
        assert (head.generation, head.last_serial, head.upload_times) == (
            fetched.generation,
            fetched.last_serial,
            fetched.upload_times,
        )
        assert pages.whole(head).files == fetched.files
        assert len(index.hits("/simple/")) == 1
