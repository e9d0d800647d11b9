"""A password uploads, and does nothing else (issue 16, item 11).

``ALLOW_PASSWORD_UPLOADS`` let a user name and password do the metadata API's
writes too, since the API shares the upload's authentication. Now every API
write needs a token; the password keeps working on ``/legacy/``.
"""

from __future__ import annotations

import json

import pytest

from harness.dists import build_wheel
from packages_app.models import Release
from packages_app.services import projects, releases, roles, tokens
from tests.functional.upload_client import basic_auth, post_upload, twine_fields
from tests.hostile import checks
from tests.hostile.conftest import PASSWORD


@pytest.fixture
def demo(owner, settings):
    settings.ALLOW_PASSWORD_UPLOADS = True
    project = projects.create_project("demo")
    roles.grant_role(project, owner, "Owner")
    releases.create_release(project, "1.0")
    return project


WRITES = {
    "register-release": ("releases/", {"version": "3.0"}, 201),
    "yank": ("releases/1.0/yank/", {"reason": "bad"}, 200),
    "unyank": ("releases/1.0/unyank/", {}, 200),
    "status": ("status/", {"status": "archived", "reason": "done"}, 200),
}


def api_write(client, write: str, auth: str):
    path, payload, _ok = WRITES[write]
    return client.post(
        f"/api/v1/projects/demo/{path}", json.dumps(payload), content_type="application/json", HTTP_AUTHORIZATION=auth
    )


def test_a_password_still_uploads(client, owner, demo, tmp_path):
    wheel = build_wheel(tmp_path, "demo", "2.0")
    response = post_upload(client, twine_fields(wheel, "demo", "2.0"), basic_auth("owner", PASSWORD))
    assert response.status_code == 200, response.content
    assert Release.objects.get(project=demo, version="2.0").files.count() == 1


@pytest.mark.parametrize("write", list(WRITES))
def test_a_password_does_no_api_write(client, owner, demo, write):
    before = checks.index_state()
    response = api_write(client, write, basic_auth("owner", PASSWORD))
    assert response.status_code == 401, response.content
    assert response["Content-Type"] == "application/problem+json"
    assert response["WWW-Authenticate"].startswith("Bearer ")
    detail = response.json()["detail"]
    assert "API token" in detail
    assert "Bearer" in detail
    assert checks.index_state() == before


@pytest.mark.parametrize("write", list(WRITES))
@pytest.mark.parametrize("scheme", ["bearer", "basic"])
def test_a_token_does_the_same_api_write(client, owner, demo, write, scheme):
    plaintext = tokens.create_token(owner)[1]
    auth = f"Bearer {plaintext}" if scheme == "bearer" else basic_auth("__token__", plaintext)
    response = api_write(client, write, auth)
    assert response.status_code == WRITES[write][2], response.content
