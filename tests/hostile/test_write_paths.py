"""Revoked, expired, disabled and project-limited tokens are refused on every
write path: the upload and each metadata API write. Nothing changes."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest
from django.utils import timezone

from harness.dists import build_wheel
from harness.upload_form import Upload, form_for
from packages_app.models import ApiToken
from packages_app.services import projects, releases, roles, tokens
from tests.functional.upload_client import basic_auth
from tests.hostile import checks


@pytest.fixture
def scene(owner, tmp_path):
    """demo 1.0 (a release to yank) owned by 'owner', and a project 'other' of theirs."""
    demo = projects.create_project("demo")
    roles.grant_role(demo, owner, "Owner")
    releases.create_release(demo, "1.0")
    other = projects.create_project("other")
    roles.grant_role(other, owner, "Owner")
    return demo, other


def _revoke(token, _other):
    tokens.revoke_token(token)


def _expire(token, _other):
    ApiToken.objects.filter(pk=token.pk).update(expires=timezone.now() - timedelta(seconds=1))


def _disable_user(token, _other):
    token.user.is_active = False
    token.user.save(update_fields=["is_active"])


def _limit_to(token, *scope):
    ApiToken.objects.filter(pk=token.pk).update(limited_to_projects=True)
    token.projects.set(scope)


def _limit_to_other(token, other):
    _limit_to(token, other)


def _limit_to_a_deleted_project(token, _other):
    gone = projects.create_project("gone")
    _limit_to(token, gone)
    projects.delete_project(gone)


STATES = {
    "revoked": (_revoke, 401, "Invalid API Token: the token has been revoked."),
    "expired": (_expire, 401, "Invalid API Token: the token has expired."),
    "user-disabled": (_disable_user, 401, "Invalid API Token: its user is disabled."),
    "limited-to-another-project": (_limit_to_other, 403, "The given token isn't allowed to"),
    "limited-to-a-deleted-project": (
        _limit_to_a_deleted_project,
        401,
        "Invalid API Token: the token has been revoked.",
    ),
}


def _upload(client, auth, tmp_path):
    wheel = build_wheel(tmp_path, "demo", "2.0")
    return checks.send(client, Upload.of(form_for(wheel, "demo", "2.0")), auth)


def _api(path: str, payload: dict):
    def write(client, auth, _tmp_path):
        return client.post(
            f"/api/v1/projects/demo/{path}",
            json.dumps(payload),
            content_type="application/json",
            HTTP_AUTHORIZATION=auth,
        )

    return write


WRITES = {
    "upload": _upload,
    "register-release": _api("releases/", {"version": "3.0"}),
    "yank": _api("releases/1.0/yank/", {"reason": "bad"}),
    "unyank": _api("releases/1.0/unyank/", {}),
    "status": _api("status/", {"status": "archived", "reason": "done"}),
    "add-retention-policy": _api("retention/", {"dev": True, "keep_newest": 5}),
    "pin-release": _api("releases/1.0/keep/", {"keep": True}),
    "add-trusted-publisher": _api(
        "publishers/",
        {"kind": "github", "claims": {"repository": "a/b", "repository_owner_id": "1", "workflow": "r.yml"}},
    ),
}


@pytest.mark.parametrize("state", list(STATES))
@pytest.mark.parametrize("write", list(WRITES))
@pytest.mark.parametrize("scheme", ["bearer", "basic"])
def test_bad_tokens_are_refused_on_every_write_path(client, owner, scene, tmp_path, state, write, scheme):
    token, plaintext = tokens.create_token(owner, name="ci")
    make_bad, status, message = STATES[state]
    make_bad(token, scene[1])
    auth = f"Bearer {plaintext}" if scheme == "bearer" else basic_auth("__token__", plaintext)
    before = checks.index_state()
    response = WRITES[write](client, auth, tmp_path)
    assert response.status_code == status, response.content
    assert message in response.content.decode()
    assert checks.index_state() == before


@pytest.mark.parametrize("write", list(WRITES))
def test_a_good_token_may_write_on_every_path(client, owner, scene, tmp_path, write):
    """The other side of the matrix above: the same writes succeed with the token as it was made."""
    _token, plaintext = tokens.create_token(owner, name="ci", projects=[scene[0]])
    response = WRITES[write](client, f"Bearer {plaintext}", tmp_path)
    assert response.status_code in (200, 201), response.content
