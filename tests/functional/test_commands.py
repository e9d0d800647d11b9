"""Operator management commands, run as an operator would."""

from datetime import timedelta
from io import StringIO

import pytest
from django.contrib.auth.models import Group
from django.core.management import CommandError, call_command
from django.utils import timezone

from packages_app import tokens
from packages_app.models import ApiToken, JournalEntry, NamespaceGrant
from packages_app.services import namespaces, projects, releases
from tests.factories import UserFactory


def run(*args) -> str:
    out = StringIO()
    call_command(*args, stdout=out)
    return out.getvalue().strip()


def test_create_token_prints_the_secret_once(db):
    UserFactory(username="ci-bot")
    project = projects.create_project("Demo_Pkg")
    printed = run("create_token", "ci-bot", "--project", "demo-pkg", "--expires-days", "7", "--name", "ci")
    key_id, secret = tokens.split(printed)
    token = ApiToken.objects.get(key_id=key_id)
    assert token.name == "ci"
    assert token.user.username == "ci-bot"
    assert list(token.projects.all()) == [project]
    assert timedelta(days=6) < token.expires - timezone.now() <= timedelta(days=7)
    assert tokens.secret_matches(secret, token.secret_hash)


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["nobody"], "No user named 'nobody'"),
        (["ci-bot", "--project", "missing"], "No project named 'missing'"),
        (["ci-bot", "--expires-days", "0"], "--expires-days must be at least 1"),
    ],
)
def test_create_token_errors(db, args, message):
    UserFactory(username="ci-bot")
    with pytest.raises(CommandError, match=message):
        run("create_token", *args)
    assert not ApiToken.objects.exists()


def test_yank_and_unyank_commands(db):
    release = releases.create_release(projects.create_project("demo"), "1.0")
    assert run("yank", "Demo", "1.0.0", "--reason", "broken") == "Yanked demo 1.0."
    release.refresh_from_db()
    assert (release.yanked, release.yanked_reason) == (True, "broken")
    assert run("unyank", "demo", "1.0") == "Unyanked demo 1.0."
    release.refresh_from_db()
    assert not release.yanked
    assert list(JournalEntry.objects.values_list("action", flat=True)) == [
        "create", "new release", "yank release", "unyank release",
    ]  # fmt: skip


@pytest.mark.parametrize(
    ("args", "message"), [(["nope", "1.0"], "No project named 'nope'"), (["demo", "2.0"], "demo has no release 2.0")]
)
def test_yank_errors(db, args, message):
    projects.create_project("demo")
    with pytest.raises(CommandError, match=message):
        run("yank", *args)


@pytest.mark.parametrize(
    ("password", "reasons"),
    [
        ("qz7!kw", "This password is too short. It must contain at least 8 characters."),
        ("password123", "This password is too common."),
        ("8675309123", "This password is entirely numeric."),
        (
            "1234567",
            "This password is too short. It must contain at least 8 characters. This password is too common. "
            "This password is entirely numeric.",
        ),
        ("boss-boss", "The password is too similar to the username."),
    ],
)
def test_bootstrap_admin_refuses_a_weak_password(db, settings, password, reasons):
    from django.contrib.auth import get_user_model

    settings.ADMIN_USERNAME, settings.ADMIN_PASSWORD = "boss-boss", password
    with pytest.raises(CommandError) as refused:
        run("bootstrap_admin")
    assert str(refused.value) == f"ADMIN_PASSWORD is too weak, no admin user made: {reasons}"
    assert not get_user_model().objects.exists()


def test_bootstrap_admin_creates_the_admin_once(db, settings):
    from django.contrib.auth import get_user_model

    settings.ADMIN_USERNAME, settings.ADMIN_PASSWORD = "boss", "a long enough password"
    assert run("bootstrap_admin") == "Created admin user 'boss'."
    assert run("bootstrap_admin") == "Admin user 'boss' already exists."
    user = get_user_model().objects.get(username="boss")
    assert user.is_superuser
    assert user.check_password("a long enough password")


def test_grant_namespace_to_a_user_and_revoke_it(db):
    UserFactory(username="amy")
    projects.create_project("acme-tools")
    assert run("grant_namespace", "Acme", "--user", "amy") == "Granted the namespace acme to amy."
    grant = NamespaceGrant.objects.get()
    assert (grant.namespace, grant.user.username, grant.open, grant.revoked) == ("acme", "amy", False, None)
    granted = JournalEntry.objects.filter(kind="namespace-granted")
    assert sorted(granted.values_list("name", flat=True)) == ["acme", "acme-tools"]
    assert run("grant_namespace", "ACME", "--revoke") == "Revoked the namespace acme of amy."
    grant.refresh_from_db()
    assert grant.revoked is not None
    assert JournalEntry.objects.filter(kind="namespace-revoked").count() == 2


def test_grant_an_open_namespace_to_a_team(db):
    Group.objects.create(name="platform")
    assert run("grant_namespace", "plat", "--team", "platform", "--open") == (
        "Granted the open namespace plat to team:platform."
    )
    assert NamespaceGrant.objects.get().holder_name == "team:platform"


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["acme", "--user", "nobody"], "No user named 'nobody'"),
        (["acme", "--team", "nobody"], "No team named 'nobody'"),
        (["acme"], "Name the holder with --user NAME or --team NAME"),
        (["bad_", "--user", "amy"], "is not a valid namespace"),
        (["zeta", "--user", "amy"], "already granted"),
        (["zeta-tools-x", "--revoke"], "is not granted"),
        (["zeta", "--revoke", "--user", "amy"], "--revoke takes only the namespace"),
        (["a-b-c-d-e-f-g-h-i-j", "--user", "amy"], "hyphens"),
    ],
)
def test_grant_namespace_errors(db, args, message):
    UserFactory(username="amy")
    namespaces.grant_namespace("zeta", UserFactory(username="bob"))
    entries = JournalEntry.objects.count()
    with pytest.raises(CommandError, match=message):
        run("grant_namespace", *args)
    assert NamespaceGrant.objects.count() == 1
    assert JournalEntry.objects.count() == entries


def test_grant_namespace_refuses_an_overlapping_root(db):
    namespaces.grant_namespace("acme-tools", UserFactory(username="bob"))
    UserFactory(username="amy")
    with pytest.raises(CommandError, match="would overlap the namespace 'acme-tools' of bob"):
        run("grant_namespace", "acme", "--user", "amy")
