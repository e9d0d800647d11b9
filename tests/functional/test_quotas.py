"""Storage quotas: a project's own limit, a team's limit over the projects it owns, the 400 an
upload past either gets (with the figures), and both set and shown in the admin."""

from __future__ import annotations

import pytest
from django.contrib.auth.models import Group

from harness.dists import build_wheel
from packages_app import quotas
from packages_app.models import File, JournalEntry, Project, RoleName, TeamQuota
from packages_app.services import journal, projects, roles, tokens
from packages_app.services import quotas as quota_services
from packages_app.sizes import parse_size
from tests.factories import UserFactory
from tests.functional.upload_client import basic_auth, post_upload, twine_fields


@pytest.fixture
def alice(db):
    return UserFactory(username="alice")


@pytest.fixture
def auth(alice):
    return basic_auth("__token__", tokens.create_token(alice, name="ci")[1])


def upload(client, tmp_path, auth, name: str, version: str):
    directory = tmp_path / f"{name}-{version}"
    directory.mkdir(exist_ok=True)
    wheel = build_wheel(directory, name, version)
    return post_upload(client, twine_fields(wheel, name, version), auth), wheel.stat().st_size


def owned(name: str, owner) -> Project:
    project = projects.create_project(name)
    roles.grant_role(project, owner, RoleName.OWNER)
    return project


def test_a_projects_own_quota_replaces_the_index_default(client, tmp_path, alice, auth, settings):
    project = owned("app", alice)
    response, size = upload(client, tmp_path, auth, "app", "1.0")
    assert response.status_code == 200
    settings.MAX_PROJECT_SIZE = size + 10
    quota_services.set_project_quota(project, 10 * size)  # its own quota is larger: allowed
    assert upload(client, tmp_path, auth, "app", "2.0")[0].status_code == 200
    quota_services.set_project_quota(project, size + 10)
    response, _ = upload(client, tmp_path, auth, "app", "3.0")
    assert response.status_code == 400
    text = response.content.decode()
    assert "Project size too large. Limit for project 'app' total size is" in text
    assert "it holds" in text
    assert "and this file is" in text
    assert File.objects.count() == 2
    quota_services.set_project_quota(project, None)  # back to MAX_PROJECT_SIZE, still too small
    assert upload(client, tmp_path, auth, "app", "3.0")[0].status_code == 400
    entries = JournalEntry.objects.filter(kind=journal.QUOTA_SET).values_list("action", flat=True)
    assert list(entries)[-1] == "set quota of project app to the index's default"


def test_a_team_quota_counts_every_project_the_team_owns(client, tmp_path, alice, auth):
    platform = Group.objects.create(name="platform")
    first, second = owned("first", alice), owned("second", alice)
    for project in (first, second):
        roles.grant_role(project, platform, RoleName.OWNER)
    maintained = owned("maintained", alice)
    roles.grant_role(maintained, platform, RoleName.MAINTAINER)  # not the team's to pay for
    response, size = upload(client, tmp_path, auth, "first", "1.0")
    assert response.status_code == 200
    quota_services.set_team_quota(platform, 2 * size + size // 2)
    assert upload(client, tmp_path, auth, "second", "1.0")[0].status_code == 200
    response, _ = upload(client, tmp_path, auth, "second", "2.0")
    assert response.status_code == 400
    assert "Storage quota exceeded for team 'platform', an Owner of project 'second'" in response.content.decode()
    assert upload(client, tmp_path, auth, "maintained", "1.0")[0].status_code == 200
    usage = quotas.team_usage(TeamQuota.objects.get())
    owned_files = File.objects.filter(release__project__in=[first, second])
    assert usage.used == sum(owned_files.values_list("size", flat=True))
    quota_services.set_team_quota(platform, None)
    assert upload(client, tmp_path, auth, "second", "2.0")[0].status_code == 200


@pytest.mark.parametrize(("text", "size"), [("10", 10), ("10GiB", 10 * 2**30), ("500 MB", 500 * 10**6), ("1kib", 1024)])
def test_sizes(text, size):
    assert parse_size(text) == size


@pytest.mark.parametrize("text", ["ten", "-1", "1.5GB", "10 parsecs", ""])
def test_not_sizes(text):
    with pytest.raises(ValueError, match="Not a size"):
        parse_size(text)


def test_quotas_set_and_shown_in_the_admin(admin_client, tmp_path, alice, auth, client):
    project = owned("app", alice)
    assert upload(client, tmp_path, auth, "app", "1.0")[0].status_code == 200
    page = f"/admin/packages_app/project/{project.pk}/change/"
    assert b"project &#x27;app&#x27;: " in admin_client.get(page).content
    form = {"status": "active", "status_reason": "", "visibility": "index", "quota": "1MiB"}
    response = admin_client.post(page, form)
    assert response.status_code == 302, response.content
    project.refresh_from_db()
    assert project.quota == 2**20
    assert b"of 1 MB" in admin_client.get(page).content
    refused = admin_client.post(page, {**form, "quota": "a lot"})
    assert b"Not a size" in refused.content
    platform = Group.objects.create(name="platform")
    roles.grant_role(project, platform, RoleName.OWNER)
    response = admin_client.post("/admin/packages_app/teamquota/add/", {"team": platform.pk, "limit": "2 MB"})
    assert response.status_code == 302, response.content
    assert TeamQuota.objects.get().limit == 2 * 10**6
    assert b"team &#x27;platform&#x27;: " in admin_client.get(page).content
    listing = admin_client.get("/admin/packages_app/teamquota/")
    assert b"1.907 MB" in listing.content
    assert JournalEntry.objects.filter(kind=journal.QUOTA_SET).count() == 2
