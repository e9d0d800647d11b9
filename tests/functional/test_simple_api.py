"""The simple repository API over HTTP: both forms, names, status, caching headers, query counts."""

from __future__ import annotations

import gzip
import hashlib
import json

import pytest
from django.test import override_settings

from packages_app.models import File, Project, Release
from packages_app.services import projects, releases
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


@pytest.fixture
def demo(client, tmp_path, auth):
    """demo-pkg: 1.0 (wheel needing >=3.9, sdist), 2.0rc1 without files, 2.0 yanked with a reason."""
    publish(client, tmp_path, "Demo_Pkg", "1.0", auth=auth, requires_python=">=3.9")
    publish(client, tmp_path, "Demo_Pkg", "1.0", auth=auth, sdist=True)
    publish(client, tmp_path, "Demo_Pkg", "2.0", auth=auth)
    project = Project.objects.get(normalized_name="demo-pkg")
    releases.create_release(project, "2.0rc1")
    releases.yank_release(Release.objects.get(project=project, version="2.0"), "broken <build>")
    return Project.objects.get(pk=project.pk)


def test_project_json_lists_every_release_and_file(client, demo):
    page = get_json(client, "/simple/demo-pkg/")
    files = {file.filename: file for file in File.objects.all()}
    wheel = files["demo_pkg-1.0-py3-none-any.whl"]
    assert page["meta"] == {"api-version": "1.5", "_last-serial": demo.last_serial}
    assert page["name"] == "demo-pkg"
    assert page["project-status"] == {"status": "active"}
    assert page["versions"] == ["1.0", "2.0rc1", "2.0"]  # PEP 440 order; 2.0rc1 has no files
    assert [file["filename"] for file in page["files"]] == [
        "demo_pkg-1.0-py3-none-any.whl",
        "demo_pkg-1.0.tar.gz",
        "demo_pkg-2.0-py3-none-any.whl",
    ]
    metadata = {"sha256": wheel.metadata_sha256}
    assert page["files"][0] == {
        "filename": wheel.filename,
        "url": f"/packages/{wheel.path}",
        "hashes": {"sha256": wheel.sha256_digest},
        "requires-python": ">=3.9",
        "yanked": False,
        "size": wheel.size,
        "upload-time": wheel.upload_time.isoformat().replace("+00:00", "Z"),
        "core-metadata": metadata,
        "data-dist-info-metadata": metadata,
        "provenance": None,
    }
    sdist, yanked = page["files"][1], page["files"][2]
    assert (sdist["core-metadata"], sdist["data-dist-info-metadata"], sdist["requires-python"]) == (False, False, None)
    assert yanked["yanked"] == "broken <build>"
    assert all("dist-info-metadata" not in file for file in page["files"])


def test_upload_time_is_utc_with_z(client, demo):
    for file in get_json(client, "/simple/demo-pkg/")["files"]:
        assert file["upload-time"].endswith("Z")
        assert "+" not in file["upload-time"]


def test_yanked_without_reason_is_true(client, demo):
    releases.unyank_release(Release.objects.get(version="2.0"))
    releases.yank_release(Release.objects.get(version="2.0"))
    assert get_json(client, "/simple/demo-pkg/")["files"][2]["yanked"] is True


def test_project_html_has_the_same_files(client, demo):
    response = client.get("/simple/demo-pkg/")
    assert response["Content-Type"] == "text/html; charset=utf-8"
    text = response.content.decode()
    wheel = File.objects.get(filename="demo_pkg-1.0-py3-none-any.whl")
    assert (
        f'<a href="/packages/{wheel.path}#sha256={wheel.sha256_digest}" data-requires-python="&gt;=3.9" '
        f'data-dist-info-metadata="sha256={wheel.metadata_sha256}" '
        f'data-core-metadata="sha256={wheel.metadata_sha256}">{wheel.filename}</a><br />'
    ) in text
    assert 'data-yanked="broken &lt;build&gt;"' in text
    assert text.count("<a ") == 3
    assert text.endswith(f"<!--SERIAL {demo.last_serial}-->")
    assert "2.0rc1" not in text  # versions are JSON-only (PEP 700)


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
@pytest.mark.parametrize("url", ["/simple/", "/simple/demo-pkg/"])
def test_negotiated_content_type(client, demo, url, accept, content_type):
    response = client.get(url, **({"HTTP_ACCEPT": accept} if accept else {}))
    assert response.status_code == 200
    assert response["Content-Type"] == content_type
    assert response["Vary"] == "Accept, Accept-Encoding"


def test_format_parameter(client, demo):
    response = client.get("/simple/demo-pkg/?format=application/vnd.pypi.simple.v1+json", HTTP_ACCEPT="text/html")
    assert response["Content-Type"] == JSON_V1
    response = client.get("/simple/demo-pkg/?format=xml")
    assert response.status_code == 406
    assert "Unknown format 'xml'" in response.content.decode()


@pytest.mark.parametrize(
    ("url", "location"),
    [
        ("/simple/Demo_Pkg/", "/simple/demo-pkg/"),
        ("/simple/DEMO.pkg/", "/simple/demo-pkg/"),
        ("/simple/demo-pkg", "/simple/demo-pkg/"),
        ("/simple/Demo_Pkg", "/simple/demo-pkg/"),  # one hop, not two
        ("/simple", "/simple/"),
        ("/simple/Demo_Pkg/?format=json", "/simple/demo-pkg/?format=json"),
    ],
)
def test_non_canonical_urls_redirect_permanently(client, demo, url, location):
    assert_moved_permanently(client, url, location)


@pytest.mark.parametrize("url", ["/simple/no-such-project/", "/simple/No_Such_Project/"])
def test_unknown_project_is_404_and_never_falls_through(client, demo, url):
    assert_not_found(client, url)


def test_root_lists_projects_with_serials(client, demo, auth, tmp_path):
    publish(client, tmp_path, "other", "1.0", auth=auth)
    other = Project.objects.get(normalized_name="other")
    page = get_json(client, "/simple/")
    assert page["meta"]["api-version"] == "1.5"
    assert page["meta"]["_last-serial"] == other.last_serial  # the newest change of all
    assert page["projects"] == [
        {"name": "Demo_Pkg", "_last-serial": Project.objects.get(pk=demo.pk).last_serial},
        {"name": "other", "_last-serial": other.last_serial},
    ]
    text = client.get("/simple/").content.decode()
    assert '<a href="/simple/demo-pkg/">Demo_Pkg</a>' in text
    assert '<a href="/simple/other/">other</a>' in text


def test_quarantined_project_offers_nothing(client, demo):
    projects.set_status(demo, "quarantined", "under review")
    page = get_json(client, "/simple/demo-pkg/")
    assert page["project-status"] == {"status": "quarantined", "reason": "under review"}
    assert (page["files"], page["versions"]) == ([], [])
    html = client.get("/simple/demo-pkg/").content.decode()
    assert '<meta name="pypi:project-status" content="quarantined">' in html
    assert "<a " not in html
    assert get_json(client, "/simple/")["projects"] == []
    wheel = File.objects.filter(metadata_sha256__isnull=False).first()
    assert client.get(f"/packages/{wheel.path}").status_code == 404


def test_archived_project_still_offers_files(client, demo):
    projects.set_status(demo, "archived", "read only now")
    page = get_json(client, "/simple/demo-pkg/")
    assert page["project-status"] == {"status": "archived", "reason": "read only now"}
    assert len(page["files"]) == 3
    assert '<meta name="pypi:project-status" content="archived">' in client.get("/simple/demo-pkg/").content.decode()


def test_a_change_is_served_on_the_next_request(client, demo, auth, tmp_path):
    before = client.get("/simple/demo-pkg/", HTTP_ACCEPT=JSON_V1)
    publish(client, tmp_path, "Demo_Pkg", "3.0", auth=auth)
    after = client.get("/simple/demo-pkg/", HTTP_ACCEPT=JSON_V1)
    assert after["ETag"] != before["ETag"]
    assert int(after["X-PyPI-Last-Serial"]) > int(before["X-PyPI-Last-Serial"])
    assert "3.0" in json.loads(after.content)["versions"]
    assert "3.0" not in json.loads(before.content)["versions"]


def test_caching_headers(client, demo):
    response = client.get("/simple/demo-pkg/", HTTP_ACCEPT=JSON_V1)
    assert response["X-PyPI-Last-Serial"] == str(demo.last_serial)
    assert response["Cache-Control"] == "max-age=0, public"
    assert response["ETag"].startswith('"')
    assert response["ETag"].endswith('"')
    assert response["Last-Modified"].endswith("GMT")
    assert response["Access-Control-Allow-Origin"] == "*"
    assert response["Access-Control-Expose-Headers"] == "X-PyPI-Last-Serial"
    with override_settings(SIMPLE_MAX_AGE=30):
        assert client.get("/simple/", HTTP_ACCEPT=JSON_V1)["Cache-Control"] == "max-age=30, public"


@pytest.mark.parametrize("url", ["/simple/", "/simple/demo-pkg/"])
@pytest.mark.parametrize("accept", [JSON_V1, "text/html"])
def test_revalidation_answers_304(client, demo, url, accept):
    first = client.get(url, HTTP_ACCEPT=accept)
    again = client.get(url, HTTP_ACCEPT=accept, HTTP_IF_NONE_MATCH=first["ETag"])
    assert again.status_code == 304
    assert again.content == b""
    assert again["ETag"] == first["ETag"]
    since = client.get(url, HTTP_ACCEPT=accept, HTTP_IF_MODIFIED_SINCE=first["Last-Modified"])
    assert since.status_code == 304
    other_form = client.get(url, HTTP_ACCEPT=JSON_V1 if accept != JSON_V1 else "text/html")
    assert other_form["ETag"] != first["ETag"]


def test_revalidation_after_a_change_gets_the_new_page(client, demo):
    first = client.get("/simple/demo-pkg/", HTTP_ACCEPT=JSON_V1)
    releases.create_release(demo, "4.0")
    again = client.get("/simple/demo-pkg/", HTTP_ACCEPT=JSON_V1, HTTP_IF_NONE_MATCH=first["ETag"])
    assert again.status_code == 200
    assert "4.0" in json.loads(again.content)["versions"]


@pytest.mark.parametrize("accept", [JSON_V1, "text/html"])
def test_gzip_when_the_client_accepts_it(client, demo, accept):
    plain = client.get("/simple/demo-pkg/", HTTP_ACCEPT=accept)
    zipped = client.get("/simple/demo-pkg/", HTTP_ACCEPT=accept, HTTP_ACCEPT_ENCODING="gzip, deflate")
    assert "Content-Encoding" not in plain
    assert zipped["Content-Encoding"] == "gzip"
    assert gzip.decompress(zipped.content) == plain.content
    assert zipped["Content-Length"] == str(len(zipped.content))
    assert zipped["ETag"] != plain["ETag"]  # a different representation, a different tag
    revalidated = client.get(
        "/simple/demo-pkg/", HTTP_ACCEPT=accept, HTTP_ACCEPT_ENCODING="gzip", HTTP_IF_NONE_MATCH=zipped["ETag"]
    )
    assert revalidated.status_code == 304


def test_head_has_headers_and_no_body(client, demo):
    response = client.head("/simple/demo-pkg/", HTTP_ACCEPT=JSON_V1)
    assert response.status_code == 200
    assert response.content == b""
    assert int(response["Content-Length"]) > 0


def test_urls_are_absolute_with_a_public_base_url(client, demo):
    with override_settings(PUBLIC_BASE_URL="https://pypi.example.com"):
        page = get_json(client, "/simple/demo-pkg/")
    assert page["files"][0]["url"].startswith("https://pypi.example.com/packages/")
    assert get_json(client, "/simple/demo-pkg/")["files"][0]["url"].startswith("/packages/")


def _big_project(name: str, release_count: int) -> Project:
    project = ProjectFactory(name=name, last_serial=release_count)
    for release in ReleaseFactory.create_batch(release_count, project=project):
        FileFactory(release=release)
        FileFactory(release=release, filename=f"{name}-{release.version}.tar.gz", packagetype="sdist")
    return project


@pytest.mark.parametrize("release_count", [1, 60])
@pytest.mark.parametrize("accept", [JSON_V1, "text/html"])
def test_project_page_query_count_is_constant(client, db, django_assert_num_queries, release_count, accept):
    _big_project("big", release_count)
    with django_assert_num_queries(5):  # project, versions, files, namespaces, the time of the last change
        first = client.get("/simple/big/", HTTP_ACCEPT=accept)
    with django_assert_num_queries(1):  # project only
        again = client.get("/simple/big/", HTTP_ACCEPT=accept)
    assert first.content == again.content
    listed = len(json.loads(first.content)["files"]) if accept == JSON_V1 else first.content.count(b"<a ")
    assert listed == 2 * release_count


@pytest.mark.parametrize("project_count", [1, 60])
def test_root_query_count_is_constant(client, db, django_assert_num_queries, project_count):
    ProjectFactory.create_batch(project_count)
    with django_assert_num_queries(2):  # the newest serial, the projects
        client.get("/simple/", HTTP_ACCEPT=JSON_V1)
    with django_assert_num_queries(1):
        response = client.get("/simple/", HTTP_ACCEPT=JSON_V1)
    assert len(json.loads(response.content)["projects"]) == project_count


def test_redirect_and_404_cost_one_query(client, demo, django_assert_num_queries):
    with django_assert_num_queries(1):
        assert client.get("/simple/Demo_Pkg/").status_code == 301
    with django_assert_num_queries(1):
        assert client.get("/simple/nothing-here/").status_code == 404


def test_file_urls_download_the_listed_bytes(client, demo):
    for file in get_json(client, "/simple/demo-pkg/")["files"]:
        response = client.get(file["url"])
        body = b"".join(response.streaming_content)
        assert hashlib.sha256(body).hexdigest() == file["hashes"]["sha256"]
        if file["core-metadata"]:
            metadata = b"".join(client.get(file["url"] + ".metadata").streaming_content)
            assert hashlib.sha256(metadata).hexdigest() == file["core-metadata"]["sha256"]
