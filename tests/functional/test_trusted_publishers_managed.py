"""Trusted publishers shared by projects, managed by Owners (API and admin), failed exchanges
throttled, and uploads made by a publisher named in the events feed.

The issuer is the real one on 127.0.0.1 that tests/functional/test_trusted_publishing.py starts.
"""

from __future__ import annotations

import json

import pytest
from django.contrib.auth.models import Permission

from harness.dists import build_wheel
from packages_app.models import (
    ApiToken,
    File,
    JournalEntry,
    Project,
    Role,
    RoleName,
    TrustedPublisher,
    Visibility,
)
from packages_app.services import journal, namespaces, projects, roles, tokens
from packages_app.trusted_publishing.service import add_publisher, remove_publisher
from tests.factories import UserFactory
from tests.functional.problems import assert_problem
from tests.functional.test_trusted_publishing import (  # noqa: F401 - the issuer and its settings, as fixtures
    GITHUB,
    _trusted_publishing,
    github_claims,
    issuer,
    minted,
    refused,
)
from tests.functional.upload_client import basic_auth, post_upload, publish, twine_fields

PUBLISHER = "GitHub Actions acme/app, workflow release.yml"


@pytest.fixture
def alice(db):
    return UserFactory(username="alice")


def owned(name: str, owner, **options) -> Project:
    project = projects.create_project(name, **options)
    roles.grant_role(project, owner, RoleName.OWNER)
    return project


def bearer(user, **options) -> str:
    _token, plaintext = tokens.create_token(user, name="api", **options)
    return f"Bearer {plaintext}"


def api(client, method: str, url: str, auth: str | None = None, payload=None):
    headers = {"HTTP_AUTHORIZATION": auth} if auth else {}
    body = json.dumps(payload) if payload is not None else None
    return getattr(client, method)(url, body, content_type="application/json", **headers)


def upload(client, tmp_path, name: str, auth: str):
    directory = tmp_path / f"refused-{name}"
    directory.mkdir(exist_ok=True)
    return post_upload(client, twine_fields(build_wheel(directory, name, "1.0"), name, "1.0"), auth)


# ---------------------------------------------------------------- one workflow, several projects


def test_one_workflow_publishes_two_projects_with_one_token(client, issuer, alice, tmp_path):  # noqa: F811
    first, second = owned("acme-app", alice), owned("acme-cli", alice)
    for project in (first, second):
        add_publisher("github", issuer.url, GITHUB, project=project)
    owned("other-app", alice)
    auth = basic_auth("__token__", minted(client, issuer.sign(github_claims(issuer))))
    token = ApiToken.objects.get()
    assert set(token.projects.all()) == {first, second}
    assert token.publishers.count() == 2
    publish(client, tmp_path, "acme-app", "1.0", auth=auth)
    publish(client, tmp_path, "acme-cli", "2.0", auth=auth)
    files = File.objects.select_related("release__project").order_by("filename")
    assert [(file.release.project.name, file.uploaded_by_publisher) for file in files] == [
        ("acme-app", PUBLISHER),
        ("acme-cli", PUBLISHER),
    ]
    response = upload(client, tmp_path, "other-app", auth)
    assert response.status_code == 403
    assert b"minted by trusted publishing for project 'acme-app, acme-cli'" in response.content
    minted_entry = JournalEntry.objects.get(kind=journal.TOKEN_CREATED)
    assert "of acme-app, acme-cli" in minted_entry.action


def test_one_token_serves_an_existing_project_and_creates_a_pending_one(client, issuer, alice, tmp_path):  # noqa: F811
    existing = owned("acme-app", alice)
    add_publisher("github", issuer.url, GITHUB, project=existing)
    carol = UserFactory(username="carol")
    pending = add_publisher("github", issuer.url, GITHUB, pending_name="acme-new", pending_owner=carol)
    auth = basic_auth("__token__", minted(client, issuer.sign(github_claims(issuer))))
    publish(client, tmp_path, "acme-new", "0.1", auth=auth)
    publish(client, tmp_path, "acme-app", "1.0", auth=auth)
    created = Project.objects.get(normalized_name="acme-new")
    assert Role.objects.get(project=created).user == carol  # the pending publisher's owner, not alice
    pending.refresh_from_db()
    assert pending.project == created
    assert set(ApiToken.objects.get().projects.all()) == {existing, created}


def test_a_pending_publisher_taken_meanwhile_leaves_the_tokens_other_projects(client, issuer, alice, tmp_path):  # noqa: F811
    existing = owned("acme-app", alice)
    add_publisher("github", issuer.url, GITHUB, project=existing)
    add_publisher("github", issuer.url, GITHUB, pending_name="acme-new", pending_owner=alice)
    projects.create_project("acme-new")  # by someone else, before the job ran
    auth = basic_auth("__token__", minted(client, issuer.sign(github_claims(issuer))))
    publish(client, tmp_path, "acme-app", "1.0", auth=auth)
    assert upload(client, tmp_path, "acme-new", auth).status_code == 403


def test_removing_one_of_a_tokens_publishers_stops_the_token_at_once(client, issuer, alice, tmp_path):  # noqa: F811
    first, second = owned("acme-app", alice), owned("acme-cli", alice)
    publishers = [add_publisher("github", issuer.url, GITHUB, project=project) for project in (first, second)]
    auth = basic_auth("__token__", minted(client, issuer.sign(github_claims(issuer))))
    remove_publisher(publishers[1])
    response = upload(client, tmp_path, "acme-app", auth)
    assert response.status_code == 401
    assert not ApiToken.objects.exists()


def test_the_events_feed_names_the_publisher_that_uploaded(client, issuer, alice, tmp_path):  # noqa: F811
    add_publisher("github", issuer.url, GITHUB, pending_name="acme-app", pending_owner=alice)
    auth = basic_auth("__token__", minted(client, issuer.sign(github_claims(issuer))))
    publish(client, tmp_path, "acme-app", "1.0", auth=auth)
    events = client.get("/api/v1/events/?project=acme-app").json()["results"]
    actors = {event["action"]: event["actor"] for event in events}
    expected = {"type": "trusted-publisher", "user": None, "token": None, "publisher": PUBLISHER}
    assert actors["project-created"] == expected
    assert actors["release-created"] == expected
    assert actors["file-added"] == expected
    # A person's changes still read as theirs.
    projects.set_status(Project.objects.get(), "archived", "done", user=alice)
    events = client.get("/api/v1/events/?project=acme-app").json()["results"]
    assert events[-1]["actor"] == {"type": "user", "user": "alice", "token": None, "publisher": None}


# ---------------------------------------------------------------- failed exchanges are throttled


def test_failed_exchanges_are_throttled_per_workload(client, issuer, alice, settings):  # noqa: F811
    limit = settings.AXES_FAILURE_LIMIT
    add_publisher("github", issuer.url, GITHUB, project=owned("acme-app", alice))
    wrong = {"repository_owner_id": "999"}
    for _ in range(limit):
        assert "repository_owner_id" in refused(client, issuer.sign(github_claims(issuer, **wrong)))
    # Locked out: even a good token of that workload waits, and is told for how long.
    response = client.post(
        "/_/oidc/mint-token", {"token": issuer.sign(github_claims(issuer))}, content_type="application/json"
    )
    body = assert_problem(response, 429)
    assert int(response["Retry-After"]) > 0
    assert "Too many failed" in body["detail"]
    # Another workload behind the same address is not.
    add_publisher("github", issuer.url, {**GITHUB, "repository": "acme/cli"}, project=owned("acme-cli", alice))
    ref = "acme/cli/.github/workflows/release.yml@refs/tags/v1"
    other = github_claims(issuer, sub="repo:acme/cli:ref:refs/tags/v1", repository="acme/cli", job_workflow_ref=ref)
    assert minted(client, issuer.sign(other))


# ---------------------------------------------------------------- the API, for Owners


API = "/api/v1/projects/acme-app/publishers/"
NEW = {"kind": "github", "claims": GITHUB}


def test_owners_list_add_and_remove_publishers_in_the_api(client, issuer, alice):  # noqa: F811
    owned("acme-app", alice)
    auth = bearer(alice)
    response = api(client, "post", API, auth, {**NEW, "issuer": issuer.url})
    assert response.status_code == 201, response.content
    added = response.json()
    assert added["description"] == PUBLISHER
    assert added["project"] == "acme-app"
    assert added["pending"] is False
    assert added["claims"] == GITHUB
    listing = api(client, "get", API, auth)
    assert listing.status_code == 200
    assert [publisher["id"] for publisher in listing.json()["results"]] == [added["id"]]
    assert "no-store" not in listing.get("Cache-Control", "")
    duplicate = api(client, "post", API, auth, {**NEW, "issuer": issuer.url})
    assert "exists already" in assert_problem(duplicate, 409)["detail"]
    assert api(client, "get", f"{API}{added['id']}/", auth).json()["id"] == added["id"]
    assert api(client, "delete", f"{API}{added['id']}/", auth).status_code == 204
    assert not TrustedPublisher.objects.exists()
    assert JournalEntry.objects.filter(kind=journal.TRUSTED_PUBLISHER_REMOVED, submitted_by=alice).exists()
    assert_problem(api(client, "delete", f"{API}{added['id']}/", auth), 404)


def test_the_api_checks_the_claims_and_the_issuer(client, issuer, alice, settings):  # noqa: F811
    owned("acme-app", alice)
    auth = bearer(alice)
    missing = api(client, "post", API, auth, {"kind": "github", "issuer": issuer.url, "claims": {"repository": "a/b"}})
    assert "repository_owner_id" in assert_problem(missing, 400)["detail"]
    unknown = api(client, "post", API, auth, {**NEW, "issuer": "https://issuer.invalid"})
    assert "not allowed on this index" in assert_problem(unknown, 400)["detail"]
    no_issuer = api(client, "post", API, auth, {"kind": "generic", "claims": {"sub": "x"}})
    assert_problem(no_issuer, 400)
    settings.TRUSTED_PUBLISHING_ISSUERS = [issuer.url, "https://token.actions.githubusercontent.com"]
    default = api(client, "post", API, auth, NEW)
    assert default.status_code == 201, default.content
    assert default.json()["issuer"] == "https://token.actions.githubusercontent.com"


def test_only_owners_manage_publishers(client, issuer, alice):  # noqa: F811
    project = owned("acme-app", alice)
    publisher = add_publisher("github", issuer.url, GITHUB, project=project)
    maintainer = UserFactory(username="maud")
    roles.grant_role(project, maintainer, RoleName.MAINTAINER)
    for auth in (bearer(maintainer), bearer(alice, read_only=True), bearer(alice, projects=[owned("x", alice)])):
        assert_problem(api(client, "get", API, auth), 403)
        assert_problem(api(client, "post", API, auth, {**NEW, "issuer": issuer.url}), 403)
        assert_problem(api(client, "delete", f"{API}{publisher.pk}/", auth), 403)
    assert_problem(api(client, "get", API), 401)
    assert TrustedPublisher.objects.count() == 1
    # A restricted project's publishers are a 404 to a non-member: the name does not leak.
    projects.set_visibility(project, Visibility.RESTRICTED)
    stranger = bearer(UserFactory(username="sam"))
    assert_problem(api(client, "get", API, stranger), 404)
    assert_problem(api(client, "delete", f"{API}{publisher.pk}/", stranger), 404)
    # Another project's publisher is not found through this one.
    owned("acme-cli", alice)
    assert_problem(api(client, "delete", f"/api/v1/projects/acme-cli/publishers/{publisher.pk}/", bearer(alice)), 404)


PENDING = "/api/v1/pending-publishers/"


def test_users_add_pending_publishers_for_projects_they_may_create(client, issuer, alice, tmp_path):  # noqa: F811
    auth = bearer(alice)
    response = api(client, "post", PENDING, auth, {**NEW, "issuer": issuer.url, "project": "Acme_New"})
    assert response.status_code == 201, response.content
    assert response.json()["project"] == "acme-new"
    assert response.json()["pending"] is True
    assert [entry["id"] for entry in api(client, "get", PENDING, auth).json()["results"]] == [response.json()["id"]]
    assert api(client, "get", PENDING, bearer(UserFactory(username="bob"))).json()["results"] == []
    token = basic_auth("__token__", minted(client, issuer.sign(github_claims(issuer))))
    publish(client, tmp_path, "acme-new", "1.0", auth=token)
    assert Role.objects.get(project__normalized_name="acme-new").user == alice
    assert api(client, "get", PENDING, auth).json()["results"] == []  # it is the project's now


def test_pending_publishers_follow_the_creation_rules(client, issuer, alice, settings):  # noqa: F811
    new = {**NEW, "issuer": issuer.url, "project": "acme-new"}
    owned("acme-app", alice)
    taken = api(client, "post", PENDING, bearer(alice), {**new, "project": "ACME.app"})
    assert "exists already" in assert_problem(taken, 409)["detail"]
    limited = api(client, "post", PENDING, bearer(alice, projects=[Project.objects.get()]), new)
    assert "isn't allowed to create" in assert_problem(limited, 403)["detail"]
    namespaces.grant_namespace("acme", UserFactory(username="ns-holder"))
    held = api(client, "post", PENDING, bearer(alice), new)
    assert "namespace" in assert_problem(held, 409)["detail"]
    settings.PROJECT_CREATION = "staff"
    staff_only = api(client, "post", PENDING, bearer(alice), {**new, "project": "elsewhere"})
    assert "Only staff" in assert_problem(staff_only, 403)["detail"]
    assert not TrustedPublisher.objects.exists()


def test_a_user_removes_only_their_own_pending_publishers(client, issuer, alice):  # noqa: F811
    mine = add_publisher("github", issuer.url, GITHUB, pending_name="acme-new", pending_owner=alice)
    assert_problem(api(client, "delete", f"{PENDING}{mine.pk}/", bearer(UserFactory(username="bob"))), 404)
    assert api(client, "delete", f"{PENDING}{mine.pk}/", bearer(alice)).status_code == 204
    assert not TrustedPublisher.objects.exists()


# ---------------------------------------------------------------- the admin, for Owners


def staff_owner(*codenames: str):
    user = UserFactory(username="olga", is_staff=True)
    for codename in codenames:
        user.user_permissions.add(Permission.objects.get(content_type__app_label="packages_app", codename=codename))
    return user


ADMIN = "/admin/packages_app/trustedpublisher/"


def test_staff_owners_manage_their_projects_publishers_in_the_admin(client, issuer, alice):  # noqa: F811
    olga = staff_owner("view_trustedpublisher", "add_trustedpublisher", "delete_trustedpublisher")
    mine = owned("olga-app", olga)
    theirs = owned("acme-app", alice)
    add_publisher("github", issuer.url, GITHUB, project=theirs)
    client.force_login(olga)
    assert PUBLISHER.encode() not in client.get(ADMIN).content  # another project's
    form = {
        "kind": "github",
        "issuer": issuer.url,
        "claims_text": "repository=olga/app\nrepository_owner_id=42\nworkflow=.github/workflows/ci.yml\n",
        "project": theirs.pk,
    }
    response = client.post(f"{ADMIN}add/", form)
    assert response.status_code == 200  # refused: not a project she owns
    assert b"Select a valid choice" in response.content
    response = client.post(f"{ADMIN}add/", {**form, "project": mine.pk})
    assert response.status_code == 302, response.content
    added = TrustedPublisher.objects.get(project=mine)
    assert added.claims == {"repository": "olga/app", "repository_owner_id": "42", "workflow": "ci.yml"}
    assert JournalEntry.objects.filter(kind=journal.TRUSTED_PUBLISHER_ADDED, submitted_by=olga).exists()
    assert b"GitHub Actions olga/app, workflow ci.yml" in client.get(ADMIN).content
    assert b"olga/app" in client.get(f"{ADMIN}{added.pk}/change/").content
    response = client.post(f"{ADMIN}{added.pk}/delete/", {"post": "yes"})
    assert response.status_code == 302
    assert not TrustedPublisher.objects.filter(project=mine).exists()
    other = TrustedPublisher.objects.get(project=theirs)
    assert client.post(f"{ADMIN}{other.pk}/delete/", {"post": "yes"}).status_code in (302, 404)
    assert TrustedPublisher.objects.filter(pk=other.pk).exists()


def test_the_admin_form_explains_what_is_wrong(client, issuer, alice):  # noqa: F811
    olga = staff_owner("view_trustedpublisher", "add_trustedpublisher")
    mine = owned("olga-app", olga)
    client.force_login(olga)
    base = {"kind": "github", "issuer": issuer.url, "project": mine.pk}
    cases = [
        ({"claims_text": "repository=olga/app"}, b"needs the claims: repository_owner_id, workflow"),
        ({"claims_text": "repository"}, b"is not NAME=VALUE"),
        ({"claims_text": "sub=x", "issuer": "https://issuer.invalid"}, b"not allowed on this index"),
        ({"claims_text": "repository=olga/app", "project": ""}, b"Choose the project, or name a new one"),
    ]
    for change, message in cases:
        response = client.post(f"{ADMIN}add/", {**base, **change})
        assert response.status_code == 200
        assert message in response.content, message
    # A pending publisher added by a staff Owner makes her the new project's Owner.
    claims = "repository=olga/new\nrepository_owner_id=42\nworkflow=release.yml"
    pending = {"kind": "github", "issuer": issuer.url, "claims_text": claims, "pending_project_name": "olga-new"}
    response = client.post(f"{ADMIN}add/", pending)
    assert response.status_code == 302, response.content
    assert TrustedPublisher.objects.get(pending_project_name="olga-new").pending_owner == olga
    assert TrustedPublisher.objects.count() == 1


def test_the_admin_needs_the_model_permissions(client, issuer, alice):  # noqa: F811
    olga = staff_owner()
    owned("olga-app", olga)
    client.force_login(olga)
    assert client.get(ADMIN).status_code == 403
    assert client.get(f"{ADMIN}add/").status_code == 403
    viewer = UserFactory(username="vera", is_staff=True)
    viewer.user_permissions.add(Permission.objects.get(codename="view_trustedpublisher"))
    client.force_login(viewer)
    assert client.get(ADMIN).status_code == 200
    assert client.get(f"{ADMIN}add/").status_code == 403
