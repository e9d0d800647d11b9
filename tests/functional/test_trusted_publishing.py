"""Trusted publishing: a CI job's OIDC token exchanged for a short-lived upload token.

A real issuer runs on 127.0.0.1 (tests/functional/oidc_issuer.py): the index fetches its discovery
document and key set, and checks signatures with them, as it would GitHub's or GitLab's.
"""

from __future__ import annotations

import time
from datetime import timedelta

import pytest
from django.core.management import CommandError, call_command
from django.utils import timezone

from harness.dists import build_wheel
from packages_app.models import ApiToken, File, JournalEntry, OidcTokenUse, Project, Role, RoleName, TrustedPublisher
from packages_app.services import journal, projects, roles
from packages_app.trusted_publishing import claims as claim_rules
from packages_app.trusted_publishing import verify
from packages_app.trusted_publishing.service import add_publisher
from tests.factories import UserFactory
from tests.functional.oidc_issuer import OidcIssuer
from tests.functional.upload_client import basic_auth, post_upload, publish, twine_fields

AUDIENCE = "pyindex-tests"
GITHUB = {"repository": "acme/app", "repository_owner_id": "1234", "workflow": "release.yml"}
GITLAB = {"project_path": "acme/app", "ci_config_ref_uri": ".gitlab-ci.yml"}


@pytest.fixture(scope="module")
def issuer():
    server = OidcIssuer()
    yield server
    server.close()


@pytest.fixture(autouse=True)
def _trusted_publishing(settings, issuer):
    settings.TRUSTED_PUBLISHING_ISSUERS = [issuer.url]
    settings.TRUSTED_PUBLISHING_AUDIENCE = AUDIENCE


@pytest.fixture
def project(db):
    owner = UserFactory(username="alice")
    project = projects.create_project("acme-app")
    roles.grant_role(project, owner, RoleName.OWNER)
    return project


def github_claims(issuer, **extra):
    ref = "acme/app/.github/workflows/release.yml@refs/tags/v1.0"
    claims = {
        "sub": "repo:acme/app:environment:pypi",
        "repository": "acme/app",
        "repository_owner": "acme",
        "repository_owner_id": "1234",
        "job_workflow_ref": ref,
        "workflow_ref": ref,
        "environment": "pypi",
        "ref": "refs/tags/v1.0",
    }
    claims.update(extra)
    return issuer.claims(AUDIENCE, **claims)


def gitlab_claims(issuer, **extra):
    host = issuer.url.split("://")[1]
    claims = {
        "sub": "project_path:acme/app:ref_type:tag:ref:v1.0",
        "project_path": "acme/app",
        "ci_config_ref_uri": f"{host}/acme/app//.gitlab-ci.yml@refs/tags/v1.0",
        "environment": "release",
    }
    claims.update(extra)
    return issuer.claims(AUDIENCE, **claims)


def mint(client, oidc_token: str):
    return client.post("/_/oidc/mint-token", {"token": oidc_token}, content_type="application/json")


def minted(client, oidc_token: str) -> str:
    response = mint(client, oidc_token)
    assert response.status_code == 200, response.json()
    return response.json()["token"]


def refused(client, oidc_token: str, status: int = 422) -> str:
    """The refusal's description (and its PyPI-shaped fields checked)."""
    response = mint(client, oidc_token)
    assert response.status_code == status, response.content
    assert response["Content-Type"] == "application/problem+json"
    body = response.json()
    assert body["status"] == status
    assert body["message"] == "Token request failed"
    assert body["errors"][0]["description"] == body["detail"]
    return " | ".join(error["description"] for error in body["errors"])


def github_publisher(issuer, project, **claims):
    return add_publisher("github", issuer.url, {**GITHUB, **claims}, project=project)


def test_audience(client):
    response = client.get("/_/oidc/audience")
    assert response.status_code == 200
    assert response.json() == {"audience": AUDIENCE}


def test_a_github_workflow_mints_a_token_that_uploads_and_is_recorded(client, issuer, project, tmp_path):
    publisher = github_publisher(issuer, project, environment="pypi")
    response = mint(client, issuer.sign(github_claims(issuer)))
    assert response.status_code == 200
    body = response.json()
    assert body["success"] is True
    token = ApiToken.objects.get(trusted_publisher=publisher)
    assert token.user is None
    assert token.secret_hash not in body["token"]  # the secret is shown once, only its hash kept
    assert list(token.projects.all()) == [project]
    assert abs(body["expires"] - (timezone.now() + timedelta(minutes=15)).timestamp()) < 5
    assert token.name == "trusted publisher: GitHub Actions acme/app, workflow release.yml, environment pypi"
    minted_entry = JournalEntry.objects.get(kind=journal.TOKEN_CREATED, token_key_id="")
    assert f"create token {token.key_id} for trusted publisher GitHub Actions acme/app" in minted_entry.action
    assert "repository=acme/app" in minted_entry.action
    assert "repository_owner_id=1234" in minted_entry.action

    publish(client, tmp_path, "acme-app", "1.0", auth=basic_auth("__token__", body["token"]))
    file = File.objects.get()
    assert file.uploaded_by is None
    assert file.uploaded_by_publisher == "GitHub Actions acme/app, workflow release.yml, environment pypi"
    files = client.get("/api/v1/projects/acme-app/releases/1.0/").json()["files"]
    assert [entry["trusted_publisher"] for entry in files] == [file.uploaded_by_publisher]
    added = JournalEntry.objects.get(kind=journal.FILE_ADDED)
    assert added.token_key_id == token.key_id
    assert added.token_name == token.name  # "uploaded by" the publisher, in the file's record


def test_the_publish_actions_older_path_is_the_same_exchange(client, issuer, project):
    github_publisher(issuer, project, environment="pypi")
    oidc_token = issuer.sign(github_claims(issuer))
    response = client.post("/_/oidc/github/mint-token", {"token": oidc_token}, content_type="application/json")
    assert response.status_code == 200, response.content
    assert response.json()["success"] is True
    assert "already exchanged" in refused(client, oidc_token)  # one exchange, whichever path


@pytest.mark.parametrize(
    ("claims", "message"),
    [
        ({"repository_owner_id": "999"}, "claim 'repository_owner_id': expected '1234', got '999'"),
        (
            {"job_workflow_ref": "acme/app/.github/workflows/test.yml@refs/heads/main", "workflow_ref": None},
            "claim 'job_workflow_ref': expected 'acme/app/.github/workflows/release.yml@<ref>', "
            "got 'acme/app/.github/workflows/test.yml@refs/heads/main'",
        ),
        (
            {"job_workflow_ref": "evil/app/.github/workflows/release.yml@refs/heads/main", "workflow_ref": None},
            "claim 'job_workflow_ref'",
        ),
        ({"environment": "staging"}, "claim 'environment': expected 'pypi', got 'staging'"),
        ({"environment": None}, "claim 'environment': expected 'pypi', got nothing"),
    ],
)
def test_each_github_rule_is_checked(client, issuer, project, claims, message):
    github_publisher(issuer, project, environment="pypi")
    assert message in refused(client, issuer.sign(github_claims(issuer, **claims)))
    assert not ApiToken.objects.exists()
    assert not OidcTokenUse.objects.exists()  # a refused exchange does not spend the token


def test_github_matches_a_reusable_workflow_the_caller_names_and_any_environment_when_none_is_set(
    client, issuer, project
):
    github_publisher(issuer, project)
    reusable = {"job_workflow_ref": "acme/shared/.github/workflows/publish.yml@refs/heads/main"}
    minted(client, issuer.sign(github_claims(issuer, environment="anything", **reusable)))
    # Repository names are case-insensitive on GitHub.
    minted(client, issuer.sign(github_claims(issuer, repository="Acme/App")))


def test_another_repository_finds_no_publisher_and_learns_nothing_of_others(client, issuer, project):
    github_publisher(issuer, project)
    message = refused(client, issuer.sign(github_claims(issuer, repository="evil/app")))
    assert "No trusted publisher on this index matches this token" in message
    assert "'evil/app'" in message
    assert "acme/app" not in message
    assert "release.yml" not in message


def test_gitlab_rules(client, issuer, project):
    add_publisher("gitlab", issuer.url, {**GITLAB, "environment": "release"}, project=project)
    host = issuer.url.split("://")[1]
    assert f"claim 'ci_config_ref_uri': expected '{host}/acme/app//.gitlab-ci.yml@<ref>'" in refused(
        client, issuer.sign(gitlab_claims(issuer, ci_config_ref_uri=f"{host}/acme/app//other.yml@refs/heads/main"))
    )
    # The CI file of another project (a path inside this one that looks alike) does not match.
    assert "claim 'ci_config_ref_uri'" in refused(
        client, issuer.sign(gitlab_claims(issuer, ci_config_ref_uri=f"{host}/acme/other//.gitlab-ci.yml@main"))
    )
    assert "claim 'environment': expected 'release', got 'Release'" in refused(
        client, issuer.sign(gitlab_claims(issuer, environment="Release"))
    )
    assert "No trusted publisher" in refused(client, issuer.sign(gitlab_claims(issuer, project_path="acme/other")))
    token = minted(client, issuer.sign(gitlab_claims(issuer)))
    assert ApiToken.objects.get().name == (
        f"trusted publisher: GitLab CI acme/app at {host}, .gitlab-ci.yml, environment release"
    )
    assert token.startswith("pyidx_")


def test_generic_issuer_claim_table(client, issuer, project):
    add_publisher("generic", issuer.url, {"sub": "deploy:acme-app", "team": "platform"}, project=project)
    base = {"sub": "deploy:acme-app", "team": "platform"}
    assert "claim 'team': expected 'platform', got 'web'" in refused(
        client, issuer.sign(issuer.claims(AUDIENCE, **{**base, "team": "web"}))
    )
    assert "claim 'team': expected 'platform', got nothing" in refused(
        client, issuer.sign(issuer.claims(AUDIENCE, sub="deploy:acme-app"))
    )
    assert "No trusted publisher" in refused(client, issuer.sign(issuer.claims(AUDIENCE, **{**base, "sub": "x"})))
    minted(client, issuer.sign(issuer.claims(AUDIENCE, **base)))


@pytest.mark.parametrize(
    ("claims", "message"),
    [
        ({"exp": -1000}, "The token has expired"),
        ({"nbf": 1000}, "not valid yet"),
        ({"iat": 1000}, "not valid yet"),
        ({"aud": "pypi"}, "The token's audience is 'pypi'; this index expects 'pyindex-tests'"),
        ({"jti": None}, "The token lacks the claim 'jti'"),
        ({"exp": None}, "The token lacks the claim 'exp'"),
    ],
)
def test_times_audience_and_required_claims(client, issuer, project, claims, message):
    github_publisher(issuer, project)
    now = int(timezone.now().timestamp())
    relative = {name: now + value if name in ("exp", "nbf", "iat") and value is not None else value
                for name, value in claims.items()}  # fmt: skip
    assert message in refused(client, issuer.sign(github_claims(issuer, **relative)))


def test_small_clock_skew_is_tolerated(client, issuer, project):
    github_publisher(issuer, project)
    now = int(timezone.now().timestamp())
    minted(client, issuer.sign(github_claims(issuer, iat=now + 30, nbf=now + 30, exp=now - 30)))


def test_unknown_issuer_is_refused_before_anything_is_fetched(client, issuer, project, settings):
    github_publisher(issuer, project)
    settings.TRUSTED_PUBLISHING_ISSUERS = []
    fetched = len(issuer.requests)
    message = refused(client, issuer.sign(github_claims(issuer)))
    assert f"The token's issuer '{issuer.url}' is not trusted by this index" in message
    assert len(issuer.requests) == fetched


def test_a_wrong_signature_and_a_wrong_algorithm_are_refused(client, issuer, project):
    github_publisher(issuer, project)
    other = OidcIssuer()
    try:
        forged = other.sign(github_claims(issuer))  # same key id, another key
    finally:
        other.close()
    assert "The token's signature does not verify" in refused(client, forged)
    hmac = issuer.sign(github_claims(issuer), algorithm="HS256", key="a shared secret of at least 32 bytes!")
    assert "this index takes RS256 or ES256" in refused(client, hmac)
    assert "not a well-formed JWT" in refused(client, "not.a.jwt")
    assert "must be JSON" in refused(client, "", status=400)


def test_a_token_mints_once(client, issuer, project):
    github_publisher(issuer, project)
    oidc_token = issuer.sign(github_claims(issuer))
    minted(client, oidc_token)
    assert "The token was already exchanged" in refused(client, oidc_token)
    assert ApiToken.objects.count() == 1


def test_a_rotated_key_is_fetched_once_and_an_unknown_one_refused(client, issuer, project):
    github_publisher(issuer, project)
    minted(client, issuer.sign(github_claims(issuer)))  # the key set is now kept
    issuer.add_key("key-es", algorithm="ES256")
    fetched = len(issuer.requests)
    minted(client, issuer.sign(github_claims(issuer), kid="key-es", algorithm="ES256"))
    assert issuer.requests[fetched:] == ["/.well-known/openid-configuration", "/.well-known/jwks"]
    minted(client, issuer.sign(github_claims(issuer), kid="key-es", algorithm="ES256"))  # from the kept set
    assert len(issuer.requests) == fetched + 2
    issuer.add_key("key-unpublished", publish=False)
    message = refused(client, issuer.sign(github_claims(issuer), kid="key-unpublished"))
    assert "publishes no key with the token's key id 'key-unpublished'" in message
    assert len(issuer.requests) == fetched + 2  # refetched a moment ago: not again


def test_the_minted_token_uploads_to_its_project_only(client, issuer, project, tmp_path):
    github_publisher(issuer, project)
    other = projects.create_project("other-app")
    roles.grant_role(other, UserFactory(username="bob"), RoleName.OWNER)
    auth = basic_auth("__token__", minted(client, issuer.sign(github_claims(issuer))))
    path = publish(client, tmp_path, "acme-app", "1.0", auth=auth)
    assert path.exists()
    for name in ("other-app", "brand-new"):
        wheel = tmp_path / name
        wheel.mkdir()
        built = build_wheel(wheel, name, "1.0")
        response = post_upload(client, twine_fields(built, name, "1.0"), auth)
        assert response.status_code == 403, response.content
        assert b"minted by trusted publishing for project 'acme-app'" in response.content
    assert not Project.objects.filter(normalized_name="brand-new").exists()


def test_the_minted_token_does_nothing_but_upload(client, issuer, project):
    github_publisher(issuer, project)
    plaintext = minted(client, issuer.sign(github_claims(issuer)))
    bearer = {"HTTP_AUTHORIZATION": f"Bearer {plaintext}"}
    assert client.get("/simple/acme-app/", **bearer).status_code == 401
    assert client.get("/api/v1/projects/acme-app/", **bearer).status_code == 401
    response = client.post(
        "/api/v1/projects/acme-app/releases/1.0/yank/", {}, content_type="application/json", **bearer
    )
    assert response.status_code == 401


def test_the_minted_token_expires(client, issuer, project, tmp_path, settings):
    settings.TRUSTED_PUBLISHING_TOKEN_MINUTES = 1
    github_publisher(issuer, project)
    response = mint(client, issuer.sign(github_claims(issuer)))
    assert abs(response.json()["expires"] - (timezone.now() + timedelta(minutes=1)).timestamp()) < 5
    ApiToken.objects.update(expires=timezone.now() - timedelta(seconds=1))
    wheel = tmp_path / "w"
    wheel.mkdir()
    built = build_wheel(wheel, "acme-app", "1.0")
    auth = basic_auth("__token__", response.json()["token"])
    response = post_upload(client, twine_fields(built, "acme-app", "1.0"), auth)
    assert response.status_code == 401
    assert b"the token has expired" in response.content


def test_a_pending_publisher_creates_its_project_for_its_owner(client, issuer, db, tmp_path):
    carol = UserFactory(username="carol")
    publisher = add_publisher("github", issuer.url, GITHUB, pending_name="Acme_App", pending_owner=carol)
    assert publisher.pending_project_name == "acme-app"
    auth = basic_auth("__token__", minted(client, issuer.sign(github_claims(issuer))))
    publish(client, tmp_path, "Acme_App", "1.0", auth=auth)
    project = Project.objects.get(normalized_name="acme-app")
    assert Role.objects.get(project=project).user == carol
    assert Role.objects.get(project=project).role_name == RoleName.OWNER
    publisher.refresh_from_db()
    assert (publisher.project, publisher.pending_project_name) == (project, "")
    # The same token's next file (an sdist beside the wheel) goes to the project it created.
    publish(client, tmp_path, "acme-app", "1.0", auth=auth, sdist=True)
    assert File.objects.filter(release__project=project).count() == 2
    # Later tokens are limited to the project like any publisher's.
    assert list(ApiToken.objects.filter(trusted_publisher=publisher).first().projects.all()) == [project]


def test_a_pending_publisher_whose_name_was_taken_meanwhile_mints_nothing(client, issuer, db):
    add_publisher("github", issuer.url, GITHUB, pending_name="acme-app", pending_owner=UserFactory(username="carol"))
    projects.create_project("acme-app")
    assert "was created meanwhile by someone else" in refused(client, issuer.sign(github_claims(issuer)), status=409)


def test_add_trusted_publisher_command(issuer, project):
    call_command(
        "add_trusted_publisher", "acme-app", "--issuer", "github", "--claim", "repository=acme/app",
        "--claim", "repository_owner_id=1234", "--claim", "workflow=.github/workflows/release.yml",
    )  # fmt: skip
    publisher = TrustedPublisher.objects.get()
    assert publisher.issuer == "https://token.actions.githubusercontent.com"
    assert publisher.claims == GITHUB
    assert publisher.project == project
    call_command(
        "add_trusted_publisher", "acme-app", "--kind", "gitlab", "--issuer", issuer.url + "/",
        "--claim", "project_path=acme/app", "--claim", "ci_config_ref_uri=.gitlab-ci.yml",
    )  # fmt: skip
    assert TrustedPublisher.objects.filter(kind="gitlab", issuer=issuer.url).exists()
    UserFactory(username="dave")
    call_command(
        "add_trusted_publisher", "new-thing", "--pending", "--owner", "dave", "--issuer", issuer.url,
        "--claim", "sub=deploy:new-thing",
    )  # fmt: skip
    pending = TrustedPublisher.objects.get(pending_project_name="new-thing")
    assert pending.kind == "generic"
    assert pending.pending_owner.username == "dave"
    assert JournalEntry.objects.filter(kind=journal.TRUSTED_PUBLISHER_ADDED).count() == 3


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["acme-app", "--issuer", "https://elsewhere.example"], "is not allowed on this index"),
        (["acme-app", "--issuer", "github", "--claim", "repository=acme/app"], "needs the claims"),
        (["acme-app", "--issuer", "github", "--claim", "repo"], "is not NAME=VALUE"),
        (["missing", "--issuer", "gitlab", "--claim", "project_path=a/b"], "No project named 'missing'"),
        (["new", "--pending", "--issuer", "gitlab"], "--pending needs --owner"),
        (["acme-app", "--pending", "--owner", "alice", "--issuer", "github", *(
            f"--claim={name}={value}" for name, value in GITHUB.items())], "exists already"),
        (["acme-app", "--issuer", "github", "--claim", "repository=acme/app", "--claim", "repository_owner_id=x",
          "--claim", "workflow=release.yml"], "numeric id"),
    ],
)  # fmt: skip
def test_add_trusted_publisher_command_errors(project, args, message):
    with pytest.raises(CommandError, match=message):
        call_command("add_trusted_publisher", *args)
    assert not TrustedPublisher.objects.exists()


def test_superusers_see_and_remove_publishers_in_the_admin(admin_client, client, issuer, project):
    publisher = github_publisher(issuer, project)
    plaintext = minted(client, issuer.sign(github_claims(issuer)))
    listing = admin_client.get("/admin/packages_app/trustedpublisher/")
    assert listing.status_code == 200
    assert b"GitHub Actions acme/app, workflow release.yml" in listing.content
    token_page = admin_client.get(f"/admin/packages_app/apitoken/{ApiToken.objects.get().pk}/change/")
    assert b"GitHub Actions acme/app" in token_page.content
    response = admin_client.post(f"/admin/packages_app/trustedpublisher/{publisher.pk}/delete/", {"post": "yes"})
    assert response.status_code == 302
    assert not TrustedPublisher.objects.exists()
    assert not ApiToken.objects.exists()  # its tokens stop working at once
    removed = JournalEntry.objects.get(kind=journal.TRUSTED_PUBLISHER_REMOVED)
    assert removed.action.startswith("remove trusted publisher GitHub Actions acme/app")
    auth = basic_auth("__token__", plaintext)
    response = post_upload(client, {}, auth)
    assert response.status_code == 401


def test_a_slow_issuer_costs_a_bounded_wait(client, project, monkeypatch, settings):
    slow = OidcIssuer()
    try:
        slow.delay = 3
        settings.TRUSTED_PUBLISHING_ISSUERS = [slow.url]
        add_publisher("github", slow.url, GITHUB, project=project)
        monkeypatch.setattr(verify, "FETCH_TIMEOUT_SECONDS", 0.5)
        started = time.monotonic()
        message = refused(client, slow.sign(github_claims(slow)), status=503)
        assert time.monotonic() - started < 2.5
        assert "The issuer's key set could not be fetched" in message
        assert not OidcTokenUse.objects.exists()
    finally:
        slow.delay = 0
        slow.close()


@pytest.mark.parametrize(
    ("kind", "claims", "stored"),
    [
        ("github", {**GITHUB, "workflow": ".github/workflows/release.yml"}, GITHUB),
        ("gitlab", {**GITLAB, "ci_config_ref_uri": "gitlab.com/acme/app//ci/release.yml@refs/heads/main"},
         {**GITLAB, "ci_config_ref_uri": "ci/release.yml"}),
        ("generic", {"sub": "x", "aud_extra": "y"}, {"sub": "x", "aud_extra": "y"}),
    ],
)  # fmt: skip
def test_publisher_claims_are_kept_in_one_form(kind, claims, stored):
    assert claim_rules.normalize(kind, claims) == stored


@pytest.mark.parametrize(
    ("kind", "claims", "message"),
    [
        ("github", {**GITHUB, "repository": "acme"}, "is not 'owner/name'"),
        ("github", {**GITHUB, "workflow": "release"}, "is not a file name"),
        ("github", {**GITHUB, "ref": "main"}, "Unknown claims for GitHub Actions: ref"),
        ("gitlab", {**GITLAB, "project_path": "app"}, "is not 'group/project'"),
        ("gitlab", {"project_path": "acme/app"}, "needs the claims: ci_config_ref_uri"),
        ("generic", {"team": "x"}, "needs the claims: sub"),
    ],
)
def test_publisher_claims_that_could_never_match_are_refused(kind, claims, message):
    with pytest.raises(claim_rules.InvalidPublisher, match=message):
        claim_rules.normalize(kind, claims)


def test_an_issuer_written_with_a_trailing_slash(client, issuer, project):
    github_publisher(issuer, project)
    minted(client, issuer.sign(github_claims(issuer, iss=issuer.url + "/")))


# ---------------------------------------------------------------- PEP 807 (draft)


def test_pep_807_discovery_names_the_endpoints_on_the_asked_host(client, settings):
    settings.READ_ACCESS = "authenticated"  # a CI job has no credentials before the exchange
    response = client.get(
        "/.well-known/pytp", {"discover": "/legacy/"}, HTTP_ACCEPT="application/vnd.pypi.pytp.v1+json"
    )
    assert response.status_code == 200, response.content
    assert response["Content-Type"] == "application/vnd.pypi.pytp.v1+json"
    assert response.json() == {
        "audience-endpoint": "http://testserver/_/oidc/audience",
        "token-mint-endpoint": "http://testserver/_/oidc/mint-token",
        "features": ["multi-use-token"],
        "default-features": ["multi-use-token"],
    }
    assert client.get("/.well-known/pytp?discover=%2Flegacy%2F").status_code == 200  # no Accept: as if pytp


def test_pep_807_discovery_refuses_other_paths_and_other_media_types(client):
    missing = client.get("/.well-known/pytp", {"discover": "/simple/"})
    assert missing.status_code == 404
    assert missing["Content-Type"] == "application/problem+json"
    assert client.get("/.well-known/pytp").status_code == 404
    assert client.get("/.well-known/pytp", {"discover": "/legacy/"}, HTTP_ACCEPT="text/html").status_code == 406


def test_pep_807_features_multi_use_is_minted_and_single_use_refused(client, issuer, project):
    github_publisher(issuer, project, environment="pypi")
    single = client.post(
        "/_/oidc/mint-token",
        {"token": issuer.sign(github_claims(issuer)), "features": ["single-use-token"]},
        content_type="application/json",
    )
    assert single.status_code == 422
    assert single.json()["errors"][0]["code"] == "unsupported-feature"
    multi = client.post(
        "/_/oidc/mint-token",
        {"token": issuer.sign(github_claims(issuer)), "features": ["multi-use-token"]},
        content_type="application/json",
    )
    assert multi.status_code == 200, multi.content
