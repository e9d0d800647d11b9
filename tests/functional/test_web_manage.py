"""Owners manage a project from the web UI: roles (users and teams), status and visibility,
with the API's rules and through the same services."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from django.test import Client

from packages_app.models import DownloadCount, File, JournalEntry, Project, Role, RoleName
from packages_app.services import journal, namespaces, roles
from tests.factories import UserFactory
from tests.functional.web import make_scene

MANAGE = "/project/demo/manage/"


@pytest.fixture
def scene(db):
    return make_scene()


def as_user(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def role_names(project) -> dict[str, str]:
    return {role.holder_name: role.role_name for role in Role.objects.filter(project=project)}


def test_an_owner_adds_and_removes_maintainers_and_teams(scene):
    client = as_user(scene.olivia)
    assert f'href="{MANAGE}"' in client.get("/project/demo/").content.decode()
    response = client.post(MANAGE, {"action": "add-role", "holder": "nick", "role": "Maintainer"})
    assert response.status_code == 302
    response = client.post(MANAGE, {"action": "add-role", "holder": "team:blue", "role": "Reader"})
    assert response.status_code == 302
    assert role_names(scene.demo) == {"olivia": "Owner", "nick": "Maintainer", "team:blue": "Reader"}
    page = client.get(MANAGE).content.decode()
    assert "team:blue is now Reader of Demo." in page
    granted = JournalEntry.objects.filter(kind=journal.ROLE_GRANTED, submitted_by=scene.olivia)
    assert granted.count() == 2
    assert client.post(MANAGE, {"action": "remove-role", "holder": "nick"}).status_code == 302
    assert "nick" not in role_names(scene.demo)


def test_the_form_says_what_is_wrong_and_the_last_owner_stays(scene):
    client = as_user(scene.olivia)
    page = client.post(MANAGE, {"action": "add-role", "holder": "nobody", "role": "Maintainer"}).content.decode()
    assert "There is no active user named &#x27;nobody&#x27;." in page
    page = client.post(MANAGE, {"action": "add-role", "holder": "team:none", "role": "Owner"}).content.decode()
    assert "There is no team named &#x27;none&#x27;." in page
    client.post(MANAGE, {"action": "remove-role", "holder": "olivia"})
    assert "olivia is the last Owner of Demo" in client.get(MANAGE).content.decode()
    assert role_names(scene.demo) == {"olivia": "Owner"}


def test_owners_archive_and_restrict(scene):
    client = as_user(scene.olivia)
    client.post(MANAGE, {"action": "set-status", "status": "archived", "reason": "done"})
    project = Project.objects.get(pk=scene.demo.pk)
    assert (project.status, project.status_reason) == ("archived", "done")
    client.post(MANAGE, {"action": "set-status", "status": "quarantined"})
    assert Project.objects.get(pk=scene.demo.pk).status == "archived"  # staff's, never through this page
    client.post(MANAGE, {"action": "set-visibility", "visibility": "restricted"})
    assert Project.objects.get(pk=scene.demo.pk).visibility == "restricted"
    assert as_user(scene.nick).get("/project/demo/").status_code == 404


@pytest.mark.parametrize("role", [RoleName.MAINTAINER, RoleName.READER, None])
def test_only_owners_manage(scene, role):
    mallory = UserFactory(username="mallory")
    if role:
        roles.grant_role(scene.demo, mallory, role)
    client = as_user(mallory)
    assert f'href="{MANAGE}"' not in client.get("/project/demo/").content.decode()
    response = client.post(MANAGE, {"action": "add-role", "holder": "mallory", "role": "Owner"})
    assert response.status_code == 403
    assert "isn&#x27;t an owner of project &#x27;Demo&#x27;" in response.content.decode()
    assert role_names(scene.demo).get("mallory") == role


def test_a_restricted_project_is_not_found_and_anonymous_visitors_sign_in(scene, client):
    assert as_user(scene.nick).get("/project/secret-pkg/manage/").status_code == 404
    response = client.get(MANAGE)
    assert response.status_code == 302
    assert "/account/login/" in response["Location"]


def test_the_project_page_shows_downloads_to_readers_and_storage_to_owners(scene):
    file = File.objects.filter(release__project=scene.demo).first()
    today = datetime.now(UTC).date()
    DownloadCount.objects.create(file=file, release=file.release, project=scene.demo, day=today, count=7)
    owner_page = as_user(scene.olivia).get("/project/demo/").content.decode()
    assert "7 downloads in the last 30 days" in owner_page
    assert "Storage used:" in owner_page
    assert "of 10 GB" in owner_page
    reader_page = as_user(scene.nick).get("/project/demo/").content.decode()
    assert "7 downloads in the last 30 days" in reader_page
    assert "Storage used:" not in reader_page


def test_the_project_page_says_where_the_project_comes_from(scene):
    page = as_user(scene.nick).get("/project/demo/").content.decode()
    assert "Uploaded to this index." in page
    namespaces.grant_namespace("demo", scene.olivia)
    page = as_user(scene.nick).get("/project/demo/").content.decode()
    assert "<strong>demo</strong> (held by olivia)" in page
    assert "(PEP 752)" in page
