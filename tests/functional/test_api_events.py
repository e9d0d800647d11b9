"""The events feed (``/api/v1/events/``): filtered by project, each event with its actor
(a user, or a user's API token by key id and name) and its action from the fixed
vocabulary of ``packages_app.services.journal.ACTIONS`` (issue 18)."""

from __future__ import annotations

import base64
import json
import re
from pathlib import Path

import pytest
from django.core.management import call_command

from harness.dists import build_wheel
from packages_app.models import JournalEntry, Project, Release
from packages_app.services import files, journal, projects, quotas, releases, retention, roles, tokens, webhooks
from packages_app.services import namespaces as namespace_services
from packages_app.trusted_publishing import service as trusted_publishing
from packages_app.trusted_publishing.claims import GITHUB_ISSUER
from tests.factories import UserFactory
from tests.functional.upload_client import basic_auth, post_upload, twine_fields

API = "/api/v1"
PASSWORD = "correct horse battery staple"


def events(client, query: str = "") -> list[dict]:
    response = client.get(f"{API}/events/{query}")
    assert response.status_code == 200, response.content
    return response.json()["results"]


def token_auth(token_plaintext: str) -> str:
    return "Basic " + base64.b64encode(f"__token__:{token_plaintext}".encode()).decode()


@pytest.fixture
def history(client, tmp_path, db):
    """alice uploads Demo_Pkg 1.0 with her password, then 2.0 with her token 'ci';
    'other' 1.0 too; the ci token yanks Demo_Pkg 1.0 through the API."""
    alice = UserFactory(username="alice")
    token, secret = tokens.create_token(alice, name="ci")
    for name, version, auth in (
        ("Demo_Pkg", "1.0", basic_auth("alice", PASSWORD)),
        ("Demo_Pkg", "2.0", token_auth(secret)),
        ("other", "1.0", basic_auth("alice", PASSWORD)),
    ):
        wheel = build_wheel(tmp_path / f"{name}-{version}", name, version)
        assert post_upload(client, twine_fields(wheel, name, version), auth).status_code == 200
    response = client.post(
        f"{API}/projects/demo-pkg/releases/1.0/yank/",
        json.dumps({"reason": "broken"}),
        content_type="application/json",
        HTTP_AUTHORIZATION=f"Bearer {secret}",
    )
    assert response.status_code == 200, response.content
    return token


def test_the_project_filter_lists_only_that_projects_events(client, history):
    everything = events(client)
    assert {event["project"] for event in everything} == {"Demo_Pkg", "other"}
    for spelling in ("Demo_Pkg", "demo-pkg", "DEMO.pkg"):
        mine = events(client, f"?project={spelling}")
        assert mine == [event for event in everything if event["project"] == "Demo_Pkg"], spelling
    assert [event["action"] for event in events(client, "?project=other")] == [
        "project-created",
        "role-granted",
        "release-created",
        "file-added",
    ]


def test_the_project_filter_pages_with_since(client, history):
    mine = events(client, "?project=demo-pkg")
    response = client.get(f"{API}/events/?project=demo-pkg&page_size=2")
    page = response.json()
    assert page["results"] == mine[:2]
    assert "project=demo-pkg" in page["next"]
    rest = client.get(page["next"]).json()
    assert rest["results"] == mine[2:4]


def test_an_unknown_project_has_no_events_and_a_bad_name_is_400(client, history):
    assert events(client, "?project=never-heard-of-it") == []
    response = client.get(f"{API}/events/?project=-bad-")
    assert response.status_code == 400
    assert "project" in response.json()["detail"]


def test_events_of_a_deleted_project_are_still_found_by_its_name(client, history):
    projects.delete_project(Project.objects.get(normalized_name="other"))
    assert [event["action"] for event in events(client, "?project=other")][-1] == "project-deleted"


def actors(client, **headers) -> dict:
    response = client.get(f"{API}/events/?project=demo-pkg", **headers)
    assert response.status_code == 200, response.content
    return {(event["action"], event["version"]): event["actor"] for event in response.json()["results"]}


def test_every_event_names_its_actor(client, history):
    password = {"type": "user", "user": "alice", "token": None, "publisher": None}
    ci = {"type": "token", "user": "alice", "token": {"key_id": history.key_id, "name": "ci"}, "publisher": None}
    mine = actors(client, HTTP_AUTHORIZATION=basic_auth("alice", PASSWORD))
    assert mine[("project-created", "")] == password
    assert mine[("file-added", "1.0")] == password
    assert mine[("release-created", "2.0")] == ci
    assert mine[("file-added", "2.0")] == ci
    assert mine[("release-yanked", "1.0")] == ci


def test_which_token_acted_is_told_only_to_its_user_and_superusers(client, history):
    """Token key ids and names appear on no public answer; the actor's kind and user do."""
    hidden = {"type": "token", "user": "alice", "token": None, "publisher": None}
    _other, secret = tokens.create_token(UserFactory(username="mallory"), name="mine")
    _root, root_secret = tokens.create_token(UserFactory(username="root", is_superuser=True), name="ops")
    anonymous = client.get(f"{API}/events/?project=demo-pkg")
    assert actors(client)[("file-added", "2.0")] == hidden
    assert history.key_id not in anonymous.content.decode()
    assert "public" in anonymous["Cache-Control"]
    assert "Authorization" in anonymous["Vary"]
    assert actors(client, HTTP_AUTHORIZATION=f"Bearer {secret}")[("file-added", "2.0")] == hidden
    as_root = client.get(f"{API}/events/?project=demo-pkg", HTTP_AUTHORIZATION=f"Bearer {root_secret}")
    assert history.key_id in as_root.content.decode()
    assert as_root["Cache-Control"] == "max-age=0, private"


def test_the_journal_keeps_the_token_after_it_is_revoked(client, history):
    tokens.revoke_token(history)
    entry = JournalEntry.objects.get(version="2.0", filename__endswith=".whl")
    assert (entry.token_key_id, entry.token_name) == (history.key_id, "ci")
    mine = actors(client, HTTP_AUTHORIZATION=basic_auth("alice", PASSWORD))
    assert mine[("release-yanked", "1.0")]["token"] == {"key_id": history.key_id, "name": "ci"}


def test_an_operators_command_has_no_user(client, history, tmp_path):
    call_command("unyank", "demo-pkg", "1.0")
    unyank = events(client, "?project=demo-pkg")[-1]
    assert unyank["action"] == "release-unyanked"
    assert unyank["actor"] == {"type": "none", "user": None, "token": None, "publisher": None}


def test_actions_come_from_the_documented_vocabulary(client, history, tmp_path):
    """Every writer uses a constant of the vocabulary, and docs/api.md lists each one."""
    project = Project.objects.get(normalized_name="demo-pkg")
    alice = project.roles.get().user
    roles.grant_role(project, UserFactory(username="bob"), "Maintainer", user=alice)
    roles.revoke_role(project, project.roles.get(role_name="Maintainer").user, user=alice)
    projects.set_status(project, "deprecated", "use other", user=alice)
    projects.set_visibility(project, "restricted", user=alice)
    projects.set_visibility(project, "index", user=alice)  # back: this anonymous feed hides a restricted one
    releases.unyank_release(Release.objects.get(project=project, version="1.0"))
    files.delete_file(Release.objects.get(version="2.0").files.get())
    releases.delete_release(Release.objects.get(version="2.0"))
    token, _secret = tokens.create_token(alice, name="spare")
    tokens.revoke_token(token)
    namespace_services.grant_namespace("demo", alice)
    namespace_services.revoke_namespace("demo")
    claims = {"repository": "acme/app", "repository_owner_id": "1", "workflow": "release.yml"}
    publisher = trusted_publishing.add_publisher("github", GITHUB_ISSUER, claims, project=project, user=alice)
    trusted_publishing.remove_publisher(publisher, user=alice)
    hook, _secret = webhooks.add_webhook("https://hooks.example.com/", project=project, user=alice)
    webhooks.remove_webhook(hook, user=alice)
    policy = retention.add_policy(project, keep_newest=5, user=alice)
    retention.remove_policy(policy, user=alice)
    quotas.set_project_quota(project, 10**9, user=alice)
    seen = {entry.kind for entry in JournalEntry.objects.all()}
    assert seen <= journal.ACTIONS
    assert seen >= journal.ACTIONS - {journal.FILE_RESTORED, journal.PROJECT_DELETED}
    documented = set(re.findall(r"^\| `([a-z-]+)` \|", (Path(__file__).parents[2] / "docs/api.md").read_text(), re.M))
    assert documented >= journal.ACTIONS
    # The feed shows the vocabulary as "action", and the journal's own words as "description".
    feed = events(client, "?project=demo-pkg")
    assert {event["action"] for event in feed} <= journal.ACTIONS
    assert any(event["description"] == "set status deprecated" for event in feed)
