"""Hostile credentials on both write paths (upload and the metadata API): a 401
that says why and names the scheme, nothing written, and good credentials
still work afterwards."""

from __future__ import annotations

import json

import pytest

from packages_app.models import Release
from packages_app.services import projects, roles, tokens
from tests.hostile import catalogue, checks


@pytest.fixture
def demo(owner):
    project = projects.create_project("demo")
    roles.grant_role(project, owner, "Owner")
    return project


@pytest.mark.parametrize("case", catalogue.params("credentials"))
def test_upload_refuses_hostile_credentials(client, owner, owner_auth, upload_temp_dir, tmp_path, case):
    before = checks.index_state()
    response = checks.send(client, catalogue.Upload.of(catalogue.sound_form()), case.make())
    checks.assert_refused(response, case.expect, case.status)
    assert response["WWW-Authenticate"].startswith("Basic ")
    checks.assert_nothing_kept(before, upload_temp_dir)
    checks.assert_index_healthy(client, tmp_path, owner_auth)


@pytest.mark.parametrize("case", catalogue.params("credentials"))
def test_api_refuses_hostile_credentials(client, owner, demo, case):
    before = checks.index_state()
    url = "/api/v1/projects/demo/releases/"
    response = client.post(
        url, json.dumps({"version": "9.0"}), content_type="application/json", HTTP_AUTHORIZATION=case.make()
    )
    assert response.status_code == 401, response.content
    assert response["Content-Type"] == "application/problem+json"
    assert case.expect in response.json()["detail"]
    assert response["WWW-Authenticate"].startswith("Bearer ")
    assert checks.index_state() == before
    _token, plaintext = tokens.create_token(owner)
    good = client.post(
        url, json.dumps({"version": "9.0"}), content_type="application/json", HTTP_AUTHORIZATION=f"Bearer {plaintext}"
    )
    assert good.status_code == 201, good.content
    assert Release.objects.filter(project=demo, version="9.0").exists()
