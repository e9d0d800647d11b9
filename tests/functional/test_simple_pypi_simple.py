"""A third-party client library (pypi-simple) reads both forms of our pages the same way."""

from __future__ import annotations

import json

import pytest
from pypi_simple import ProjectPage, UnexpectedRepoVersionWarning

from packages_app.models import File, Project, Release
from packages_app.services import releases
from tests.factories import UserFactory
from tests.functional.upload_client import basic_auth, publish

BASE_URL = "http://testserver/simple/demo-pkg/"


@pytest.fixture
def project(client, tmp_path, db):
    UserFactory(username="owner")
    auth = basic_auth("owner", "correct horse battery staple")
    publish(client, tmp_path, "Demo_Pkg", "1.0", auth=auth, requires_python=">=3.8,<4")
    publish(client, tmp_path, "Demo_Pkg", "1.0", auth=auth, sdist=True)
    publish(client, tmp_path, "Demo_Pkg", "2.0", auth=auth)
    publish(client, tmp_path, "Demo_Pkg", "3.0", auth=auth)
    releases.yank_release(Release.objects.get(version="2.0"), 'has a "bad" bug & more')
    releases.yank_release(Release.objects.get(version="3.0"))
    return Project.objects.get(normalized_name="demo-pkg")


def described(page: ProjectPage) -> list[tuple]:
    # HTML cannot say "no metadata" (the attribute is just absent: None) or "yanked
    # without a reason" (data-yanked="": ''); JSON says False and true. Same meaning.
    return [
        (
            package.filename,
            package.url,
            package.digests,
            package.requires_python,
            package.is_yanked,
            package.yanked_reason or None,
            bool(package.has_metadata),
            package.metadata_digests,
        )
        for package in page.packages
    ]


def test_both_forms_describe_the_same_files(client, project):
    html = client.get("/simple/demo-pkg/", HTTP_ACCEPT="text/html").content
    data = json.loads(client.get("/simple/demo-pkg/", HTTP_ACCEPT="application/vnd.pypi.simple.v1+json").content)
    from_html = ProjectPage.from_html("demo-pkg", html, base_url=BASE_URL)
    # JSON is at 1.5 (PEP 752), newer than the library knows: it warns and reads on, ignoring
    # the unknown ``namespaces`` key, as PEP 629 asks of a client seeing a newer minor version.
    with pytest.warns(UnexpectedRepoVersionWarning):
        from_json = ProjectPage.from_json_data(data, base_url=BASE_URL)

    assert described(from_html) == described(from_json)
    assert from_html.repository_version == "1.4"  # HTML stays at 1.4 (PEP 833)
    assert from_json.repository_version == "1.5"
    assert from_json.last_serial == str(project.last_serial)  # HTML gives it only in a header
    assert from_html.status == from_json.status == "active"

    by_name = {package.filename: package for package in from_json.packages}
    for file in File.objects.select_related("release"):
        package = by_name.pop(file.filename)
        assert package.url == f"http://testserver/packages/{file.path}"
        assert package.digests == {"sha256": file.sha256_digest}
        assert package.version == file.release.version
        assert package.has_metadata is (file.metadata_sha256 is not None)
        assert package.is_yanked is file.release.yanked
        assert package.size == file.size
        assert package.upload_time == file.upload_time
    assert by_name == {}
    yanked_reasons = {package.version: package.yanked_reason for package in from_json.packages if package.is_yanked}
    assert yanked_reasons == {"2.0": 'has a "bad" bug & more', "3.0": None}
    assert {package.requires_python for package in from_json.packages} == {">=3.8,<4", None}
    assert from_json.versions == ["1.0", "2.0", "3.0"]
