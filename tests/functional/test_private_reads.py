"""A private index: who reads what, on every read surface.

Two projects: ``open-pkg`` (visible to everyone who may read the index) and
``secret-pkg`` (restricted: its Owner olivia, the team "blue" as Readers, and staff).
Each viewer reads through a client of its own that sends its credentials every time.
"""

from __future__ import annotations

import xmlrpc.client

import pytest
from django.contrib.auth.models import Group, User
from django.test import Client
from django.utils import timezone

from harness.dists import build_wheel
from harness.upload_form import Upload, form_for
from packages_app import credentials
from packages_app.models import File, Project, Visibility
from packages_app.services import projects, roles, tokens
from tests.factories import UserFactory
from tests.functional.upload_client import basic_auth
from tests.hostile import checks
from tests.hostile.test_access import SIMPLE_JSON, everything_public, publish, rpc

PASSWORD = "correct horse battery staple"  # the factories' password
SECRET_NAMES = ("secret-pkg", "Secret-Pkg", "secret_pkg")


def bearer(plaintext: str) -> str:
    return f"Bearer {plaintext}"


def token_auth(plaintext: str) -> str:
    return basic_auth("__token__", plaintext)


@pytest.fixture
def index(client, tmp_path, db, settings):
    """The two projects with a wheel and an sdist each, and a token per kind of viewer."""
    olivia = UserFactory(username="olivia")
    tess = UserFactory(username="tess")  # in team blue
    nick = UserFactory(username="nick")  # no role anywhere
    staff = UserFactory(username="sam", is_staff=True)
    blue = Group.objects.create(name="blue")
    tess.groups.add(blue)
    _, olivia_write = tokens.create_token(olivia, name="write")
    publish(client, tmp_path, token_auth(olivia_write), "open-pkg", "1.0")
    publish(client, tmp_path, token_auth(olivia_write), "secret-pkg", "1.0")
    open_pkg = Project.objects.get(normalized_name="open-pkg")
    secret = projects.set_visibility(Project.objects.get(normalized_name="secret-pkg"), Visibility.RESTRICTED)
    roles.grant_role(secret, blue, "Reader")
    auth = {
        "anonymous": None,
        "write token": token_auth(olivia_write),
        "read-only token": token_auth(tokens.create_token(olivia, read_only=True)[1]),
        "token limited to another project": token_auth(tokens.create_token(olivia, projects=[open_pkg])[1]),
        "team member": bearer(tokens.create_token(tess, read_only=True)[1]),
        "team member's password": basic_auth("tess", PASSWORD),
        "non-member": token_auth(tokens.create_token(nick, read_only=True)[1]),
        "staff": token_auth(tokens.create_token(staff, read_only=True)[1]),
    }
    return {"auth": auth, "secret": secret, "open": open_pkg}


def client_of(auth: str | None) -> Client:
    return Client(HTTP_AUTHORIZATION=auth) if auth else Client()


SEES_SECRET = {"write token", "read-only token", "team member", "team member's password", "staff"}
NOT_SECRET = {"token limited to another project", "non-member"}


def project_reads(name: str) -> list[tuple[str, dict]]:
    file_path = File.objects.filter(release__project__normalized_name=name).values_list("path", flat=True)[0]
    return [
        (f"/simple/{name}/", {}),
        (f"/simple/{name}/", {"HTTP_ACCEPT": SIMPLE_JSON}),
        (f"/pypi/{name}/json", {}),
        (f"/pypi/{name}/1.0/json", {}),
        (f"/api/v1/projects/{name}/", {}),
        (f"/api/v1/projects/{name}/releases/", {}),
        (f"/api/v1/projects/{name}/releases/1.0/", {}),
        (f"/packages/{file_path}", {}),
        (f"/packages/{file_path}.metadata", {}),
        (f"/snapshot/2999-01-01/simple/{name}/", {}),
        (f"/cooldown/1s/simple/{name}/", {}),
    ]


INDEX_READS = [
    "/simple/",
    "/api/v1/",
    "/api/v1/projects/",
    "/api/v1/events/",
    "/api/v1/users/olivia/projects/",
    "/api/v1/schema/",
    "/api/v1/docs/",
    "/snapshot/2999-01-01/simple/",
    "/cooldown/1s/simple/",
]


def status_of(client: Client, url: str, **headers) -> int:
    response = client.get(url, **headers)
    if response.streaming:
        b"".join(response.streaming_content)
    return response.status_code


# ---------------------------------------------------------------- READ_ACCESS=authenticated


@pytest.fixture
def private(settings):
    settings.READ_ACCESS = "authenticated"


def test_an_anonymous_read_of_a_private_index_is_challenged(index, private):
    anonymous = Client()
    reads = [(url, {}) for url in INDEX_READS] + project_reads("open-pkg") + project_reads("secret-pkg")
    for url, headers in reads:
        response = anonymous.get(url, **headers)
        assert response.status_code == 401, url
        assert response["WWW-Authenticate"].startswith(("Basic realm=", "Bearer realm=")), url
        assert "no-store" in response["Cache-Control"], url
    xmlrpc = anonymous.post("/pypi", b"<?xml version='1.0'?><methodCall><methodName>list_packages</methodName>"
                            b"</methodCall>", content_type="text/xml")  # fmt: skip
    assert xmlrpc.status_code == 401
    assert anonymous.get("/_health/").status_code in (200, 503)  # the load balancer's probe stays open


@pytest.mark.parametrize("viewer", sorted(SEES_SECRET | NOT_SECRET))
def test_every_viewer_reads_the_open_project(index, private, viewer):
    reader = client_of(index["auth"][viewer])
    for url, headers in [(url, {}) for url in INDEX_READS] + project_reads("open-pkg"):
        assert status_of(reader, url, **headers) == 200, url


@pytest.mark.parametrize("viewer", sorted(SEES_SECRET))
def test_role_holders_their_teams_and_staff_read_the_restricted_project(index, private, viewer):
    reader = client_of(index["auth"][viewer])
    for url, headers in project_reads("secret-pkg"):
        assert status_of(reader, url, **headers) == 200, url
    assert b"secret-pkg" in reader.get("/simple/").content


@pytest.mark.parametrize("viewer", sorted(NOT_SECRET))
def test_to_anyone_else_the_restricted_project_does_not_exist(index, private, viewer):
    reader = client_of(index["auth"][viewer])
    for url, headers in project_reads("secret-pkg"):
        assert status_of(reader, url, **headers) == 404, url


@pytest.mark.parametrize("viewer", sorted(SEES_SECRET | NOT_SECRET))
def test_xmlrpc_answers_about_the_restricted_project_only_to_its_readers(index, private, viewer):
    reader = client_of(index["auth"][viewer])
    calls = [
        ("package_releases", "secret-pkg", True),
        ("release_urls", "secret-pkg", "1.0"),
        ("package_roles", "secret-pkg"),
        ("search", {"name": "secret"}),
        ("user_packages", "olivia"),
    ]
    answers = [rpc(reader, *call) for call in calls]
    assert all(answer.status == 200 for answer in answers)
    results = {call[0]: xmlrpc.client.loads(answer.text)[0][0] for call, answer in zip(calls, answers, strict=True)}
    reads = viewer in SEES_SECRET
    # About the project itself: an answer for its readers, the empty one of an unknown name for anyone else.
    assert [bool(results[name]) for name in ("package_releases", "release_urls", "package_roles")] == [reads] * 3
    # Lists: it is in them for its readers only.
    assert [("secret-pkg" in repr(results[name])) for name in ("search", "user_packages")] == [reads] * 2


@pytest.mark.parametrize("viewer", sorted(NOT_SECRET))
def test_a_restricted_name_appears_in_no_response_to_a_non_member(index, private, viewer):
    reader = client_of(index["auth"][viewer])
    fetched = everything_public(reader, ["open-pkg"], "olivia")
    everything = "\n".join(each.text for each in fetched)
    assert "open_pkg-1.0-py3-none-any.whl" in everything  # the same reads do show the open project
    leaks = [(each.label, name) for each in fetched for name in SECRET_NAMES if name in each.text]
    assert leaks == []
    for search in ("/api/v1/projects/?q=secret", "/api/v1/projects/?prefix=sec", "/api/v1/events/?project=secret-pkg"):
        assert "secret" not in reader.get(search).content.decode().replace(search, ""), search


def test_a_member_sees_the_restricted_name_in_the_same_feeds(index, private):
    """The other side of the test above: the same reads do list it for a team member."""
    fetched = everything_public(client_of(index["auth"]["team member"]), ["open-pkg"], "olivia")
    showing = {each.label.split(" {")[0] for each in fetched if "secret-pkg" in each.text}
    assert {"GET /simple/", "GET /api/v1/projects/", "GET /api/v1/events/"} <= {s.strip() for s in showing}
    assert any(label.startswith("XML-RPC list_packages") for label in showing)
    assert any(label.startswith("XML-RPC changelog_since_serial") for label in showing)


def test_wrong_credentials_are_a_401_even_on_an_open_index(index):
    response = client_of(token_auth("pyidx_0123_not-a-token")).get("/simple/")
    assert response.status_code == 401
    assert response["WWW-Authenticate"].startswith("Basic")


def test_an_anonymous_reader_of_an_open_index_sees_no_restricted_project(index):
    fetched = everything_public(Client(), ["open-pkg"], "olivia")
    leaks = [(each.label, name) for each in fetched for name in SECRET_NAMES if name in each.text]
    assert leaks == []
    for url, headers in project_reads("secret-pkg"):
        assert status_of(Client(), url, **headers) == 404, url


# ---------------------------------------------------------------- writes


def test_a_read_only_token_installs_but_never_writes(index, private, tmp_path):
    reader = client_of(index["auth"]["read-only token"])
    assert reader.get("/simple/open-pkg/").status_code == 200
    path = build_wheel(tmp_path / "w", "open-pkg", "2.0")
    response = checks.send(reader, Upload.of(form_for(path, "open-pkg", "2.0")), index["auth"]["read-only token"])
    assert response.status_code == 403
    assert "read-only" in response.reason_phrase
    api = reader.post("/api/v1/projects/open-pkg/releases/", {"version": "3.0"}, content_type="application/json")
    assert api.status_code == 403
    assert not index["open"].releases.filter(version__in=["2.0", "3.0"]).exists()


def test_a_team_role_counts_for_uploads(index, tmp_path):
    team = Group.objects.get(name="blue")
    path = build_wheel(tmp_path / "w", "secret-pkg", "2.0")
    tess_writes = token_auth(tokens.create_token(User.objects.get(username="tess"))[1])
    upload = Upload.of(form_for(path, "secret-pkg", "2.0"))
    assert checks.send(Client(), upload, tess_writes).status_code == 403  # a Reader uploads nothing
    roles.grant_role(index["secret"], team, "Maintainer")
    assert checks.send(Client(), upload, tess_writes).status_code == 200


def set_visibility_by_api(client: Client, name: str, visibility: str):
    return client.post(
        f"/api/v1/projects/{name}/visibility/", {"visibility": visibility}, content_type="application/json"
    )


def test_owners_restrict_and_open_a_project_through_the_api(index, private):
    owner, other = client_of(index["auth"]["write token"]), client_of(index["auth"]["non-member"])
    response = set_visibility_by_api(owner, "open-pkg", "restricted")
    assert response.status_code == 200, response.content
    assert response.json()["visibility"] == "restricted"
    assert other.get("/simple/open-pkg/").status_code == 404
    assert set_visibility_by_api(owner, "open-pkg", "index").json()["visibility"] == "index"
    assert other.get("/simple/open-pkg/").status_code == 200


def test_only_owners_set_a_projects_visibility(index, private):
    maintainer = UserFactory(username="mia")
    roles.grant_role(index["open"], maintainer, "Maintainer")
    mia = client_of(bearer(tokens.create_token(maintainer)[1]))
    assert set_visibility_by_api(mia, "open-pkg", "restricted").status_code == 403
    assert (
        set_visibility_by_api(client_of(index["auth"]["read-only token"]), "open-pkg", "restricted").status_code == 403
    )
    # A non-member cannot learn that a restricted project exists by trying to change it.
    nick = client_of(bearer(tokens.create_token(User.objects.get(username="nick"))[1]))
    assert set_visibility_by_api(nick, "secret-pkg", "index").status_code == 404
    assert Project.objects.get(normalized_name="open-pkg").visibility == Visibility.INDEX
    assert Project.objects.get(normalized_name="secret-pkg").visibility == Visibility.RESTRICTED


# ---------------------------------------------------------------- caching


def test_answers_to_credentials_are_private(index, private, settings):
    settings.SIMPLE_MAX_AGE = 600
    reader = client_of(index["auth"]["team member"])
    for url in ("/simple/", "/simple/open-pkg/", "/simple/secret-pkg/", "/pypi/open-pkg/json"):
        assert reader.get(url)["Cache-Control"] == "max-age=600, private", url


def test_an_open_index_keeps_open_pages_public_and_restricted_ones_private(index, settings):
    settings.SIMPLE_MAX_AGE = 600
    member = client_of(index["auth"]["team member"])
    assert Client().get("/simple/open-pkg/")["Cache-Control"] == "max-age=600, public"
    assert member.get("/simple/open-pkg/")["Cache-Control"] == "max-age=600, public"
    assert member.get("/simple/secret-pkg/")["Cache-Control"] == "max-age=600, private"
    assert member.get("/simple/")["Cache-Control"] == "max-age=600, private"  # it lists secret-pkg
    assert Client().get("/simple/")["Cache-Control"] == "max-age=600, public"


def test_a_warm_authenticated_page_costs_at_most_two_queries(index, private, django_assert_max_num_queries):
    reader = client_of(index["auth"]["read-only token"])
    for url in ("/simple/open-pkg/", "/simple/secret-pkg/", "/simple/"):
        assert reader.get(url).status_code == 200  # warms the page and the kept credential
        with django_assert_max_num_queries(2):
            assert reader.get(url).status_code == 200


def test_a_viewer_with_restricted_projects_gets_a_root_list_of_its_own(index, private):
    member, other = client_of(index["auth"]["team member"]), client_of(index["auth"]["non-member"])
    for _ in range(2):  # built, then from the store: neither copy reaches the other viewer
        assert b"secret-pkg" in member.get("/simple/").content
        assert b"secret-pkg" not in other.get("/simple/").content
        assert b"secret-pkg" in member.get("/simple/", HTTP_ACCEPT=SIMPLE_JSON).content
        assert b"secret-pkg" not in other.get("/simple/", HTTP_ACCEPT=SIMPLE_JSON).content


def test_opening_a_project_shows_it_to_everyone_at_once(index, private):
    other = client_of(index["auth"]["non-member"])
    assert other.get("/simple/secret-pkg/").status_code == 404
    assert b"secret-pkg" not in other.get("/simple/").content
    projects.set_visibility(index["secret"], Visibility.INDEX)
    assert other.get("/simple/secret-pkg/").status_code == 200
    assert b"secret-pkg" in other.get("/simple/").content


# ---------------------------------------------------------------- revocation


def test_a_revoked_token_stops_reading_at_once_on_this_node(index, private, db):
    owner = User.objects.get(username="olivia")
    token, plaintext = tokens.create_token(owner, read_only=True)
    reader = client_of(token_auth(plaintext))
    assert reader.get("/simple/").status_code == 200
    tokens.revoke_token(token)
    assert reader.get("/simple/").status_code == 401


def test_a_role_taken_away_hides_the_project_at_once(index, private):
    member = client_of(index["auth"]["team member"])
    assert member.get("/simple/secret-pkg/").status_code == 200
    roles.revoke_role(index["secret"], Group.objects.get(name="blue"))
    assert member.get("/simple/secret-pkg/").status_code == 404


def test_leaving_the_team_hides_the_project_at_once(index, private):
    member = client_of(index["auth"]["team member"])
    assert member.get("/simple/secret-pkg/").status_code == 200
    User.objects.get(username="tess").groups.clear()
    assert member.get("/simple/secret-pkg/").status_code == 404


def test_another_node_sees_a_change_within_the_cache_time(index, private, settings, time_machine):
    """Another node's workers keep a credential up to CREDENTIALS_CACHE_SECONDS: simulated here
    by a change that does not bump this node's generation (an UPDATE, as another node's is)."""
    settings.CREDENTIALS_CACHE_SECONDS = 30
    time_machine.move_to(timezone.now(), tick=True)
    owner = User.objects.get(username="olivia")
    token, plaintext = tokens.create_token(owner, read_only=True)
    reader = client_of(token_auth(plaintext))
    assert reader.get("/simple/").status_code == 200
    type(token).objects.filter(pk=token.pk).update(revoked=token.created)  # no signal: like another node's write
    assert reader.get("/simple/").status_code == 200  # still kept here
    time_machine.shift(31)
    assert reader.get("/simple/").status_code == 401
    credentials.credentials_changed()
