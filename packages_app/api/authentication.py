"""DRF authentication with the index's own credentials (API tokens first)."""

from __future__ import annotations

from drf_spectacular.extensions import OpenApiAuthenticationExtension
from rest_framework.authentication import BaseAuthentication
from rest_framework.exceptions import AuthenticationFailed, Throttled

from packages_app.authentication import InvalidCredentials, identify
from packages_app.throttling import TooManyFailures


class IndexAuthentication(BaseAuthentication):
    """``Authorization: Bearer <token>``, or Basic as twine sends it.

    ``request.auth`` is the caller's :class:`~packages_app.authentication.Identity`,
    which knows which projects a token is limited to.
    """

    def authenticate(self, request):
        header = request.META.get("HTTP_AUTHORIZATION", "")
        try:
            identity = identify(header, request._request)
        except InvalidCredentials as error:
            raise AuthenticationFailed(str(error)) from error
        except TooManyFailures as error:
            # 429 with Retry-After; DRF adds the header, and the wait to the message, from ``wait``.
            raise Throttled(wait=error.retry_after, detail=error.reason) from error
        return None if identity is None else (identity.user, identity)

    def authenticate_header(self, request) -> str:
        # Makes DRF answer 401 (not 403) to a write without credentials.
        return 'Bearer realm="package index"'


class IndexAuthenticationScheme(OpenApiAuthenticationExtension):
    """How the OpenAPI schema describes :class:`IndexAuthentication`."""

    target_class = IndexAuthentication
    name = "apiToken"

    def get_security_definition(self, auto_schema):
        return {"type": "http", "scheme": "bearer", "description": "An API token: Bearer pyidx_..."}
