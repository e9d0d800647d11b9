"""The metadata API's reads over HTTP: every endpoint, pagination, the events feed, caching, query counts."""

from __future__ import annotations

import base64
import gzip
import hashlib
import json
import random
import re
from datetime import UTC, datetime, timedelta
from urllib.parse import parse_qs, urlencode, urlsplit

import pytest
from django.test import Client
from packaging.version import InvalidVersion, Version
from packaging_legacy.version import LegacyVersion

from packages_app import versions
from packages_app.models import File, JournalEntry, Project, Release
from packages_app.services import journal, projects, releases, roles, tokens
from tests.factories import FileFactory, ProjectFactory, ReleaseFactory, UserFactory, project_with_releases
from tests.functional.links import link_header
from tests.functional.problems import assert_problem
from tests.functional.upload_client import publish

API = "/api/v1"
SIMPLE_JSON = "application/vnd.pypi.simple.v1+json"
UTC_Z = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?Z$")


@pytest.fixture
def demo(client, tmp_path, auth):
    """Demo_Pkg: 1.0 (wheel needing >=3.9, sdist), 2.0rc1 without files, 2.0 yanked; four roles."""
    wheel = publish(client, tmp_path, "Demo_Pkg", "1.0", auth=auth, requires_python=">=3.9")
    sdist = publish(client, tmp_path, "Demo_Pkg", "1.0", auth=auth, sdist=True)
    publish(client, tmp_path, "Demo_Pkg", "2.0", auth=auth)
    project = Project.objects.get(normalized_name="demo-pkg")
    releases.create_release(project, "2.0rc1", {"summary": "Candidate"})
    releases.yank_release(Release.objects.get(project=project, version="2.0"), "broken build")
    roles.grant_role(project, UserFactory(username="zed"), "Owner")
    roles.grant_role(project, UserFactory(username="bob"), "Maintainer")
    roles.grant_role(project, UserFactory(username="aaron"), "Maintainer")
    project.refresh_from_db()
    project.built = {"wheel": wheel, "sdist": sdist}
    return project


def get_json(client, url: str, status: int = 200, **headers) -> dict:
    response = client.get(url, **headers)
    assert response.status_code == status, response.content
    return response.json()


def body(response) -> bytes:
    return b"".join(response.streaming_content) if response.streaming else response.content


def follow(client, url: str) -> list[dict]:
    """Every page from ``url`` on, following ``next`` links."""
    pages = []
    while url:
        page = get_json(client, url)
        pages.append(page)
        url = page["next"]
    return pages


def pep440_order(version: str):
    """The expected order, computed with packaging rather than the index's sort keys."""
    try:
        return (1, Version(version), LegacyVersion("0"))
    except InvalidVersion:
        return (0, Version("0"), LegacyVersion(version))


def add_releases(project: Project, versions_and_times: list[tuple[str, datetime]]) -> None:
    """Releases created at the times given, and the project's serial moved as a service moves it
    (the API's pages are kept by that serial)."""
    with journal.write_transaction():
        journal.record("add releases", kind=journal.RELEASE_CREATED, project=project)
    Release.objects.bulk_create(
        Release(
            project=project,
            version=version,
            **versions.release_columns(version),
            created=created,
        )
        for version, created in versions_and_times
    )


# ---------------------------------------------------------------- projects list


@pytest.fixture
def named_projects(db):
    for name in ("Foo_Bar", "foo-baz", "foobar", "other", "zebra"):
        ProjectFactory(name=name)
    ReleaseFactory(project=Project.objects.get(name="other"), summary="A fast JSON parser")
    ReleaseFactory(project=Project.objects.get(name="other"), summary="Still parses json")
    ReleaseFactory(project=Project.objects.get(name="zebra"), summary="Stripes")


def names(page: dict) -> list[str]:
    return [project["normalized_name"] for project in page["results"]]


def test_projects_list_is_ordered_by_normalised_name(client, named_projects):
    """Every project, by normalised name, with its serial, status and URL."""
    page = get_json(client, f"{API}/projects/")
    assert names(page) == ["foo-bar", "foo-baz", "foobar", "other", "zebra"]
    first = page["results"][0]
    assert first == {
        "name": "Foo_Bar",
        "normalized_name": "foo-bar",
        "status": "active",
        "last_serial": 0,
        "url": f"{API}/projects/foo-bar/",
    }
    assert (page["next"], page["previous"]) == (None, None)


@pytest.mark.parametrize(
    ("prefix", "expected"),
    [
        ("foo", ["foo-bar", "foo-baz", "foobar"]),
        ("FOO_", ["foo-bar", "foo-baz"]),  # normalised like a name: FOO_ is foo-
        ("Foo.B", ["foo-bar", "foo-baz"]),
        ("foo-bar", ["foo-bar"]),
        ("foob", ["foobar"]),
        ("z", ["zebra"]),
        ("nothing", []),
    ],
)
def test_projects_prefix_filter(client, named_projects, prefix, expected):
    """``prefix`` is normalised before it is compared with normalised names."""
    assert names(get_json(client, f"{API}/projects/?{urlencode({'prefix': prefix})}")) == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("json", ["other"]),  # two matching summaries, listed once
        ("JSON PARSER", ["other"]),
        ("STRIPES", ["zebra"]),
        ("foo_b", ["foo-bar"]),  # the display name
        ("bar", ["foo-bar", "foobar"]),
        ("absent", []),
    ],
)
def test_projects_search(client, named_projects, text, expected):
    """``q`` finds text in project names and release summaries, case-insensitively."""
    assert names(get_json(client, f"{API}/projects/?{urlencode({'q': text})}")) == expected


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("prefix=foo&page_size=1", ["foo-bar", "foo-baz", "foobar"]),
        ("q=bar&page_size=1", ["foo-bar", "foobar"]),
        ("q=json&prefix=o&page_size=1", ["other"]),
    ],
)
def test_filters_survive_pagination(client, named_projects, query, expected):
    """``next`` links keep the filters: one project a page, only the matching ones."""
    pages = follow(client, f"{API}/projects/?{query}")
    assert [names(page) for page in pages] == [[name] for name in expected]


def test_projects_list_pages(client, named_projects):
    """Small pages, followed to the end, list each project once; ``previous`` goes back."""
    pages = follow(client, f"{API}/projects/?page_size=2")
    assert [names(page) for page in pages] == [["foo-bar", "foo-baz"], ["foobar", "other"], ["zebra"]]
    back = get_json(client, pages[2]["previous"])
    assert names(back) == ["foobar", "other"]


# ---------------------------------------------------------------- project resource


def test_project_resource(client, demo):
    """Status, latest version, counts, roles (Owners first, then by user name) and links."""
    data = get_json(client, f"{API}/projects/demo-pkg/")
    assert UTC_Z.match(data.pop("created"))
    assert data == {
        "name": "Demo_Pkg",
        "normalized_name": "demo-pkg",
        "status": "active",
        "status_reason": "",
        "visibility": "index",
        "last_serial": demo.last_serial,
        "latest_version": "1.0",  # 2.0 is yanked, 2.0rc1 a pre-release
        "release_count": 3,
        "file_count": 3,
        "roles": [
            {"user": "owner", "team": None, "role": "Owner"},
            {"user": "zed", "team": None, "role": "Owner"},
            {"user": "aaron", "team": None, "role": "Maintainer"},
            {"user": "bob", "team": None, "role": "Maintainer"},
        ],
        "links": {
            "self": f"{API}/projects/demo-pkg/",
            "releases": f"{API}/projects/demo-pkg/releases/",
            "simple": "/simple/demo-pkg/",
        },
    }
    assert demo.last_serial == JournalEntry.objects.last_serial()
    assert get_json(client, data["links"]["self"])["name"] == "Demo_Pkg"
    assert len(get_json(client, data["links"]["releases"])["results"]) == 3
    assert get_json(client, data["links"]["simple"], HTTP_ACCEPT=SIMPLE_JSON)["name"] == "demo-pkg"


@pytest.mark.parametrize("name", ["Demo_Pkg", "DEMO.pkg", "demo__pkg"])
def test_project_found_by_any_spelling(client, demo, name):
    """Names are looked up in normalised form."""
    assert get_json(client, f"{API}/projects/{name}/")["normalized_name"] == "demo-pkg"


@pytest.mark.parametrize(
    ("scene", "latest"),
    [
        ([("1.0", False), ("2.0rc1", False)], "1.0"),
        ([("1.0", False), ("2.0", True)], "1.0"),
        ([("1.0", False), ("1.1.dev1", False), ("0.9", False)], "1.0"),
        ([("1.0", False), ("1.0.post1", False)], "1.0.post1"),
        ([("1.9", False), ("1.10", False)], "1.10"),
        ([("0.1", False), ("9.9.x", False), ("banana", False)], "0.1"),  # legacy versions sort first
        ([("9.9.x", False), ("banana", False)], "9.9.x"),
        ([("2.0rc1", False), ("1.0b1", False)], "2.0rc1"),  # only pre-releases: the newest
        ([("1.0", True), ("0.5", True), ("2.0a1", False)], "2.0a1"),  # not yanked beats final
        ([("1.0", True), ("0.5", True)], "1.0"),  # everything yanked: the newest
        ([], None),
    ],
)
def test_latest_version(client, db, scene, latest):
    """The newest non-yanked final release, else the newest non-yanked, else the newest."""
    project = ProjectFactory(name="pick")
    for version, yanked in scene:
        ReleaseFactory(project=project, version=version, yanked=yanked)
    assert get_json(client, f"{API}/projects/pick/")["latest_version"] == latest


def test_project_counts_include_file_less_releases(client, db):
    """release_count counts every release, file_count every file of every release."""
    project = ProjectFactory(name="counted")
    first, _second, _third = ReleaseFactory.create_batch(3, project=project)
    FileFactory(release=first)
    FileFactory(release=first, filename="counted-x.tar.gz", packagetype="sdist")
    ReleaseFactory(project=ProjectFactory(name="elsewhere"))  # not counted
    data = get_json(client, f"{API}/projects/counted/")
    assert (data["release_count"], data["file_count"]) == (3, 2)


# ---------------------------------------------------------------- releases list


ORDER_SCENE = ["1.0", "2.0rc1", "0.9.x", "1.10", "10.0.dev0", "1.0.post1", "banana", "2.0", "1.9", "2.0a1"]


@pytest.fixture
def ordered(db):
    """A project whose releases were created in ORDER_SCENE order, a day apart."""
    project = ProjectFactory(name="ordered")
    start = datetime(2020, 1, 1, tzinfo=UTC)
    add_releases(project, [(v, start + timedelta(days=i)) for i, v in enumerate(ORDER_SCENE)])
    return project


def versions_of(page: dict) -> list[str]:
    return [release["version"] for release in page["results"]]


def test_releases_newest_version_first(client, ordered):
    """PEP 440 order, pre-, post- and dev releases included; legacy versions last (oldest)."""
    listed = versions_of(get_json(client, f"{API}/projects/ordered/releases/"))
    assert listed == ["10.0.dev0", "2.0", "2.0rc1", "2.0a1", "1.10", "1.9", "1.0.post1", "1.0", "0.9.x", "banana"]
    assert listed == sorted(ORDER_SCENE, key=pep440_order, reverse=True)


def test_releases_by_creation(client, ordered):
    """``?order=created``: newest upload first."""
    listed = versions_of(get_json(client, f"{API}/projects/ordered/releases/?order=created"))
    assert listed == ORDER_SCENE[::-1]


@pytest.mark.parametrize("order", ["version", "created"])
def test_releases_small_pages_follow_the_order(client, ordered, order):
    """Pages of 3 in either order concatenate to the full list."""
    everything = versions_of(get_json(client, f"{API}/projects/ordered/releases/?order={order}"))
    pages = follow(client, f"{API}/projects/ordered/releases/?order={order}&page_size=3")
    assert [len(page["results"]) for page in pages] == [3, 3, 3, 1]
    assert [v for page in pages for v in versions_of(page)] == everything


@pytest.mark.parametrize("order", ["version", "created"])
def test_cursor_stays_valid_while_releases_are_added(client, ordered, order):
    """Releases added after page 1 was read neither repeat nor shift the rest; an older one still shows up."""
    url = f"{API}/projects/ordered/releases/?order={order}&page_size=3"
    first = get_json(client, url)
    seen = versions_of(first)
    # One newer than everything listed (on page 1's side), one older than everything (still ahead).
    add_releases(ordered, [("99.0", datetime(2030, 1, 1, tzinfo=UTC)), ("0.0.1", datetime(2030, 1, 2, tzinfo=UTC))])
    seen += [v for page in follow(client, first["next"]) for v in versions_of(page)]
    assert len(seen) == len(set(seen))
    expected = sorted(ORDER_SCENE, key=pep440_order, reverse=True) if order == "version" else ORDER_SCENE[::-1]
    if order == "version":
        assert seen == [*expected[:3], *expected[3:-2], "0.0.1", *expected[-2:]]
    else:
        assert seen == expected  # both new releases are newer than page 1
    assert versions_of(get_json(client, url))[0] in {"99.0", "0.0.1"}


def test_release_summaries(client, demo):
    """Each release: flags, dates in UTC with Z, its file count (0 included) and its URL."""
    listed = get_json(client, f"{API}/projects/demo-pkg/releases/")["results"]
    for release in listed:
        assert UTC_Z.match(release.pop("created"))
    assert listed == [
        {
            "version": "2.0",
            "is_prerelease": False,
            "yanked": True,
            "yanked_reason": "broken build",
            "requires_python": "",
            "summary": "A test package",
            "file_count": 1,
            "url": f"{API}/projects/demo-pkg/releases/2.0/",
        },
        {
            "version": "2.0rc1",
            "is_prerelease": True,
            "yanked": False,
            "yanked_reason": "",
            "requires_python": "",
            "summary": "Candidate",
            "file_count": 0,
            "url": f"{API}/projects/demo-pkg/releases/2.0rc1/",
        },
        {
            "version": "1.0",
            "is_prerelease": False,
            "yanked": False,
            "yanked_reason": "",
            "requires_python": ">=3.9",
            "summary": "A test package",
            "file_count": 2,
            "url": f"{API}/projects/demo-pkg/releases/1.0/",
        },
    ]


@pytest.mark.parametrize(("having", "expected"), [("with", ["2.0", "1.0"]), ("without", ["2.0rc1"])])
def test_releases_with_or_without_files(client, demo, having, expected):
    """``?files=with|without`` keeps only releases that have, or lack, files."""
    assert versions_of(get_json(client, f"{API}/projects/demo-pkg/releases/?files={having}")) == expected


@pytest.mark.parametrize(("having", "expected"), [("with", ["2.0", "1.0"]), ("without", ["2.0rc1"])])
def test_release_filters_survive_pagination(client, demo, having, expected):
    """``next`` links keep ``files``: one release a page, only the matching ones."""
    pages = follow(client, f"{API}/projects/demo-pkg/releases/?files={having}&page_size=1")
    assert [versions_of(page) for page in pages] == [[version] for version in expected]


# ---------------------------------------------------------------- release resource


def test_release_resource_files(client, demo):
    """Files with URL, three hashes of the real bytes, size, times in Z, and PEP 658 metadata for wheels."""
    data = get_json(client, f"{API}/projects/demo-pkg/releases/1.0/")
    assert (data["project"], data["version"], data["requires_python"]) == ("Demo_Pkg", "1.0", ">=3.9")
    assert data["links"] == {"self": f"{API}/projects/demo-pkg/releases/1.0/", "project": f"{API}/projects/demo-pkg/"}
    wheel, sdist = data["files"]
    for file, built in ((wheel, demo.built["wheel"]), (sdist, demo.built["sdist"])):
        content = built.read_bytes()
        assert file["filename"] == built.name
        assert file["size"] == len(content)
        assert file["hashes"] == {
            "md5": hashlib.md5(content).hexdigest(),  # noqa: S324 - the legacy API's digest
            "sha256": hashlib.sha256(content).hexdigest(),
            "blake2b_256": hashlib.blake2b(content, digest_size=32).hexdigest(),
        }
        assert UTC_Z.match(file["upload_time"])
        assert (file["yanked"], file["yanked_reason"]) == (False, "")
        assert body(client.get(file["url"])) == content
    assert (wheel["packagetype"], wheel["python_version"], wheel["requires_python"]) == ("bdist_wheel", "py3", ">=3.9")
    assert (sdist["packagetype"], sdist["python_version"], sdist["requires_python"]) == ("sdist", "source", "")
    assert sdist["core_metadata"] is None
    assert wheel["core_metadata"]["url"] == wheel["url"] + ".metadata"
    metadata = body(client.get(wheel["core_metadata"]["url"]))
    assert hashlib.sha256(metadata).hexdigest() == wheel["core_metadata"]["sha256"]
    assert b"Requires-Python: >=3.9" in metadata


def test_yanked_release_files_carry_the_yank(client, demo):
    """A yanked release's files say so, with the reason."""
    data = get_json(client, f"{API}/projects/demo-pkg/releases/2.0/")
    assert (data["yanked"], data["yanked_reason"]) == (True, "broken build")
    assert [(f["yanked"], f["yanked_reason"]) for f in data["files"]] == [(True, "broken build")]


def test_release_resource_has_complete_core_metadata(client, db):
    """Every core metadata field of the release is served as stored."""
    metadata = {
        "metadata_version": "2.4",
        "summary": "Everything",
        "description": "# Title\n\nLong text.",
        "description_content_type": "text/markdown",
        "author": "Ann",
        "author_email": "ann@example.invalid",
        "maintainer": "Max",
        "maintainer_email": "max@example.invalid",
        "license": "",
        "license_expression": "MIT OR Apache-2.0",
        "license_files": ["LICENSE", "NOTICE"],
        "keywords": "alpha,beta",
        "classifiers": ["Programming Language :: Python :: 3"],
        "platform": ["any"],
        "supported_platform": ["linux"],
        "home_page": "https://example.invalid/home",
        "download_url": "https://example.invalid/download",
        "project_urls": {"Source": "https://example.invalid/src"},
        "requires_python": ">=3.11",
        "requires_dist": ["requests>=2", "rich; extra == 'cli'"],
        "provides_extra": ["cli"],
        "requires_external": ["libfoo"],
        "provides_dist": ["full-1"],
        "obsoletes_dist": ["old-full"],
        "dynamic": ["Requires-Dist"],
    }
    project = ProjectFactory(name="full")
    releases.create_release(project, "3.0", metadata)
    data = get_json(client, f"{API}/projects/full/releases/3.0/")
    assert {key: data[key] for key in metadata} == metadata
    assert (data["files"], data["is_prerelease"], data["yanked"]) == ([], False, False)


@pytest.mark.parametrize(("asked", "found"), [("1.0", "1.0"), ("1.0.0", "1.0"), ("1", "1.0"), ("2.0RC1", "2.0rc1")])
def test_release_version_matched_in_canonical_form(client, demo, asked, found):
    """``1.0.0`` finds ``1.0``; the answer keeps the version as uploaded."""
    data = get_json(client, f"{API}/projects/demo-pkg/releases/{asked}/")
    assert data["version"] == found
    assert data["links"]["self"] == f"{API}/projects/demo-pkg/releases/{found}/"


def test_quarantined_project_offers_no_files(client, demo):
    """PEP 792: neither the release nor the sha256 lookup shows a quarantined project's files."""
    wheel = File.objects.get(filename=demo.built["wheel"].name)
    assert get_json(client, f"{API}/files/{wheel.sha256_digest}/")["filename"] == wheel.filename
    projects.set_status(demo, "quarantined", "under review")
    assert get_json(client, f"{API}/projects/demo-pkg/releases/1.0/")["files"] == []
    assert_problem(client.get(f"{API}/files/{wheel.sha256_digest}/"), 404)


# ---------------------------------------------------------------- file by sha256


@pytest.mark.parametrize("case", [str.lower, str.upper])
def test_file_by_sha256(client, demo, case):
    """A file's project, version, release URL and file fields, by its sha256 in either case."""
    sdist = File.objects.get(filename=demo.built["sdist"].name)
    data = get_json(client, f"{API}/files/{case(sdist.sha256_digest)}/")
    release = get_json(client, data["release_url"])
    assert (data["project"], data["version"], release["version"]) == ("Demo_Pkg", "1.0", "1.0")
    listed = next(file for file in release["files"] if file["filename"] == sdist.filename)
    assert {key: data[key] for key in listed} == listed


def test_unknown_sha256_is_404(client, demo):
    """A digest no file has is a 404 problem."""
    assert_problem(client.get(f"{API}/files/{'0' * 64}/"), 404)


# ---------------------------------------------------------------- events


def feed_serials() -> list[int]:
    """What the feed should list: every journal entry that names a project."""
    return list(JournalEntry.objects.exclude(name="").order_by("id").values_list("id", flat=True))


def test_events_list_every_project_change_ascending(client, demo):
    """The feed is the journal without token entries, ascending, with the newest serial."""
    owner = UserFactory(username="owner")
    tokens.create_token(owner, name="ci")  # journaled with no project name
    page = get_json(client, f"{API}/events/")
    serials = [event["serial"] for event in page["results"]]
    assert serials == feed_serials()
    assert len(serials) < JournalEntry.objects.count()
    assert page["last_serial"] == JournalEntry.objects.last_serial()
    assert page["next"] is None
    for event in page["results"]:
        entry = JournalEntry.objects.get(id=event["serial"])
        assert event["project"] == "Demo_Pkg"
        assert (event["version"], event["filename"], event["description"]) == (
            entry.version,
            entry.filename,
            entry.action,
        )
        assert event["action"] == entry.kind
        assert UTC_Z.match(event["timestamp"])
    assert [(e["description"], e["version"]) for e in page["results"]] == [
        ("create", ""),
        ("add Owner owner", ""),
        ("new release", "1.0"),
        ("add py3 file demo_pkg-1.0-py3-none-any.whl", "1.0"),
        ("add source file demo_pkg-1.0.tar.gz", "1.0"),
        ("new release", "2.0"),
        ("add py3 file demo_pkg-2.0-py3-none-any.whl", "2.0"),
        ("new release", "2.0rc1"),
        ("yank release", "2.0"),
        ("add Owner zed", ""),
        ("add Maintainer bob", ""),
        ("add Maintainer aaron", ""),
    ]


def test_events_since_and_next_links(client, demo):
    """``since`` starts after a serial; ``next`` (body and Link header) continues from the page's last serial."""
    everything = feed_serials()
    response = client.get(f"{API}/events/?since={everything[1]}&page_size=3")
    page = response.json()
    assert [e["serial"] for e in page["results"]] == everything[2:5]
    assert link_header(response) == {"next": page["next"]}
    query = parse_qs(urlsplit(page["next"]).query)
    assert query == {"since": [str(everything[4])], "page_size": ["3"]}
    rest = follow(client, page["next"])
    assert [e["serial"] for p in rest for e in p["results"]] == everything[5:]
    last = client.get(f"{API}/events/?since={everything[-1]}")
    assert last.json()["results"] == []
    assert "Link" not in last


def test_events_page_size_is_capped(client, db):
    """At most 1000 events a page, however many are asked for."""
    JournalEntry.objects.bulk_create(JournalEntry(name="p", action="create") for _ in range(1100))
    page = get_json(client, f"{API}/events/?page_size=5000")
    assert len(page["results"]) == 1000
    assert parse_qs(urlsplit(page["next"]).query)["page_size"] == ["1000"]
    assert len(get_json(client, page["next"])["results"]) == 100


def test_events_stay_consistent_while_writes_happen(client, tmp_path, demo, auth):
    """A reader following ``next`` (and resuming from its last serial) sees each serial once, in order."""
    seen: list[int] = []
    url = f"{API}/events/?page_size=4"
    writes = [
        lambda: publish(client, tmp_path, "Demo_Pkg", "3.0", auth=auth),
        lambda: releases.yank_release(Release.objects.get(version="1.0"), "oops"),
        lambda: tokens.create_token(UserFactory(username="owner")),  # not in the feed
        lambda: publish(client, tmp_path, "second-project", "0.1", auth=auth),
        lambda: releases.unyank_release(Release.objects.get(version="1.0")),
        lambda: publish(client, tmp_path, "Demo_Pkg", "3.0", auth=auth, sdist=True),
    ]
    while True:
        page = get_json(client, url)
        assert page["last_serial"] >= max([e["serial"] for e in page["results"]], default=0)
        seen += [event["serial"] for event in page["results"]]
        if writes:
            writes.pop(0)()
        if page["next"]:
            url = page["next"]
        elif writes or seen[-1] != feed_serials()[-1]:
            url = f"{API}/events/?since={seen[-1]}&page_size=4"  # a mirror's next poll
        else:
            break
    assert seen == feed_serials()
    assert seen == sorted(set(seen))


@pytest.mark.parametrize("since", ["-1", "abc", "1.5", "", "9" * 19])
def test_events_bad_since(client, db, since):
    """``since`` must be a whole number, 0 or more."""
    assert "since" in assert_problem(client.get(f"{API}/events/?since={since}"), 400)["detail"]


# ---------------------------------------------------------------- users


def test_user_projects_and_roles(client, demo):
    """The projects a user has a role on, by normalised name, with the role."""
    other = ProjectFactory(name="Another")
    roles.grant_role(other, UserFactory(username="bob"), "Owner")
    page = get_json(client, f"{API}/users/bob/projects/")
    assert [(r["project"]["normalized_name"], r["role"]) for r in page["results"]] == [
        ("another", "Owner"),
        ("demo-pkg", "Maintainer"),
    ]
    assert page["results"][1]["project"] == {
        "name": "Demo_Pkg",
        "normalized_name": "demo-pkg",
        "status": "active",
        "last_serial": Project.objects.get(pk=demo.pk).last_serial,
        "url": f"{API}/projects/demo-pkg/",
    }
    assert get_json(client, f"{API}/users/nobody-here/projects/", status=404)["status"] == 404
    UserFactory(username="idle")
    assert get_json(client, f"{API}/users/idle/projects/")["results"] == []


def test_user_projects_paginate(db):
    """A user with more roles than fit a page gets them over several pages."""
    user = UserFactory(username="busy")
    for name in ("p-a", "p-b", "p-c"):
        roles.grant_role(ProjectFactory(name=name), user, "Maintainer")
    client = Client(raise_request_exception=False)
    response = client.get(f"{API}/users/busy/projects/?page_size=2")
    assert response.status_code == 200, response.status_code
    pages = follow(client, f"{API}/users/busy/projects/?page_size=2")
    assert [r["project"]["name"] for p in pages for r in p["results"]] == ["p-a", "p-b", "p-c"]


# ---------------------------------------------------------------- a 5,000-release project


@pytest.fixture
def huge(db):
    """5,000 releases: final, pre-, post-, dev and legacy versions, created in a shuffled order."""
    project = ProjectFactory(name="huge")
    names = [
        f"{major}.{minor}{kind}"
        for major in range(49)
        for minor in range(25)
        for kind in ("", "rc1", ".post1", ".dev3")
    ]
    names += [f"{i}.x-legacy" for i in range(100)]
    assert len(names) == 5000
    moments = list(range(5000))
    random.Random(5000).shuffle(moments)  # noqa: S311 - a fixed, reproducible shuffle
    start = datetime(2015, 1, 1, tzinfo=UTC)
    add_releases(project, [(v, start + timedelta(minutes=m)) for v, m in zip(names, moments, strict=True)])
    by_version = sorted(names, key=pep440_order, reverse=True)
    by_created = [v for _, v in sorted(zip(moments, names, strict=True), reverse=True)]
    return {"version": by_version, "created": by_created}


@pytest.mark.parametrize("order", ["version", "created"])
def test_huge_project_pages_to_the_end(client, huge, order, django_assert_num_queries):
    """Pages of 1000 followed to the end list all 5,000 releases once, in order, each page costing the same."""
    listed: list[str] = []
    url = f"{API}/projects/huge/releases/?order={order}&page_size=1000"
    while url:
        with django_assert_num_queries(2):  # the project, the page (with its file counts)
            page = get_json(client, url)
        assert len(page["results"]) == 1000
        listed += versions_of(page)
        url = page["next"]
    assert len(listed) == len(set(listed)) == 5000
    assert listed == huge[order]


def test_huge_project_default_pages_and_previous(client, huge):
    """Default pages hold 100; ``previous`` (body and Link header) leads back to the same pages."""
    expected = huge["version"]
    first = get_json(client, f"{API}/projects/huge/releases/")
    assert first["previous"] is None
    second = get_json(client, first["next"])
    response = client.get(second["next"])
    third = response.json()
    assert [versions_of(p) for p in (first, second, third)] == [expected[:100], expected[100:200], expected[200:300]]
    assert link_header(response) == {"next": third["next"], "prev": third["previous"]}
    back = get_json(client, third["previous"])
    assert versions_of(back) == expected[100:200]
    assert versions_of(get_json(client, back["previous"])) == expected[:100]
    assert versions_of(get_json(client, back["next"])) == expected[200:300]


@pytest.mark.parametrize("page_size", ["5000", "1001"])
def test_release_page_size_is_capped(client, huge, page_size):
    """No more than 1000 releases a page."""
    assert len(get_json(client, f"{API}/projects/huge/releases/?page_size={page_size}")["results"]) == 1000


# ---------------------------------------------------------------- query counts


def _scene(release_count: int) -> Project:
    project = project_with_releases("counted", release_count)
    JournalEntry.objects.bulk_create(JournalEntry(name="counted", action="x") for _ in range(release_count))
    ProjectFactory.create_batch(release_count)
    return project


@pytest.mark.parametrize("release_count", [3, 300])
@pytest.mark.parametrize(
    ("url", "queries"),
    [
        (f"{API}/projects/counted/releases/", 2),  # project, page
        (f"{API}/projects/counted/releases/?files=with&order=created", 2),
        (f"{API}/projects/counted/releases/{{version}}/", 4),  # serial; once per serial: project, release, files
        (f"{API}/projects/counted/", 3),  # serial; then, once per serial: project with counts, roles
        (f"{API}/events/", 2),  # newest serial, page
        (f"{API}/events/?since=2&page_size=1000", 2),
        (f"{API}/projects/", 1),
        (f"{API}/projects/?q=test&prefix=c", 1),
        (f"{API}/files/{{sha256}}/", 1),
    ],
)
def test_query_count_is_constant(client, db, django_assert_num_queries, release_count, url, queries):
    """A read costs the same few queries on a project with 3 releases and with 300."""
    project = _scene(release_count)
    release = project.releases.order_by("sort_key").first()
    url = url.format(version=release.version, sha256=release.files.first().sha256_digest)
    with django_assert_num_queries(queries):
        response = client.get(url)
    assert response.status_code == 200
    assert response.json()


def test_project_resource_is_built_once_per_serial(client, db, django_assert_num_queries):
    """The project resource is kept by serial: again costs one query, a change rebuilds it."""
    project = _scene(3)
    first = client.get(f"{API}/projects/counted/").json()
    with django_assert_num_queries(1):
        assert client.get(f"{API}/projects/counted/").json() == first
    roles.grant_role(project, UserFactory(username="zed"), "Owner")
    again = client.get(f"{API}/projects/counted/").json()
    assert again["roles"][0] == {"user": "zed", "team": None, "role": "Owner"}
    assert again["last_serial"] > first["last_serial"]


def test_release_resource_is_built_once_per_serial(client, db, django_assert_num_queries):
    """The release resource is kept by its project's serial: again costs one query, a yank rebuilds it."""
    project = _scene(300)
    version = project.releases.order_by("sort_key").first().version
    url = f"{API}/projects/counted/releases/{version}/"
    first = client.get(url, HTTP_ACCEPT_ENCODING="gzip")
    assert first["Content-Encoding"] == "gzip"
    with django_assert_num_queries(1):
        again = client.get(url)
    assert again.json() == json.loads(gzip.decompress(first.content))
    with django_assert_num_queries(1):
        assert client.get(url, HTTP_IF_NONE_MATCH=first["ETag"]).status_code == 304
    releases.yank_release(Release.objects.get(project=project, version=version), "broken")
    changed = client.get(url, HTTP_IF_NONE_MATCH=first["ETag"])
    assert changed.status_code == 200
    assert changed.json()["yanked"] is True
    assert changed["ETag"] != first["ETag"]


@pytest.mark.parametrize(
    ("url", "detail"),
    [
        (f"{API}/projects/nothing-here/releases/1.0/", "There is no project named 'nothing-here'."),
        (f"{API}/projects/counted/releases/9.9/", "Project 'counted' has no release '9.9'."),
    ],
)
def test_release_resource_says_what_is_missing(client, db, url, detail):
    _scene(1)
    response = client.get(url)
    assert response.status_code == 404
    assert response.json()["detail"] == detail


# ---------------------------------------------------------------- caching headers


READ_URLS = [
    f"{API}/projects/",
    f"{API}/projects/demo-pkg/",
    f"{API}/projects/demo-pkg/releases/",
    f"{API}/projects/demo-pkg/releases/1.0/",
    f"{API}/events/",
    f"{API}/users/bob/projects/",
]


@pytest.mark.parametrize("url", READ_URLS)
def test_reads_revalidate_with_etag(client, demo, url):
    """Reads are public with an ETag; If-None-Match answers 304 until the data changes."""
    response = client.get(url)
    etag = response["ETag"]
    assert response.status_code == 200
    assert response["Cache-Control"] == "max-age=0, public"
    assert re.fullmatch(r'"[^"]+"', etag)  # opaque: a digest of the body, or a stored page's key
    assert client.get(url)["ETag"] == etag  # the same body, the same tag
    cached = client.get(url, HTTP_IF_NONE_MATCH=etag)
    assert cached.status_code == 304
    assert cached.content == b""
    assert cached["ETag"] == etag
    assert "public" in cached["Cache-Control"]
    assert client.get(url, HTTP_IF_NONE_MATCH='"something-else"').status_code == 200
    projects.set_status(demo, "deprecated", "use another")
    roles.grant_role(demo, UserFactory(username="bob"), "Owner")
    releases.yank_release(Release.objects.get(version="1.0"), "changed")
    changed = client.get(url, HTTP_IF_NONE_MATCH=etag)
    assert changed.status_code == 200
    assert changed["ETag"] != etag


def test_file_lookup_revalidates(client, demo):
    """The sha256 lookup is cacheable too."""
    url = f"{API}/files/{File.objects.first().sha256_digest}/"
    response = client.get(url)
    assert "public" in response["Cache-Control"]
    assert client.get(url, HTTP_IF_NONE_MATCH=response["ETag"]).status_code == 304


def test_link_header_matches_body(client, ordered):
    """Lists send their neighbours in a Link header as well as in the body."""
    first = client.get(f"{API}/projects/ordered/releases/?page_size=4")
    assert link_header(first) == {"next": first.json()["next"]}
    middle = client.get(first.json()["next"])
    assert link_header(middle) == {"next": middle.json()["next"], "prev": middle.json()["previous"]}
    assert "Link" not in client.get(f"{API}/projects/ordered/releases/")


# ---------------------------------------------------------------- problem details


@pytest.mark.parametrize(
    ("url", "status"),
    [
        (f"{API}/projects/no-such-project/", 404),
        (f"{API}/projects/no-such-project/releases/", 404),
        (f"{API}/projects/no-such-project/releases/1.0/", 404),
        (f"{API}/projects/demo-pkg/releases/9.9/", 404),
        (f"{API}/projects/demo-pkg/releases/not-a-version/", 404),
        (f"{API}/users/nobody-here/projects/", 404),
        (f"{API}/projects/?cursor=garbage", 400),
        (f"{API}/projects/demo-pkg/releases/?cursor=garbage", 400),
        (f"{API}/projects/demo-pkg/releases/?cursor=bz1taW51cy1vbmUmcD0x", 400),  # offset "minus-one"
        (f"{API}/projects/demo-pkg/releases/?cursor=bm90IGEgY3Vyc29y", 400),  # base64 of "not a cursor"
        (f"{API}/projects/demo-pkg/releases/?order=size", 400),
        (f"{API}/projects/demo-pkg/releases/?order=", 400),
        (f"{API}/projects/demo-pkg/releases/?files=maybe", 400),
        (f"{API}/projects/demo-pkg/releases/?files=", 400),
        (f"{API}/events/?since=yesterday", 400),
        (f"{API}/events/?page_size=-3", 400),
    ],
)
def test_problem_details(client, demo, url, status):
    """Errors are RFC 9457 problem details, never cached."""
    assert_problem(client.get(url), status)


def test_unknown_project_problem_names_it(client, db):
    """The 404 says which project is missing."""
    problem = assert_problem(client.get(f"{API}/projects/Nope_Nope/"), 404)
    assert problem["title"] == "Not Found"
    assert "Nope_Nope" in problem["detail"]


def forged_cursor(position: str) -> str:
    return base64.b64encode(urlencode({"o": "0", "p": position}).encode()).decode()


@pytest.mark.parametrize("order", ["version", "created"])
def test_forged_cursor_is_never_a_server_error(db, ordered, order):
    """A cursor that decodes but holds a nonsense position is answered, never a 500."""
    client = Client(raise_request_exception=False)
    response = client.get(f"{API}/projects/ordered/releases/?order={order}&cursor={forged_cursor('not-a-date')}")
    assert response.status_code in (200, 400), response.status_code
