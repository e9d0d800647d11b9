"""A quarantine is the operator's (issue 16, item 3).

Owners could lift a quarantine through ``POST /api/v1/projects/<p>/status/``,
and set one. Now only staff set or lift it, and an owner cannot change a
quarantined project's status at all; the admin is unchanged.
"""

from __future__ import annotations

import json

import pytest
from django.urls import reverse

from packages_app.models import Project
from packages_app.services import projects, roles, tokens
from packages_app.services.errors import Conflict
from tests.factories import UserFactory
from tests.hostile import checks

PROBLEM = "application/problem+json"


@pytest.fixture
def demo(owner):
    project = projects.create_project("demo")
    roles.grant_role(project, owner, "Owner")
    return project


def bearer(user) -> str:
    return f"Bearer {tokens.create_token(user)[1]}"


def staff_owner(project) -> str:
    """A staff user (not a superuser) who is also an Owner of the project."""
    user = UserFactory(username="operator", is_staff=True)
    roles.grant_role(project, user, "Owner")
    return bearer(user)


def superuser() -> str:
    return bearer(UserFactory(username="root", is_staff=True, is_superuser=True))


def post_status(client, auth: str, status: str, reason: str = ""):
    return client.post(
        "/api/v1/projects/demo/status/",
        json.dumps({"status": status, "reason": reason}),
        content_type="application/json",
        HTTP_AUTHORIZATION=auth,
    )


def status_of(name: str = "demo") -> tuple[str, str]:
    project = Project.objects.get(normalized_name=name)
    return project.status, project.status_reason


def assert_forbidden(response, *words: str) -> None:
    assert response.status_code == 403, response.content
    assert response["Content-Type"] == PROBLEM
    problem = response.json()
    assert (problem["status"], problem["title"]) == (403, "Forbidden")
    for word in words:
        assert word in problem["detail"], problem["detail"]


def test_an_owner_may_not_quarantine(client, owner, demo):
    auth = bearer(owner)
    before = checks.index_state()
    response = post_status(client, auth, "quarantined", "I say so")
    assert_forbidden(response, "Only staff may quarantine", "'demo'")
    assert checks.index_state() == before
    assert status_of() == ("active", "")


@pytest.mark.parametrize("status", ["active", "archived", "deprecated", "quarantined"])
def test_an_owner_may_not_touch_a_quarantined_project(client, owner, demo, status):
    projects.set_status(demo, "quarantined", "malware reported")
    auth = bearer(owner)
    before = checks.index_state()
    response = post_status(client, auth, status, "fixed, honest")
    assert_forbidden(response, "Project 'demo' is quarantined", "only staff may change its status")
    assert checks.index_state() == before
    assert status_of() == ("quarantined", "malware reported")
    page = client.get("/simple/demo/", HTTP_ACCEPT="application/vnd.pypi.simple.v1+json").json()
    assert page["project-status"] == {"status": "quarantined", "reason": "malware reported"}


@pytest.mark.parametrize("status", ["active", "archived", "deprecated"])
def test_an_owner_still_sets_the_other_statuses(client, owner, demo, status):
    response = post_status(client, bearer(owner), status, "moving on")
    assert response.status_code == 200, response.content
    assert status_of() == (status, "moving on")


@pytest.mark.parametrize("caller", ["superuser", "staff-owner"])
def test_staff_set_and_lift_a_quarantine(client, demo, caller):
    auth = superuser() if caller == "superuser" else staff_owner(demo)
    quarantined = post_status(client, auth, "quarantined", "malware reported")
    assert quarantined.status_code == 200, quarantined.content
    assert status_of() == ("quarantined", "malware reported")
    assert client.get("/simple/demo/", HTTP_ACCEPT="application/vnd.pypi.simple.v1+json").json()["files"] == []
    lifted = post_status(client, auth, "active", "false alarm")
    assert lifted.status_code == 200, lifted.content
    assert status_of() == ("active", "false alarm")


def test_staff_who_own_nothing_here_are_refused(client, demo):
    """Staff rights are not ownership: a staff user without a role manages nothing through the API."""
    auth = bearer(UserFactory(username="helpdesk", is_staff=True))
    before = checks.index_state()
    assert_forbidden(post_status(client, auth, "quarantined"), "isn't an owner of project 'demo'")
    assert checks.index_state() == before


def test_the_admin_sets_and_lifts_a_quarantine(admin_client, demo):
    changelist = reverse("admin:packages_app_project_changelist")
    for action, expected in (("set_status_quarantined", "quarantined"), ("set_status_active", "active")):
        response = admin_client.post(changelist, {"action": action, "_selected_action": [demo.pk], "reason": "review"})
        assert response.status_code == 302
        assert status_of() == (expected, "review")


def test_a_status_change_decided_on_a_stale_status_is_refused(demo):
    """The API checks the status it read; if staff quarantined the project meanwhile, the change is refused."""
    stale = Project.objects.get(pk=demo.pk)
    projects.set_status(demo, "quarantined", "malware reported")
    with pytest.raises(Conflict, match="changed"):
        projects.set_status(stale, "active", "", expected_status=stale.status)
    assert status_of() == ("quarantined", "malware reported")
