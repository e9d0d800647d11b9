"""The admin's namespace grants: granted and revoked through the services (journaled),
refusals as form errors, existing grants read-only, nothing deleted."""

from __future__ import annotations

import pytest
from django.contrib.auth.models import Group, Permission
from django.urls import reverse

from packages_app.models import JournalEntry, NamespaceGrant
from packages_app.services import namespaces, projects
from packages_app.services import namespaces as namespace_services
from packages_app.services.errors import Conflict
from tests.factories import UserFactory

ADD = reverse("admin:packages_app_namespacegrant_add")
CHANGELIST = reverse("admin:packages_app_namespacegrant_changelist")


@pytest.fixture
def amy(db):
    return UserFactory(username="amy")


def test_adding_a_grant_to_a_user_goes_through_the_service(admin_client, amy):
    projects.create_project("acme-tools")
    response = admin_client.post(ADD, {"namespace": "Acme", "user": amy.pk, "open": "on"})
    assert response.status_code == 302, response.content.decode()
    grant = NamespaceGrant.objects.get()
    assert (grant.namespace, grant.user, grant.team, grant.open) == ("acme", amy, None, True)
    kinds = list(JournalEntry.objects.filter(kind="namespace-granted").values_list("name", flat=True))
    assert sorted(kinds) == ["acme", "acme-tools"]
    assert grant.serial == JournalEntry.objects.filter(kind="namespace-granted", name="acme").get().id
    assert JournalEntry.objects.filter(kind="namespace-granted").first().submitted_by.username == "root"


def test_adding_a_grant_to_a_team(admin_client):
    team = Group.objects.create(name="platform")
    response = admin_client.post(ADD, {"namespace": "plat", "team": team.pk})
    assert response.status_code == 302
    grant = NamespaceGrant.objects.get()
    assert (grant.holder_name, grant.open) == ("team:platform", False)


@pytest.mark.parametrize(
    ("form", "message"),
    [
        ({"namespace": "acme"}, "to a user or to a team"),
        ({"namespace": "-bad-", "user": True}, "is not a valid namespace"),
        ({"namespace": "ACME", "user": True}, "already granted"),
        ({"namespace": "zeta", "user": True}, "would overlap the namespace"),
        ({"namespace": "a-b-c-d-e-f-g-h-i-j", "user": True}, "hyphens"),
    ],
)
def test_a_refusal_is_a_form_error(admin_client, amy, form, message):
    bob = UserFactory(username="bob")
    namespaces.grant_namespace("acme", bob)
    namespaces.grant_namespace("zeta-tools", bob)
    form = {**form, "user": amy.pk} if "user" in form else form
    entries = JournalEntry.objects.count()
    response = admin_client.post(ADD, form)
    assert response.status_code == 200
    assert message in response.content.decode()
    assert NamespaceGrant.objects.count() == 2
    assert JournalEntry.objects.count() == entries


def test_a_refusal_at_the_write_is_a_message_not_a_500(admin_client, amy, monkeypatch):
    """Granted by someone else between the form's check and the write: the service refuses."""

    def granted_meanwhile(*args, **kwargs):
        raise Conflict("The namespace 'acme' is already granted.")

    monkeypatch.setattr(namespace_services, "grant_namespace", granted_meanwhile)
    response = admin_client.post(ADD, {"namespace": "acme", "user": amy.pk}, follow=True)
    assert response.status_code == 200
    assert "already granted" in response.content.decode()
    assert not NamespaceGrant.objects.exists()


def test_the_list_shows_holders_and_filters_active(admin_client, amy):
    namespaces.grant_namespace("acme", amy)
    namespaces.grant_namespace("plat", Group.objects.create(name="platform"), open=True)
    namespaces.revoke_namespace("plat")
    page = admin_client.get(CHANGELIST).content.decode()
    for shown in ("acme", "amy", "team:platform"):
        assert shown in page
    active = admin_client.get(CHANGELIST, {"active": "yes"}).content.decode()
    assert "team:platform" not in active
    assert "amy" in active
    revoked = admin_client.get(CHANGELIST, {"active": "no"}).content.decode()
    assert "team:platform" in revoked
    assert "amy</td>" not in revoked
    found = admin_client.get(CHANGELIST, {"q": "platform"}).content.decode()
    assert "team:platform" in found
    assert "amy</td>" not in found


def test_an_existing_grant_is_read_only(admin_client, amy):
    grant = namespaces.grant_namespace("acme", amy)
    url = reverse("admin:packages_app_namespacegrant_change", args=[grant.pk])
    page = admin_client.get(url)
    assert page.status_code == 200
    assert 'name="namespace"' not in page.content.decode()
    entries = JournalEntry.objects.count()
    assert admin_client.post(url, {"namespace": "other", "open": "on"}).status_code == 403
    grant.refresh_from_db()
    assert (grant.namespace, grant.open, JournalEntry.objects.count()) == ("acme", False, entries)


def test_revoke_action_revokes_through_the_service(admin_client, amy):
    projects.create_project("acme-tools")
    grant = namespaces.grant_namespace("acme", amy)
    response = admin_client.post(
        CHANGELIST, {"action": "revoke_namespaces", "_selected_action": [grant.pk], "index": "0"}, follow=True
    )
    assert "Revoked 1 namespace(s)." in response.content.decode()
    grant.refresh_from_db()
    assert grant.revoked is not None
    revoked = JournalEntry.objects.filter(kind="namespace-revoked")
    assert sorted(revoked.values_list("name", flat=True)) == ["acme", "acme-tools"]
    # Revoking it again changes nothing.
    response = admin_client.post(
        CHANGELIST, {"action": "revoke_namespaces", "_selected_action": [grant.pk], "index": "0"}, follow=True
    )
    assert "No active namespace was selected." in response.content.decode()
    assert revoked.count() == 2


def test_grants_are_never_deleted(admin_client, amy):
    grant = namespaces.grant_namespace("acme", amy)
    page = admin_client.get(CHANGELIST).content.decode()
    assert 'value="delete_selected"' not in page
    response = admin_client.post(reverse("admin:packages_app_namespacegrant_delete", args=[grant.pk]), {"post": "yes"})
    assert response.status_code == 403
    assert NamespaceGrant.objects.filter(pk=grant.pk).exists()


def test_adding_needs_the_add_permission(client, amy):
    staff = UserFactory(username="clerk", is_staff=True)
    staff.user_permissions.add(Permission.objects.get(codename="view_namespacegrant"))
    client.force_login(staff)
    assert client.get(ADD).status_code == 403
    assert client.post(ADD, {"namespace": "acme", "user": amy.pk}).status_code == 403
    staff.user_permissions.add(Permission.objects.get(codename="add_namespacegrant"))
    staff = type(staff).objects.get(pk=staff.pk)  # permissions are cached on the user
    client.force_login(staff)
    assert client.post(ADD, {"namespace": "acme", "user": amy.pk}).status_code == 302
    assert NamespaceGrant.objects.get().holder_name == "amy"
