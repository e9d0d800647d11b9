"""DRF authentication with the index's own credentials; writes take API tokens only."""

from __future__ import annotations

from rest_framework.authentication import BaseAuthentication
from rest_framework.exceptions import AuthenticationFailed, NotAuthenticated, PermissionDenied, Throttled
from rest_framework.permissions import SAFE_METHODS, BasePermission

from packages_app import read_access, tokens
from packages_app.authentication import InvalidCredentials, identify
from packages_app.throttling import TooManyFailures


class IndexAuthentication(BaseAuthentication):
    """``Authorization: Bearer <token>``, or Basic as twine sends it.

    ``request.auth`` is the caller's :class:`~packages_app.authentication.Identity`,
    which knows which projects a token is limited to.
    """

    def authenticate(self, request):
        header = request.META.get("HTTP_AUTHORIZATION", "")
        if request.method in SAFE_METHODS and header:
            # A read: the credentials the read-access middleware checked (and keeps for a while).
            identity = read_access.viewer(request._request).identity
            return None if identity is None else (identity.user, identity)
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


PASSWORD_REFUSED = (
    "The metadata API's writes take an API token, not a user name and password: send "
    f"'Authorization: Bearer pyidx_...', or HTTP Basic with the user name {tokens.TOKEN_USERNAME} "
    "and the token as the password."
)


READ_ONLY_REFUSED = "This token is read-only: it installs from the index but cannot change anything."


class WritesNeedAnApiToken(BasePermission):
    """Reads are for whoever may read the index (``READ_ACCESS``); a write needs an API token
    that is not read-only.

    A password (``ALLOW_PASSWORD_UPLOADS``) is for uploading with ``/legacy/`` only:
    it cannot be limited to projects, revoked or expired on its own, so it must not
    also yank, register releases or change a project's status.
    """

    def has_permission(self, request, view) -> bool:
        if request.method in SAFE_METHODS:
            return True
        if request.auth is None:
            raise NotAuthenticated()
        if request.auth.token is None:
            # 401 with the Bearer challenge: the caller is known, but this credential is the wrong kind.
            raise AuthenticationFailed(PASSWORD_REFUSED)
        if request.auth.read_only:
            raise PermissionDenied(READ_ONLY_REFUSED)
        return True
