"""Every body parser is bounded and refuses what it cannot safely read: the
metadata API's JSON writes and XML-RPC (the upload form is in
test_upload_refusals). The endpoint answers normally right after."""

from __future__ import annotations

import json
import xmlrpc.client

import pytest

from packages_app.services import projects, roles, tokens
from tests.hostile import catalogue, checks


@pytest.fixture
def bearer(owner) -> str:
    project = projects.create_project("demo")
    roles.grant_role(project, owner, "Owner")
    _token, plaintext = tokens.create_token(owner)
    return f"Bearer {plaintext}"


def register(client, content_type: str, body: bytes, auth: str):
    return client.generic(
        "POST", "/api/v1/projects/demo/releases/", body, content_type=content_type, HTTP_AUTHORIZATION=auth
    )


@pytest.mark.parametrize("case", catalogue.params("api-body"))
def test_api_refuses_hostile_bodies(client, bearer, upload_temp_dir, case):
    before = checks.index_state()
    content_type, body = case.make()
    response = register(client, content_type, body, bearer)
    assert response.status_code == case.status, response.content[:500]
    assert response["Content-Type"] == "application/problem+json"
    assert case.expect in response.content.decode(), response.content[:500]
    checks.assert_nothing_kept(before, upload_temp_dir)
    sound = register(client, "application/json", json.dumps({"version": "9.0"}).encode(), bearer)
    assert sound.status_code == 201, sound.content


def test_api_body_limit_is_the_form_limit(client, bearer, settings):
    """At the limit is read; one byte over is refused before anything is parsed."""
    body = json.dumps({"version": "9.0", "summary": "x"}).encode()
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = len(body)
    assert register(client, "application/json", body, bearer).status_code == 201
    over = json.dumps({"version": "9.1", "summary": "xy"}).encode()
    assert register(client, "application/json", over, bearer).status_code == 413


def rpc(client, body: bytes):
    return client.generic("POST", "/pypi", body, content_type="text/xml")


@pytest.mark.parametrize("case", catalogue.params("xml-rpc"))
def test_xmlrpc_refuses_hostile_bodies(client, db, case):
    response = rpc(client, case.make())
    assert response.status_code == (case.status if case.status == 413 else 200), response.content[:500]
    if case.status == 413:
        assert case.expect in response.content.decode()
    else:
        with pytest.raises(xmlrpc.client.Fault) as fault:
            xmlrpc.client.loads(response.content)
        assert case.expect in fault.value.faultString
    sound = rpc(client, xmlrpc.client.dumps((), "changelog_last_serial").encode())
    assert sound.status_code == 200
    assert xmlrpc.client.loads(sound.content)[0] == (0,)


def test_admin_forms_are_bounded_too(client, db):
    """Django's own limit on form fields, for the admin's login form like every other."""
    response = client.post("/admin/login/", {"username": "x" * (17 * 1024 * 1024), "password": "x"})
    assert response.status_code == 400
