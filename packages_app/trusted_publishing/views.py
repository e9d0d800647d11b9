"""The exchange endpoints, in PyPI's shapes so its clients (uv, the publish action) speak them.

``GET /_/oidc/audience`` → ``{"audience": ...}``; ``POST /_/oidc/mint-token`` with
``{"token": "<OIDC JWT>"}`` → ``{"success": true, "token": ..., "expires": <unix time>}``. A
refusal is an RFC 9457 problem that also carries PyPI's ``message`` and ``errors`` (what its
clients print).
"""

from __future__ import annotations

import json
import logging
from http import HTTPStatus

from django.conf import settings
from django.http import HttpRequest, JsonResponse
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_GET, require_POST

from packages_app.api.problems import PROBLEM_JSON
from packages_app.trusted_publishing import service
from packages_app.trusted_publishing.verify import OidcError, verify

logger = logging.getLogger("packages_app.trusted_publishing")
MAX_REQUEST_BYTES = 64 * 1024


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
    return JsonResponse(body, status=error.status, content_type=PROBLEM_JSON)


@require_GET
def audience(request: HttpRequest) -> JsonResponse:
    return JsonResponse({"audience": settings.TRUSTED_PUBLISHING_AUDIENCE})


@csrf_exempt
@require_POST
def mint_token(request: HttpRequest) -> JsonResponse:
    try:
        raw = _oidc_token(request)
        claims = verify(raw)
        token, plaintext, publisher = service.mint(claims)
    except OidcError as error:
        logger.info("trusted publishing exchange refused: %s (%s)", error.code, error.description)
        return problem(error)
    logger.info("trusted publishing minted token %s for %s", token.key_id, publisher.description)
    assert token.expires is not None  # noqa: S101 - minted tokens always expire
    return JsonResponse({"success": True, "token": plaintext, "expires": int(token.expires.timestamp())})


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
    return token
