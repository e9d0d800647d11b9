"""The metadata API's stored pages: a project's release list, its releases and the project itself
kept by the project's serial, as the simple pages are.

A repeat or a revalidation is answered from the serial (one query: the project's row), the
ETag names the serial so a change gives a new one, a client that takes gzip gets the stored
gzip form, and a page is only ever served after the caller was shown to read the project.
"""

from __future__ import annotations

import gzip
import json

import pytest
from django.test import Client

from packages_app.models import Project, Release, Visibility
from packages_app.pages import store
from packages_app.services import projects, releases, roles, tokens
from tests.factories import UserFactory, project_with_releases
from tests.functional.links import link_header
from tests.functional.problems import assert_problem
from tests.functional.upload_client import basic_auth

API = "/api/v1"
RELEASES = f"{API}/projects/counted/releases/"
PAGED = f"{RELEASES}?page_size=10"


@pytest.fixture
def counted(db) -> Project:
    """``counted``: 30 releases with a wheel and an sdist each."""
    return project_with_releases("counted", 30)


def newest_version(project: Project) -> str:
    return project.releases.order_by("-sort_key").first().version


def stored_urls(project: Project) -> list[str]:
    """A list page, a cursor page, the release resource and the project resource."""
    return [RELEASES, PAGED, f"{RELEASES}{newest_version(project)}/", f"{API}/projects/counted/"]


def decoded(response) -> dict:
    raw = response.content
    return json.loads(gzip.decompress(raw) if response.get("Content-Encoding") == "gzip" else raw)


# ---------------------------------------------------------------- repeats and revalidations


@pytest.mark.parametrize("url", [RELEASES, PAGED])
def test_release_list_repeat_costs_one_query(client, counted, url, django_assert_num_queries):
    """The release list is kept by the project's serial: again, it is the project's row only."""
    first = client.get(url)
    assert first.status_code == 200
    with django_assert_num_queries(1):
        again = client.get(url)
    assert again.json() == first.json()
    assert again["ETag"] == first["ETag"]


@pytest.mark.parametrize("index", range(4))
def test_revalidation_builds_nothing(client, counted, index, django_assert_num_queries):
    """If-None-Match with the current ETag is a 304 from the serial alone: one query, even when
    the stored page is gone (another node, a cleared store), so nothing is built to answer it."""
    url = stored_urls(counted)[index]
    etag = client.get(url)["ETag"]
    store.forget_everything()
    with django_assert_num_queries(1):
        cached = client.get(url, HTTP_IF_NONE_MATCH=etag)
    assert cached.status_code == 304
    assert cached["ETag"] == etag
    assert cached.content == b""
    assert cached["Cache-Control"] == "max-age=0, public"
    assert store.usage().files == 0  # nothing was built or stored to answer it


@pytest.mark.parametrize("index", range(4))
def test_a_change_gives_a_new_etag_and_body(client, counted, index):
    """A yank and a new release each move the serial: the old ETag gets the new page, not a 304."""
    url = stored_urls(counted)[index]
    first = client.get(url)
    releases.yank_release(Release.objects.get(project=counted, version=newest_version(counted)), "broken")
    yanked = client.get(url, HTTP_IF_NONE_MATCH=first["ETag"])
    assert yanked.status_code == 200
    assert yanked["ETag"] != first["ETag"]
    assert yanked.content != first.content
    releases.create_release(Project.objects.get(pk=counted.pk), "99.0", {"summary": "Newest"})
    added = client.get(url, HTTP_IF_NONE_MATCH=yanked["ETag"])
    assert added.status_code == 200
    assert added["ETag"] not in (first["ETag"], yanked["ETag"])


def test_new_release_shows_on_the_first_page(client, counted):
    first = client.get(RELEASES).json()
    releases.create_release(Project.objects.get(pk=counted.pk), "99.0", {"summary": "Newest"})
    assert client.get(RELEASES).json()["results"][0]["version"] == "99.0"
    assert first["results"][0]["version"] != "99.0"


def test_yank_shows_on_the_release_list(client, counted):
    version = newest_version(counted)
    assert client.get(RELEASES).json()["results"][0]["yanked"] is False
    releases.yank_release(Release.objects.get(project=counted, version=version), "broken")
    top = client.get(RELEASES).json()["results"][0]
    assert (top["version"], top["yanked"], top["yanked_reason"]) == (version, True, "broken")


# ---------------------------------------------------------------- gzip


@pytest.mark.parametrize("url", [RELEASES, PAGED])
def test_release_list_is_gzipped_for_a_client_that_takes_it(client, counted, url, django_assert_num_queries):
    """The gzip form is stored once with the page: the same JSON, its own ETag, and either revalidates."""
    plain = client.get(url)
    zipped = client.get(url, HTTP_ACCEPT_ENCODING="gzip")
    assert "Content-Encoding" not in plain
    assert zipped["Content-Encoding"] == "gzip"
    assert "Accept-Encoding" in zipped["Vary"]
    assert int(zipped["Content-Length"]) == len(zipped.content) < len(plain.content)
    assert decoded(zipped) == plain.json()
    assert zipped["ETag"] != plain["ETag"]
    with django_assert_num_queries(1):
        again = client.get(url, HTTP_ACCEPT_ENCODING="gzip")
    assert again.content == zipped.content
    for etag in (plain["ETag"], zipped["ETag"]):
        assert client.get(url, HTTP_ACCEPT_ENCODING="gzip", HTTP_IF_NONE_MATCH=etag).status_code == 304


@pytest.mark.parametrize("encoding", ["", "gzip"])
def test_stored_list_keeps_its_link_header(client, counted, encoding):
    """The Link header of a stored page (plain or gzip, built or kept) names the body's neighbours."""
    headers = {"HTTP_ACCEPT_ENCODING": encoding} if encoding else {}
    first = client.get(PAGED, **headers)
    second = client.get(PAGED, **headers)
    page = decoded(second)
    assert link_header(first) == link_header(second) == {"next": page["next"]}
    middle = client.get(page["next"], **headers)
    middle = client.get(page["next"], **headers)
    body = decoded(middle)
    assert link_header(middle) == {"next": body["next"], "prev": body["previous"]}


# ---------------------------------------------------------------- what a page is keyed by


def test_pages_follow_host_order_filter_and_cursor(client, counted):
    """A stored page is one URL's: its links name the host asked, and other parameters are other pages."""
    here = client.get(PAGED).json()
    there = client.get(PAGED, HTTP_HOST="localhost").json()
    assert here["next"].startswith("http://testserver/")
    assert there["next"].startswith("http://localhost/")
    by_date = client.get(f"{PAGED}&order=created").json()
    assert "order=created" in by_date["next"]
    listed = []
    url = PAGED
    while url:
        page = client.get(url).json()
        listed += [release["version"] for release in page["results"]]
        url = page["next"]
    assert len(listed) == len(set(listed)) == 30
    assert client.get(f"{RELEASES}?files=without").json()["results"] == []


def test_cursor_pages_never_fill_the_disk(client, counted):
    """Cursor pages (countless: any position is one) are kept in the process's bounded memory;
    the shared store on disk holds the first page only."""
    url = PAGED
    while url:
        url = client.get(url).json()["next"]
    client.get(f"{RELEASES}?nonsense=1")
    client.get(RELEASES)
    assert store.usage().files == 2  # the first page and its gzip form


# ---------------------------------------------------------------- private reads


@pytest.fixture
def secret(counted, settings) -> dict[str, Client]:
    """``counted`` restricted: its Maintainers read it, a user without a role does not."""
    settings.READ_ACCESS = "authenticated"
    projects.set_visibility(counted, Visibility.RESTRICTED)
    insider = counted.roles.select_related("user").first().user
    outsider = UserFactory(username="outsider")
    return {
        "insider": Client(HTTP_AUTHORIZATION=basic_auth("__token__", tokens.create_token(insider, read_only=True)[1])),
        "outsider": Client(
            HTTP_AUTHORIZATION=basic_auth("__token__", tokens.create_token(outsider, read_only=True)[1])
        ),
    }


@pytest.mark.parametrize("index", range(4))
@pytest.mark.parametrize("encoding", ["", "gzip"])
def test_a_stored_page_is_never_served_to_who_may_not_read(secret, counted, index, encoding):
    """A page a reader had stored is a 404 (not a 403, not a 304) to anyone else, even with its ETag."""
    url = stored_urls(counted)[index]
    headers = {"HTTP_ACCEPT_ENCODING": encoding} if encoding else {}
    stored = secret["insider"].get(url, **headers)
    assert stored.status_code == 200
    assert stored["Cache-Control"] == "max-age=0, private"  # no shared cache keeps a restricted project
    again = secret["insider"].get(url, **headers)
    assert again.content == stored.content
    for client in (secret["outsider"], Client()):
        answer = client.get(url, HTTP_IF_NONE_MATCH=stored["ETag"], **headers)
        assert answer.status_code in (401, 404)
        assert stored.content not in (answer.content, b"")
    problem = assert_problem(secret["outsider"].get(url, HTTP_IF_NONE_MATCH=stored["ETag"], **headers), 404)
    assert "counted" in problem["detail"]


def test_a_page_stored_while_open_is_not_served_once_restricted(client, counted, settings):
    """Restricting a project moves its serial: the open-time page and its ETag are gone for outsiders."""
    open_page = client.get(RELEASES)
    projects.set_visibility(Project.objects.get(pk=counted.pk), Visibility.RESTRICTED)
    assert_problem(client.get(RELEASES, HTTP_IF_NONE_MATCH=open_page["ETag"]), 404)
    assert_problem(client.get(RELEASES), 404)
    roles.grant_role(Project.objects.get(pk=counted.pk), UserFactory(username="late"), "Owner")
    assert_problem(client.get(PAGED), 404)
