"""A staff login is not a licence: the admin's writes need Django's model permissions.

A staff user gets view, change or delete permission on one model, or none at all. Every
custom action is offered and run only for the permission it needs (change for yank,
status, token and namespace revocation; delete for deleting files, releases and roles): absent from the
changelist's dropdown otherwise, and a forged POST of it changes nothing. The admin's
front page shows uploads and journal entries only to those who may view them, and
token events only to superusers.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta

import pytest
from django.contrib import admin
from django.contrib.auth.models import Permission
from django.core.files.base import ContentFile
from django.urls import reverse
from django.utils import timezone

from packages_app.models import (
    ApiToken,
    CachedUpstreamFile,
    File,
    JournalEntry,
    NamespaceGrant,
    Project,
    ProjectStatus,
    Release,
    Role,
    UpstreamProject,
    Webhook,
)
from packages_app.services import journal, namespaces, projects, releases, retention, roles
from packages_app.services import tokens as token_services
from packages_app.services import webhooks as webhook_services
from packages_app.storage import package_storage
from tests.factories import FileFactory, UserFactory

GRANTS = {"none": [], "view": ["view"], "change": ["change"], "delete": ["view", "delete"]}


def staff_with(model: str, granted: str, username: str = "clerk"):
    """A staff user (not a superuser) with exactly the permissions ``granted`` on ``model``."""
    staff = UserFactory(username=username, is_staff=True)
    for permission in GRANTS[granted]:
        staff.user_permissions.add(
            Permission.objects.get(content_type__app_label="packages_app", codename=f"{permission}_{model}")
        )
    return staff


# Each scene makes the object an action is tried on and returns its pk and a snapshot
# function: the snapshot must differ after the action has run.


def project_scene(action: str):
    def scene(staff) -> tuple[int, Callable[[], object]]:
        project = projects.create_project("demo")
        target = action.removeprefix("set_status_")
        projects.set_status(project, "active" if target != "active" else "archived", "before")
        return project.pk, lambda: Project.objects.values_list("status", "status_reason").get(pk=project.pk)

    return scene


def release_scene(yanked: bool):
    def scene(staff) -> tuple[int, Callable[[], object]]:
        release = releases.create_release(projects.create_project("demo"), "1.0")
        if yanked:
            releases.yank_release(release, "before")
        return release.pk, lambda: list(Release.objects.filter(pk=release.pk).values_list("yanked", "yanked_reason"))

    return scene


def pinned_scene(keep: bool):
    def scene(staff) -> tuple[int, Callable[[], object]]:
        release = releases.create_release(projects.create_project("demo"), "1.0.dev1")
        if keep:
            retention.set_keep(release, True)
        return release.pk, lambda: Release.objects.values_list("keep", flat=True).get(pk=release.pk)

    return scene


def file_scene(staff) -> tuple[int, Callable[[], object]]:
    file = FileFactory(release=releases.create_release(projects.create_project("demo"), "1.0"))
    return file.pk, lambda: File.objects.filter(pk=file.pk).exists()


def role_scene(staff) -> tuple[int, Callable[[], object]]:
    project = projects.create_project("demo")
    roles.grant_role(project, UserFactory(username="amy"), "Owner")
    role = roles.grant_role(project, UserFactory(username="bob"), "Maintainer")
    return role.pk, lambda: Role.objects.filter(pk=role.pk).exists()


def token_scene(staff) -> tuple[int, Callable[[], object]]:
    # The staff user's own token: non-superusers see only their own in the admin.
    token, _ = token_services.create_token(staff, name="laptop")
    return token.pk, lambda: ApiToken.objects.values_list("revoked", flat=True).get(pk=token.pk)


def namespace_scene(staff) -> tuple[int, Callable[[], object]]:
    projects.create_project("acme-tools")  # a covered project: its serial moves too
    grant = namespaces.grant_namespace("acme", UserFactory(username="amy"))
    return grant.pk, lambda: NamespaceGrant.objects.values_list("revoked", "open").get(pk=grant.pk)


def cached_upstream_scene(staff) -> tuple[int, Callable[[], object]]:
    project = UpstreamProject.objects.create(normalized_name="far-away")
    path = f"upstream/far-away/{'a' * 64}/far_away-1.0-py3-none-any.whl"
    package_storage().save(path, ContentFile(b"kept"))
    CachedUpstreamFile.objects.create(
        project=project, path=path, filename=path.rsplit("/", 1)[1], size=4, sha256="a" * 64
    )
    return project.pk, lambda: (CachedUpstreamFile.objects.count(), package_storage().exists(path))


def webhook_scene(active: bool, waiting: bool = False):
    def scene(staff) -> tuple[int, Callable[[], object]]:
        # The staff user's own index-wide hook: non-superusers see theirs and their projects'.
        hook, _ = webhook_services.add_webhook("https://hooks.example.com/in", user=staff)
        later = timezone.now() + timedelta(hours=1) if waiting else None
        Webhook.objects.filter(pk=hook.pk).update(active=active, next_attempt_at=later)
        return hook.pk, lambda: Webhook.objects.values_list("active", "next_attempt_at").get(pk=hook.pk)

    return scene


@dataclass(frozen=True)
class Action:
    model: str
    name: str
    needs: str
    scene: Callable
    journaled: bool = True  # False: not a change to the index (the upstream cache)


ACTIONS = [
    *(Action("project", f"set_status_{s}", "change", project_scene(f"set_status_{s}")) for s in ProjectStatus.values),
    Action("release", "yank", "change", release_scene(yanked=False)),
    Action("release", "unyank", "change", release_scene(yanked=True)),
    Action("release", "pin", "change", pinned_scene(keep=False)),
    Action("release", "unpin", "change", pinned_scene(keep=True)),
    Action("release", "delete_releases", "delete", release_scene(yanked=False)),
    Action("file", "delete_files", "delete", file_scene),
    Action("role", "revoke_roles", "delete", role_scene),
    Action("apitoken", "revoke", "change", token_scene),
    Action("namespacegrant", "revoke_namespaces", "change", namespace_scene),
    Action("upstreamproject", "remove_cached_files", "delete", cached_upstream_scene, journaled=False),
    # Pausing and retrying webhooks is the worker's state, not a change to the index.
    Action("webhook", "retry_now", "change", webhook_scene(active=True, waiting=True), journaled=False),
    Action("webhook", "pause", "change", webhook_scene(active=True), journaled=False),
    Action("webhook", "resume", "change", webhook_scene(active=False), journaled=False),
]


def test_the_table_covers_every_custom_action():
    # Django's own delete_selected already needs the delete permission.
    registered = {
        (model._meta.model_name, name)
        for model, model_admin in admin.site._registry.items()
        if model._meta.app_label == "packages_app"
        for _func, name, _description in model_admin._get_base_actions()
        if name != "delete_selected"
    }
    assert registered == {(action.model, action.name) for action in ACTIONS}


@pytest.mark.parametrize("granted", list(GRANTS))
@pytest.mark.parametrize("action", ACTIONS, ids=lambda action: f"{action.model}.{action.name}")
def test_an_action_is_offered_and_run_only_with_its_permission(client, db, action, granted):
    staff = staff_with(action.model, granted)
    pk, snapshot = action.scene(staff)
    allowed = granted == action.needs
    client.force_login(staff)
    url = reverse(f"admin:packages_app_{action.model}_changelist")

    page = client.get(url)
    if granted == "none":
        assert page.status_code == 403
    else:
        assert page.status_code == 200
        assert (f'<option value="{action.name}">' in page.content.decode()) is allowed

    before, entries = snapshot(), JournalEntry.objects.count()
    forged = {"action": action.name, "_selected_action": [pk], "index": "0", "reason": "forged", "confirm": "yes"}
    response = client.post(url, forged)
    if allowed:
        assert response.status_code == 302
        assert snapshot() != before
        assert (JournalEntry.objects.count() > entries) is action.journaled
    else:
        assert response.status_code in (200, 302, 403)  # the list again, "No action selected", or no entry
        assert snapshot() == before
        assert JournalEntry.objects.count() == entries


CHANGE_FORMS = [
    ("project", project_scene("set_status_quarantined"), {"status": "quarantined", "status_reason": "forged"}),
    ("release", release_scene(yanked=False), {"yanked": "on", "yanked_reason": "forged"}),
    ("release", release_scene(yanked=True), {"yanked_reason": ""}),
    ("role", role_scene, {"role_name": "Owner"}),
    ("namespacegrant", namespace_scene, {"open": "on"}),
]


@pytest.mark.parametrize("granted", ["view", "delete"])
@pytest.mark.parametrize(("model", "scene", "form"), CHANGE_FORMS, ids=lambda value: getattr(value, "__name__", ""))
def test_a_change_page_saves_only_with_the_change_permission(client, db, model, scene, form, granted):
    staff = staff_with(model, granted)
    pk, snapshot = scene(staff)
    client.force_login(staff)
    before, entries = snapshot(), JournalEntry.objects.count()
    response = client.post(reverse(f"admin:packages_app_{model}_change", args=[pk]), form)
    assert response.status_code == 403
    assert (snapshot(), JournalEntry.objects.count()) == (before, entries)


@pytest.mark.parametrize(
    ("model", "scene"),
    [("project", project_scene("set_status_active")), ("release", release_scene(yanked=False)),
     ("file", file_scene), ("role", role_scene), ("namespacegrant", namespace_scene)],
)  # fmt: skip
def test_a_delete_page_deletes_only_with_the_delete_permission(client, db, model, scene):
    staff = staff_with(model, "change")
    pk, snapshot = scene(staff)
    client.force_login(staff)
    before, entries = snapshot(), JournalEntry.objects.count()
    response = client.post(reverse(f"admin:packages_app_{model}_delete", args=[pk]), {"post": "yes"})
    assert response.status_code == 403
    assert (snapshot(), JournalEntry.objects.count()) == (before, entries)


# ---------------------------------------------------------------- the front page


@pytest.fixture
def busy_index(db):
    """An upload, project changes and a token event in the journal."""
    owner = UserFactory(username="owner")
    file = FileFactory(release=releases.create_release(projects.create_project("demo"), "1.0"))
    token, _ = token_services.create_token(owner, name="ci")
    return file, token


def dashboard_of(client, user) -> str:
    client.force_login(user)
    page = client.get(reverse("admin:index"))
    assert page.status_code == 200
    return page.content.decode()


@pytest.mark.parametrize("granted", ["none", "view", "change"])
def test_the_front_page_shows_uploads_only_to_who_may_view_files(client, busy_index, granted):
    file, _token = busy_index
    page = dashboard_of(client, staff_with("file", granted))
    assert (file.filename in page) is (granted != "none")
    assert "new release" not in page  # no journal permission


@pytest.mark.parametrize("granted", ["none", "view"])
def test_the_front_page_shows_the_journal_only_to_who_may_view_it(client, busy_index, granted):
    file, token = busy_index
    page = dashboard_of(client, staff_with("journalentry", granted))
    assert ("new release" in page) is (granted == "view")
    assert file.filename not in page  # no file permission
    assert token.key_id not in page  # token events: superusers only


def test_token_events_show_to_superusers_only(client, busy_index):
    _file, token = busy_index
    reader = staff_with("journalentry", "view", username="reader")
    journal_url = reverse("admin:packages_app_journalentry_changelist")
    assert token.key_id not in dashboard_of(client, reader)
    assert token.key_id not in client.get(journal_url).content.decode()
    root = UserFactory(username="root", is_staff=True, is_superuser=True)
    assert token.key_id in dashboard_of(client, root)
    assert token.key_id in client.get(journal_url).content.decode()


def test_a_journal_entrys_page_names_its_token_to_superusers_only(client, busy_index):
    file, token = busy_index
    with journal.acting_token(token):
        releases.yank_release(file.release, "broken", user=token.user)
    entry = JournalEntry.objects.get(kind=journal.RELEASE_YANKED)
    assert entry.token_key_id == token.key_id
    entry_url = reverse("admin:packages_app_journalentry_change", args=[entry.pk])
    client.force_login(staff_with("journalentry", "view", username="reader"))
    page = client.get(entry_url)
    assert page.status_code == 200
    assert "yank release" in page.content.decode()
    assert token.key_id not in page.content.decode()
    assert "Token name" not in page.content.decode()
    client.force_login(UserFactory(username="root", is_staff=True, is_superuser=True))
    assert token.key_id in client.get(entry_url).content.decode()
