"""RFC 9457 problem details for every error the API answers."""

from __future__ import annotations

from http import HTTPStatus

from django.conf import settings
from django.core.exceptions import RequestDataTooBig
from django.http import JsonResponse
from rest_framework import exceptions
from rest_framework.views import exception_handler as drf_exception_handler

from packages_app.services.errors import Conflict, NotFound, ServiceError

PROBLEM_JSON = "application/problem+json"


def problem_response(status: int, detail: str) -> JsonResponse:
    """A problem document answered before any API view runs (by a middleware)."""
    problem = {"type": "about:blank", "title": HTTPStatus(status).phrase, "status": status, "detail": detail}
    return JsonResponse(problem, status=status, content_type=PROBLEM_JSON)


def _status_of(error: ServiceError) -> int:
    if isinstance(error, NotFound):
        return 404
    if isinstance(error, Conflict):
        return 409
    return 400


def problem_exception_handler(exc, context):
    """DRF's handler, with its answer reshaped into a problem details object.

    Service errors (domain rules such as "already exists") become 400/404/409
    with the service's own message; anything else unexpected stays a 500.
    """
    if isinstance(exc, ServiceError):
        status = _status_of(exc)
        exc = exceptions.APIException(str(exc))
        exc.status_code = status
    elif isinstance(exc, RequestDataTooBig):
        # Django's body limit, met when DRF reads the JSON body; it would be a bare HTML 400.
        exc = exceptions.APIException(f"The request body is larger than {settings.DATA_UPLOAD_MAX_MEMORY_SIZE} bytes.")
        exc.status_code = 413
    response = drf_exception_handler(exc, context)
    if response is None:
        return None
    data = response.data
    problem = {
        "type": "about:blank",
        "title": HTTPStatus(response.status_code).phrase,
        "status": response.status_code,
    }
    if isinstance(exc, exceptions.ValidationError):
        problem["detail"] = "The request has invalid fields; see 'errors'."
        problem["errors"] = data
    elif isinstance(data, dict) and "detail" in data:
        problem["detail"] = str(data["detail"])
    else:
        problem["detail"] = str(data)
    response.data = problem
    response.content_type = PROBLEM_JSON
    return response
