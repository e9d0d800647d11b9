"""Incremental builds of the live project pages (``simple.pieces``) against full builds."""

from __future__ import annotations

import gzip
import random
import zlib

import pytest
from django.test import override_settings
from urllib3.response import GzipDecoder

from legacy_api import json_pages, json_pieces
from legacy_api import views as legacy_views
from packages_app.links import files_base_url
from packages_app.models import File, Project, ProjectStatus, Release
from packages_app.services import files, projects, releases
from packages_app.simple import builders, pieces
from packages_app.simple.renderers import JSON_V1, SimpleJSONRenderer, SimpleTextHTMLRenderer
from tests.functional.upload_client import publish

FORMS = [(JSON_V1, SimpleJSONRenderer()), ("text/html", SimpleTextHTMLRenderer())]


def _full_build(renderer) -> bytes:
    project = Project.objects.get(normalized_name="inc")
    return renderer.render(builders.project_page(project, files_base_url()), renderer.media_type, {})


def _gzipped(client, url: str, **headers) -> bytes:
    served = client.get(url, HTTP_ACCEPT_ENCODING="gzip", **headers)
    assert served.status_code == 200
    assert served["Content-Encoding"] == "gzip"
    return served.getvalue()


def _assert_gzip_form_is(zipped: bytes, plain: bytes, what: str) -> None:
    """One gzip member whose bytes are ``plain``, as every decoder a client may use reads it."""
    assert gzip.decompress(zipped) == plain, what
    inflate = zlib.decompressobj(wbits=31)
    assert inflate.decompress(zipped) == plain, what
    assert inflate.eof, f"{what}: one gzip member"
    assert not inflate.unused_data, f"{what}: nothing after the one gzip member"
    decoder = GzipDecoder()  # urllib3's, which pip uses
    assert decoder.decompress(zipped) + decoder.flush() == plain, what


def _assert_pages_match_full_builds(client, step: str, fresh_store) -> None:
    for accept, renderer in FORMS:
        # The gzip form first: the first request after a change, as pip sends it.
        zipped = _gzipped(client, "/simple/inc/", HTTP_ACCEPT=accept)
        served = client.get("/simple/inc/", HTTP_ACCEPT=accept)
        assert served.status_code == 200
        assert served.getvalue() == _full_build(renderer), f"{accept} after {step}"
        _assert_gzip_form_is(zipped, served.getvalue(), f"{accept} gzipped after {step}")
        # However the kept chunks were reached, a build from nothing compresses to the same bytes
        # (so every node serves one representation under one ETag).
        with override_settings(PAGE_STORE_DIR=fresh_store()):
            assert _gzipped(client, "/simple/inc/", HTTP_ACCEPT=accept) == zipped, f"{accept} after {step}"
    # The legacy JSON page, built from its kept releases (legacy_api.json_pieces).
    if client.get("/pypi/inc/json").status_code == 200:
        zipped = _gzipped(client, "/pypi/inc/json")
        _assert_gzip_form_is(zipped, client.get("/pypi/inc/json").getvalue(), f"legacy JSON gzipped after {step}")
        with override_settings(PAGE_STORE_DIR=fresh_store()):
            assert _gzipped(client, "/pypi/inc/json") == zipped, f"legacy JSON after {step}"
    served = client.get("/pypi/inc/json")
    project = Project.objects.get(normalized_name="inc")
    try:
        full = json_pages.build_page(project, None, legacy_views.base_url(served.wsgi_request)).body
    except json_pages.NoSuchRelease:
        assert served.status_code == 404, f"legacy JSON after {step}"
        return
    if project.offers_files:
        assert served.getvalue() == full, f"legacy JSON after {step}"
    else:
        assert served.status_code == 404, f"legacy JSON after {step}"


class History:
    """Random changes to one project, each through the services or an upload as twine sends it."""

    def __init__(self, client, directory, auth, rng: random.Random) -> None:
        self.client, self.directory, self.auth, self.rng = client, directory, auth, rng
        self.next_version = 1

    @property
    def project(self) -> Project:
        return Project.objects.get(normalized_name="inc")

    def _release(self) -> Release | None:
        return self.rng.choice(list(self.project.releases.all()) or [None])

    def upload_new_release(self) -> str:
        if self.project.status != ProjectStatus.ACTIVE:
            projects.set_status(self.project, ProjectStatus.ACTIVE)
            return "status active (to upload)"
        version = f"{self.next_version}.0"
        self.next_version += 1
        publish(self.client, self.directory, "inc", version, auth=self.auth, requires_python=">=3.9")
        return f"upload of {version}"

    def upload_sdist_to_a_release(self) -> str:
        release = self._release()
        if release is None or release.files.filter(packagetype="sdist").exists():
            return self.upload_new_release()
        if self.project.status != ProjectStatus.ACTIVE:
            return self.upload_new_release()
        publish(self.client, self.directory, "inc", release.version, auth=self.auth, sdist=True)
        return f"sdist for {release.version}"

    def release_without_files(self) -> str:
        version = f"{self.next_version}.0rc1"
        self.next_version += 1
        releases.create_release(self.project, version, {"summary": "no files"})
        return f"release {version} without files"

    def yank(self) -> str:
        release = self._release()
        if release is None:
            return self.release_without_files()
        if release.yanked and self.rng.random() < 0.5:
            releases.unyank_release(release)
            return f"unyank {release.version}"
        reason = self.rng.choice(["", 'broken <build> & "quotes"', "security"])
        releases.yank_release(release, reason)
        return f"yank {release.version} ({reason!r})"

    def delete_file(self) -> str:
        file = self.rng.choice(list(File.objects.filter(release__project=self.project)) or [None])
        if file is None:
            return self.upload_new_release()
        files.delete_file(file)
        return f"delete {file.filename}"

    def delete_release(self) -> str:
        release = self._release()
        if release is None:
            return self.release_without_files()
        releases.delete_release(release)
        return f"delete release {release.version}"

    def set_status(self) -> str:
        status = self.rng.choice([ProjectStatus.ARCHIVED, ProjectStatus.DEPRECATED, ProjectStatus.QUARANTINED])
        projects.set_status(self.project, status, "a reason")
        return f"status {status}"

    def steps(self):
        # Additions and yanks (the incremental path) are the common case; the rest starts afresh.
        return [
            (self.upload_new_release, 5),
            (self.upload_sdist_to_a_release, 3),
            (self.release_without_files, 2),
            (self.yank, 4),
            (self.delete_file, 1),
            (self.delete_release, 1),
            (self.set_status, 1),
        ]


@pytest.fixture
def fresh_store(tmp_path):
    """A new, empty page store each call: where a page is built from nothing."""
    count = iter(range(10**6))
    return lambda: tmp_path / "fresh-stores" / str(next(count))


@pytest.mark.parametrize("seed", range(4))
def test_incremental_pages_are_byte_identical_to_full_builds(client, tmp_path, auth, seed, fresh_store, monkeypatch):
    """After every change of a random history, the served pages are the full builder's bytes, and
    their gzip forms (made from kept chunks) decode to them and are the bytes a build from nothing makes."""
    if seed % 2:  # chunks of a few files or releases (simple.chunked), so that a change meets many
        monkeypatch.setattr(pieces, "SPREAD", 2)
        monkeypatch.setattr(json_pieces, "SPREAD", 2)
    rng = random.Random(seed)  # noqa: S311 - a reproducible history, not a secret
    history = History(client, tmp_path, auth, rng)
    publish(client, tmp_path, "inc", "0.1", auth=auth)
    _assert_pages_match_full_builds(client, "the first upload", fresh_store)
    actions, weights = zip(*history.steps(), strict=True)
    for _ in range(30):
        step = rng.choices(actions, weights)[0]()
        _assert_pages_match_full_builds(client, step, fresh_store)


def test_a_rebuild_after_an_upload_renders_only_the_new_file(client, tmp_path, auth, monkeypatch, fresh_store):
    for number in range(1, 6):
        publish(client, tmp_path, "inc", f"{number}.0", auth=auth)
        publish(client, tmp_path, "inc", f"{number}.0", auth=auth, sdist=True)
    client.get("/simple/inc/", HTTP_ACCEPT=JSON_V1)
    publish(client, tmp_path, "inc", "6.0", auth=auth)
    rendered = []
    real_entry = builders.file_entry
    monkeypatch.setattr(builders, "file_entry", lambda *args: rendered.append(args[1]) or real_entry(*args))
    client.get("/simple/inc/", HTTP_ACCEPT=JSON_V1)
    client.get("/simple/inc/", HTTP_ACCEPT="text/html")  # the same pieces serve the HTML form
    assert rendered == ["inc-6.0-py3-none-any.whl"]
    releases.yank_release(Release.objects.get(version="2.0"), "bad")
    rendered.clear()
    client.get("/simple/inc/", HTTP_ACCEPT=JSON_V1)
    assert sorted(rendered) == ["inc-2.0-py3-none-any.whl", "inc-2.0.tar.gz"]  # the yanked release's files
    _assert_pages_match_full_builds(client, "the yank", fresh_store)


def test_a_deletion_starts_again_from_nothing(client, tmp_path, auth, monkeypatch, fresh_store):
    for number in range(1, 4):
        publish(client, tmp_path, "inc", f"{number}.0", auth=auth)
    client.get("/simple/inc/", HTTP_ACCEPT=JSON_V1)
    files.delete_file(File.objects.get(filename="inc-1.0-py3-none-any.whl"))
    rendered = []
    real_entry = builders.file_entry
    monkeypatch.setattr(builders, "file_entry", lambda *args: rendered.append(args[1]) or real_entry(*args))
    client.get("/simple/inc/", HTTP_ACCEPT=JSON_V1)
    assert sorted(rendered) == ["inc-2.0-py3-none-any.whl", "inc-3.0-py3-none-any.whl"]
    _assert_pages_match_full_builds(client, "a deleted file", fresh_store)
