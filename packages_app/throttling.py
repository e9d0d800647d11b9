"""Failed authentication is throttled per client, with django-axes.

A client is an address and the name it tries to sign in as: after
``AUTH_FAILURE_LIMIT`` failures that pair is refused (429 with ``Retry-After``)
for ``AUTH_LOCKOUT_SECONDS`` after its last failure, and a success clears its
count. So a user's own good login is never blocked by someone else's failures
elsewhere, nor by another user's failures behind the same address (a CI
runner's NAT, an office).

django-axes counts the failures in the Django cache (Redis with
``REDIS_URL``, shared by every worker; without it each process counts on its
own) and guards the admin's login form through its backend and middleware.
The upload endpoint and the metadata API authenticate with HTTP headers
instead of a form, so :mod:`packages_app.authentication` drives axes through
the same calls: ``check`` before trying the credentials, ``failed`` and
``succeeded`` after.

The name for an API token is its key id (the public part), so one CI job's
revoked token does not block another job's good token from the same address;
a token that does not even parse counts as ``__token__``. Guessing a token is
hopeless anyway (256 random bits); passwords are what this protects.
"""

from __future__ import annotations

from types import SimpleNamespace

from axes.handlers.proxy import AxesProxyHandler
from axes.helpers import get_cool_off
from django.conf import settings
from django.contrib.auth.signals import user_login_failed
from django.http import HttpRequest, HttpResponse

from packages_app import tokens


class TooManyFailures(Exception):
    """This client failed to authenticate too often; it may try again after ``retry_after`` seconds."""

    reason = "Too many failed authentication attempts from this address with these credentials."

    def __init__(self, retry_after: int) -> None:
        self.retry_after = retry_after
        super().__init__(f"{self.reason} Try again in {retry_after} seconds.")


# Failed trusted-publishing exchanges (``/_/oidc/mint-token``) count under this name and the
# token's workload: ``__oidc__:<sub>``.
OIDC_NAME = "__oidc__"


def token_name(plaintext: str) -> str:
    """The name a token attempt is counted under: ``__token__:<key id>``, or ``__token__``."""
    parts = tokens.split(plaintext)
    return f"{tokens.TOKEN_USERNAME}:{parts[0]}" if parts else tokens.TOKEN_USERNAME


def retry_after(request: HttpRequest | None = None) -> int:
    cool_off = get_cool_off(request)
    return max(int(cool_off.total_seconds()), 1) if cool_off else 1


def check(request: HttpRequest | None, name: str) -> None:
    """Raise :class:`TooManyFailures` when this client is locked out."""
    if request is not None and not AxesProxyHandler.is_allowed(request, {"username": name}):
        raise TooManyFailures(retry_after(request))


def failed(request: HttpRequest | None, name: str) -> None:
    """Count a failure that did not go through ``django.contrib.auth.authenticate`` (tokens, for one)."""
    if request is None:
        return
    user_login_failed.send(sender=__name__, credentials={"username": name}, request=request)
    answered_here(request)


def answered_here(request: HttpRequest | None) -> None:
    """The upload endpoint and the API answer a lockout themselves, in their own format.

    axes marks the request that reaches the limit, and its middleware would
    swap the answer for its lockout page; that failure is answered 401 like
    any other, and the next attempt gets the 429.
    """
    if request is not None:
        request.axes_locked_out = False


def succeeded(request: HttpRequest | None, name: str) -> None:
    """Clear this client's count (``AXES_RESET_ON_SUCCESS``)."""
    if request is not None:
        # axes resets by the signed-in user's name; a token's name is not its user's.
        subject = SimpleNamespace(get_username=lambda: name)
        AxesProxyHandler.user_logged_in(sender=__name__, request=request, user=subject)


# --- Settings hooks (AXES_USERNAME_CALLABLE, AXES_CLIENT_IP_CALLABLE, AXES_LOCKOUT_CALLABLE)


def client_name(request: HttpRequest, credentials: dict | None) -> str | None:
    """The name part of a client's key.

    axes joins address and name into one cache key without a separator, so
    ``10.0.0.1`` + ``2bob`` and ``10.0.0.12`` + ``bob`` would share a count; a
    character no address contains keeps them apart.
    """
    name = credentials.get("username") if credentials is not None else request.POST.get("username")
    return None if name is None else f"|{name}"


def client_ip(request: HttpRequest) -> str | None:
    """The client's address: the connection's, or the one the trusted proxies forwarded.

    With ``TRUSTED_PROXY_COUNT`` proxies in front, each appending the address
    it saw to X-Forwarded-For, the client is that many entries from the right;
    anything further left was written by the client and proves nothing.
    """
    count = settings.TRUSTED_PROXY_COUNT
    if count > 0:
        forwarded = [part.strip() for part in request.META.get("HTTP_X_FORWARDED_FOR", "").split(",")]
        forwarded = [part for part in forwarded if part]
        if len(forwarded) >= count:
            return forwarded[-count]
    return request.META.get("REMOTE_ADDR")


def lockout_response(request: HttpRequest, original_response=None, credentials: dict | None = None) -> HttpResponse:
    """What the admin's login form answers a locked-out client."""
    error = TooManyFailures(retry_after(request))
    response = HttpResponse(f"{error}\n", status=429, content_type="text/plain; charset=utf-8")
    response["Retry-After"] = str(error.retry_after)
    return response
