"""The live root list (``simple.root_list``): kept pieces against full builds, and the HTML root's serial."""

from __future__ import annotations

import random

import pytest
from django.contrib.auth.models import User
from django.test import Client

from packages_app import access
from packages_app.authentication import Identity
from packages_app.models import JournalEntry, Project, ProjectStatus, Visibility
from packages_app.naming import normalize_name
from packages_app.services import projects, roles, tokens
from packages_app.simple import builders, renderers
from packages_app.simple.renderers import JSON_V1, SimpleJSONRenderer, SimpleTextHTMLRenderer
from tests.factories import UserFactory
from tests.functional.upload_client import basic_auth, publish

FORMS = [(JSON_V1, SimpleJSONRenderer()), ("text/html", SimpleTextHTMLRenderer())]


def _assert_roots_match_full_builds(client, step: str, staff: Client | None = None) -> None:
    """The root an anonymous reader gets, and (``staff``) the one of a viewer who sees every
    restricted project, each byte for byte what a full build for that viewer makes."""
    serial = JournalEntry.objects.last_serial()
    readers = [(client, access.ANONYMOUS)]
    if staff is not None:
        user = User.objects.get(username="staff-reader")
        readers.append((staff, access.viewer_of(Identity(user=user))))
    for reader, viewer in readers:
        for accept, renderer in FORMS:
            served = reader.get("/simple/", HTTP_ACCEPT=accept)
            assert served.status_code == 200
            assert served["X-PyPI-Last-Serial"] == str(serial)
            page = builders.index_page(serial, viewer=viewer)
            full = renderer.render(page, renderer.media_type, {"project_url": "/simple/{}/"})
            assert served.getvalue() == full, f"{accept} after {step}, for {viewer.identity or 'anonymous'}"


@pytest.mark.parametrize("seed", range(3))
def test_the_root_is_byte_identical_to_full_builds_after_every_change(client, tmp_path, auth, seed):
    rng = random.Random(seed)  # noqa: S311 - a reproducible history, not a secret
    versions: dict[str, int] = {}

    def upload(name: str) -> str:
        number = versions[normalize_name(name)] = versions.get(normalize_name(name), 0) + 1
        publish(client, tmp_path, name, f"{number}.0", auth=auth)
        return f"upload to {name}"

    def existing() -> Project | None:
        return rng.choice(list(Project.objects.all()) or [None])

    def new_project() -> str:
        return upload(f"proj-{rng.randint(0, 9999)}")

    def upload_respelled() -> str:
        project = existing()
        if project is None or project.status != ProjectStatus.ACTIVE:
            return new_project()
        spelling = rng.choice([project.normalized_name.upper(), project.normalized_name.replace("-", "_")])
        return upload(spelling)

    def set_status() -> str:
        project = existing()
        if project is None:
            return new_project()
        status = rng.choice([ProjectStatus.QUARANTINED, ProjectStatus.ACTIVE, ProjectStatus.DEPRECATED])
        projects.set_status(project, status, "why")
        return f"{project.name} {status}"

    def delete() -> str:
        project = existing()
        if project is None:
            return new_project()
        projects.delete_project(project)
        return f"delete {project.name}"

    def grant() -> str:
        project = existing()
        if project is None:
            return new_project()
        roles.grant_role(project, UserFactory(), "Maintainer")
        return f"role on {project.name}"

    def restrict_or_open() -> str:
        project = existing()
        if project is None:
            return new_project()
        visibility = rng.choice([Visibility.RESTRICTED, Visibility.INDEX])
        projects.set_visibility(project, visibility)
        return f"{project.name} {visibility}"

    staff_user = UserFactory(username="staff-reader", is_staff=True)
    staff = Client(HTTP_AUTHORIZATION=basic_auth("__token__", tokens.create_token(staff_user, read_only=True)[1]))
    steps = [(new_project, 4), (upload_respelled, 4), (set_status, 2), (delete, 1), (grant, 1), (restrict_or_open, 2)]
    actions, weights = zip(*steps, strict=True)
    new_project()
    _assert_roots_match_full_builds(client, "the first upload", staff)
    for _ in range(30):
        _assert_roots_match_full_builds(client, rng.choices(actions, weights)[0](), staff)


def test_an_upload_to_an_existing_project_leaves_the_html_root_as_it_was(client, tmp_path, auth, monkeypatch):
    for name in ("alpha", "beta", "gamma"):
        publish(client, tmp_path, name, "1.0", auth=auth)
    html = client.get("/simple/", HTTP_ACCEPT="text/html")
    json_root = client.get("/simple/", HTTP_ACCEPT=JSON_V1)
    rendered = []
    real_line = renderers.project_line
    monkeypatch.setattr(renderers, "project_line", lambda *args: rendered.append(args[0]) or real_line(*args))

    publish(client, tmp_path, "beta", "2.0", auth=auth)

    again = client.get("/simple/", HTTP_ACCEPT="text/html", HTTP_IF_NONE_MATCH=html["ETag"])
    assert again.status_code == 304  # same page, same tag: caches keep what they have
    fetched = client.get("/simple/", HTTP_ACCEPT="text/html")
    assert fetched["ETag"] == html["ETag"]
    assert fetched.content == html.content
    assert int(fetched["X-PyPI-Last-Serial"]) > int(html["X-PyPI-Last-Serial"])  # the index's serial, as ever
    json_again = client.get("/simple/", HTTP_ACCEPT=JSON_V1, HTTP_IF_NONE_MATCH=json_root["ETag"])
    assert json_again.status_code == 200  # the JSON root names every project's serial
    assert rendered == ["beta"]  # only the project the change touched was read again

    publish(client, tmp_path, "delta", "1.0", auth=auth)
    assert client.get("/simple/", HTTP_ACCEPT="text/html", HTTP_IF_NONE_MATCH=html["ETag"]).status_code == 200
    _assert_roots_match_full_builds(client, "a new project")
