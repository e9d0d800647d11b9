"""Snapshots and cool-downs of the simple API over HTTP: both forms, yanks then and now, headers, query counts."""

from __future__ import annotations

import hashlib
import json
import os
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from io import StringIO

import pytest
from django.core.exceptions import ImproperlyConfigured
from django.core.management import call_command
from django.test import override_settings
from django.utils import timezone

from harness.dists import build_wheel
from packages_app.models import File, Project, Release
from packages_app.pages import store
from packages_app.services import projects, releases
from packages_app.simple import timetravel
from packages_app.simple.timetravel import moment_text
from tests.factories import FileFactory, ProjectFactory, ReleaseFactory
from tests.functional.simple_pages import (
    HTML_V1,
    JSON_V1,
    PIP_ACCEPT,
    assert_moved_permanently,
    assert_not_found,
    get_json,
)
from tests.functional.upload_client import publish

EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


@pytest.fixture
def between(time_machine):
    """Gives a whole second (snapshots are read to the second) strictly after everything written so far
    and before anything written next. The clock is moved past that second, not waited for; it goes on
    ticking from there, so writes still get times of their own."""

    def move() -> datetime:
        moment = timezone.now().replace(microsecond=0) + timedelta(seconds=1)
        time_machine.move_to(moment + timedelta(milliseconds=2), tick=True)
        return moment

    return move


def unix_text(moment: datetime) -> str:
    micros = (moment - EPOCH) // timedelta(microseconds=1)
    return f"{micros // 1_000_000}.{micros % 1_000_000:06d}"


def snapshot(moment: datetime, page: str = "") -> str:
    return f"/snapshot/{moment_text(moment)}/simple/{page}"


def yanked_by_file(page: dict) -> dict[str, bool | str]:
    return {file["filename"]: file["yanked"] for file in page["files"]}


@dataclass
class History:
    project: Project
    before: datetime  # nothing existed yet
    then: datetime  # 1.0 and 2.0 uploaded, 2.0 yanked, 3.0rc1 registered without files
    # after "then": 3.0 uploaded, 1.0 yanked, 4.0.dev1 registered, project "later" created


@pytest.fixture
def history(client, tmp_path, auth, between) -> History:
    before = between()
    publish(client, tmp_path, "Demo_Pkg", "1.0", auth=auth, requires_python=">=3.9")
    publish(client, tmp_path, "Demo_Pkg", "1.0", auth=auth, sdist=True)
    publish(client, tmp_path, "Demo_Pkg", "2.0", auth=auth)
    project = Project.objects.get(normalized_name="demo-pkg")
    releases.yank_release(Release.objects.get(project=project, version="2.0"), "broken <build>")
    releases.create_release(project, "3.0rc1")
    then = between()
    publish(client, tmp_path, "Demo_Pkg", "3.0", auth=auth)
    releases.yank_release(Release.objects.get(project=project, version="1.0"), "too old")
    releases.create_release(project, "4.0.dev1")
    publish(client, tmp_path, "later", "1.0", auth=auth)
    return History(Project.objects.get(pk=project.pk), before, then)


WHEEL_1, SDIST_1, WHEEL_2, WHEEL_3 = (
    "demo_pkg-1.0-py3-none-any.whl",
    "demo_pkg-1.0.tar.gz",
    "demo_pkg-2.0-py3-none-any.whl",
    "demo_pkg-3.0-py3-none-any.whl",
)


# ---------------------------------------------------------------- snapshots


def test_the_live_page_has_everything(client, history):
    page = get_json(client, "/simple/demo-pkg/")
    assert page["versions"] == ["1.0", "2.0", "3.0rc1", "3.0", "4.0.dev1"]
    assert yanked_by_file(page) == {WHEEL_1: "too old", SDIST_1: "too old", WHEEL_2: "broken <build>", WHEEL_3: False}


def test_a_snapshot_shows_the_project_as_it_was(client, history):
    live = {file["filename"]: file for file in get_json(client, "/simple/demo-pkg/")["files"]}
    page = get_json(client, snapshot(history.then, "demo-pkg/"))
    assert page["meta"] == {"api-version": "1.5", "_last-serial": history.project.last_serial}
    assert (page["name"], page["project-status"]) == ("demo-pkg", {"status": "active"})
    assert page["versions"] == ["1.0", "2.0", "3.0rc1"]  # 3.0rc1 has no files and counts; 4.0.dev1 came later
    # The same entries as the live page, yanked as they were: 1.0's yank came later, 2.0's before.
    assert page["files"] == [
        {**live[WHEEL_1], "yanked": False},
        {**live[SDIST_1], "yanked": False},
        live[WHEEL_2],
    ]
    assert page["files"][2]["yanked"] == "broken <build>"


def test_a_snapshot_in_html_has_the_same_files(client, history):
    response = client.get(snapshot(history.then, "demo-pkg/"), HTTP_ACCEPT="text/html")
    assert response["Content-Type"] == "text/html; charset=utf-8"
    text = response.content.decode()
    assert text.count("<a ") == 3
    assert [name for name in (WHEEL_1, SDIST_1, WHEEL_2, WHEEL_3) if f">{name}</a>" in text] == [
        WHEEL_1,
        SDIST_1,
        WHEEL_2,
    ]
    assert text.count("data-yanked=") == 1
    assert 'data-yanked="broken &lt;build&gt;"' in text
    assert "too old" not in text
    assert text.endswith(f"<!--SERIAL {history.project.last_serial}-->")


def test_an_unyank_after_the_moment_leaves_the_yank_in_the_snapshot(client, history, between):
    releases.unyank_release(Release.objects.get(version="2.0"))
    after = between()
    # The journal records yanks but not their reasons, and the row's reason is gone: a plain true.
    assert yanked_by_file(get_json(client, snapshot(history.then, "demo-pkg/")))[WHEEL_2] is True
    assert 'data-yanked=""' in client.get(snapshot(history.then, "demo-pkg/")).content.decode()
    assert yanked_by_file(get_json(client, snapshot(after, "demo-pkg/")))[WHEEL_2] is False


def test_a_snapshot_before_anything_is_empty(client, history):
    assert get_json(client, snapshot(history.before))["projects"] == []
    page = get_json(client, snapshot(history.before, "demo-pkg/"))
    assert (page["versions"], page["files"]) == ([], [])


def test_the_snapshot_root_lists_what_existed_then(client, history):
    later = Project.objects.get(normalized_name="later")
    page = get_json(client, snapshot(history.then))
    assert page["meta"] == {"api-version": "1.5", "_last-serial": later.last_serial}  # the index's newest
    assert page["projects"] == [{"name": "Demo_Pkg", "_last-serial": history.project.last_serial}]
    assert [project["name"] for project in get_json(client, "/simple/")["projects"]] == ["Demo_Pkg", "later"]
    text = client.get(snapshot(history.then)).content.decode()
    # Relative links keep a client that follows them inside the snapshot.
    assert '<a href="demo-pkg/">Demo_Pkg</a>' in text
    assert "later" not in text


def test_a_quarantined_project_stays_hidden_in_snapshots(client, history):
    projects.set_status(history.project, "quarantined", "malware")
    assert get_json(client, snapshot(history.then))["projects"] == []
    page = get_json(client, snapshot(history.then, "demo-pkg/"))
    assert page["project-status"] == {"status": "quarantined", "reason": "malware"}
    assert (page["versions"], page["files"]) == ([], [])


def test_one_moment_in_any_spelling_is_one_page(client, history):
    iso = client.get(snapshot(history.then, "demo-pkg/"), HTTP_ACCEPT=JSON_V1)
    unix = client.get(f"/snapshot/{unix_text(history.then)}/simple/demo-pkg/", HTTP_ACCEPT=JSON_V1)
    assert (unix.content, unix["ETag"]) == (iso.content, iso["ETag"])


def test_times_within_one_second_share_one_stored_page(client, history, django_assert_num_queries):
    """Snapshots are read to the second: a million spellings of one second are one page, built once."""
    early, late = history.then + timedelta(microseconds=250_000), history.then + timedelta(microseconds=999_999)
    first = client.get(f"/snapshot/{unix_text(early)}/simple/demo-pkg/", HTTP_ACCEPT=JSON_V1)
    with django_assert_num_queries(1):  # the project; the page is the one stored for the first
        second = client.get(f"/snapshot/{moment_text(late)}/simple/demo-pkg/", HTTP_ACCEPT=JSON_V1)
    whole = client.get(snapshot(history.then, "demo-pkg/"), HTTP_ACCEPT=JSON_V1)
    assert (first.status_code, second.status_code) == (200, 200)
    assert first.content == second.content == whole.content
    assert first["ETag"] == second["ETag"] == whole["ETag"]


def _stored_key(response) -> str:
    """The page store's key of a simple page, as its ETag holds it (``key.text``)."""
    assert response.status_code == 200, response.content
    return response["ETag"].strip('"').removesuffix("+gzip")


def test_time_travel_pages_stay_out_of_the_shared_cache(client, history, settings, monkeypatch):
    """Each moment a URL names would be a page kept for a day in Redis: megabytes for a big project.

    They are kept in a small store of each process's own, bounded in count and bytes, instead.
    """
    settings.SIMPLE_SHARED_CACHE = "default"  # Redis on a run with Redis, else a memory cache standing in
    redis_keys = _redis_key_count()
    monkeypatch.setattr(store, "time_travel_pages", store.LocalPages(64 * 1024**2, max_pages=5))
    live = _stored_key(client.get("/simple/demo-pkg/"))
    assert store.shared_page(store.parse_key(live)) is not None  # the live page is shared, as before
    urls = [f"/snapshot/{unix_text(history.then - timedelta(seconds=n))}/simple/demo-pkg/" for n in range(12)]
    # Minutes apart: the cut-offs stay distinct however slowly a loaded machine runs the loop.
    urls += [f"/cooldown/{n}m/simple/demo-pkg/" for n in range(1, 9)]
    urls += [f"/snapshot/{unix_text(history.then - timedelta(seconds=n))}/simple/" for n in range(4)]
    stored = [_stored_key(client.get(url)) for url in urls]
    assert len(set(stored)) == len(urls)  # each its own page
    assert [key for key in stored if store.shared_page(store.parse_key(key)) is not None] == []
    # the live page, its gzip form and its pieces (simple.pieces: an index and one segment, store.Group):
    # none of the moments on disk
    assert store.usage().files == 4
    assert len(store.time_travel_pages) == 5  # the bound, not 24
    assert all(store.time_travel_pages.get(key) is not None for key in stored[-5:])
    if redis_keys is not None:
        assert _redis_key_count() == redis_keys + 1  # the live page alone


def _redis_key_count() -> int | None:
    from django.conf import settings

    if not settings.REDIS_URL:
        return None
    import redis

    return len(redis.Redis.from_url(settings.REDIS_URL).keys(f"{settings.CACHE_KEY_PREFIX}:*"))


@pytest.mark.parametrize(
    ("accept", "content_type"),
    [
        (PIP_ACCEPT, JSON_V1),
        (None, "text/html; charset=utf-8"),
        ("*/*", "text/html; charset=utf-8"),
        (HTML_V1, f"{HTML_V1}; charset=utf-8"),
        ("application/vnd.pypi.simple.latest+json", JSON_V1),
    ],
)
@pytest.mark.parametrize("prefix", ["/snapshot/2030-01-01/simple/", "/cooldown/1h/simple/"])
@pytest.mark.parametrize("page", ["", "demo-pkg/"])
def test_negotiation_as_on_simple(client, history, prefix, page, accept, content_type):
    response = client.get(prefix + page, **({"HTTP_ACCEPT": accept} if accept else {}))
    assert response.status_code == 200
    assert response["Content-Type"] == content_type
    assert response["Vary"] == "Accept, Accept-Encoding"


def test_format_parameter(client, history):
    url = snapshot(history.then, "demo-pkg/")
    assert client.get(url + "?format=json", HTTP_ACCEPT="text/html")["Content-Type"] == JSON_V1
    assert client.get(url + "?format=xml").status_code == 406


def test_snapshot_headers(client, history):
    url = snapshot(history.then, "demo-pkg/")
    response = client.get(url, HTTP_ACCEPT=JSON_V1)
    assert response["X-PyPI-Last-Serial"] == str(history.project.last_serial)
    assert response["Cache-Control"] == "max-age=0, public"
    assert response["Last-Modified"].endswith("GMT")
    assert response["Access-Control-Allow-Origin"] == "*"
    assert response["Access-Control-Expose-Headers"] == "X-PyPI-Last-Serial"
    assert response["ETag"] not in {
        client.get("/simple/demo-pkg/", HTTP_ACCEPT=JSON_V1)["ETag"],
        client.get(snapshot(history.before, "demo-pkg/"), HTTP_ACCEPT=JSON_V1)["ETag"],
    }
    assert client.get(url, HTTP_ACCEPT=JSON_V1, HTTP_IF_NONE_MATCH=response["ETag"]).status_code == 304
    assert client.get(url, HTTP_ACCEPT=JSON_V1, HTTP_IF_MODIFIED_SINCE=response["Last-Modified"]).status_code == 304
    with override_settings(SIMPLE_MAX_AGE=600):
        assert client.get(url, HTTP_ACCEPT=JSON_V1)["Cache-Control"] == "max-age=600, public"


def test_a_change_after_the_moment_moves_the_etag_not_the_files(client, history, auth, tmp_path):
    url = snapshot(history.then, "demo-pkg/")
    first = client.get(url, HTTP_ACCEPT=JSON_V1)
    publish(client, tmp_path, "Demo_Pkg", "5.0", auth=auth)
    again = client.get(url, HTTP_ACCEPT=JSON_V1, HTTP_IF_NONE_MATCH=first["ETag"])
    assert again.status_code == 200
    assert int(again["X-PyPI-Last-Serial"]) > int(first["X-PyPI-Last-Serial"])
    assert json.loads(again.content)["files"] == json.loads(first.content)["files"]


def test_a_time_to_come_is_now(client, history, clock):
    clock.moment = timezone.now() + timedelta(seconds=2)  # past the second of the last upload
    live = get_json(client, "/simple/demo-pkg/")
    response = client.get("/snapshot/2999-01-01T00:00:00Z/simple/demo-pkg/", HTTP_ACCEPT=JSON_V1)
    assert json.loads(response.content) == live
    # A page for a moment to come is not a snapshot yet: short-lived, not dated, keyed by the minute.
    assert "Last-Modified" not in response
    assert response["Cache-Control"] == "max-age=0, public"
    with override_settings(SIMPLE_MAX_AGE=600):
        assert client.get("/snapshot/2999-01-01/simple/demo-pkg/")["Cache-Control"] == "max-age=1, public"


def test_listed_file_urls_download_unchanged(client, history):
    for file in get_json(client, snapshot(history.then, "demo-pkg/"))["files"]:
        body = b"".join(client.get(file["url"]).streaming_content)
        assert hashlib.sha256(body).hexdigest() == file["hashes"]["sha256"]
        if file["core-metadata"]:
            metadata = b"".join(client.get(file["url"] + ".metadata").streaming_content)
            assert hashlib.sha256(metadata).hexdigest() == file["core-metadata"]["sha256"]


# ---------------------------------------------------------------- errors and redirects


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("/snapshot/yesterday/simple/", "ISO 8601"),
        ("/snapshot/2024-13-01/simple/demo-pkg/", "ISO 8601"),
        ("/snapshot/3d/simple/no-such-project/", "Unix timestamp"),  # the time is read first
        ("/cooldown/3days/simple/", "d (days)"),
        ("/cooldown/2024-05-01/simple/demo-pkg/", "3d, 12h"),
    ],
)
def test_a_malformed_time_is_a_400_that_says_what_to_write(client, db, url, expected, django_assert_num_queries):
    with django_assert_num_queries(0):
        response = client.get(url, HTTP_ACCEPT=PIP_ACCEPT)
    assert response.status_code == 400
    assert response["Content-Type"] == "text/plain; charset=utf-8"
    assert expected in response.content.decode()


@pytest.mark.parametrize(
    ("url", "location"),
    [
        ("/snapshot/2024-05-01T12:00:00Z/simple/Demo_Pkg/", "/snapshot/2024-05-01T12:00:00Z/simple/demo-pkg/"),
        ("/snapshot/1714564800/simple/Demo_Pkg", "/snapshot/1714564800/simple/demo-pkg/"),
        ("/snapshot/1714564800/simple", "/snapshot/1714564800/simple/"),
        ("/cooldown/3d/simple/DEMO.pkg/?format=json", "/cooldown/3d/simple/demo-pkg/?format=json"),
        ("/cooldown/3d/simple", "/cooldown/3d/simple/"),
    ],
)
def test_non_canonical_urls_redirect_inside_the_same_view(client, history, url, location):
    assert_moved_permanently(client, url, location)


@pytest.mark.parametrize("url", ["/snapshot/1714564800/simple/nothing/", "/cooldown/3d/simple/nothing/"])
def test_an_unknown_project_is_404(client, history, url):
    assert_not_found(client, url)


# ---------------------------------------------------------------- cool-downs


@pytest.fixture
def clock(monkeypatch):
    """A test clock for the views: the real time unless a test moves it."""

    class Clock:
        moment = timezone.now()

    monkeypatch.setattr(timetravel, "now", lambda: Clock.moment)
    return Clock


@pytest.fixture
def fresh_and_old(client, tmp_path, auth) -> Project:
    """cool 1.0 imported with its upload time of ten days ago; cool 2.0 and project our-lib uploaded now."""
    folder = tmp_path / "import"
    folder.mkdir()
    wheel = build_wheel(folder, "cool", "1.0")
    ten_days_ago = (timezone.now() - timedelta(days=10)).timestamp()
    os.utime(wheel, (ten_days_ago, ten_days_ago))
    call_command("import_dists", str(folder), "--upload-time-from-mtime", "--owner", "owner", stdout=StringIO())
    publish(client, tmp_path, "cool", "2.0", auth=auth)
    publish(client, tmp_path, "Our_Lib", "0.1", auth=auth)
    return Project.objects.get(normalized_name="cool")


def filenames(page: dict) -> list[str]:
    return [file["filename"] for file in page["files"]]


def test_a_cooldown_hides_what_is_younger_until_it_has_passed(client, fresh_and_old, clock):
    page = get_json(client, "/cooldown/3d/simple/cool/")
    assert (page["versions"], filenames(page)) == (["1.0"], ["cool-1.0-py3-none-any.whl"])
    clock.moment += timedelta(days=3, minutes=2)
    page = get_json(client, "/cooldown/3d/simple/cool/")
    assert (page["versions"], filenames(page)) == (
        ["1.0", "2.0"],
        ["cool-1.0-py3-none-any.whl", "cool-2.0-py3-none-any.whl"],
    )


def test_a_cooldown_root_lists_projects_old_enough(client, fresh_and_old, clock):
    assert [project["name"] for project in get_json(client, "/cooldown/3d/simple/")["projects"]] == ["cool"]
    assert '<a href="cool/">cool</a>' in client.get("/cooldown/3d/simple/").content.decode()
    clock.moment += timedelta(days=4)
    assert [project["name"] for project in get_json(client, "/cooldown/3d/simple/")["projects"]] == ["cool", "Our_Lib"]


def test_a_yank_applies_to_a_cooldown_at_once(client, fresh_and_old, clock):
    releases.yank_release(Release.objects.get(version="1.0", project=fresh_and_old), "withdrawn")
    assert yanked_by_file(get_json(client, "/cooldown/3d/simple/cool/")) == {"cool-1.0-py3-none-any.whl": "withdrawn"}


def test_cooldown_headers_and_revalidation_as_the_cutoff_moves(client, fresh_and_old, clock):
    clock.moment = clock.moment.replace(second=10, microsecond=0) + timedelta(minutes=1)  # 20 s from a new minute
    first = client.get("/cooldown/3d/simple/cool/", HTTP_ACCEPT=JSON_V1)
    assert "Last-Modified" not in first  # the page changes with the clock, not only with the index
    assert first["X-PyPI-Last-Serial"] == str(fresh_and_old.last_serial)
    assert first["Access-Control-Allow-Origin"] == "*"
    assert first["Cache-Control"] == "max-age=0, public"
    with override_settings(SIMPLE_MAX_AGE=600):
        assert client.get("/cooldown/3d/simple/cool/")["Cache-Control"] == "max-age=60, public"
        assert client.get("/cooldown/30s/simple/cool/")["Cache-Control"] == "max-age=1, public"
    clock.moment += timedelta(seconds=20)  # the same minute of cut-off: the same page
    same = client.get("/cooldown/3d/simple/cool/", HTTP_ACCEPT=JSON_V1, HTTP_IF_NONE_MATCH=first["ETag"])
    assert same.status_code == 304
    clock.moment += timedelta(days=3, minutes=1)
    moved = client.get("/cooldown/3d/simple/cool/", HTTP_ACCEPT=JSON_V1, HTTP_IF_NONE_MATCH=first["ETag"])
    assert moved.status_code == 200
    assert json.loads(moved.content)["versions"] == ["1.0", "2.0"]


def test_explicit_cooldowns_spare_exempt_projects(client, fresh_and_old, clock):
    with override_settings(COOLDOWN_EXEMPT_PROJECTS=["our.lib"]):
        assert filenames(get_json(client, "/cooldown/3d/simple/our-lib/")) == ["our_lib-0.1-py3-none-any.whl"]
        assert [project["name"] for project in get_json(client, "/cooldown/3d/simple/")["projects"]] == [
            "cool",
            "Our_Lib",
        ]
    assert filenames(get_json(client, "/cooldown/3d/simple/our-lib/")) == []


def test_the_default_cooldown_on_simple(client, fresh_and_old, clock):
    assert get_json(client, "/simple/cool/")["versions"] == ["1.0", "2.0"]
    with override_settings(SIMPLE_DEFAULT_COOLDOWN="3d", COOLDOWN_EXEMPT_PROJECTS=["Our_Lib"]):
        assert get_json(client, "/simple/cool/")["versions"] == ["1.0"]
        exempt = client.get("/simple/our-lib/", HTTP_ACCEPT=JSON_V1)
        assert filenames(json.loads(exempt.content)) == ["our_lib-0.1-py3-none-any.whl"]
        assert "Last-Modified" in exempt  # served as the live page it is
        root = get_json(client, "/simple/")
        assert [project["name"] for project in root["projects"]] == ["cool", "Our_Lib"]
        assert '<a href="/simple/cool/">cool</a>' in client.get("/simple/").content.decode()
        clock.moment += timedelta(days=3, minutes=2)
        assert get_json(client, "/simple/cool/")["versions"] == ["1.0", "2.0"]


def test_a_malformed_default_cooldown_fails_loudly(client, db):
    with override_settings(SIMPLE_DEFAULT_COOLDOWN="three days"), pytest.raises(ImproperlyConfigured):
        client.get("/simple/")


# ---------------------------------------------------------------- query counts


def _project_with_history(name: str, release_count: int) -> Project:
    """Releases with a wheel and an sdist each, every third yanked through the service (journal entries)."""
    project = projects.create_project(name)
    for release in ReleaseFactory.create_batch(release_count, project=project):
        FileFactory(release=release)
        FileFactory(release=release, filename=f"{name}-{release.version}.tar.gz", packagetype="sdist")
    for release in Release.objects.filter(project=project)[::3]:
        releases.yank_release(release, "bad")
    return Project.objects.get(pk=project.pk)


@pytest.mark.parametrize("release_count", [3, 30])
@pytest.mark.parametrize("accept", [JSON_V1, "text/html"])
def test_snapshot_page_query_count_is_constant(client, db, django_assert_num_queries, between, release_count, accept):
    _project_with_history("big", release_count)
    url = snapshot(between(), "big/")
    with django_assert_num_queries(6):  # project, versions, files, namespaces, yank history, time of the last change
        first = client.get(url, HTTP_ACCEPT=accept)
    with django_assert_num_queries(1):  # project only
        again = client.get(url, HTTP_ACCEPT=accept)
    assert first.content == again.content
    listed = len(json.loads(first.content)["files"]) if accept == JSON_V1 else first.content.count(b"<a ")
    assert listed == 2 * release_count


@pytest.mark.parametrize("release_count", [3, 30])
@pytest.mark.parametrize("accept", [JSON_V1, "text/html"])
def test_cooldown_page_query_count_is_constant(client, db, django_assert_num_queries, clock, release_count, accept):
    _project_with_history("big", release_count)
    clock.moment = timezone.now() + timedelta(hours=2)
    with django_assert_num_queries(4):  # project, versions, files, namespaces (no date: a cool-down page is not dated)
        first = client.get("/cooldown/1h/simple/big/", HTTP_ACCEPT=accept)
    with django_assert_num_queries(1):
        again = client.get("/cooldown/1h/simple/big/", HTTP_ACCEPT=accept)
    assert first.content == again.content
    listed = len(json.loads(first.content)["files"]) if accept == JSON_V1 else first.content.count(b"<a ")
    assert listed == 2 * release_count


@pytest.mark.parametrize("project_count", [3, 30])
@pytest.mark.parametrize("prefix", ["/snapshot/2999-01-01/simple/", "/snapshot/2000-01-01/simple/", "/cooldown/1h/"])
def test_root_query_count_is_constant(client, db, django_assert_num_queries, clock, project_count, prefix):
    prefix = prefix if prefix.endswith("simple/") else prefix + "simple/"
    for project in ProjectFactory.create_batch(project_count, created=datetime(2001, 1, 1, tzinfo=UTC)):
        FileFactory(release=ReleaseFactory(project=project))
    with django_assert_num_queries(2):  # the newest serial, the projects
        client.get(prefix, HTTP_ACCEPT=JSON_V1)
    with django_assert_num_queries(1):
        response = client.get(prefix, HTTP_ACCEPT=JSON_V1)
    expected = 0 if "2000-01-01" in prefix else project_count
    assert len(json.loads(response.content)["projects"]) == expected


def test_file_rows_are_read_once_per_page(client, history, between):
    # Every listed file is a File row of the project: no row is listed twice through the filters' joins.
    page = get_json(client, snapshot(between(), "demo-pkg/"))
    assert sorted(filenames(page)) == sorted(
        File.objects.filter(release__project=history.project).values_list("filename", flat=True)
    )
