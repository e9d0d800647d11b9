"""PyPI's legacy JSON API over HTTP: shapes (spec digest §3), routing, headers, freshness, query counts."""

from __future__ import annotations

import gzip
import hashlib
import json
import re
from datetime import UTC, datetime

import pytest
from django.conf import settings
from django.test import override_settings

from packages_app.models import File, Project, Release
from packages_app.services import projects, releases, roles
from tests.factories import UserFactory, project_with_releases
from tests.functional.upload_client import publish

NoneType = type(None)
TOP_KEYS = {"info", "last_serial", "releases", "urls", "vulnerabilities", "ownership"}
# Spec digest §3.3: every key, with the types it may carry.
INFO_TYPES = {
    "author": (str, NoneType),
    "author_email": (str, NoneType),
    "bugtrack_url": (NoneType,),
    "classifiers": (list,),
    "description": (str, NoneType),
    "description_content_type": (str, NoneType),
    "docs_url": (NoneType,),
    "download_url": (str, NoneType),
    "downloads": (dict,),
    "dynamic": (list, NoneType),
    "home_page": (str, NoneType),
    "keywords": (str, NoneType),
    "license": (str, NoneType),
    "license_expression": (str, NoneType),
    "license_files": (list, NoneType),
    "maintainer": (str, NoneType),
    "maintainer_email": (str, NoneType),
    "name": (str,),
    "package_url": (str,),
    "platform": (str, NoneType),
    "project_url": (str,),
    "project_urls": (dict, NoneType),
    "provides_extra": (list, NoneType),
    "release_url": (str,),
    "requires_dist": (list, NoneType),
    "requires_python": (str, NoneType),
    "summary": (str, NoneType),
    "version": (str,),
    "yanked": (bool,),
    "yanked_reason": (str, NoneType),
}
# Spec digest §3.4.
FILE_TYPES = {
    "comment_text": (str, NoneType),
    "core-metadata": (bool, dict),
    "digests": (dict,),
    "downloads": (int,),
    "filename": (str,),
    "has_sig": (bool,),
    "md5_digest": (str,),
    "packagetype": (str,),
    "python_version": (str,),
    "requires_python": (str, NoneType),
    "size": (int,),
    "upload_time": (str,),
    "upload_time_iso_8601": (str,),
    "url": (str,),
    "yanked": (bool,),
    "yanked_reason": (str, NoneType),
}
ISO_Z = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}Z$")
SUCCESSOR = re.compile(r'<([^>]+)>;\s*rel="successor-version"')


@pytest.fixture
def demo(client, tmp_path, auth):
    """Demo_Pkg with every kind of release; ``built`` maps filenames to the uploaded paths.

    foo-bar (legacy, no files), 0.9 (no files, yanked without reason), 1.0 (wheel needing
    >=3.9 and sdist), 1.1 (wheel: the latest), 1.2.dev1 (no files), 2.0 (wheel, yanked with
    a reason), 3.0b1 (wheel, pre-release); roles for four more users.
    """
    built = [
        publish(client, tmp_path, "Demo_Pkg", "1.0", auth=auth, requires_python=">=3.9"),
        publish(client, tmp_path, "Demo_Pkg", "1.0", auth=auth, sdist=True),
        publish(client, tmp_path, "Demo_Pkg", "1.1", auth=auth),
        publish(client, tmp_path, "Demo_Pkg", "2.0", auth=auth),
        publish(client, tmp_path, "Demo_Pkg", "3.0b1", auth=auth),
    ]
    project = Project.objects.get(normalized_name="demo-pkg")
    for version in ("foo-bar", "0.9", "1.2.dev1"):
        releases.create_release(project, version)
    releases.yank_release(Release.objects.get(project=project, version="0.9"))
    releases.yank_release(Release.objects.get(project=project, version="2.0"), "broken <build>")
    roles.grant_role(project, UserFactory(username="zoe"), "Owner")
    roles.grant_role(project, UserFactory(username="bob"), "Maintainer")
    roles.grant_role(project, UserFactory(username="amy"), "Owner")
    roles.grant_role(project, UserFactory(username="carl"), "Maintainer")
    project.refresh_from_db()
    project.built = {path.name: path for path in built}
    return project


def get_json(client, url: str, **headers) -> dict:
    response = client.get(url, **headers)
    assert response.status_code == 200, response.content
    assert response["Content-Type"] == "application/json"
    return json.loads(response.content)


def fresh(project: Project) -> Project:
    return Project.objects.get(pk=project.pk)


# ---------------------------------------------------------------- shapes


@pytest.mark.parametrize(
    ("url", "keys"),
    [
        ("/pypi/demo-pkg/json", TOP_KEYS),
        ("/pypi/demo-pkg/1.0/json", TOP_KEYS - {"releases"}),
    ],
)
def test_key_sets_and_types(client, demo, url, keys):
    """Top level, ``info`` and every file carry exactly the digest's keys, with its types."""
    page = get_json(client, url)
    assert set(page) == keys
    assert set(page["info"]) == set(INFO_TYPES)
    for key, types in INFO_TYPES.items():
        assert isinstance(page["info"][key], types), key
    files = page["urls"] + [file for files in page.get("releases", {}).values() for file in files]
    assert files
    for file in files:
        assert set(file) == set(FILE_TYPES)
        for key, types in FILE_TYPES.items():
            assert isinstance(file[key], types), key
        assert set(file["digests"]) == {"md5", "sha256", "blake2b_256"}
    assert isinstance(page["last_serial"], int)
    assert page["vulnerabilities"] == []


def test_body_is_sorted_compact_json_with_a_newline(client, demo):
    body = client.get("/pypi/demo-pkg/json").content
    page = json.loads(body)
    assert body == json.dumps(page, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode() + b"\n"


def test_releases_lists_every_version_with_its_files(client, demo):
    page = get_json(client, "/pypi/demo-pkg/json")
    assert set(page["releases"]) == set(Release.objects.filter(project=demo).values_list("version", flat=True))
    assert set(page["releases"]) == {"foo-bar", "0.9", "1.0", "1.1", "1.2.dev1", "2.0", "3.0b1"}
    assert page["releases"]["foo-bar"] == page["releases"]["0.9"] == page["releases"]["1.2.dev1"] == []
    listed = {version: sorted(file["filename"] for file in files) for version, files in page["releases"].items()}
    for release in Release.objects.filter(project=demo):
        assert listed[release.version] == sorted(release.files.values_list("filename", flat=True))
    assert listed["1.0"] == ["demo_pkg-1.0-py3-none-any.whl", "demo_pkg-1.0.tar.gz"]


def test_urls_are_the_latest_releases_files(client, demo):
    """Non-yanked before yanked, final before pre-release, then the highest: 1.1 here."""
    page = get_json(client, "/pypi/demo-pkg/json")
    assert page["info"]["version"] == "1.1"
    assert [file["filename"] for file in page["urls"]] == ["demo_pkg-1.1-py3-none-any.whl"]
    assert page["urls"] == page["releases"]["1.1"]


def _versions_scene(spec: list[str]) -> Project:
    project = projects.create_project("picker")
    for item in spec:
        version, _, yanked = item.partition(" ")
        release = releases.create_release(project, version)
        if yanked:
            releases.yank_release(release)
    return project


@pytest.mark.parametrize(
    ("spec", "latest"),
    [
        (["1.0", "2.0"], "2.0"),
        (["2.0", "1.0"], "2.0"),
        (["1.0", "2.0b1"], "1.0"),
        (["1.0", "1.1.dev1"], "1.0"),
        (["1.0", "2.0 yanked"], "1.0"),
        (["1.0 yanked", "2.0b1"], "2.0b1"),  # non-yanked first, even a pre-release
        (["1.0 yanked", "2.0 yanked"], "2.0"),
        (["2.0b1"], "2.0b1"),
        (["foo-bar", "0.1"], "0.1"),  # legacy versions sort before PEP 440 ones
        (["foo-bar"], "foo-bar"),
        (["1.0", "1.0.post1"], "1.0.post1"),
        (["1!0.1", "2.0"], "1!0.1"),
        (["1.9", "1.10"], "1.10"),
    ],
)
def test_latest_release_selection(client, db, spec, latest):
    _versions_scene(spec)
    page = get_json(client, "/pypi/picker/json")
    assert page["info"]["version"] == latest
    assert page["urls"] == []  # file-less releases
    assert set(page["releases"]) == {item.split(" ")[0] for item in spec}


def test_info_values_come_from_the_release(client, db):
    project = projects.create_project("Meta.Data")
    metadata = {
        "summary": "Sum",
        "description": "Long *text*",
        "description_content_type": "text/markdown",
        "author": "A. Author",
        "author_email": "a@example.invalid",
        "maintainer": "M",
        "maintainer_email": "m@example.invalid",
        "license": "MIT text",
        "license_expression": "MIT",
        "license_files": ["LICENSE"],
        "keywords": "one,two",
        "classifiers": ["Framework :: Django", "Programming Language :: Python :: 3"],
        "platform": ["linux", "win32"],
        "home_page": "https://home.example.invalid",
        "download_url": "https://dl.example.invalid",
        "project_urls": {"Source": "https://src.example.invalid", "Docs": "https://docs.example.invalid"},
        "requires_python": ">=3.10",
        "requires_dist": ["django>=5", "rich; extra == 'cli'"],
        "provides_extra": ["cli"],
        "dynamic": ["Requires-Dist"],
    }
    releases.create_release(project, "1.0", metadata)
    info = get_json(client, "/pypi/meta-data/1.0/json")["info"]
    project_url = "http://testserver/api/v1/projects/meta-data/"
    assert info == {
        **{key: value for key, value in metadata.items() if key != "platform"},
        "platform": "linux, win32",
        "bugtrack_url": None,
        "docs_url": None,
        "downloads": {"last_day": -1, "last_week": -1, "last_month": -1},
        "name": "Meta.Data",
        "package_url": project_url,
        "project_url": project_url,
        "release_url": "http://testserver/api/v1/projects/meta-data/releases/1.0/",
        "version": "1.0",
        "yanked": False,
        "yanked_reason": None,
    }
    assert client.get(info["release_url"]).status_code == 200
    assert client.get(info["package_url"]).status_code == 200


def test_info_empty_metadata_is_null(client, db):
    releases.create_release(projects.create_project("bare"), "1.0")
    info = get_json(client, "/pypi/bare/json")["info"]
    for key in (
        "description_content_type",
        "dynamic",
        "license_expression",
        "license_files",
        "platform",
        "project_urls",
        "provides_extra",
        "requires_dist",
        "yanked_reason",
    ):
        assert info[key] is None, key
    assert info["classifiers"] == []


def test_text_round_trips_with_control_characters_and_unicode(client, db):
    text = "Page one\x0cPage two \u2014 \u00fcn\u00efcode \u2028 </script>"
    releases.create_release(projects.create_project("ctl"), "1.0", {"description": text, "summary": "\u00e9t\u00e9"})
    response = client.get("/pypi/ctl/json")
    info = json.loads(response.content)["info"]
    assert (info["description"], info["summary"]) == (text, "\u00e9t\u00e9")
    assert "\u00e9t\u00e9".encode() in response.content  # UTF-8, not \u escapes


def test_wheel_entry_matches_the_uploaded_file(client, demo):
    page = get_json(client, "/pypi/demo-pkg/1.0/json")
    entry = next(file for file in page["urls"] if file["packagetype"] == "bdist_wheel")
    data = demo.built[entry["filename"]].read_bytes()
    row = File.objects.get(filename=entry["filename"])
    digests = {
        "md5": hashlib.md5(data).hexdigest(),  # noqa: S324 - the format carries md5
        "sha256": hashlib.sha256(data).hexdigest(),
        "blake2b_256": hashlib.blake2b(data, digest_size=32).hexdigest(),
    }
    seconds = row.upload_time.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S")
    assert entry == {
        "comment_text": None,
        "core-metadata": {"sha256": row.metadata_sha256},
        "digests": digests,
        "downloads": -1,
        "filename": "demo_pkg-1.0-py3-none-any.whl",
        "has_sig": False,
        "md5_digest": digests["md5"],
        "packagetype": "bdist_wheel",
        "python_version": "py3",
        "requires_python": ">=3.9",
        "size": len(data),
        "upload_time": seconds,
        "upload_time_iso_8601": f"{seconds}.{row.upload_time.microsecond:06d}Z",
        "url": f"http://testserver/packages/{row.path}",
        "yanked": False,
        "yanked_reason": None,
    }


def test_sdist_entry(client, demo):
    entry = next(file for file in get_json(client, "/pypi/demo-pkg/1.0/json")["urls"] if file["packagetype"] == "sdist")
    data = demo.built[entry["filename"]].read_bytes()
    assert entry["filename"] == "demo_pkg-1.0.tar.gz"
    assert entry["core-metadata"] is False
    assert entry["python_version"] == "source"
    assert entry["digests"]["sha256"] == hashlib.sha256(data).hexdigest()
    assert entry["requires_python"] == ">=3.9"  # release-level, repeated on every file


def test_upload_times_parse_as_clients_parse_them(client, demo):
    for files in get_json(client, "/pypi/demo-pkg/json")["releases"].values():
        for file in files:
            row = File.objects.get(filename=file["filename"])
            plain = datetime.strptime(file["upload_time"], "%Y-%m-%dT%H:%M:%S").replace(tzinfo=UTC)
            assert plain == row.upload_time.replace(microsecond=0)
            assert ISO_Z.match(file["upload_time_iso_8601"])
            iso = datetime.fromisoformat(file["upload_time_iso_8601"].removesuffix("Z")).replace(tzinfo=UTC)
            assert iso == row.upload_time


def test_file_urls_download_the_listed_bytes(client, demo):
    for files in get_json(client, "/pypi/demo-pkg/json")["releases"].values():
        for file in files:
            assert file["url"].startswith("http://testserver/packages/")
            response = client.get(file["url"])
            assert response.status_code == 200
            body = b"".join(response.streaming_content)
            assert len(body) == file["size"]
            assert hashlib.sha256(body).hexdigest() == file["digests"]["sha256"]
            if file["core-metadata"]:
                metadata = b"".join(client.get(file["url"] + ".metadata").streaming_content)
                assert hashlib.sha256(metadata).hexdigest() == file["core-metadata"]["sha256"]


@pytest.mark.parametrize(
    ("version", "yanked", "reason"),
    [("2.0", True, "broken <build>"), ("0.9", True, None), ("1.1", False, None), ("3.0b1", False, None)],
)
def test_yanked_state_per_release_and_file(client, demo, version, yanked, reason):
    page = get_json(client, f"/pypi/demo-pkg/{version}/json")
    assert (page["info"]["yanked"], page["info"]["yanked_reason"]) == (yanked, reason)
    for file in page["urls"]:
        assert (file["yanked"], file["yanked_reason"]) == (yanked, reason)
    unversioned = get_json(client, "/pypi/demo-pkg/json")["releases"][version]
    assert unversioned == page["urls"]


def test_ownership_owners_first_then_by_name(client, demo):
    expected = {
        "roles": [
            {"role": "Owner", "user": "amy"},
            {"role": "Owner", "user": "owner"},
            {"role": "Owner", "user": "zoe"},
            {"role": "Maintainer", "user": "bob"},
            {"role": "Maintainer", "user": "carl"},
        ],
        "organization": None,
    }
    assert get_json(client, "/pypi/demo-pkg/json")["ownership"] == expected
    assert get_json(client, "/pypi/demo-pkg/1.0/json")["ownership"] == expected


@pytest.mark.parametrize("url", ["/pypi/demo-pkg/json", "/pypi/demo-pkg/2.0/json"])
def test_last_serial_is_the_projects(client, demo, url):
    response = client.get(url)
    assert json.loads(response.content)["last_serial"] == demo.last_serial
    assert response["X-PyPI-Last-Serial"] == str(demo.last_serial)


def test_versioned_page_has_its_own_release(client, demo):
    page = get_json(client, "/pypi/demo-pkg/3.0b1/json")
    assert page["info"]["version"] == "3.0b1"
    assert [file["filename"] for file in page["urls"]] == ["demo_pkg-3.0b1-py3-none-any.whl"]
    assert page["info"]["release_url"] == "http://testserver/api/v1/projects/demo-pkg/releases/3.0b1/"
    assert get_json(client, "/pypi/demo-pkg/foo-bar/json")["urls"] == []


def test_public_base_url_makes_every_url(client, demo):
    with override_settings(PUBLIC_BASE_URL="https://pypi.example.com"):
        response = client.get("/pypi/demo-pkg/json")
    page = json.loads(response.content)
    assert page["urls"][0]["url"].startswith("https://pypi.example.com/packages/")
    assert page["info"]["project_url"] == "https://pypi.example.com/api/v1/projects/demo-pkg/"
    assert SUCCESSOR.search(response["Link"]).group(1) == "https://pypi.example.com/api/v1/projects/demo-pkg/"
    # The page stored for the other base is not served here.
    assert get_json(client, "/pypi/demo-pkg/json")["urls"][0]["url"].startswith("http://testserver/packages/")


# ---------------------------------------------------------------- routing


@pytest.mark.parametrize(
    ("url", "version"),
    [
        ("/pypi/demo-pkg/json", "1.1"),
        ("/pypi/demo-pkg/json/", "1.1"),
        ("/pypi/demo-pkg/1.0/json", "1.0"),
        ("/pypi/demo-pkg/1.0/json/", "1.0"),
        ("/pypi/demo-pkg/1.0.0/json", "1.0"),
        ("/pypi/demo-pkg/v1.0/json", "1.0"),
        ("/pypi/demo-pkg/1.1.0.0/json", "1.1"),
        ("/pypi/demo-pkg/3.0beta1/json", "3.0b1"),
        ("/pypi/demo-pkg/3.0.0-b1/json", "3.0b1"),
        ("/pypi/demo-pkg/FOO-BAR/json", "foo-bar"),
    ],
)
def test_versions_match_by_canonical_form(client, demo, url, version):
    assert get_json(client, url)["info"]["version"] == version


@pytest.mark.parametrize("url", ["/pypi/demo-pkg/json", "/pypi/demo-pkg/1.0/json"])
def test_trailing_slash_is_the_same_answer(client, demo, url):
    plain, slashed = client.get(url), client.get(url + "/")
    assert (plain.status_code, slashed.status_code) == (200, 200)
    assert plain.content == slashed.content
    assert plain["ETag"] == slashed["ETag"]


@pytest.mark.parametrize(
    ("url", "location"),
    [
        ("/pypi/Demo_Pkg/json", "/pypi/demo-pkg/json"),
        ("/pypi/DEMO.pkg/json/", "/pypi/demo-pkg/json"),
        ("/pypi/demo_pkg/1.0.0/json", "/pypi/demo-pkg/1.0.0/json"),  # the version is kept as given
        ("/pypi/Demo-Pkg/FOO-BAR/json", "/pypi/demo-pkg/FOO-BAR/json"),
    ],
)
def test_non_normalised_name_redirects_permanently(client, demo, url, location):
    response = client.get(url)
    assert response.status_code == 301
    assert response["Location"] == location
    assert client.get(location).status_code == 200


@pytest.mark.parametrize(
    "url",
    [
        "/pypi/no-such-project/json",
        "/pypi/No_Such_Project/json",
        "/pypi/no-such-project/1.0/json",
        "/pypi/demo-pkg/9.9/json",
        "/pypi/demo-pkg/1.0.1/json",
        "/pypi/demo-pkg/foo-baz/json",
        "/pypi/empty/json",
        "/pypi/empty/1.0/json",
    ],
)
def test_not_found_is_json(client, demo, url):
    projects.create_project("empty")  # no releases at all
    response = client.get(url)
    assert response.status_code == 404
    assert response["Content-Type"] == "application/json"
    assert json.loads(response.content) == {"message": "Not Found"}
    assert response["Access-Control-Allow-Origin"] == "*"
    assert "Location" not in response


@pytest.mark.parametrize("url", ["/pypi/demo-pkg/json", "/pypi/demo-pkg/1.0/json", "/pypi/Demo_Pkg/json"])
def test_quarantined_project_is_not_found(client, demo, url):
    assert client.get(url).status_code in (200, 301)
    projects.set_status(demo, "quarantined", "under review")
    response = client.get(url)
    assert response.status_code == 404
    assert json.loads(response.content) == {"message": "Not Found"}


@pytest.mark.parametrize("status", ["archived", "deprecated"])
def test_archived_and_deprecated_projects_are_served(client, demo, status):
    projects.set_status(demo, status, "reason")
    assert len(get_json(client, "/pypi/demo-pkg/json")["urls"]) == 1


@pytest.mark.parametrize("method", ["post", "put", "delete", "patch"])
@pytest.mark.parametrize("url", ["/pypi/demo-pkg/json", "/pypi/demo-pkg/1.0/json"])
def test_only_get_and_head(client, demo, url, method):
    assert getattr(client, method)(url).status_code == 405


def test_head_has_headers_and_no_body(client, demo):
    response = client.head("/pypi/demo-pkg/json")
    assert response.status_code == 200
    assert response.content == b""
    assert int(response["Content-Length"]) > 0
    assert response["X-PyPI-Last-Serial"] == str(demo.last_serial)


# ---------------------------------------------------------------- headers


@pytest.mark.parametrize("url", ["/pypi/demo-pkg/json", "/pypi/demo-pkg/1.0/json"])
def test_caching_and_cors_headers(client, demo, url):
    response = client.get(url)
    assert response["X-PyPI-Last-Serial"] == str(demo.last_serial)
    assert response["Cache-Control"] == f"max-age={settings.SIMPLE_MAX_AGE}, public"
    assert response["Access-Control-Allow-Origin"] == "*"
    assert "X-PyPI-Last-Serial" in response["Access-Control-Expose-Headers"]
    assert re.fullmatch(r'"[^"]+"', response["ETag"])
    assert response["Last-Modified"].endswith("GMT")
    with override_settings(SIMPLE_MAX_AGE=900):
        assert client.get(url)["Cache-Control"] == "max-age=900, public"


@pytest.mark.parametrize(
    ("url", "successor"),
    [
        ("/pypi/demo-pkg/json", "http://testserver/api/v1/projects/demo-pkg/"),
        ("/pypi/demo-pkg/json/", "http://testserver/api/v1/projects/demo-pkg/"),
        ("/pypi/demo-pkg/1.0/json", "http://testserver/api/v1/projects/demo-pkg/releases/1.0/"),
        ("/pypi/demo-pkg/1.0.0/json", "http://testserver/api/v1/projects/demo-pkg/releases/1.0.0/"),
        ("/pypi/demo-pkg/foo-bar/json", "http://testserver/api/v1/projects/demo-pkg/releases/foo-bar/"),
    ],
)
def test_deprecation_points_at_the_successor(client, demo, url, successor):
    response = client.get(url)
    assert re.fullmatch(r"@\d+", response["Deprecation"])  # RFC 9745: a structured-field date
    assert SUCCESSOR.search(response["Link"]).group(1) == successor
    followed = client.get(successor)
    assert followed.status_code == 200
    assert followed.json()


def test_revalidation_answers_304(client, demo):
    first = client.get("/pypi/demo-pkg/json")
    again = client.get("/pypi/demo-pkg/json", HTTP_IF_NONE_MATCH=first["ETag"])
    assert again.status_code == 304
    assert again.content == b""
    assert again["ETag"] == first["ETag"]
    other = client.get("/pypi/demo-pkg/1.0/json")
    assert other["ETag"] != first["ETag"]
    assert client.get("/pypi/demo-pkg/1.0/json", HTTP_IF_NONE_MATCH=first["ETag"]).status_code == 200


def test_gzip_when_the_client_accepts_it(client, demo):
    plain = client.get("/pypi/demo-pkg/json")
    zipped = client.get("/pypi/demo-pkg/json", HTTP_ACCEPT_ENCODING="gzip, deflate")
    assert "Content-Encoding" not in plain
    assert zipped["Content-Encoding"] == "gzip"
    assert gzip.decompress(zipped.content) == plain.content
    assert zipped["Content-Length"] == str(len(zipped.content))
    assert zipped["ETag"] != plain["ETag"]  # another representation, another tag
    assert "Accept-Encoding" in zipped["Vary"]
    again = client.get("/pypi/demo-pkg/json", HTTP_ACCEPT_ENCODING="gzip", HTTP_IF_NONE_MATCH=zipped["ETag"])
    assert again.status_code == 304


# ---------------------------------------------------------------- freshness


def test_an_upload_is_visible_on_the_next_request(client, demo, auth, tmp_path):
    before = client.get("/pypi/demo-pkg/json")
    publish(client, tmp_path, "Demo_Pkg", "4.0", auth=auth)
    after = client.get("/pypi/demo-pkg/json", HTTP_IF_NONE_MATCH=before["ETag"])
    assert after.status_code == 200
    assert after["ETag"] != before["ETag"]
    assert int(after["X-PyPI-Last-Serial"]) > int(before["X-PyPI-Last-Serial"])
    page = json.loads(after.content)
    assert page["info"]["version"] == "4.0"
    assert page["last_serial"] == fresh(demo).last_serial
    assert [file["filename"] for file in page["urls"]] == ["demo_pkg-4.0-py3-none-any.whl"]


@pytest.mark.parametrize("url", ["/pypi/demo-pkg/json", "/pypi/demo-pkg/1.1/json"])
def test_a_yank_is_visible_on_the_next_request(client, demo, url):
    before = client.get(url)
    releases.yank_release(Release.objects.get(project=demo, version="1.1"), "oops")
    after = client.get(url)
    assert after["ETag"] != before["ETag"]
    assert int(after["X-PyPI-Last-Serial"]) == fresh(demo).last_serial > int(before["X-PyPI-Last-Serial"])
    page = json.loads(after.content)
    files = page["releases"]["1.1"] if "releases" in page else page["urls"]
    assert [(file["yanked"], file["yanked_reason"]) for file in files] == [(True, "oops")]
    if "releases" in page:
        assert page["info"]["version"] == "1.0"  # the latest non-yanked final release now


def test_a_role_change_is_visible_on_the_next_request(client, demo):
    before = get_json(client, "/pypi/demo-pkg/json")
    roles.revoke_role(demo, UserFactory(username="zoe"))
    after = get_json(client, "/pypi/demo-pkg/json")
    assert {"role": "Owner", "user": "zoe"} in before["ownership"]["roles"]
    assert {"role": "Owner", "user": "zoe"} not in after["ownership"]["roles"]


# ---------------------------------------------------------------- query counts


def _big_project(release_count: int) -> Project:
    return fresh(project_with_releases("big", release_count))


@pytest.mark.parametrize("release_count", [3, 200])
@pytest.mark.parametrize(
    ("version", "queries"),
    [
        # project; latest release, versions, files, the latest's files, roles, time of the last
        # change (once per node, after that only what a change touched: below)
        (None, 7),
        ("first", 5),  # project; release, files, roles, time of the last change
    ],
)
def test_query_count_is_constant(client, db, django_assert_num_queries, release_count, version, queries):
    project = _big_project(release_count)
    if version is None:
        url = "/pypi/big/json"
    else:
        url = f"/pypi/big/{project.releases.order_by('sort_key').first().version}/json"
    with django_assert_num_queries(queries):
        first = client.get(url)
    with django_assert_num_queries(1):  # the project; the page is stored by serial
        again = client.get(url)
    assert first.status_code == again.status_code == 200
    body = first.getvalue()  # a big page streams from its file
    assert body == again.getvalue()
    page = json.loads(body)
    if version is None:
        assert len(page["releases"]) == release_count
        assert sum(len(files) for files in page["releases"].values()) == 2 * release_count
    assert len(page["urls"]) == 2


@pytest.mark.parametrize("release_count", [3, 200])
def test_a_rebuild_reads_only_what_the_change_touched(client, db, django_assert_num_queries, release_count):
    """After a yank, only the yanked release is read again (legacy_api.json_pieces): the same
    queries for 3 releases as for 200, and the same entries."""
    project = _big_project(release_count)
    before = json.loads(client.get("/pypi/big/json").getvalue())
    releases.yank_release(project.releases.order_by("sort_key").first(), "bad")
    # project; latest release; the journal since; the release it names; its files; the
    # latest's files; roles; time of the last change (no file is read in full again)
    with django_assert_num_queries(8):
        after = json.loads(client.get("/pypi/big/json").getvalue())
    yanked = project.releases.order_by("sort_key").first().version
    assert [file["yanked_reason"] for file in after["releases"][yanked]] == ["bad", "bad"]
    for version, files in before["releases"].items():
        for old, new in zip(files, after["releases"][version], strict=True):
            changed = {key for key in old if old[key] != new[key]}
            assert changed <= ({"yanked", "yanked_reason"} if version == yanked else set())


@pytest.mark.parametrize("url", ["/pypi/Big/json", "/pypi/nothing/json"])
def test_redirect_and_404_cost_one_query(client, db, django_assert_num_queries, url):
    _big_project(3)
    with django_assert_num_queries(1):
        assert client.get(url).status_code in (301, 404)
