"""A real OIDC issuer on 127.0.0.1 for the trusted publishing tests: its discovery document and
JWKS served over HTTP from keys the test generates, and JWTs signed with them (PyJWT).

Nothing about verification is mocked: the index fetches these documents as it would a CI's.
"""

from __future__ import annotations

import json
import threading
import time
import uuid
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import jwt
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from jwt.algorithms import ECAlgorithm, RSAAlgorithm


class OidcIssuer:
    """An issuer whose published key set is ``published`` (key ids), signing with ``keys``."""

    def __init__(self) -> None:
        self.keys: dict[str, object] = {}
        self.published: list[str] = []
        self.requests: list[str] = []
        self.delay = 0.0  # seconds the key set takes to come: a slow issuer
        issuer = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                issuer.requests.append(self.path)
                if self.path == "/.well-known/openid-configuration":
                    body = {"issuer": issuer.url, "jwks_uri": f"{issuer.url}/.well-known/jwks"}
                elif self.path == "/.well-known/jwks":
                    time.sleep(issuer.delay)
                    body = {"keys": [issuer.public_jwk(kid) for kid in issuer.published]}
                else:
                    self.send_error(404)
                    return
                data = json.dumps(body).encode()
                try:
                    self.send_response(200)
                    self.send_header("Content-Type", "application/json")
                    self.send_header("Content-Length", str(len(data)))
                    self.end_headers()
                    self.wfile.write(data)
                except (BrokenPipeError, ConnectionResetError):
                    pass  # the index gave up waiting (a slow issuer's test)

            def log_message(self, format, *args) -> None:  # noqa: A002 - the base class's name
                pass

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self._server.server_address[1]}"
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)
        self._thread.start()
        self.add_key("key-1")

    def close(self) -> None:
        self._server.shutdown()
        self._server.server_close()
        self._thread.join()

    def add_key(self, kid: str, *, algorithm: str = "RS256", publish: bool = True) -> None:
        if algorithm == "ES256":
            self.keys[kid] = ec.generate_private_key(ec.SECP256R1())
        else:
            self.keys[kid] = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        if publish:
            self.published.append(kid)

    def public_jwk(self, kid: str) -> dict:
        key = self.keys[kid]
        if isinstance(key, ec.EllipticCurvePrivateKey):
            jwk = json.loads(ECAlgorithm.to_jwk(key.public_key()))
            jwk["alg"] = "ES256"
        else:
            jwk = json.loads(RSAAlgorithm.to_jwk(key.public_key()))
            jwk["alg"] = "RS256"
        return {**jwk, "kid": kid, "use": "sig"}

    def sign(self, claims: dict, *, kid: str = "key-1", algorithm: str = "RS256", key=None) -> str:
        return jwt.encode(claims, key or self.keys[kid], algorithm=algorithm, headers={"kid": kid})

    def claims(self, audience: str, lifetime: int = 300, **extra) -> dict:
        """A fresh token's standard claims (``extra`` None drops a claim)."""
        now = int(time.time())
        claims = {
            "iss": self.url,
            "aud": audience,
            "jti": str(uuid.uuid4()),
            "iat": now,
            "nbf": now,
            "exp": now + lifetime,
        }
        claims.update(extra)
        return {name: value for name, value in claims.items() if value is not None}
