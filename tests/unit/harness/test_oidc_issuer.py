"""The loopback OIDC issuer answers as a CI job's issuer does, and its tokens verify against its JWKS."""

from __future__ import annotations

import json
import ssl
import sys
import time
import urllib.error
import urllib.request

import pytest
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import padding, rsa

from harness.oidc_issuer import (
    ID_TOKEN_REQUEST_PATH,
    OidcIssuer,
    b64url_decode,
    github_claims,
    unverified_claims,
    unverified_header,
)

OPENER = urllib.request.build_opener(urllib.request.ProxyHandler({}))


def get(url: str, *, token: str | None = None, context: ssl.SSLContext | None = None) -> tuple[int, dict]:
    request = urllib.request.Request(url)
    if token is not None:
        request.add_header("Authorization", f"Bearer {token}")
    opener = OPENER
    if context is not None:
        opener = urllib.request.build_opener(
            urllib.request.ProxyHandler({}), urllib.request.HTTPSHandler(context=context)
        )
    try:
        with opener.open(request, timeout=10) as response:
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as error:
        return error.code, json.loads(error.read())


def ask_id_token(issuer: OidcIssuer, audience: str) -> str:
    status, body = get(f"{issuer.id_token_request_url}&audience={audience}", token=issuer.request_token)
    assert status == 200, body
    return body["value"]


def verify(token: str, jwks: dict) -> dict:
    """Check the RS256 signature against the JWKS key named by the token's kid; return the claims."""
    header = unverified_header(token)
    assert header["alg"] == "RS256"
    (key,) = [key for key in jwks["keys"] if key["kid"] == header["kid"]]
    public = rsa.RSAPublicNumbers(
        int.from_bytes(b64url_decode(key["e"]), "big"), int.from_bytes(b64url_decode(key["n"]), "big")
    ).public_key()
    signing_input, signature = token.rsplit(".", 1)
    public.verify(b64url_decode(signature), signing_input.encode(), padding.PKCS1v15(), hashes.SHA256())
    return unverified_claims(token)


@pytest.fixture
def issuer():
    with OidcIssuer() as issuer:
        yield issuer


def test_discovery_names_the_issuer_itself_and_its_jwks(issuer):
    status, discovery = get(f"{issuer.url}/.well-known/openid-configuration")
    assert status == 200
    assert discovery["issuer"] == issuer.url
    assert issuer.url.startswith("http://127.0.0.1:")
    status, jwks = get(discovery["jwks_uri"])
    assert status == 200
    assert [key["kid"] for key in jwks["keys"]] == [issuer.kid]
    assert jwks["keys"][0]["kty"] == "RSA"
    assert "RS256" in discovery["id_token_signing_alg_values_supported"]


def test_actions_environment_points_at_the_id_token_endpoint(issuer):
    env = issuer.actions_env()
    assert env["GITHUB_ACTIONS"] == "true"
    assert env["ACTIONS_ID_TOKEN_REQUEST_URL"].startswith(f"{issuer.url}{ID_TOKEN_REQUEST_PATH}?")
    assert env["ACTIONS_ID_TOKEN_REQUEST_TOKEN"] == issuer.request_token


def test_id_token_carries_github_claims_and_the_asked_audience(issuer):
    token = ask_id_token(issuer, "pyidx-audience")
    _, jwks = get(f"{issuer.url}/jwks")
    claims = verify(token, jwks)
    assert claims["iss"] == issuer.url
    assert claims["aud"] == "pyidx-audience"
    assert claims["repository"] == "acme/app"
    assert claims["repository_owner"] == "acme"
    assert claims["repository_owner_id"] == "1234567"
    assert claims["job_workflow_ref"] == "acme/app/.github/workflows/release.yml@refs/tags/v1.0"
    assert claims["workflow_ref"] == claims["job_workflow_ref"]
    assert claims["environment"] == "release"
    assert claims["ref"] == "refs/tags/v1.0"
    assert len(claims["sha"]) == 40
    now = time.time()
    assert claims["iat"] == claims["nbf"] <= now < claims["exp"]
    assert issuer.issued == [token]
    (request,) = issuer.id_token_requests()
    assert request.authorization == f"Bearer {issuer.request_token}"
    assert "audience=pyidx-audience" in request.path


def test_every_token_has_its_own_jti(issuer):
    first, second = ask_id_token(issuer, "a"), ask_id_token(issuer, "a")
    assert unverified_claims(first)["jti"] != unverified_claims(second)["jti"]


def test_id_token_endpoint_wants_the_request_token(issuer):
    assert get(f"{issuer.id_token_request_url}&audience=a")[0] == 401
    assert get(f"{issuer.id_token_request_url}&audience=a", token="wrong")[0] == 401
    assert issuer.issued == []


def test_claims_can_be_changed_dropped_backdated_and_replayed(issuer):
    issuer.claims.update(repository="evil/app", environment=None)
    issuer.issued_offset = -3600
    token = ask_id_token(issuer, "a")
    claims = unverified_claims(token)
    assert claims["repository"] == "evil/app"
    assert "environment" not in claims
    assert claims["exp"] < time.time() - 3000
    issuer.serve_token = token
    assert ask_id_token(issuer, "other") == token


def test_github_claims_without_environment_use_the_ref_subject():
    claims = github_claims(repository="org/lib", workflow="publish.yml", environment=None, ref="refs/heads/main")
    assert "environment" not in claims
    assert claims["sub"] == "repo:org/lib:ref:refs/heads/main"
    assert claims["job_workflow_ref"] == "org/lib/.github/workflows/publish.yml@refs/heads/main"
    assert claims["ref_type"] == "branch"


def test_a_token_signed_by_hand_verifies_like_one_from_pyjwt(issuer, monkeypatch):
    monkeypatch.setitem(sys.modules, "jwt", None)  # import jwt now fails: the fallback signs
    token = issuer.token("a", repository="x/y")
    _, jwks = get(f"{issuer.url}/jwks")
    assert verify(token, jwks)["repository"] == "x/y"
    assert unverified_header(token)["kid"] == issuer.kid


def test_a_tampered_token_does_not_verify(issuer):
    token = issuer.token("a")
    header, payload, signature = token.split(".")
    forged = issuer.token("a", repository="evil/app").split(".")[1]
    _, jwks = get(f"{issuer.url}/jwks")
    with pytest.raises(InvalidSignature):
        verify(f"{header}.{forged}.{signature}", jwks)


def test_over_tls_the_issuer_is_an_https_url(tmp_path):
    from tests.e2e.helpers import make_tls_certificate

    certificate = make_tls_certificate(tmp_path / "tls")
    with OidcIssuer(tls=(certificate.cert_path, certificate.key_path)) as issuer:
        assert issuer.url.startswith("https://127.0.0.1:")
        status, discovery = get(f"{issuer.url}/.well-known/openid-configuration", context=certificate.ssl_context)
        assert status == 200
        assert discovery["issuer"] == issuer.url
        assert issuer.actions_env()["ACTIONS_ID_TOKEN_REQUEST_URL"].startswith("https://")


def test_unknown_paths_are_404_and_recorded(issuer):
    assert get(f"{issuer.url}/nothing")[0] == 404
    assert issuer.hits("/nothing") == ["/nothing"]
