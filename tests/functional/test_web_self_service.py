"""Self-service in the web UI: yanking with a reason, and a user's own tokens (shown once)."""

from __future__ import annotations

import json
import re

import pytest
from django.test import Client

from packages_app.models import ApiToken, JournalEntry, Release
from packages_app.services import roles
from tests.factories import UserFactory
from tests.functional.simple_pages import JSON_V1
from tests.functional.upload_client import basic_auth
from tests.functional.web import make_scene

YANK = "/project/demo/1.0/yank/"


@pytest.fixture
def scene(db):
    return make_scene()


def as_user(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def release(version: str = "1.0") -> Release:
    return Release.objects.get(project__normalized_name="demo", version=version)


def test_an_owner_yanks_with_a_reason_and_installers_see_it(scene):
    client = as_user(scene.olivia)
    page = client.get("/project/demo/1.0/").content.decode()
    assert 'action="/project/demo/1.0/yank/"' in page
    assert '<label for="id_reason">Reason for yanking 1.0</label>' in page
    response = client.post(YANK, {"reason": "leaks memory"})
    assert response.status_code == 302
    assert response["Location"] == "/project/demo/1.0/"
    assert release().yanked
    assert release().yanked_reason == "leaks memory"
    entry = JournalEntry.objects.order_by("-id").first()
    assert (entry.action, entry.version, entry.submitted_by) == ("yank release", "1.0", scene.olivia)
    files = json.loads(client.get("/simple/demo/", HTTP_ACCEPT=JSON_V1).content)["files"]
    assert {file["filename"]: file["yanked"] for file in files}["demo-1.0.tar.gz"] == "leaks memory"
    page = client.get("/project/demo/1.0/").content.decode()
    assert "Demo 1.0 is yanked." in page
    assert "leaks memory" in page
    assert client.post("/project/demo/1.0/unyank/").status_code == 302
    assert not release().yanked


@pytest.mark.parametrize("role", ["Reader", None])
def test_only_owners_and_maintainers_yank_as_through_the_api(scene, role):
    mallory = UserFactory(username="mallory")
    if role:
        roles.grant_role(scene.demo, mallory, role)
    client = as_user(mallory)
    assert "/yank/" not in client.get("/project/demo/1.0/").content.decode()
    response = client.post(YANK, {"reason": "mine now"})
    assert response.status_code == 403
    expected = "The user &#x27;mallory&#x27; isn&#x27;t an owner or maintainer of project &#x27;Demo&#x27;."
    assert expected in response.content.decode()
    assert not release().yanked


def test_a_maintainer_yanks_and_unyanks_but_does_not_manage(scene):
    max_ = UserFactory(username="max")
    roles.grant_role(scene.demo, max_, "Maintainer")
    client = as_user(max_)
    assert 'action="/project/demo/1.0/yank/"' in client.get("/project/demo/1.0/").content.decode()
    assert client.post(YANK, {"reason": "bad wheel"}).status_code == 302
    assert release().yanked_reason == "bad wheel"
    assert client.post("/project/demo/1.0/unyank/").status_code == 302
    assert not release().yanked
    assert "/manage/" not in client.get("/project/demo/").content.decode()
    assert client.get("/project/demo/manage/").status_code == 403


def test_a_restricted_project_cannot_be_yanked_by_a_non_member(scene):
    response = as_user(scene.nick).post("/project/secret-pkg/0.1/yank/", {"reason": "x"})
    assert response.status_code == 404
    assert not Release.objects.get(version="0.1").yanked


def test_yanking_needs_a_signed_in_post_with_its_csrf_token(scene):
    anonymous = Client()
    assert anonymous.post(YANK, {"reason": "x"})["Location"].startswith("/account/login/")
    strict = Client(enforce_csrf_checks=True)
    strict.force_login(scene.olivia)
    assert strict.post(YANK, {"reason": "x"}).status_code == 403
    assert as_user(scene.olivia).get(YANK).status_code == 405
    assert not release().yanked


def test_a_too_long_reason_is_refused(scene):
    client = as_user(scene.olivia)
    response = client.post(YANK, {"reason": "x" * 10_001}, follow=True)
    assert "Ensure this value has at most 10000 characters" in response.content.decode()
    assert not release().yanked


def new_token(client, **fields) -> tuple:
    response = client.post("/account/tokens/", {"name": "laptop", "read_only": "on", **fields})
    assert response.status_code == 200, response.content
    match = re.search(r'id="new-token" type="text" readonly value="(pyidx_[^"]+)"', response.content.decode())
    assert match, response.content.decode()
    return response, match[1]


def test_a_user_makes_a_read_only_token_shown_once_and_installs_with_it(scene, settings):
    settings.READ_ACCESS = "authenticated"
    client = as_user(scene.tess)
    assert "You have no tokens yet." in client.get("/account/tokens/").content.decode()
    response, plaintext = new_token(client, projects=[scene.secret.pk], expires_in_days="30")
    assert response["Cache-Control"] == "no-store"
    token = ApiToken.objects.get(user=scene.tess)
    assert token.read_only
    assert token.limited_to_projects
    assert list(token.projects.all()) == [scene.secret]
    assert token.expires is not None
    listing = client.get("/account/tokens/").content.decode()
    assert token.key_id in listing
    assert plaintext not in listing  # never shown again
    installer = Client()
    reads = installer.get("/simple/secret-pkg/", HTTP_AUTHORIZATION=basic_auth("__token__", plaintext))
    assert reads.status_code == 200


def test_the_projects_offered_are_the_users_own(scene):
    client = as_user(scene.nick)
    response = client.post("/account/tokens/", {"name": "x", "projects": [scene.demo.pk]})
    assert response.status_code == 400
    assert "Select a valid choice" in response.content.decode()
    assert not ApiToken.objects.exists()


def test_a_user_revokes_their_own_token_only(scene):
    client = as_user(scene.olivia)
    _, plaintext = new_token(client)
    token = ApiToken.objects.get(user=scene.olivia)
    assert as_user(scene.nick).post(f"/account/tokens/{token.key_id}/revoke/").status_code == 404
    response = client.post(f"/account/tokens/{token.key_id}/revoke/", follow=True)
    assert "stops working at once" in response.content.decode()
    token.refresh_from_db()
    assert token.revoked is not None
    assert Client().get("/simple/", HTTP_AUTHORIZATION=basic_auth("__token__", plaintext)).status_code == 401


def test_tokens_need_a_signed_in_user(client, scene):
    assert client.get("/account/tokens/")["Location"] == "/account/login/?next=/account/tokens/"
