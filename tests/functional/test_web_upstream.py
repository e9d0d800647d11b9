"""The web UI's pages of projects served from the upstream index, against a real upstream on 127.0.0.1."""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime, timedelta

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from harness.dists import build_wheel
from tests.factories import ProjectFactory
from tests.functional.web import make_scene

MAX_QUERIES = 10


@pytest.fixture
def tool_kit(upstream, tmp_path):
    """tool-kit 1.0 (yanked, with a reason), 2.0, 3.0b1 upstream."""
    wheels = [
        build_wheel(tmp_path / version, "tool-kit", version, requires_python=">=3.9")
        for version in ("1.0", "2.0", "3.0b1")
    ]
    project = upstream.add("tool-kit", *wheels)
    project.files[0].yanked = "broken build"
    project.files[1].upload_time = "2026-11-02T03:04:05.000000Z"
    return project


def text_of(response) -> str:
    assert response.status_code == 200, (response.status_code, response.content[:500])
    return response.content.decode()


def test_the_project_page_of_an_upstream_project(client, db, tool_kit):
    page = text_of(client.get("/project/tool-kit/"))
    assert "from the upstream index" in page
    assert '<span class="version">2.0</span>' in page  # the newest final release with a file not yanked
    assert "3 releases, 3 files" in page
    assert "pip install --index-url http://testserver/simple/ tool-kit" in page
    assert "broken build" in page  # the yank's reason, in the history
    assert "pre-release" in page
    assert "2026-11-02 03:04 UTC" in page
    assert page.index('href="/project/tool-kit/3.0b1/"') < page.index('href="/project/tool-kit/2.0/"')
    assert page.index('href="/project/tool-kit/2.0/"') < page.index('href="/project/tool-kit/1.0/"')
    assert 'href="/simple/tool-kit/"' in page
    assert "127.0.0.1" not in page  # a reader never sees where upstream is


def test_the_release_page_lists_our_file_urls_and_hashes(client, db, tool_kit):
    page = text_of(client.get("/project/tool-kit/2.0/"))
    file = tool_kit.files[1]
    sha256 = hashlib.sha256(file.data).hexdigest()
    assert f'href="/packages/upstream/tool-kit/{sha256}/{file.filename}"' in page
    assert sha256 in page
    assert f"{len(file.data)} bytes" in page
    assert f'href="/packages/upstream/tool-kit/{sha256}/{file.filename}.metadata"' in page
    assert "&gt;=3.9" in page
    assert "pip install --index-url http://testserver/simple/ tool-kit==2.0" in page
    yanked = text_of(client.get("/project/tool-kit/1.0/"))
    assert "This release is yanked" in yanked
    assert "broken build" in yanked
    # what the page links to is what the simple API serves
    assert client.get(f"/packages/upstream/tool-kit/{sha256}/{file.filename}").status_code == 200


def test_names_and_versions_are_normalised_by_redirect(client, db, tool_kit):
    assert client.get("/project/Tool_Kit/")["Location"] == "/project/tool-kit/"
    assert client.get("/project/tool-kit/2.0.0/")["Location"] == "/project/tool-kit/2.0/"
    assert client.get("/project/tool-kit/9.9/").status_code == 404


def test_upstream_is_asked_once_for_the_page_within_its_ttl(client, db, tool_kit, upstream):
    for _ in range(3):
        text_of(client.get("/project/tool-kit/"))
    text_of(client.get("/project/tool-kit/2.0/"))
    assert len(upstream.hits("/simple/tool-kit/")) == 1


def test_a_hidden_local_project_is_a_404_and_upstream_is_not_asked(db, upstream, tmp_path):
    scene = make_scene()
    upstream.add("secret-pkg", build_wheel(tmp_path / "up", "secret-pkg", "9.0"))
    outsider = Client()
    outsider.force_login(scene.nick)
    for url in ("/project/secret-pkg/", "/project/secret-pkg/9.0/", "/project/Secret_Pkg/"):
        response = outsider.get(url)
        assert response.status_code == 404, url
        assert b"9.0" not in response.content
    assert upstream.hits() == []
    member = Client()
    member.force_login(scene.olivia)
    assert "from the upstream index" not in text_of(member.get("/project/secret-pkg/"))


def test_a_closed_index_signs_visitors_in_before_asking_upstream(client, db, tool_kit, upstream, settings):
    settings.READ_ACCESS = "authenticated"
    for url in ("/project/tool-kit/", "/project/tool-kit/2.0/"):
        response = client.get(url)
        assert response.status_code == 302, url
        assert response["Location"].startswith("/account/login/?next=")
    assert upstream.hits() == []  # an anonymous visitor makes the index fetch nothing
    client.force_login(make_scene().nick)
    assert "from the upstream index" in text_of(client.get("/project/tool-kit/"))
    assert len(upstream.hits("/simple/tool-kit/")) == 1


def test_the_guard_refuses_as_on_the_simple_api(client, db, upstream, settings, tmp_path):
    settings.UPSTREAM_BLOCKED_PREFIXES = ["acme"]
    upstream.add("acme-billing", build_wheel(tmp_path / "up", "acme-billing", "6.6.6"))
    assert client.get("/project/acme-billing/").status_code == 404
    assert client.get("/project/acme-billing/6.6.6/").status_code == 404
    assert upstream.hits() == []


def test_unknown_upstream_and_no_upstream_are_404(client, db, upstream, settings, tool_kit):
    assert client.get("/project/nowhere/").status_code == 404
    settings.UPSTREAM_INDEX_URL = ""
    assert client.get("/project/tool-kit/").status_code == 404
    assert upstream.hits("/simple/tool-kit/") == []


def test_a_failing_upstream_says_so(client, db, upstream, tmp_path):
    upstream.add("tool-kit", build_wheel(tmp_path / "up", "tool-kit", "1.0"), mode="500")
    response = client.get("/project/tool-kit/")
    assert response.status_code == 502
    text = response.content.decode()
    assert "the upstream index does not answer" in text
    assert "try again later" in text


def test_a_cool_down_holds_back_young_files_on_the_page_too(client, db, tool_kit, settings):
    settings.UPSTREAM_COOLDOWN = "3d"
    now = datetime.now(UTC)
    tool_kit.files[1].upload_time = (now - timedelta(hours=1)).strftime("%Y-%m-%dT%H:%M:%S.%fZ")
    page = text_of(client.get("/project/tool-kit/"))
    assert "are held back" in page
    assert 'href="/project/tool-kit/2.0/"' not in page
    assert 'href="/project/tool-kit/1.0/"' in page
    assert client.get("/project/tool-kit/2.0/").status_code == 404


def test_a_quarantined_upstream_project_offers_nothing(client, db, upstream, tmp_path):
    upstream.add(
        "tool-kit",
        build_wheel(tmp_path / "up", "tool-kit", "1.0"),
        status={"status": "quarantined", "reason": "malware"},
    )
    page = text_of(client.get("/project/tool-kit/"))
    assert "This project is quarantined" in page
    assert "malware" in page
    assert "pip install" not in page
    assert client.get("/project/tool-kit/1.0/").status_code == 404


def test_upstream_pages_take_few_queries(client, db, tool_kit):
    text_of(client.get("/project/tool-kit/"))  # the first fetch records the project
    for url in ("/project/tool-kit/", "/project/tool-kit/2.0/"):
        with CaptureQueriesContext(connection) as queries:
            text_of(client.get(url))
        assert len(queries) <= MAX_QUERIES, [query["sql"] for query in queries]


def test_search_points_at_the_upstream_for_a_name_not_held_here(client, db, tool_kit):
    page = text_of(client.get("/search/?q=Tool_Kit"))
    assert "0 projects found" in page
    assert 'href="/project/tool-kit/"' in page
    assert "on the upstream index" in page
    assert "on the upstream index" not in text_of(client.get("/search/?q=two words"))
    ProjectFactory(name="Tool-Kit")  # held here: the search finds it, and points nowhere else
    held = text_of(client.get("/search/?q=tool_kit"))
    assert "1 project found" in held
    assert "on the upstream index" not in held


def test_search_does_not_point_upstream_when_upstream_is_off(client, db, settings):
    settings.UPSTREAM_INDEX_URL = ""
    assert "upstream" not in text_of(client.get("/search/?q=tool-kit"))
