"""The exchange endpoints, in PyPI's shapes so its clients (uv, the publish action) speak them.

``GET /_/oidc/audience`` → ``{"audience": ...}``; ``POST /_/oidc/mint-token`` with
``{"token": "<OIDC JWT>"}`` → ``{"success": true, "token": ..., "expires": <unix time>}``. A
refusal is an RFC 9457 problem that also carries PyPI's ``message`` and ``errors`` (what its
clients print).

``GET /.well-known/pytp?discover=<the upload URL's path, percent-encoded>`` is PEP 807's
discovery document (a draft): the two endpoints, on the host the client asked, and the
features. Tokens are multi-use until they expire; a mint that asks for ``single-use-token``
is refused rather than given a token that is not.
"""

from __future__ import annotations

import json
import logging
from http import HTTPStatus

from django.conf import settings
from django.http import HttpRequest, JsonResponse
from django.urls import reverse
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_GET, require_POST

from packages_app import throttling
from packages_app.api.problems import PROBLEM_JSON
from packages_app.throttling import TooManyFailures
from packages_app.trusted_publishing import service
from packages_app.trusted_publishing.verify import OidcError, verify

logger = logging.getLogger("packages_app.trusted_publishing")
MAX_REQUEST_BYTES = 64 * 1024
PYTP_JSON = "application/vnd.pypi.pytp.v1+json"
FEATURES = ["multi-use-token"]


def problem(error: OidcError) -> JsonResponse:
    errors = [{"code": error.code, "description": error.description}]
    errors += [{"code": code, "description": description} for code, description in error.errors]
    body = {
        "type": "about:blank",
        "title": HTTPStatus(error.status).phrase,
        "status": error.status,
        "detail": error.description,
        "message": "Token request failed",
        "errors": errors,
    }
    response = JsonResponse(body, status=error.status, content_type=PROBLEM_JSON)
    response["Cache-Control"] = "no-store"
    return response


@require_GET
def discovery(request: HttpRequest) -> JsonResponse:
    """PEP 807: whether the upload URL whose path is ``discover`` takes trusted publishing here."""
    accept = request.headers.get("Accept", "").strip()
    if accept and not any(kind.split(";")[0].strip() in (PYTP_JSON, "*/*") for kind in accept.split(",")):
        return problem(OidcError("not-acceptable", f"The discovery document is {PYTP_JSON}.", 406))
    upload_paths = {reverse("legacy-upload"), reverse("legacy-upload").rstrip("/")}
    if request.GET.get("discover", "") not in upload_paths:
        return problem(OidcError("not-found", "No upload URL with that path takes trusted publishing here.", 404))
    return JsonResponse(
        {
            "audience-endpoint": request.build_absolute_uri(reverse("oidc-audience")),
            "token-mint-endpoint": request.build_absolute_uri(reverse("oidc-mint-token")),
            "features": FEATURES,
            "default-features": FEATURES,
        },
        content_type=PYTP_JSON,
    )


@require_GET
def audience(request: HttpRequest) -> JsonResponse:
    return JsonResponse({"audience": settings.TRUSTED_PUBLISHING_AUDIENCE})


@csrf_exempt
@require_POST
def mint_token(request: HttpRequest) -> JsonResponse:
    name = throttling.OIDC_NAME
    try:
        raw = _oidc_token(request)
        name = _throttled_as(raw)
        throttling.check(request, name)
        claims = verify(raw)
        token, plaintext, publisher = service.mint(claims)
    except TooManyFailures as refusal:
        response = problem(OidcError("too-many-failures", str(refusal), 429))
        response["Retry-After"] = str(refusal.retry_after)
        return response
    except OidcError as error:
        logger.info("trusted publishing exchange refused: %s (%s)", error.code, error.description)
        if error.status < 500:  # the issuer being down is nobody's failure
            throttling.failed(request, name)
        return problem(error)
    throttling.succeeded(request, name)
    logger.info("trusted publishing minted token %s for %s", token.key_id, publisher.description)
    assert token.expires is not None  # noqa: S101 - minted tokens always expire
    response = JsonResponse({"success": True, "token": plaintext, "expires": int(token.expires.timestamp())})
    response["Cache-Control"] = "no-store"  # a secret, shown once
    return response


def _throttled_as(raw: str) -> str:
    """Failed exchanges are counted per address and workload (the token's own, unverified ``sub``):
    a misconfigured job retrying locks out itself, not every job behind the same address."""
    import jwt  # here, not at the top: PyJWT loads cryptography, which only token exchanges need

    try:
        subject = jwt.decode(raw, options={"verify_signature": False}).get("sub")
    except jwt.InvalidTokenError:
        subject = None
    if not isinstance(subject, str) or not subject:
        return throttling.OIDC_NAME
    return f"{throttling.OIDC_NAME}:{subject[:200]}"


def _oidc_token(request: HttpRequest) -> str:
    declared = request.META.get("CONTENT_LENGTH") or "0"
    if not declared.isdigit() or int(declared) > MAX_REQUEST_BYTES:
        raise OidcError("invalid-payload", f"The request body must be JSON of at most {MAX_REQUEST_BYTES} bytes.", 400)
    try:
        payload = json.loads(request.body)
    except ValueError:
        payload = None
    token = payload.get("token") if isinstance(payload, dict) else None
    if not isinstance(token, str) or not token:
        raise OidcError("invalid-payload", 'The request body must be JSON: {"token": "<OIDC token>"}.', 400)
    features = payload.get("features", FEATURES)
    if not isinstance(features, list) or any(feature not in FEATURES for feature in features):
        raise OidcError(
            "unsupported-feature",
            f"This index mints tokens with the features {FEATURES} only (PEP 807); asked for {features!r}.",
            422,
        )
    return token
