"""The web UI's pages over HTTP: landing, search, project and release pages, and who sees what."""

from __future__ import annotations

from html.parser import HTMLParser

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from packages_app.models import ProjectStatus
from packages_app.services import projects
from tests.factories import FileFactory, ProjectFactory, ReleaseFactory, project_with_releases
from tests.functional.web import make_scene

MAX_QUERIES = 10


@pytest.fixture
def scene(db):
    return make_scene()


def signed_in(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def text_of(response) -> str:
    assert response.status_code == 200, response.status_code
    return response.content.decode()


def test_the_landing_page_has_search_recent_projects_and_setup(client, scene):
    page = text_of(client.get("/"))
    assert 'action="/search/"' in page
    assert "Recently updated" in page
    assert 'href="/project/demo/"' in page
    assert "Reads barometers well" in page  # the latest release's summary
    assert "http://testserver/simple/" in page  # the index URL to configure
    for tool in ("pip.conf", "[[tool.uv.index]]", "poetry source add --priority=primary company"):
        assert tool in page
    assert "secret-pkg" not in page


def test_the_landing_page_uses_the_public_base_url(client, scene, settings):
    settings.PUBLIC_BASE_URL = "https://pypi.example.com"
    assert "https://pypi.example.com/simple/" in text_of(client.get("/"))


@pytest.mark.parametrize(("who", "sees_secret"), [("olivia", True), ("tess", True), ("nick", False)])
def test_restricted_projects_show_to_their_members_only(scene, who, sees_secret):
    client = signed_in(getattr(scene, who))
    assert ("secret-pkg" in text_of(client.get("/"))) is sees_secret
    assert ("secret-pkg" in text_of(client.get("/search/?q=barometers"))) is sees_secret
    for url in ("/project/secret-pkg/", "/project/secret-pkg/0.1/", "/project/Secret_Pkg/"):
        assert client.get(url).status_code == (
            301 if url.endswith("Secret_Pkg/") and sees_secret else 200 if sees_secret else 404
        ), url


def test_anonymous_visitors_never_see_a_restricted_project(client, scene):
    for url in ("/project/secret-pkg/", "/project/secret-pkg/0.1/", "/project/Secret_Pkg/", "/project/nope/"):
        assert client.get(url).status_code == 404, url
    found = text_of(client.get("/search/?q=secret"))
    assert "0 projects found" in found
    assert "/project/secret-pkg/" not in found


def test_search_matches_names_and_summaries(client, scene):
    ProjectFactory(name="demo-extras")
    page = text_of(client.get("/search/?q=demo"))
    assert "2 projects found" in page
    assert page.index('href="/project/demo/"') < page.index('href="/project/demo-extras/"')  # exact name first
    assert "1 project found" in text_of(client.get("/search/?q=barometers"))
    assert "0 projects found" in text_of(client.get("/search/?q=zeppelin"))
    assert "found" not in text_of(client.get("/search/"))  # no text: the form only


def test_search_is_paginated(client, db):
    for number in range(45):
        ProjectFactory(name=f"tool-{number:02}")
    first = text_of(client.get("/search/?q=tool"))
    assert "45 projects found" in first
    assert "Page 1 of 3" in first
    assert 'href="?q=tool&amp;page=2"' in first
    third = text_of(client.get("/search/?q=tool&page=3"))
    assert "tool-44" in third
    assert "tool-00" not in third


def test_search_stops_counting_at_its_cap(client, db, monkeypatch):
    from packages_app.web import search

    monkeypatch.setattr(search, "MAX_COUNTED", 25)
    for number in range(30):
        ReleaseFactory(project=ProjectFactory(name=f"tool-{number:02}"), summary=f"Tool number {number}")
    first = text_of(client.get("/search/?q=tool"))
    assert "More than 25 projects found" in first
    assert "the first 25 are shown" in first
    assert "Page 1 of 2" in first
    assert "Tool number 0" in first  # the page's own summaries are read
    last = text_of(client.get("/search/?q=tool&page=9"))  # past the cap: the last page
    assert "Page 2 of 2" in last
    assert "tool-24" in last
    assert "tool-25" not in last
    exact = text_of(client.get("/search/?q=tool-07"))
    assert "1 project found" in exact


def test_the_project_page(client, scene):
    projects.set_status(scene.demo, ProjectStatus.DEPRECATED, "use demo2")
    page = text_of(client.get("/project/demo/"))
    assert "<h1>Demo" in page
    assert '<span class="version">2.0</span>' in page
    assert "Reads barometers well" in page
    assert "<strong>bold</strong>" in page
    assert "<table>" in page
    assert "pip install --index-url http://testserver/simple/ Demo" in page
    assert "uv pip install --index-url http://testserver/simple/ Demo" in page
    assert "poetry add --source company Demo" in page
    assert 'data-copy="cmd-pip"' in page
    # History: every release, the yanked one with its reason, the file-less one marked.
    for version in ("1.0", "1.1", "2.0"):
        assert f'href="/project/demo/{version}/"' in page
    assert "broke the build" in page
    assert "no files" in page
    assert "This project is deprecated" in page
    assert "use demo2" in page
    assert "olivia" in page
    assert "Owner" in page
    assert "3 releases, 3 files" in page


def test_non_canonical_names_and_versions_redirect(client, scene):
    assert client.get("/project/DEMO/")["Location"] == "/project/demo/"
    assert client.get("/project/demo/1.0.0/")["Location"] == "/project/demo/1.0/"


def test_the_release_page(client, scene):
    page = text_of(client.get("/project/demo/1.0/"))
    assert "demo-1.0-py3-none-any.whl" in page
    assert "demo-1.0.tar.gz" in page
    assert "1.2\xa0KB (1234 bytes)" in page
    assert "olivia" in page  # the uploader
    assert "trusted publisher: GitHub Actions acme/demo, workflow release.yml" in page
    wheel = scene.demo.releases.get(version="1.0").files.get(packagetype="bdist_wheel")
    assert f'href="/packages/{wheel.path}.metadata"' in page
    for digest in (wheel.sha256_digest, wheel.blake2_256_digest, wheel.md5_digest):
        assert digest in page
    assert "<h3>Programming Language</h3>" in page
    assert "<li>Python :: 3</li>" in page
    assert "<code>requests&gt;=2</code>" in page
    assert "Extra <code>test</code>" in page
    assert "<code>pytest</code>" in page
    assert "<code>&gt;=3.11</code>" in page
    assert 'href="https://example.invalid/src"' in page
    assert 'href="javascript:' not in page  # shown as text only
    assert "pip install --index-url http://testserver/simple/ Demo==1.0" in page


def test_a_yanked_release_says_so_with_its_reason(client, scene):
    page = text_of(client.get("/project/demo/1.1/"))
    assert "This release is yanked" in page
    assert "broke the build" in page


def test_a_quarantined_project_offers_no_files(client, scene):
    projects.set_status(scene.demo, ProjectStatus.QUARANTINED, "reported as malware")
    page = text_of(client.get("/project/demo/1.0/"))
    assert "reported as malware" in page
    assert "demo-1.0-py3-none-any.whl" not in page
    assert "pip install" not in text_of(client.get("/project/demo/"))


def test_an_unknown_release_is_a_404(client, scene):
    assert client.get("/project/demo/9.9/").status_code == 404


@pytest.mark.parametrize(
    ("content_type", "description", "expected"),
    [
        ("text/x-rst", "Title\n=====\n\nSome *emphasis*.\n", "<em>emphasis</em>"),
        ("", "Title\n=====\n\nrST when nothing is said.\n", "<h1>Title"),
        ("text/plain", "plain <b>text</b>", "plain &lt;b&gt;text&lt;/b&gt;"),
        ("text/markdown; variant=CommonMark", "*common*", "<em>common</em>"),
    ],
)
def test_readmes_in_each_markup(client, db, content_type, description, expected):
    ReleaseFactory(project=ProjectFactory(name="doc"), description=description, description_content_type=content_type)
    assert expected in text_of(client.get("/project/doc/"))


HOSTILE_MARKDOWN = """
<script>window.owned = 1</script>
[click](javascript:alert(1))
<img src="x" onerror="alert(1)">
<iframe src="https://example.invalid"></iframe>
<a href="https://example.invalid" onclick="alert(1)">x</a>
<style>body { display: none }</style>
""" + "\n".join(
    ["| " + " | ".join(["cell"] * 50) + " |", "|" + "---|" * 50] + ["| " + " | ".join(["x"] * 50) + " |"] * 200
)

HOSTILE_RST = """
Title
=====

.. raw:: html

   <script>window.owned = 1</script>

`click <javascript:alert(1)>`_
"""


@pytest.mark.parametrize(
    ("content_type", "description"), [("text/markdown", HOSTILE_MARKDOWN), ("text/x-rst", HOSTILE_RST)]
)
def test_a_hostile_readme_renders_inert(client, db, content_type, description):
    ReleaseFactory(project=ProjectFactory(name="evil"), description=description, description_content_type=content_type)
    page = text_of(client.get("/project/evil/"))
    readme = page.split('<div class="readme">', 1)[1].split("</section>", 1)[0]
    live = LiveParts()
    live.feed(readme)
    assert live.found == [], live.found


class LiveParts(HTMLParser):
    """What in a piece of HTML could run or load something: scripting tags, handlers, script URLs."""

    def __init__(self) -> None:
        super().__init__()
        self.found: list[str] = []

    def handle_starttag(self, tag, attrs) -> None:
        if tag in ("script", "style", "iframe", "object", "embed", "form", "input", "base", "meta", "link"):
            self.found.append(tag)
        for name, value in attrs:
            if name.startswith("on") or name == "style":
                self.found.append(f"{tag} {name}")
            if name in ("href", "src", "action") and (value or "").strip().lower().startswith(("javascript:", "data:")):
                self.found.append(f"{tag} {name}={value}")


def test_the_pages_carry_the_content_security_policy(client, scene):
    for url in ("/", "/search/?q=demo", "/project/demo/", "/project/demo/1.0/", "/account/login/"):
        policy = client.get(url)["Content-Security-Policy"]
        assert "script-src 'self'" in policy, url
        assert "'unsafe-inline'" not in policy, url


@pytest.fixture
def big(db):
    """A project with many releases (each with a wheel and an sdist) and several roles."""
    project = project_with_releases("big", 120)
    FileFactory(release=ReleaseFactory(project=ProjectFactory(name="other")))
    return project


BIG_PAGES = ["/", "/search/?q=big", "/project/big/", "/project/big/?page=2", "/project/big/{version}/"]


@pytest.mark.parametrize("url", [*BIG_PAGES, "/account/projects/", "/account/tokens/"])
def test_pages_take_few_queries_on_a_big_project(big, url):
    url = url.format(version=big.releases.newest_first()[60].version)
    owner = big.roles.first().user
    client = signed_in(owner)
    client.get(url)  # warm (sessions, the README cache)
    with CaptureQueriesContext(connection) as queries:
        response = client.get(url)
    count = len(queries)
    assert response.status_code == 200, url
    assert count <= MAX_QUERIES, (url, count, [query["sql"] for query in queries.captured_queries])


def test_the_release_history_is_paginated(client, big):
    first = text_of(client.get("/project/big/"))
    assert "Page 1 of 3" in first
    assert first.count("<tr") == 51  # the header and 50 releases


def test_a_missing_or_hidden_project_is_the_same_404_page(client, scene):
    hidden, missing = client.get("/project/secret-pkg/"), client.get("/project/no-such-thing/")
    assert hidden.status_code == missing.status_code == 404
    # Alike but for the path (the sign-in link comes back to it).
    assert hidden.content.replace(b"secret-pkg", b"X") == missing.content.replace(b"no-such-thing", b"X")
    assert b"<h1>Not found</h1>" in hidden.content
