"""A small OIDC issuer on 127.0.0.1 for the trusted-publishing tests: real HTTP, real RS256.

It plays two parts a CI job relies on:

* the **issuer** a server verifies against: ``/.well-known/openid-configuration`` (its
  ``issuer`` is this server's own ``http(s)://127.0.0.1:<port>`` URL) and ``/jwks``, the
  public half of an RSA key generated for the test, with its ``kid``;
* the **ID-token request endpoint** of a GitHub Actions job: a client reads
  ``ACTIONS_ID_TOKEN_REQUEST_URL`` and ``ACTIONS_ID_TOKEN_REQUEST_TOKEN`` (see
  ``actions_env()``), asks ``GET <url>&audience=<aud>`` with ``Authorization: Bearer <token>``
  and gets ``{"value": "<jwt>"}``, a token carrying GitHub-like claims, ``aud`` as asked.

A test changes what the next tokens carry through ``claims`` (``None`` drops a claim),
backdates them with ``issued_offset`` (an expired token), or makes the endpoint hand out
one fixed token again (``serve_token``: a replay). Every request is recorded.

Tokens are signed with PyJWT when it is installed, else with ``cryptography`` directly
(RS256 is PKCS#1 v1.5 over SHA-256): only this test harness ever signs by hand.
"""

from __future__ import annotations

import base64
import json
import secrets
import ssl
import threading
import time
import urllib.parse
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding, rsa

ID_TOKEN_REQUEST_PATH = "/_apis/actions/idtoken"  # noqa: S105 (a path, not a secret)
TOKEN_LIFETIME = 300  # seconds; GitHub's ID tokens live a few minutes


@dataclass(frozen=True)
class RecordedRequest:
    method: str
    path: str
    authorization: str | None


def b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def b64url_decode(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def unverified_claims(token: str) -> dict[str, Any]:
    """The payload of a JWT, read without checking anything: for tests that look at what was sent."""
    return json.loads(b64url_decode(token.split(".")[1]))


def unverified_header(token: str) -> dict[str, Any]:
    return json.loads(b64url_decode(token.split(".")[0]))


def github_claims(
    *,
    repository: str = "acme/app",
    repository_owner_id: str = "1234567",
    workflow: str = "release.yml",
    environment: str | None = "release",
    ref: str = "refs/tags/v1.0",
    sha: str = "0123456789abcdef0123456789abcdef01234567",
) -> dict[str, Any]:
    """The claims of a GitHub Actions ID token for a job of ``repository`` running ``workflow``."""
    owner = repository.split("/")[0]
    workflow_ref = f"{repository}/.github/workflows/{workflow}@{ref}"
    claims: dict[str, Any] = {
        "sub": f"repo:{repository}:" + (f"environment:{environment}" if environment else f"ref:{ref}"),
        "repository": repository,
        "repository_id": "89101112",
        "repository_owner": owner,
        "repository_owner_id": repository_owner_id,
        "repository_visibility": "private",
        "actor": "octocat",
        "actor_id": "42",
        "event_name": "push",
        "ref": ref,
        "ref_type": "tag" if ref.startswith("refs/tags/") else "branch",
        "sha": sha,
        "workflow": "Release",
        "workflow_ref": workflow_ref,
        "workflow_sha": sha,
        "job_workflow_ref": workflow_ref,
        "job_workflow_sha": sha,
        "run_id": "5555",
        "run_number": "7",
        "run_attempt": "1",
        "runner_environment": "github-hosted",
    }
    if environment is not None:
        claims["environment"] = environment
    return claims


class OidcIssuer:
    """Start with ``with OidcIssuer() as issuer:``; ``issuer.url`` is its ``iss``."""

    def __init__(
        self,
        claims: dict[str, Any] | None = None,
        *,
        kid: str | None = None,
        tls: tuple[Path, Path] | None = None,
    ) -> None:
        """``tls`` (certificate, key: PEM files valid for 127.0.0.1) serves HTTPS, as real issuers do."""
        self.key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        self.kid = kid or secrets.token_hex(8)
        # The claims of the next ID tokens (besides iss, aud, iat, nbf, exp, jti); None drops one.
        self.claims: dict[str, Any] = dict(claims if claims is not None else github_claims())
        # Seconds added to iat/nbf/exp of the next tokens: -3600 makes an expired one.
        self.issued_offset = 0
        self.lifetime = TOKEN_LIFETIME
        # When set, the ID-token endpoint hands out this very token (a replay), whatever is asked.
        self.serve_token: str | None = None
        self.request_token = secrets.token_urlsafe(24)
        self.requests: list[RecordedRequest] = []
        # Every token the ID-token endpoint handed out, newest last.
        self.issued: list[str] = []
        self._lock = threading.Lock()
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self._server.daemon_threads = True
        self.scheme = "http"
        if tls is not None:
            context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
            context.load_cert_chain(*tls)
            self._server.socket = context.wrap_socket(self._server.socket, server_side=True)
            self.scheme = "https"
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    # ------------------------------------------------------------ addresses

    @property
    def url(self) -> str:
        """The issuer identifier, as ``iss`` and the discovery document carry it (no trailing slash)."""
        return f"{self.scheme}://127.0.0.1:{self._server.server_address[1]}"

    @property
    def id_token_request_url(self) -> str:
        # As GitHub's, it already has a query: clients append ``&audience=...``.
        return f"{self.url}{ID_TOKEN_REQUEST_PATH}?api-version=2.0"

    def actions_env(self) -> dict[str, str]:
        """What a GitHub Actions job with ``id-token: write`` has in its environment for this."""
        return {
            "GITHUB_ACTIONS": "true",
            "CI": "true",
            "ACTIONS_ID_TOKEN_REQUEST_URL": self.id_token_request_url,
            "ACTIONS_ID_TOKEN_REQUEST_TOKEN": self.request_token,
        }

    def __enter__(self) -> OidcIssuer:
        self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self._server.shutdown()
        self._server.server_close()

    # ------------------------------------------------------------ documents and tokens

    def discovery(self) -> dict[str, Any]:
        return {
            "issuer": self.url,
            "jwks_uri": f"{self.url}/jwks",
            "subject_types_supported": ["public"],
            "response_types_supported": ["id_token"],
            "id_token_signing_alg_values_supported": ["RS256"],
            "claims_supported": sorted({"iss", "aud", "exp", "iat", "nbf", "jti", "sub", *self.claims}),
        }

    def jwks(self) -> dict[str, Any]:
        numbers = self.key.public_key().public_numbers()

        def encode(value: int) -> str:
            return b64url(value.to_bytes((value.bit_length() + 7) // 8, "big"))

        return {
            "keys": [
                {
                    "kty": "RSA",
                    "alg": "RS256",
                    "use": "sig",
                    "kid": self.kid,
                    "n": encode(numbers.n),
                    "e": encode(numbers.e),
                }
            ]
        }

    def token(self, audience: str, **overrides: Any) -> str:
        """A new signed ID token for ``audience``: the configured claims, then ``overrides`` (None drops)."""
        now = int(time.time()) + self.issued_offset
        claims: dict[str, Any] = {
            "iss": self.url,
            "aud": audience,
            "iat": now,
            "nbf": now,
            "exp": now + self.lifetime,
            "jti": secrets.token_hex(16),
            **self.claims,
            **overrides,
        }
        return self.sign({key: value for key, value in claims.items() if value is not None})

    def sign(self, claims: dict[str, Any], *, kid: str | None = None) -> str:
        headers = {"kid": kid or self.kid}
        try:
            import jwt
        except ImportError:
            return self._sign_by_hand(claims, headers)
        pem = self.key.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
        )
        return jwt.encode(claims, pem, algorithm="RS256", headers=headers)

    def _sign_by_hand(self, claims: dict[str, Any], headers: dict[str, Any]) -> str:
        header = {"alg": "RS256", "typ": "JWT", **headers}
        signing_input = ".".join(
            b64url(json.dumps(part, separators=(",", ":")).encode()) for part in (header, claims)
        ).encode()
        signature = self.key.sign(signing_input, padding.PKCS1v15(), hashes.SHA256())
        return f"{signing_input.decode()}.{b64url(signature)}"

    # ------------------------------------------------------------ what was asked

    def id_token_requests(self) -> list[RecordedRequest]:
        with self._lock:
            return [request for request in self.requests if request.path.startswith(ID_TOKEN_REQUEST_PATH)]

    def hits(self, fragment: str = "") -> list[str]:
        with self._lock:
            return [request.path for request in self.requests if fragment in request.path]

    # ------------------------------------------------------------ HTTP

    def _handler(self):
        issuer = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args) -> None:
                pass

            def do_GET(self) -> None:
                with issuer._lock:
                    issuer.requests.append(RecordedRequest("GET", self.path, self.headers.get("Authorization")))
                split = urllib.parse.urlsplit(self.path)
                if split.path == "/.well-known/openid-configuration":
                    self._json(200, issuer.discovery())
                elif split.path == "/jwks":
                    self._json(200, issuer.jwks())
                elif split.path == ID_TOKEN_REQUEST_PATH:
                    self._id_token(urllib.parse.parse_qs(split.query))
                else:
                    self._json(404, {"message": "Not Found"})

            def _id_token(self, query: dict[str, list[str]]) -> None:
                if self.headers.get("Authorization") != f"Bearer {issuer.request_token}":
                    self._json(401, {"message": "Bad credentials"})
                    return
                # GitHub uses the repository owner's URL when no audience is asked.
                audience = query.get("audience", [""])[-1] or "https://github.com/" + str(
                    issuer.claims.get("repository_owner", "")
                )
                token = issuer.serve_token or issuer.token(audience)
                with issuer._lock:
                    issuer.issued.append(token)
                self._json(200, {"count": 1, "value": token})

            def _json(self, status: int, body: dict[str, Any]) -> None:
                data = json.dumps(body).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

        return Handler
