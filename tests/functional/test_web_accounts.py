"""Signing in and out of the web UI, "my projects", and a closed index (READ_ACCESS=authenticated)."""

from __future__ import annotations

import pytest

from tests.functional.web import PASSWORD, make_scene

LIMIT = 10  # AUTH_FAILURE_LIMIT's default
LOCKED = "Too many failed authentication attempts from this address with these credentials."


@pytest.fixture
def scene(db):
    return make_scene()


@pytest.fixture
def closed(settings):
    settings.READ_ACCESS = "authenticated"


def sign_in(client, username: str, password: str = PASSWORD, next_url: str = "", **extra):
    return client.post("/account/login/", {"username": username, "password": password, "next": next_url}, **extra)


def test_signing_in_and_out(scene):
    from django.test import Client

    client = Client(enforce_csrf_checks=True)
    form = client.get("/account/login/")
    assert form.status_code == 200
    page = form.content.decode()
    assert '<label for="id_username">User name</label>' in page
    assert 'name="csrfmiddlewaretoken"' in page
    token = form.cookies["csrftoken"].value
    # Without the CSRF token the form is refused.
    assert client.post("/account/login/", {"username": "olivia", "password": PASSWORD}).status_code == 403
    signed = client.post(
        "/account/login/", {"username": "olivia", "password": PASSWORD, "csrfmiddlewaretoken": token, "next": ""}
    )
    assert signed.status_code == 302
    assert signed["Location"] == "/"
    home = client.get("/").content.decode()
    assert "My projects" in home
    assert "Sign out" in home
    assert client.get("/account/logout/").status_code == 405  # signing out is a POST, with its CSRF token
    token = client.cookies["csrftoken"].value
    out = client.post("/account/logout/", {"csrfmiddlewaretoken": token})
    assert out.status_code == 302
    assert "Sign in" in client.get("/").content.decode()


def test_a_wrong_password_shows_the_form_again(client, scene):
    response = sign_in(client, "olivia", "wrong")
    assert response.status_code == 200
    assert "Please enter a correct username and password" in response.content.decode()


def test_sign_in_goes_back_where_the_visitor_was_but_never_off_site(client, scene):
    assert sign_in(client, "olivia", next_url="/project/demo/")["Location"] == "/project/demo/"
    client.logout()
    assert sign_in(client, "olivia", next_url="https://evil.example/")["Location"] == "/"


def test_sign_in_is_throttled_like_the_admin_login(client, scene):
    for _ in range(LIMIT - 1):
        assert sign_in(client, "olivia", "wrong", REMOTE_ADDR="10.0.0.1").status_code == 200
    locked = sign_in(client, "olivia", "wrong", REMOTE_ADDR="10.0.0.1")
    assert locked.status_code == 429
    assert locked["Retry-After"] == "300"
    assert LOCKED in locked.content.decode()
    assert sign_in(client, "olivia", REMOTE_ADDR="10.0.0.1").status_code == 429  # even the right password
    assert sign_in(client, "olivia", REMOTE_ADDR="10.0.0.2").status_code == 302  # from elsewhere: fine


def test_my_projects_lists_own_and_team_roles(client, scene):
    assert client.get("/account/projects/")["Location"] == "/account/login/?next=/account/projects/"
    client.force_login(scene.olivia)
    page = client.get("/account/projects/").content.decode()
    assert 'href="/project/demo/"' in page
    assert 'href="/project/secret-pkg/"' in page
    client.force_login(scene.tess)
    page = client.get("/account/projects/").content.decode()
    assert "Reader (team blue)" in page
    assert "/project/demo/" not in page
    client.force_login(scene.nick)
    assert "You hold no role on any project yet" in client.get("/account/projects/").content.decode()


@pytest.mark.parametrize(
    "url", ["/", "/search/?q=demo", "/project/demo/", "/project/demo/1.0/", "/project/secret-pkg/"]
)
def test_a_closed_index_sends_anonymous_visitors_to_sign_in(client, scene, closed, url):
    response = client.get(url)
    assert response.status_code == 302
    assert response["Location"].startswith("/account/login/?next=")
    assert "WWW-Authenticate" not in response


def test_a_closed_index_still_challenges_installers_and_opens_after_sign_in(client, scene, closed):
    assert client.get("/simple/")["WWW-Authenticate"].startswith("Basic")
    form = client.get("/account/login/")
    assert form.status_code == 200
    assert "This index is private" in form.content.decode()
    assert sign_in(client, "nick", next_url="/project/demo/")["Location"] == "/project/demo/"
    assert client.get("/project/demo/").status_code == 200
    assert client.get("/project/secret-pkg/").status_code == 404  # still not a member


def test_wrong_basic_credentials_on_a_page_are_a_401(client, scene):
    from tests.functional.upload_client import basic_auth

    response = client.get("/", HTTP_AUTHORIZATION=basic_auth("olivia", "wrong"))
    assert response.status_code == 401
