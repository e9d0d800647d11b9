"""The metadata API's PEP 752 namespaces: read by every reader, granted and revoked by
staff holding the model permission, refusals as problems."""

from __future__ import annotations

import json

import pytest
from django.contrib.auth.models import Group, Permission

from packages_app.models import JournalEntry, NamespaceGrant
from packages_app.services import namespaces, projects, tokens
from tests.factories import UserFactory
from tests.functional.problems import assert_problem
from tests.functional.upload_client import basic_auth

API = "/api/v1/namespaces/"
PASSWORD = "correct horse battery staple"


def bearer(user, name: str = "api", **options) -> str:
    _token, plaintext = tokens.create_token(user, name=name, **options)
    return f"Bearer {plaintext}"


def not_staff_with(*codenames: str, username: str = "nick", is_staff: bool = False):
    """A user holding exactly these model permissions (and not staff, unless ``is_staff``)."""
    user = UserFactory(username=username, is_staff=is_staff)
    for codename in codenames:
        user.user_permissions.add(Permission.objects.get(content_type__app_label="packages_app", codename=codename))
    return user


def staff_with(*codenames: str, username: str = "clerk"):
    return not_staff_with(*codenames, username=username, is_staff=True)


def post(client, url: str, payload, auth: str | None):
    headers = {"HTTP_AUTHORIZATION": auth} if auth else {}
    return client.post(url, json.dumps(payload), content_type="application/json", **headers)


@pytest.fixture
def grants(db):
    """acme (amy's, with the child acme-data of team:platform), open zeta, and revoked old."""
    amy = UserFactory(username="amy")
    platform = Group.objects.create(name="platform")
    namespaces.grant_namespace("acme", amy)
    namespaces.grant_namespace("acme-data", platform)
    namespaces.grant_namespace("zeta", amy, open=True)
    namespaces.grant_namespace("old", amy)
    namespaces.revoke_namespace("old")
    return amy


# ---------------------------------------------------------------- reads


def test_the_list_shows_active_grants_with_holders_parents_and_children(client, grants):
    response = client.get(API)
    assert response.status_code == 200, response.content
    body = response.json()
    assert body["next"] is None
    rows = {row["name"]: row for row in body["results"]}
    assert list(rows) == ["acme", "acme-data", "zeta"]
    assert rows["acme"] | {"created": None} == {
        "name": "acme", "holder": "amy", "open": False, "parent": None, "children": ["acme-data"], "created": None,
    }  # fmt: skip
    assert rows["acme"]["created"].endswith("Z")
    assert (rows["acme-data"]["holder"], rows["acme-data"]["parent"]) == ("team:platform", "acme")
    assert rows["zeta"]["open"] is True
    assert "revoked" not in rows["acme"]


def test_include_revoked_lists_revoked_grants_with_their_time(client, grants):
    rows = client.get(API, {"include_revoked": "1"}).json()["results"]
    assert [row["name"] for row in rows] == ["acme", "acme-data", "old", "zeta"]
    revoked = {row["name"]: row["revoked"] for row in rows}
    assert revoked["acme"] is None
    assert revoked["old"].endswith("Z")
    assert_problem(client.get(API, {"include_revoked": "maybe"}), 400)


def test_the_list_is_paginated_with_cursors(client, grants):
    first = client.get(API, {"page_size": 2})
    assert [row["name"] for row in first.json()["results"]] == ["acme", "acme-data"]
    assert 'rel="next"' in first["Link"]
    second = client.get(first.json()["next"].removeprefix("http://testserver"))
    assert [row["name"] for row in second.json()["results"]] == ["zeta"]


def test_the_list_is_revalidated_like_every_read(client, grants):
    first = client.get(API)
    assert client.get(API, HTTP_IF_NONE_MATCH=first["ETag"]).status_code == 304


def test_a_namespace_by_any_spelling(client, grants):
    response = client.get(f"{API}ACME_Data/")
    assert response.status_code == 200
    assert response.json()["name"] == "acme-data"
    assert response.json()["parent"] == "acme"
    problem = assert_problem(client.get(f"{API}old/"), 404)
    assert "not granted" in problem["detail"]


def test_reads_need_read_access_on_a_private_index(client, grants, settings):
    settings.READ_ACCESS = "authenticated"
    assert client.get(API).status_code == 401
    reader = bearer(UserFactory(username="nick"), read_only=True)
    assert client.get(API, HTTP_AUTHORIZATION=reader).status_code == 200
    assert client.get(f"{API}acme/", HTTP_AUTHORIZATION=reader).status_code == 200


# ---------------------------------------------------------------- writes


@pytest.fixture
def granter(db):
    return staff_with("add_namespacegrant", "change_namespacegrant", username="granter")


def test_staff_with_the_add_permission_grant_a_namespace(client, granter):
    projects.create_project("acme-tools")
    UserFactory(username="amy")
    response = post(client, API, {"namespace": "Acme", "user": "amy", "open": True}, bearer(granter))
    assert response.status_code == 201, response.content
    assert response["Cache-Control"] == "no-store"
    assert response.json() | {"created": None} == {
        "name": "acme", "holder": "amy", "open": True, "parent": None, "children": [], "created": None,
    }  # fmt: skip
    grant = NamespaceGrant.objects.get()
    assert (grant.namespace, grant.user.username, grant.open) == ("acme", "amy", True)
    entries = JournalEntry.objects.filter(kind="namespace-granted")
    assert sorted(entries.values_list("name", flat=True)) == ["acme", "acme-tools"]
    assert {entry.token_key_id for entry in entries} != {""}  # the token that made it is journaled


def test_a_namespace_granted_to_a_team(client, granter):
    Group.objects.create(name="platform")
    response = post(client, API, {"namespace": "plat", "team": "platform"}, bearer(granter))
    assert response.status_code == 201
    assert (response.json()["holder"], response.json()["open"]) == ("team:platform", False)


CALLERS = {
    "anonymous": (lambda: None, 401),
    "password": (lambda: basic_auth("granter", PASSWORD), 401),
    "read-only token": (lambda: bearer(staff_with("add_namespacegrant", "change_namespacegrant"), read_only=True), 403),
    "not staff": (lambda: bearer(UserFactory(username="nick")), 403),
    "staff without the permission": (lambda: bearer(staff_with("view_namespacegrant")), 403),
    "permission but not staff": (lambda: bearer(not_staff_with("add_namespacegrant", "change_namespacegrant")), 403),
}


@pytest.mark.parametrize("caller", list(CALLERS))
def test_only_staff_with_the_permission_grant(client, granter, caller):
    make_auth, expected = CALLERS[caller]
    UserFactory(username="amy")
    problem = assert_problem(post(client, API, {"namespace": "acme", "user": "amy"}, make_auth()), expected)
    if caller in ("not staff", "permission but not staff"):
        assert "Only staff" in problem["detail"]
    if caller == "staff without the permission":
        assert "packages_app.add_namespacegrant" in problem["detail"]
    assert not NamespaceGrant.objects.exists()


def test_the_other_permission_is_not_enough(client, db):
    """Revoking needs change, granting needs add: each alone does only its own."""
    revoker = bearer(staff_with("change_namespacegrant", username="revoker"))
    adder = bearer(staff_with("add_namespacegrant", username="adder"))
    UserFactory(username="amy")
    assert_problem(post(client, API, {"namespace": "acme", "user": "amy"}, revoker), 403)
    assert post(client, API, {"namespace": "acme", "user": "amy"}, adder).status_code == 201
    assert_problem(post(client, f"{API}acme/revoke/", {}, adder), 403)
    assert post(client, f"{API}acme/revoke/", {}, revoker).status_code == 200


def test_a_token_limited_to_projects_grants_nothing(client, granter):
    UserFactory(username="amy")
    limited = bearer(granter, projects=[projects.create_project("demo")])
    problem = assert_problem(post(client, API, {"namespace": "acme", "user": "amy"}, limited), 403)
    assert "limited to projects" in problem["detail"]


def test_superusers_grant(client, db):
    root = UserFactory(username="root", is_staff=True, is_superuser=True)
    UserFactory(username="amy")
    assert post(client, API, {"namespace": "acme", "user": "amy"}, bearer(root)).status_code == 201


@pytest.mark.parametrize(
    ("payload", "field"),
    [
        ({"user": "amy"}, "namespace"),
        ({"namespace": "acme"}, "non_field_errors"),
        ({"namespace": "acme", "user": "amy", "team": "platform"}, "non_field_errors"),
        ({"namespace": "acme", "user": "nobody"}, "user"),
        ({"namespace": "acme", "team": "nobody"}, "team"),
        ({"namespace": "acme", "user": "amy", "open": "perhaps"}, "open"),
    ],
)
def test_invalid_input_is_400(client, granter, payload, field):
    UserFactory(username="amy")
    Group.objects.create(name="platform")
    problem = assert_problem(post(client, API, payload, bearer(granter)), 400)
    assert field in problem["errors"]
    assert not NamespaceGrant.objects.exists()


def test_an_invalid_namespace_is_400_with_the_services_words(client, granter):
    UserFactory(username="amy")
    problem = assert_problem(post(client, API, {"namespace": "-bad-", "user": "amy"}, bearer(granter)), 400)
    assert "is not a valid namespace" in problem["detail"]


@pytest.mark.parametrize(
    ("namespace", "words"),
    [("ACME", "already granted"), ("zeta", "would overlap the namespace"), ("a-b-c-d-e-f-g-h-i-j", "hyphens")],
)
def test_a_refusal_is_409_with_the_services_words(client, granter, namespace, words):
    bob = UserFactory(username="bob")
    namespaces.grant_namespace("acme", bob)
    namespaces.grant_namespace("zeta-tools", bob)
    UserFactory(username="amy")
    auth = bearer(granter)
    entries = JournalEntry.objects.count()
    problem = assert_problem(post(client, API, {"namespace": namespace, "user": "amy"}, auth), 409)
    assert words in problem["detail"]
    assert NamespaceGrant.objects.count() == 2
    assert JournalEntry.objects.count() == entries


def test_revoking_keeps_the_grant_with_its_time(client, granter, grants):
    response = post(client, f"{API}Acme/revoke/", {}, bearer(granter))
    assert response.status_code == 200, response.content
    assert response["Cache-Control"] == "no-store"
    body = response.json()
    assert (body["name"], body["holder"], body["children"]) == ("acme", "amy", [])
    assert body["revoked"].endswith("Z")
    assert NamespaceGrant.objects.filter(namespace="acme", revoked__isnull=False).exists()
    assert JournalEntry.objects.filter(kind="namespace-revoked", name="acme").exists()
    assert client.get(f"{API}acme-data/").json()["parent"] is None
    assert_problem(client.get(f"{API}acme/"), 404)
    again = assert_problem(post(client, f"{API}acme/revoke/", {}, bearer(granter, name="again")), 404)
    assert "not granted" in again["detail"]


@pytest.mark.parametrize("caller", ["anonymous", "not staff", "staff without the permission"])
def test_only_staff_with_the_permission_revoke(client, grants, caller):
    make_auth, expected = CALLERS[caller]
    assert_problem(post(client, f"{API}acme/revoke/", {}, make_auth()), expected)
    assert NamespaceGrant.objects.get(namespace="acme").revoked is None


def test_the_detail_takes_no_writes(client, granter, grants):
    response = post(client, f"{API}acme/", {}, bearer(granter))
    assert response.status_code == 405
