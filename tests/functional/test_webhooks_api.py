"""Webhooks in the metadata API: Owners manage their projects', staff with the permission the
index-wide ones; the secret is in the answer that adds one, and never again."""

from __future__ import annotations

import json

import pytest
from django.contrib.auth.models import Permission

from packages_app.models import JournalEntry, RoleName, Webhook
from packages_app.services import journal, projects, roles, tokens
from tests.factories import UserFactory
from tests.functional.problems import assert_problem

API = "/api/v1"

pytestmark = pytest.mark.django_db


def bearer(user, **options) -> str:
    _token, plaintext = tokens.create_token(user, name="api", **options)
    return f"Bearer {plaintext}"


def api(client, method: str, url: str, auth: str | None = None, payload=None):
    headers = {"HTTP_AUTHORIZATION": auth} if auth else {}
    body = json.dumps(payload) if payload is not None else None
    return getattr(client, method)(url, body, content_type="application/json", **headers)


@pytest.fixture
def alice():
    return UserFactory(username="alice")


@pytest.fixture
def demo(alice):
    project = projects.create_project("Demo_Pkg")
    roles.grant_role(project, alice, RoleName.OWNER)
    return project


def test_an_owner_adds_lists_reads_and_removes_a_project_webhook(client, alice, demo):
    auth = bearer(alice)
    url = f"{API}/projects/demo-pkg/webhooks/"
    added = api(client, "post", url, auth, {"url": "https://hooks.example.com/in", "kinds": ["file-added"]})
    assert added.status_code == 201, added.content
    body = added.json()
    hook = Webhook.objects.get()
    assert body["secret"] == hook.secret
    assert (body["project"], body["kinds"], body["lag"], body["active"]) == ("demo-pkg", ["file-added"], 0, True)
    assert hook.created_by == alice
    listed = api(client, "get", url, auth).json()["results"]
    assert [item["id"] for item in listed] == [hook.pk]
    assert "secret" not in listed[0]
    one = api(client, "get", f"{url}{hook.pk}/", auth)
    assert one.status_code == 200
    assert hook.secret not in one.content.decode()
    assert api(client, "delete", f"{url}{hook.pk}/", auth).status_code == 204
    assert not Webhook.objects.exists()
    assert JournalEntry.objects.order_by("-id").first().kind == journal.WEBHOOK_REMOVED


@pytest.mark.parametrize(
    ("payload", "field"),
    [
        ({"url": "not a url"}, "url"),
        ({"url": "https://hooks.example.com/", "kinds": ["token-created"]}, "kinds"),
        ({"url": "https://user:pw@hooks.example.com/"}, "url"),
    ],
)
def test_a_bad_webhook_is_a_400(client, alice, demo, payload, field):
    response = api(client, "post", f"{API}/projects/demo-pkg/webhooks/", bearer(alice), payload)
    problem = assert_problem(response, 400)
    assert field in json.dumps(problem)
    assert not Webhook.objects.exists()


def test_only_owners_with_a_token_manage_a_projects_webhooks(client, alice, demo):
    url = f"{API}/projects/demo-pkg/webhooks/"
    assert_problem(api(client, "get", url), 401)
    maintainer = UserFactory(username="bob")
    roles.grant_role(demo, maintainer, RoleName.MAINTAINER)
    assert_problem(api(client, "post", url, bearer(maintainer), {"url": "https://hooks.example.com/"}), 403)
    assert_problem(api(client, "get", url, bearer(maintainer)), 403)
    read_only = bearer(alice, read_only=True)
    assert_problem(api(client, "post", url, read_only, {"url": "https://hooks.example.com/"}), 403)
    assert not Webhook.objects.exists()


def test_another_projects_webhook_is_not_found(client, alice, demo):
    other = projects.create_project("other")
    roles.grant_role(other, UserFactory(username="carol"), RoleName.OWNER)
    from packages_app.services import webhooks as webhook_services

    theirs, _ = webhook_services.add_webhook("https://hooks.example.com/theirs", project=other)
    assert_problem(api(client, "get", f"{API}/projects/demo-pkg/webhooks/{theirs.pk}/", bearer(alice)), 404)
    assert_problem(api(client, "delete", f"{API}/projects/demo-pkg/webhooks/{theirs.pk}/", bearer(alice)), 404)
    assert Webhook.objects.filter(pk=theirs.pk).exists()


def test_index_wide_webhooks_need_the_permission(client, alice):
    url = f"{API}/webhooks/"
    assert_problem(api(client, "post", url, bearer(alice), {"url": "https://hooks.example.com/all"}), 403)
    staff = UserFactory(username="ops", is_staff=True)
    staff.user_permissions.add(Permission.objects.get(codename="add_index_wide_webhook"))
    limited = bearer(staff, projects=[projects.create_project("one")])
    assert_problem(api(client, "post", url, limited, {"url": "https://hooks.example.com/all"}), 403)
    auth = bearer(staff)
    added = api(client, "post", url, auth, {"url": "https://hooks.example.com/all"})
    assert added.status_code == 201, added.content
    assert added.json()["project"] is None
    hook = Webhook.objects.get()
    assert [item["id"] for item in api(client, "get", url, auth).json()["results"]] == [hook.pk]
    assert api(client, "get", f"{url}{hook.pk}/", auth).status_code == 200
    root = UserFactory(username="root", is_staff=True, is_superuser=True)
    assert api(client, "delete", f"{url}{hook.pk}/", bearer(root)).status_code == 204
    assert not Webhook.objects.exists()
