"""Who is reading, on every read surface: ``request.viewer``, and the 401 of a private index.

Every request but the admin's (its own sign-in), the upload endpoint's (it checks its own
credentials) and the static files gets ``request.viewer`` (``access.Viewer``), from an
``Authorization`` header (HTTP Basic with ``__token__`` and a token, or a user name and
password; or a Bearer token) or, for a user signed in (web UI or admin), the session. With
``READ_ACCESS=authenticated`` an anonymous request gets 401 with a Basic challenge, which
pip, uv and poetry answer from their keyring, netrc or configured credentials; on the web
UI's pages (``packages_app.web``) it is sent to the sign-in page instead. Wrong
credentials are a 401 whatever the setting: a client is told, not silently served less.
"""

from __future__ import annotations

from django.conf import settings
from django.contrib.auth.views import redirect_to_login
from django.http import HttpRequest, HttpResponse

from packages_app import access, credentials, web
from packages_app.api.problems import problem_response
from packages_app.authentication import Identity, InvalidCredentials
from packages_app.simple.responses import plain_text
from packages_app.throttling import TooManyFailures

REALM = 'Basic realm="package index"'
# The metadata API's clients send Bearer tokens (its documented scheme).
API_REALM = 'Bearer realm="package index"'
# Paths with credentials of their own, or nothing to hide.
_NOT_READS = ("/admin/", "/legacy", "/static/", "/_/oidc/", "/.well-known/pytp")
NEEDS_CREDENTIALS = (
    "This index is private: send credentials. For pip and uv, an index URL such as "
    "https://__token__:<token>@<host>/simple/ or a netrc entry; for the API, 'Authorization: Bearer <token>'."
)


def viewer(request: HttpRequest) -> access.Viewer:
    """The request's viewer (anonymous for a request the middleware did not see)."""
    return getattr(request, "viewer", access.ANONYMOUS)


class ReadAccessMiddleware:
    def __init__(self, get_response) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if request.path.startswith(_NOT_READS):
            return self.get_response(request)
        header = request.META.get("HTTP_AUTHORIZATION", "")
        try:
            request.viewer = credentials.viewer_for(header, request) if header else _session_viewer(request)
        except InvalidCredentials as error:
            return _challenge(request, str(error))
        except TooManyFailures as error:
            # In the words the API's own throttling answers use (DRF's), elsewhere as the upload says it.
            message = f"{error.reason} Expected available in {error.retry_after} seconds."
            response = _answer(request, 429, message if request.path.startswith("/api/") else str(error))
            response["Retry-After"] = str(error.retry_after)
            return response
        if not request.viewer.authenticated and settings.READ_ACCESS == "authenticated":
            if not web.is_web_page(request.path):
                return _challenge(request, NEEDS_CREDENTIALS)
            if request.path != web.SIGN_IN_PATH:
                # A person in a browser gets the sign-in page, not the Basic prompt installers answer.
                return redirect_to_login(request.get_full_path(), web.SIGN_IN_PATH)
        return self.get_response(request)


def _session_viewer(request: HttpRequest) -> access.Viewer:
    # Not a look at the session without its cookie: that alone would add "Vary: Cookie"
    # to every page, and split every shared cache's copies by cookie.
    if settings.SESSION_COOKIE_NAME not in request.COOKIES:
        return access.ANONYMOUS
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated or not user.is_active:
        return access.ANONYMOUS
    return access.viewer_of(Identity(user=user))


def _answer(request: HttpRequest, status: int, message: str) -> HttpResponse:
    if request.path.startswith("/api/"):
        return problem_response(status, message)
    return plain_text(status, f"{status} {message}")


def _challenge(request: HttpRequest, message: str) -> HttpResponse:
    response = _answer(request, 401, message)
    response["WWW-Authenticate"] = API_REALM if request.path.startswith("/api/") else REALM
    # A 401 differs by credentials: no shared cache may answer another client with it.
    response["Cache-Control"] = "private, no-store"
    return response
