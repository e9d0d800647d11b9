"""A token limited to projects stays limited (issue 16, item 2).

It used to be limited only by having projects, so deleting its projects made it
a token for every project of its user. Now it says it is limited, and deleting
the last of its projects revokes it, in the journal.
"""

from __future__ import annotations

import json
import re
from io import StringIO

import pytest
from django.core.management import call_command
from django.db import connection
from django.db.migrations.executor import MigrationExecutor
from django.urls import reverse

from harness.dists import build_wheel
from packages_app import tokens
from packages_app.authentication import Identity
from packages_app.models import ApiToken, JournalEntry, Project
from packages_app.services import projects, roles
from packages_app.services import tokens as token_services
from tests.factories import UserFactory
from tests.functional.upload_client import basic_auth, post_upload, twine_fields
from tests.hostile import checks


@pytest.fixture
def owned(owner):
    """Projects p, q and r, all owned by 'owner'."""
    made = {}
    for name in ("p", "q", "r"):
        made[name] = projects.create_project(f"pkg-{name}")
        roles.grant_role(made[name], owner, "Owner")
    return made


def upload(client, tmp_path, name: str, version: str, auth: str):
    folder = tmp_path / f"{name}-{version}"
    folder.mkdir(parents=True, exist_ok=True)
    wheel = build_wheel(folder, name, version)
    return post_upload(client, twine_fields(wheel, name, version), auth)


def set_status(client, name: str, auth: str):
    return client.post(
        f"/api/v1/projects/{name}/status/",
        json.dumps({"status": "deprecated"}),
        content_type="application/json",
        HTTP_AUTHORIZATION=auth,
    )


def test_a_token_whose_projects_are_deleted_is_revoked_and_refused(client, admin_client, owner, owned, tmp_path):
    token, plaintext = token_services.create_token(owner, name="ci for p", projects=[owned["p"]])
    auth = basic_auth("__token__", plaintext)
    assert upload(client, tmp_path, "pkg-p", "1.0", auth).status_code == 200
    assert upload(client, tmp_path, "pkg-q", "1.0", auth).status_code == 403
    mark = JournalEntry.objects.last_serial()

    deleted = admin_client.post(reverse("admin:packages_app_project_delete", args=[owned["p"].pk]), {"post": "yes"})
    assert deleted.status_code == 302
    assert not Project.objects.filter(normalized_name="pkg-p").exists()

    token.refresh_from_db()
    assert token.revoked is not None
    entries = list(JournalEntry.objects.filter(id__gt=mark).order_by("id"))
    assert [entry.action for entry in entries] == [
        "remove project",
        f"revoke token {token.key_id} of owner: its projects are deleted",
    ]
    revocation = entries[1]
    assert (revocation.name, revocation.submitted_by.username) == ("", "root")
    secret = tokens.split(plaintext)[1]
    assert not JournalEntry.objects.filter(action__contains=secret).exists()
    listing = admin_client.get(reverse("admin:packages_app_apitoken_changelist")).content.decode()
    assert token.key_id in listing

    before = checks.index_state()
    for name in ("pkg-q", "brand-new"):
        refused = upload(client, tmp_path, name, "2.0", auth)
        assert refused.status_code == 401, refused.content
        assert "Invalid API Token: the token has been revoked." in refused.content.decode()
    api = set_status(client, "pkg-q", f"Bearer {plaintext}")
    assert api.status_code == 401
    assert checks.index_state() == before
    assert Project.objects.get(normalized_name="pkg-q").status == "active"


def test_a_token_keeps_its_remaining_projects(client, owner, owned, tmp_path):
    """Deleting one of a token's projects leaves it limited to the others, and not revoked."""
    token, plaintext = token_services.create_token(owner, projects=[owned["p"], owned["r"]])
    auth = basic_auth("__token__", plaintext)
    mark = JournalEntry.objects.last_serial()
    projects.delete_project(owned["p"])
    token.refresh_from_db()
    assert token.revoked is None
    assert not JournalEntry.objects.filter(id__gt=mark, action__startswith="revoke token").exists()
    before = checks.index_state()
    refused = upload(client, tmp_path, "pkg-q", "1.0", auth)
    assert refused.status_code == 403
    assert "isn't allowed to upload to project 'pkg-q'" in refused.content.decode()
    created = upload(client, tmp_path, "brand-new", "1.0", auth)
    assert created.status_code == 403
    assert "isn't allowed to create the new project 'brand-new'" in created.content.decode()
    assert checks.index_state() == before
    assert upload(client, tmp_path, "pkg-r", "1.0", auth).status_code == 200


def test_deleting_a_project_leaves_unlimited_and_other_tokens_alone(owner, owned):
    unlimited, _ = token_services.create_token(owner)
    elsewhere, _ = token_services.create_token(owner, projects=[owned["q"]])
    already, _ = token_services.create_token(owner, projects=[owned["p"]])
    token_services.revoke_token(already)
    mark = JournalEntry.objects.last_serial()
    projects.delete_project(owned["p"])
    assert [entry.action for entry in JournalEntry.objects.filter(id__gt=mark)] == ["remove project"]
    assert ApiToken.objects.filter(pk__in=[unlimited.pk, elsewhere.pk], revoked__isnull=True).count() == 2


def test_a_limited_token_without_projects_allows_nothing(owner, owned):
    """Whatever left a limited token without projects, it is not a token for everything."""
    token, _ = token_services.create_token(owner, projects=[owned["p"]])
    limited = Identity(user=owner, token=token, token_project_ids=frozenset())
    assert not limited.token_allows(owned["q"])
    assert not limited.token_allows(None)
    unlimited_token, _ = token_services.create_token(owner)
    unlimited = Identity(user=owner, token=unlimited_token, token_project_ids=frozenset())
    assert unlimited.token_allows(owned["q"])
    assert unlimited.token_allows(None)


# ---------------------------------------------------------------- every way to make a token says whether it is limited


@pytest.mark.parametrize(("scope", "limited"), [(["pkg-p"], True), ([], False)])
def test_the_admin_form_marks_limited_tokens(admin_client, admin_user, owned, scope, limited):
    chosen = [owned[name.removeprefix("pkg-")].pk for name in scope]
    posted = admin_client.post(
        reverse("admin:packages_app_apitoken_add"), {"user": admin_user.pk, "name": "laptop", "projects": chosen}
    )
    assert posted.status_code == 200, posted.content  # the page that shows the secret, kept nowhere
    token = ApiToken.objects.get()
    assert token.limited_to_projects is limited
    assert sorted(token.projects.values_list("normalized_name", flat=True)) == scope
    detail = admin_client.get(reverse("admin:packages_app_apitoken_change", args=[token.pk])).content.decode()
    assert re.search(r"Limited to projects:</label>\s*<div[^>]*><img [^>]*alt=\"" + str(limited), detail), detail


@pytest.mark.parametrize(("options", "limited"), [(["--project", "pkg-p"], True), ([], False)])
def test_create_token_marks_limited_tokens(owned, options, limited):
    UserFactory(username="ci-bot")
    out = StringIO()
    call_command("create_token", "ci-bot", *options, stdout=out)
    token = ApiToken.objects.get(key_id=tokens.split(out.getvalue().strip())[0])
    assert token.limited_to_projects is limited


# ---------------------------------------------------------------- the data migration


@pytest.mark.django_db(transaction=True)
def test_the_migration_marks_existing_tokens_with_projects_as_limited():
    """Tokens made before the flag existed keep the meaning they had: with projects, limited."""
    before = [("packages_app", "0002_release_list_indexes")]
    after = [("packages_app", "0003_token_limited_to_projects")]
    executor = MigrationExecutor(connection)
    executor.migrate(before)
    try:
        old = executor.loader.project_state(before).apps
        user = old.get_model("auth", "User").objects.create(username="old-timer")
        project = old.get_model("packages_app", "Project").objects.create(name="kept", normalized_name="kept")
        OldToken = old.get_model("packages_app", "ApiToken")
        scoped = OldToken.objects.create(user=user, key_id="aa", secret_hash="a" * 64)
        scoped.projects.set([project])
        OldToken.objects.create(user=user, key_id="bb", secret_hash="b" * 64)
        executor = MigrationExecutor(connection)
        executor.migrate(after)
        new = executor.loader.project_state(after).apps.get_model("packages_app", "ApiToken")
        assert dict(new.objects.values_list("key_id", "limited_to_projects")) == {"aa": True, "bb": False}
    finally:
        executor = MigrationExecutor(connection)
        executor.migrate(executor.loader.graph.leaf_nodes())
