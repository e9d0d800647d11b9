"""Retention policies managed by Owners (project) and staff (index-wide), in the API and the admin."""

from __future__ import annotations

import json

import pytest
from django.contrib.auth.models import Permission

from packages_app.models import JournalEntry, Release, RetentionPolicy, RoleName, Visibility
from packages_app.services import journal, projects, roles, tokens
from packages_app.services import retention as retention_services
from tests.factories import ProjectFactory, UserFactory
from tests.functional.problems import assert_problem
from tests.functional.test_retention import releases_of

API = "/api/v1/projects/app/retention/"


@pytest.fixture
def alice(db):
    return UserFactory(username="alice")


@pytest.fixture
def app(alice):
    project = projects.create_project("app")
    roles.grant_role(project, alice, RoleName.OWNER)
    releases_of(project, "1.0", "1.1.dev1", "1.1.dev2", "1.1.dev3")
    return project


def bearer(user, **options) -> str:
    return "Bearer " + tokens.create_token(user, name="api", **options)[1]


def api(client, method: str, url: str, auth: str | None = None, payload=None):
    headers = {"HTTP_AUTHORIZATION": auth} if auth else {}
    body = json.dumps(payload) if payload is not None else None
    return getattr(client, method)(url, body, content_type="application/json", **headers)


def test_owners_manage_their_projects_policies_and_preview_them(client, alice, app):
    auth = bearer(alice)
    response = api(client, "post", API, auth, {"dev": True, "keep_newest": 1})
    assert response.status_code == 201, response.content
    policy = response.json()
    assert policy["project"] == "app"
    assert policy["description"] == "app: dev-releases, keep the newest 1"
    assert [entry["id"] for entry in api(client, "get", API, auth).json()["results"]] == [policy["id"]]
    preview = api(client, "get", f"{API}preview/", auth).json()["results"]
    assert [(item["version"], item["files"], item["size"]) for item in preview] == [
        ("1.1.dev1", 1, 1000),
        ("1.1.dev2", 1, 1000),
    ]
    pinned = api(client, "post", "/api/v1/projects/app/releases/1.1.dev1/keep/", auth, {"keep": True})
    assert pinned.json() == {"keep": True}
    assert Release.objects.get(version="1.1.dev1").keep
    assert [item["version"] for item in api(client, "get", f"{API}preview/", auth).json()["results"]] == ["1.1.dev2"]
    assert api(client, "delete", f"{API}{policy['id']}/", auth).status_code == 204
    assert not RetentionPolicy.objects.exists()
    assert JournalEntry.objects.filter(kind=journal.RETENTION_CHANGED, submitted_by=alice).count() == 3


def test_policies_are_checked(client, alice, app):
    auth = bearer(alice)
    assert "keep_newest" in assert_problem(api(client, "post", API, auth, {"dev": True}), 400)["detail"]
    no_kind = api(client, "post", API, auth, {"dev": False, "keep_newest": 1})
    assert "choose at least one" in assert_problem(no_kind, 400)["detail"]
    assert_problem(api(client, "post", API, auth, {"keep_newest": -1}), 400)
    assert not RetentionPolicy.objects.exists()


def test_only_owners_touch_a_projects_retention(client, alice, app):
    maintainer = UserFactory(username="maud")
    roles.grant_role(app, maintainer, RoleName.MAINTAINER)
    policy = retention_services.add_policy(app, keep_newest=1)
    for auth in (bearer(maintainer), bearer(alice, read_only=True)):
        assert_problem(api(client, "get", API, auth), 403)
        assert_problem(api(client, "post", API, auth, {"keep_newest": 1}), 403)
        assert_problem(api(client, "delete", f"{API}{policy.pk}/", auth), 403)
        assert_problem(api(client, "post", "/api/v1/projects/app/releases/1.0/keep/", auth, {"keep": True}), 403)
    projects.set_visibility(app, Visibility.RESTRICTED)
    assert_problem(api(client, "get", f"{API}preview/", bearer(UserFactory(username="sam"))), 404)
    assert RetentionPolicy.objects.count() == 1


def staff_with(*codenames: str, username: str = "clerk"):
    user = UserFactory(username=username, is_staff=True)
    for codename in codenames:
        user.user_permissions.add(Permission.objects.get(content_type__app_label="packages_app", codename=codename))
    return user


def test_index_wide_policies_are_for_staff_with_the_permissions(client, alice, app):
    url = "/api/v1/retention/"
    clerk = staff_with("view_retentionpolicy", "add_retentionpolicy", "delete_retentionpolicy")
    created = api(client, "post", url, bearer(clerk), {"pre": True, "dev": False, "older_than_days": 30})
    assert created.status_code == 201, created.content
    assert created.json()["project"] is None
    assert created.json()["description"] == "every project: pre-releases, delete those older than 30 days"
    assert len(api(client, "get", url, bearer(clerk)).json()["results"]) == 1
    assert "for staff" in assert_problem(api(client, "get", url, bearer(alice)), 403)["detail"]
    viewer = staff_with("view_retentionpolicy", username="vera")
    refused = api(client, "post", url, bearer(viewer), {"keep_newest": 1})
    assert "packages_app.add_retentionpolicy" in assert_problem(refused, 403)["detail"]
    limited = api(client, "post", url, bearer(clerk, projects=[app]), {"keep_newest": 1})
    assert "limited to projects" in assert_problem(limited, 403)["detail"]
    pk = created.json()["id"]
    assert_problem(api(client, "delete", f"{url}{pk}/", bearer(viewer)), 403)
    assert api(client, "delete", f"{url}{pk}/", bearer(clerk)).status_code == 204
    assert not RetentionPolicy.objects.exists()


ADMIN = "/admin/packages_app/retentionpolicy/"


def test_staff_owners_manage_policies_in_the_admin(client, alice, app):
    olga = staff_with("view_retentionpolicy", "add_retentionpolicy", "delete_retentionpolicy", username="olga")
    mine = ProjectFactory(name="olga-app")
    roles.grant_role(mine, olga, RoleName.OWNER)
    releases_of(mine, "1.0", "2.0.dev1", "2.0.dev2")
    theirs = retention_services.add_policy(app, keep_newest=1)
    client.force_login(olga)
    assert b"app: dev-releases" not in client.get(ADMIN).content  # another project's
    refused = client.post(f"{ADMIN}add/", {"project": app.pk, "dev": "on", "keep_newest": 1})
    assert b"Select a valid choice" in refused.content
    missing = client.post(f"{ADMIN}add/", {"project": mine.pk, "dev": "on"})
    assert b"Set how many to keep" in missing.content
    response = client.post(f"{ADMIN}add/", {"project": mine.pk, "dev": "on", "keep_newest": 1})
    assert response.status_code == 302, response.content
    added = RetentionPolicy.objects.get(project=mine)
    page = client.get(f"{ADMIN}{added.pk}/change/")
    assert b"1 release(s), 1000" in page.content
    assert b"2.0.dev1" in page.content
    assert client.post(f"{ADMIN}{theirs.pk}/delete/", {"post": "yes"}).status_code in (302, 403, 404)
    assert RetentionPolicy.objects.filter(pk=theirs.pk).exists()
    assert client.post(f"{ADMIN}{added.pk}/delete/", {"post": "yes"}).status_code == 302
    assert not RetentionPolicy.objects.filter(pk=added.pk).exists()
    # Index-wide: any staff user with the permission.
    response = client.post(f"{ADMIN}add/", {"pre": "on", "older_than_days": 90})
    assert response.status_code == 302, response.content
    assert RetentionPolicy.objects.filter(project__isnull=True).count() == 1


def test_releases_are_pinned_in_the_admin(admin_client, app):
    release = Release.objects.get(version="1.1.dev1")
    response = admin_client.post(
        "/admin/packages_app/release/", {"action": "pin", "_selected_action": [release.pk], "reason": ""}
    )
    assert response.status_code == 302
    release.refresh_from_db()
    assert release.keep
    admin_client.post("/admin/packages_app/release/", {"action": "unpin", "_selected_action": [release.pk]})
    release.refresh_from_db()
    assert not release.keep
