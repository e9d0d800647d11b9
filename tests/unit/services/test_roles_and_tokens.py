import hashlib
from datetime import timedelta

import pytest
from django.utils import timezone

from packages_app import tokens
from packages_app.models import ApiToken, Role
from packages_app.services import projects, roles
from packages_app.services import tokens as token_services
from packages_app.services.errors import Conflict
from tests.factories import UserFactory


def test_grant_and_revoke_role_journal_once_each(journal, user):
    project = projects.create_project("demo")
    roles.grant_role(project, UserFactory(username="amy"), "Owner")
    journal.new_entries()
    roles.grant_role(project, user, "Owner")
    [grant] = journal.new_entries()
    assert grant.action == "add Owner alice"
    roles.grant_role(project, user, "Maintainer")
    assert Role.objects.get(user=user).role_name == "Maintainer"
    journal.new_entries()
    roles.revoke_role(project, user)
    [revoke] = journal.new_entries()
    assert revoke.action == "remove Maintainer alice"
    assert not Role.objects.filter(user=user).exists()


@pytest.mark.parametrize("change", ["revoke", "demote"])
def test_the_last_owner_can_be_neither_removed_nor_demoted(journal, user, change):
    project = projects.create_project("demo")
    roles.grant_role(project, user, "Owner")
    roles.grant_role(project, UserFactory(username="bob"), "Maintainer")
    journal.new_entries()
    changes = {
        "revoke": lambda: roles.revoke_role(project, user),
        "demote": lambda: roles.grant_role(project, user, "Maintainer"),
    }
    with pytest.raises(Conflict, match="alice is the last Owner of demo; make another user an Owner first"):
        changes[change]()
    assert Role.objects.get(user=user).role_name == "Owner"
    assert journal.new_entries() == []


@pytest.mark.parametrize("change", ["revoke", "demote"])
def test_an_owner_can_go_while_another_owner_stays(journal, user, change):
    project = projects.create_project("demo")
    roles.grant_role(project, user, "Owner")
    roles.grant_role(project, UserFactory(username="amy"), "Owner")
    if change == "revoke":
        roles.revoke_role(project, user)
        assert not Role.objects.filter(user=user).exists()
    else:
        roles.grant_role(project, user, "Maintainer")
        assert Role.objects.get(user=user).role_name == "Maintainer"
    with pytest.raises(Conflict, match="amy is the last Owner"):
        roles.revoke_role(project, UserFactory(username="amy"))


def test_token_is_stored_only_as_a_hash(journal, user):
    token, plaintext = token_services.create_token(user, name="ci", expires=timezone.now() + timedelta(days=1))
    [entry] = journal.new_entries()
    assert entry.action.startswith("create token ")
    assert entry.name == ""
    assert plaintext.startswith(tokens.TOKEN_PREFIX)
    key_id, secret = tokens.split(plaintext)
    stored = ApiToken.objects.get()
    assert stored.key_id == key_id
    assert stored.secret_hash == hashlib.sha256(secret.encode()).hexdigest()
    stored_values = [str(value) for value in ApiToken.objects.values().get().values()]
    assert not any(secret in value for value in stored_values)
    assert tokens.secret_matches(secret, stored.secret_hash)
    assert not tokens.secret_matches(secret + "x", stored.secret_hash)


def test_tokens_are_unique(db):
    owner = UserFactory()
    plaintexts = {token_services.create_token(owner)[1] for _ in range(5)}
    assert len(plaintexts) == 5


def test_revoke_token(journal, user):
    token, _ = token_services.create_token(user)
    journal.new_entries()
    token_services.revoke_token(token)
    [entry] = journal.new_entries()
    assert entry.action.startswith("revoke token")
    token.refresh_from_db()
    assert token.revoked is not None
    assert not token.is_active()


def test_serials_strictly_increase(db, user):
    project = projects.create_project("demo")
    serials = [project.last_serial]
    roles.grant_role(project, UserFactory(username="amy"), "Owner")
    project.refresh_from_db()
    serials.append(project.last_serial)
    for role in ["Owner", "Maintainer", "Owner"]:
        roles.grant_role(project, user, role)
        project.refresh_from_db()
        serials.append(project.last_serial)
    assert serials == sorted(set(serials))
