"""A CI job's OIDC token verified: signature, issuer, audience, times, and used once.

The issuer's keys come from its discovery document (``<issuer>/.well-known/openid-configuration``
→ ``jwks_uri``), kept in the Django cache for an hour; a key id the kept set lacks fetches the
set again (key rotation), at most once a minute per issuer, so made-up key ids cannot make the
index hammer an issuer. Every fetch is bounded in time and size. The signature checks are
PyJWT's (with ``cryptography``), for RS256 and ES256 only: what the CI issuers sign with.
"""

from __future__ import annotations

import datetime
import functools
import hashlib
import json
import logging
from dataclasses import dataclass, field

from django.conf import settings
from django.core.cache import cache
from django.db import IntegrityError, transaction
from django.utils import timezone

from packages_app.models import OidcTokenUse
from packages_app.trusted_publishing.claims import GITHUB_ISSUER, GITLAB_ISSUER

logger = logging.getLogger("packages_app.trusted_publishing")

ALGORITHMS = ("RS256", "ES256")
LEEWAY_SECONDS = 60
FETCH_TIMEOUT_SECONDS = 5.0
MAX_DOCUMENT_BYTES = 1024 * 1024
JWKS_CACHE_SECONDS = 3600
REFRESH_INTERVAL_SECONDS = 60


# PyJWT (with cryptography) and urllib3 are imported by the first token exchange, not with
# this module: every worker imports it (the admin's publisher pages), few exchange tokens.
@functools.cache
def _pool():
    import urllib3

    return urllib3.PoolManager(retries=urllib3.Retry(total=None, connect=0, read=0, status=0, other=0, redirect=3))


@dataclass
class OidcError(Exception):
    """Why a token is refused: ``code`` for programs, ``description`` for the CI log."""

    code: str
    description: str
    status: int = 422
    errors: list[tuple[str, str]] = field(default_factory=list)  # further (code, description) pairs

    def __str__(self) -> str:
        return self.description


def allowed_issuers() -> frozenset[str]:
    return frozenset({GITHUB_ISSUER, GITLAB_ISSUER, *settings.TRUSTED_PUBLISHING_ISSUERS})


def _fetch_json(url: str, what: str) -> dict:
    import urllib3

    timeout = urllib3.Timeout(connect=FETCH_TIMEOUT_SECONDS, read=FETCH_TIMEOUT_SECONDS)
    try:
        response = _pool().request(
            "GET", url, timeout=timeout, preload_content=False, headers={"Accept": "application/json"}
        )
        try:
            body = response.read(MAX_DOCUMENT_BYTES + 1)
        finally:
            response.release_conn()
    except urllib3.exceptions.HTTPError as exc:
        logger.warning("fetching %s from %s failed: %s", what, url, exc)
        raise OidcError("issuer-unreachable", f"The issuer's {what} could not be fetched from {url}.", 503) from exc
    if response.status != 200 or len(body) > MAX_DOCUMENT_BYTES:
        logger.warning("fetching %s from %s answered %s (%d bytes)", what, url, response.status, len(body))
        raise OidcError("issuer-unreachable", f"The issuer's {what} at {url} answered HTTP {response.status}.", 503)
    try:
        document = json.loads(body)
    except ValueError as exc:
        raise OidcError("issuer-unreachable", f"The issuer's {what} at {url} is not JSON.", 503) from exc
    if not isinstance(document, dict):
        raise OidcError("issuer-unreachable", f"The issuer's {what} at {url} is not a JSON object.", 503)
    return document


def _fetch_jwks(issuer: str) -> dict:
    discovery = _fetch_json(f"{issuer}/.well-known/openid-configuration", "discovery document")
    if not isinstance(discovery.get("issuer"), str) or discovery["issuer"].rstrip("/") != issuer:
        raise OidcError("issuer-unreachable", f"The discovery document of {issuer} names another issuer.", 503)
    jwks_uri = discovery.get("jwks_uri")
    # The keys come over TLS, or from the issuer's own origin (a local issuer the operator allowed).
    if not isinstance(jwks_uri, str) or not (jwks_uri.startswith("https://") or jwks_uri.startswith(issuer + "/")):
        raise OidcError("issuer-unreachable", f"The discovery document of {issuer} has no usable jwks_uri.", 503)
    return _fetch_json(jwks_uri, "key set")


def _cache_key(prefix: str, issuer: str) -> str:
    return f"trusted-publishing:{prefix}:{hashlib.sha256(issuer.encode()).hexdigest()}"


def _find_key(jwks: dict, kid: str | None):
    import jwt  # see _pool: PyJWT loads cryptography (~9 MiB)

    try:
        keys = jwt.PyJWKSet.from_dict(jwks).keys
    except jwt.PyJWKSetError:
        return None
    if kid is None:
        return keys[0] if len(keys) == 1 else None
    return next((key for key in keys if key.key_id == kid), None)


def signing_key(issuer: str, kid: str | None):
    """The issuer's key with this id: from the kept key set, or the set fetched again."""
    kept_key = _cache_key("jwks", issuer)
    jwks = cache.get(kept_key)
    if jwks is None:
        jwks = _fetch_jwks(issuer)
        cache.set(kept_key, jwks, JWKS_CACHE_SECONDS)
    else:
        key = _find_key(jwks, kid)
        if key is not None:
            return key
        # Perhaps the issuer rotated its keys: fetch again, unless that was done a moment ago.
        if cache.add(_cache_key("refreshed", issuer), True, REFRESH_INTERVAL_SECONDS):
            jwks = _fetch_jwks(issuer)
            cache.set(kept_key, jwks, JWKS_CACHE_SECONDS)
    key = _find_key(jwks, kid)
    if key is None:
        raise OidcError("invalid-key", f"The issuer {issuer} publishes no key with the token's key id {kid!r}.")
    return key


def verify(raw: str) -> dict:
    """The claims of a valid OIDC token for this index; raises :class:`OidcError`."""
    import jwt  # see _find_key

    try:
        header = jwt.get_unverified_header(raw)
        unverified = jwt.decode(raw, options={"verify_signature": False})
    except jwt.InvalidTokenError as exc:
        raise OidcError("invalid-token", f"The token is not a well-formed JWT: {exc}.") from exc
    issuer = unverified.get("iss")
    # Some issuers write theirs with a trailing slash; allowed and configured ones are kept without.
    if not isinstance(issuer, str) or issuer.rstrip("/") not in allowed_issuers():
        raise OidcError(
            "invalid-issuer",
            f"The token's issuer {issuer!r} is not trusted by this index "
            "(GitHub Actions, gitlab.com and those the operator lists in TRUSTED_PUBLISHING_ISSUERS).",
        )
    algorithm = header.get("alg")
    if algorithm not in ALGORITHMS:
        raise OidcError("invalid-token", f"The token is signed with {algorithm!r}; this index takes RS256 or ES256.")
    key = signing_key(issuer.rstrip("/"), header.get("kid"))
    audience = settings.TRUSTED_PUBLISHING_AUDIENCE
    try:
        claims = jwt.decode(
            raw,
            key,
            algorithms=[algorithm],
            audience=audience,
            issuer=issuer,
            leeway=LEEWAY_SECONDS,
            options={"require": ["iss", "aud", "exp", "iat", "jti"]},
        )
    except jwt.ExpiredSignatureError as exc:
        raise OidcError("expired-token", "The token has expired; request a new one from the CI.") from exc
    except jwt.ImmatureSignatureError as exc:
        raise OidcError("invalid-token", f"The token is not valid yet ({exc}); check the clocks.") from exc
    except jwt.InvalidAudienceError as exc:
        got = unverified.get("aud")
        raise OidcError(
            "invalid-audience",
            f"The token's audience is {got!r}; this index expects {audience!r} (see /_/oidc/audience).",
        ) from exc
    except jwt.InvalidSignatureError as exc:
        raise OidcError("invalid-signature", "The token's signature does not verify with the issuer's key.") from exc
    except jwt.MissingRequiredClaimError as exc:
        raise OidcError("invalid-token", f"The token lacks the claim {exc.claim!r}.") from exc
    except jwt.InvalidTokenError as exc:
        raise OidcError("invalid-token", f"The token is invalid: {exc}.") from exc
    if not isinstance(claims["jti"], str) or not 0 < len(claims["jti"]) <= 255:
        raise OidcError("invalid-token", "The token's 'jti' claim is not a string of 1 to 255 characters.")
    return claims


def use_once(claims: dict) -> None:
    """Record the token's ``jti`` until it expires; raises :class:`OidcError` when it was used.

    Call inside the transaction that mints, so a token refused later is not spent.
    """
    now = timezone.now()
    leeway = datetime.timedelta(seconds=LEEWAY_SECONDS)
    OidcTokenUse.objects.filter(expires__lt=now).delete()
    # Kept as long as verify() would still take the token.
    expires = datetime.datetime.fromtimestamp(int(claims["exp"]), tz=datetime.UTC) + leeway
    try:
        with transaction.atomic():
            OidcTokenUse.objects.create(issuer=claims["iss"].rstrip("/"), jti=claims["jti"], expires=expires)
    except IntegrityError as exc:
        raise OidcError("replayed-token", "The token was already exchanged; each token mints once.") from exc
