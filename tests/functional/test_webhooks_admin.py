"""The admin's webhooks: added with the secret shown once, listed with lag and failures, removed."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.contrib.auth.models import Permission
from django.utils import timezone

from packages_app.models import JournalEntry, Webhook, WebhookDelivery
from packages_app.services import journal, projects, releases, roles
from packages_app.services import webhooks as webhook_services
from tests.factories import UserFactory

ADD = "/admin/packages_app/webhook/add/"
LIST = "/admin/packages_app/webhook/"

pytestmark = pytest.mark.django_db


def staff_with(*codenames: str, username: str = "sam"):
    staff = UserFactory(username=username, is_staff=True)
    staff.user_permissions.add(*Permission.objects.filter(codename__in=codenames))
    return type(staff).objects.get(pk=staff.pk)  # permissions are cached on the user


def test_adding_shows_the_secret_once_and_goes_through_the_service(admin_client, admin_user):
    project = projects.create_project("demo")
    response = admin_client.post(
        ADD, {"url": "https://hooks.example.com/in", "project": project.pk, "kinds": ["file-added", "release-yanked"]}
    )
    assert response.status_code == 200
    hook = Webhook.objects.get()
    assert hook.secret in response.content.decode()
    assert "no-store" in response["Cache-Control"]
    assert (hook.project_name, hook.kinds, hook.created_by) == ("demo", ["file-added", "release-yanked"], admin_user)
    assert JournalEntry.objects.order_by("-id").first().kind == journal.WEBHOOK_ADDED
    page = admin_client.get(f"{LIST}{hook.pk}/change/").content.decode()
    assert hook.secret not in page  # never again
    assert hook.secret not in admin_client.get(LIST).content.decode()


def test_a_bad_url_is_a_form_error(admin_client):
    response = admin_client.post(ADD, {"url": "ftp://example.com/in"})
    assert response.status_code == 200
    assert not Webhook.objects.exists()
    assert "Enter a valid URL" in response.content.decode() or "http or https" in response.content.decode()


def test_the_list_shows_lag_failures_and_the_last_error(admin_client):
    project = projects.create_project("demo")
    hook, _ = webhook_services.add_webhook("https://hooks.example.com/in", project=project)
    for number in range(3):
        releases.create_release(project, f"{number}.0")
    later = timezone.now() + timedelta(minutes=5)
    Webhook.objects.filter(pk=hook.pk).update(
        failure_count=2, last_error="HTTP 500: receiver broke", next_attempt_at=later
    )
    WebhookDelivery.objects.create(
        webhook=hook, serial=hook.last_delivered_serial + 1, delivery_id="d1", error="HTTP 500"
    )
    page = admin_client.get(LIST).content.decode()
    assert "HTTP 500: receiver broke" in page
    assert '<td class="field-lag">3</td>' in page
    assert '<td class="field-failure_count">2</td>' in page
    detail = admin_client.get(f"{LIST}{hook.pk}/change/").content.decode()
    assert "d1" in detail  # the failed attempts, inline
    assert admin_client.get("/admin/packages_app/webhookdelivery/").status_code == 200


def test_actions_retry_pause_and_resume(admin_client):
    hook, _ = webhook_services.add_webhook("https://hooks.example.com/in")
    Webhook.objects.filter(pk=hook.pk).update(next_attempt_at=timezone.now() + timedelta(hours=1))
    admin_client.post(LIST, {"action": "retry_now", "_selected_action": [hook.pk]})
    hook.refresh_from_db()
    assert hook.next_attempt_at is None
    admin_client.post(LIST, {"action": "pause", "_selected_action": [hook.pk]})
    hook.refresh_from_db()
    assert not hook.active
    admin_client.post(LIST, {"action": "resume", "_selected_action": [hook.pk]})
    hook.refresh_from_db()
    assert hook.active


def test_deleting_goes_through_the_service(admin_client):
    hook, _ = webhook_services.add_webhook("https://hooks.example.com/in")
    response = admin_client.post(f"{LIST}{hook.pk}/delete/", {"post": "yes"})
    assert response.status_code == 302
    assert not Webhook.objects.exists()
    assert JournalEntry.objects.order_by("-id").first().kind == journal.WEBHOOK_REMOVED


def test_staff_need_the_permissions(client):
    client.force_login(staff_with())
    assert client.get(LIST).status_code == 403
    client.force_login(staff_with("view_webhook", username="viewer"))
    assert client.get(LIST).status_code == 200
    assert client.get(ADD).status_code == 403


def test_an_owner_adds_hooks_for_their_projects_only(client):
    owner = staff_with("view_webhook", "add_webhook")
    mine = projects.create_project("mine")
    roles.grant_role(mine, owner, "Owner")
    other = projects.create_project("other")
    others_hook, _ = webhook_services.add_webhook("https://hooks.example.com/other", project=other)
    client.force_login(owner)
    refused = client.post(ADD, {"url": "https://hooks.example.com/x", "project": other.pk})
    assert refused.status_code == 200
    index_wide = client.post(ADD, {"url": "https://hooks.example.com/x"})
    assert "This field is required" in index_wide.content.decode()
    assert Webhook.objects.count() == 1
    assert client.post(ADD, {"url": "https://hooks.example.com/x", "project": mine.pk}).status_code == 200
    assert Webhook.objects.filter(project_name="mine", created_by=owner).exists()
    listed = client.get(LIST).content.decode()
    assert "hooks.example.com/x" in listed
    assert "hooks.example.com/other" not in listed
    assert client.get(f"{LIST}{others_hook.pk}/change/").status_code == 302  # not found for them


def test_index_wide_hooks_need_their_own_permission(client):
    staff = staff_with("view_webhook", "add_webhook", "add_index_wide_webhook")
    client.force_login(staff)
    assert client.post(ADD, {"url": "https://hooks.example.com/all"}).status_code == 200
    hook = Webhook.objects.get()
    assert (hook.project_name, hook.created_by) == ("", staff)
    assert "hooks.example.com/all" in client.get(LIST).content.decode()


def test_staff_delete_a_hook_of_theirs_with_its_failed_attempts(client):
    owner = staff_with("view_webhook", "delete_webhook")
    project = projects.create_project("mine")
    roles.grant_role(project, owner, "Owner")
    hook, _ = webhook_services.add_webhook("https://hooks.example.com/in", project=project, user=owner)
    WebhookDelivery.objects.create(webhook=hook, serial=1, delivery_id="d1", error="HTTP 500")
    client.force_login(owner)
    assert client.get(f"{LIST}{hook.pk}/delete/").status_code == 200
    assert client.post(f"{LIST}{hook.pk}/delete/", {"post": "yes"}).status_code == 302
    assert not Webhook.objects.exists()
    assert not WebhookDelivery.objects.exists()
