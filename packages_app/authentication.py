"""Who is calling: an API token, as HTTP Basic with the user name ``__token__``
(what twine sends) or as ``Authorization: Bearer <token>`` (what API clients
send), or, when the operator allows it, a user name and password.

Failed attempts are counted per client and a client past the limit is
refused before its credentials are even tried (:mod:`packages_app.throttling`).
"""

from __future__ import annotations

import base64
import binascii
from dataclasses import dataclass, field
from datetime import timedelta

from django.conf import settings
from django.contrib.auth import authenticate
from django.contrib.auth.models import AnonymousUser
from django.db.models import Q
from django.utils import timezone

from packages_app import throttling, tokens
from packages_app.models import ApiToken, Project, TrustedPublisher


class InvalidCredentials(Exception):
    """Credentials were sent but are wrong, expired or not allowed here."""


# How fresh a token's ``last_used`` is kept: it says "in use lately", not every request.
LAST_USED_GRAIN = timedelta(minutes=1)

PUBLISHER_TOKEN_UPLOADS_ONLY = (
    "Invalid API Token: this token was minted by trusted publishing; it uploads to its project "  # noqa: S105
    "with the upload URL and does nothing else."
)


@dataclass
class Identity:
    """Who is calling: a user, or (``publisher``) a trusted publisher's minted token, whose
    ``user`` is anonymous: it holds no roles and uploads to its publisher's project only."""

    user: object
    token: ApiToken | None = None
    token_project_ids: frozenset[int] = field(default_factory=frozenset)
    publisher: TrustedPublisher | None = None

    @property
    def username(self) -> str:
        if self.publisher is not None:
            return f"trusted publisher {self.publisher.description}"
        return self.user.get_username()

    @property
    def read_only(self) -> bool:
        """A read-only token installs but never writes."""
        return self.token is not None and self.token.read_only

    def token_allows(self, project: Project | None) -> bool:
        """A token limited to projects may touch only those (and create none).

        A limited token whose projects are all deleted touches nothing: being
        limited is the token's flag, not the size of its project set.
        """
        if self.token is None or not self.token.limited_to_projects:
            return True
        return project is not None and project.pk in self.token_project_ids


def basic_credentials(header: str) -> tuple[str, str] | None:
    scheme, _, encoded = header.strip().partition(" ")
    if scheme.lower() != "basic" or not encoded:
        return None
    try:
        decoded = base64.b64decode(encoded.strip(), validate=True).decode("utf-8")
    except (binascii.Error, UnicodeDecodeError):
        return None
    username, sep, password = decoded.partition(":")
    return (username, password) if sep else None


def identify(authorization_header: str, request=None, *, uploading: bool = False) -> Identity | None:
    """The caller's identity; None when no credentials were sent.

    A token minted by trusted publishing is taken only when ``uploading`` (the upload URL).

    Raises :class:`InvalidCredentials` for wrong ones, and
    :class:`~packages_app.throttling.TooManyFailures` for a client that has
    failed too often (``request`` identifies the client).
    """
    if not authorization_header:
        return None
    scheme, _, value = authorization_header.strip().partition(" ")
    if scheme.lower() == "bearer":
        return _identify_token(value.strip(), request, uploading)
    credentials = basic_credentials(authorization_header)
    if credentials is None:
        raise InvalidCredentials("Use HTTP Basic authentication or an API token as a Bearer token.")
    username, password = credentials
    if username == tokens.TOKEN_USERNAME:
        return _identify_token(password, request, uploading)
    if not settings.ALLOW_PASSWORD_UPLOADS:
        raise InvalidCredentials(
            f"User name and password authentication is disabled on this index; "
            f"use an API token with the user name {tokens.TOKEN_USERNAME}."
        )
    throttling.check(request, username)
    if "\x00" in username:
        # No user name has one, and PostgreSQL answers a NUL in a query with an error.
        throttling.failed(request, username)
        raise InvalidCredentials("Invalid or non-existent authentication information.")
    # authenticate() reports a failure to axes itself (the user_login_failed signal).
    user = authenticate(request, username=username, password=password)
    if user is None or not user.is_active:
        throttling.answered_here(request)
        raise InvalidCredentials("Invalid or non-existent authentication information.")
    throttling.succeeded(request, username)
    return Identity(user=user)


def _identify_token(plaintext: str, request=None, uploading: bool = False) -> Identity:
    name = throttling.token_name(plaintext)
    throttling.check(request, name)
    try:
        identity = _verify_token(plaintext, uploading)
    except InvalidCredentials:
        throttling.failed(request, name)
        raise
    throttling.succeeded(request, name)
    return identity


def _verify_token(plaintext: str, uploading: bool = False) -> Identity:
    parts = tokens.split(plaintext)
    token = None
    if parts is not None:
        found = ApiToken.objects.select_related("user", "trusted_publisher__project")
        token = found.filter(key_id=parts[0]).first()
    # Compare even when no row was found, so timing does not tell whether a key id exists.
    secret_hash = token.secret_hash if token is not None else "0" * 64
    matched = tokens.secret_matches(parts[1] if parts else plaintext, secret_hash)
    if token is None or not matched:
        raise InvalidCredentials("Invalid API Token: the token is not recognised.")
    now = timezone.now()
    if token.revoked is not None:
        raise InvalidCredentials("Invalid API Token: the token has been revoked.")
    if token.expires is not None and token.expires <= now:
        raise InvalidCredentials("Invalid API Token: the token has expired.")
    if token.trusted_publisher is not None and not uploading:
        raise InvalidCredentials(PUBLISHER_TOKEN_UPLOADS_ONLY)
    if token.user is not None and not token.user.is_active:
        raise InvalidCredentials("Invalid API Token: its user is disabled.")
    if token.last_used is None or now - token.last_used >= LAST_USED_GRAIN:
        # At most once a minute: a write per request was a transaction on every upload and read.
        # Conditional, so that requests arriving together with the same token write it once.
        stale = Q(last_used__isnull=True) | Q(last_used__lte=now - LAST_USED_GRAIN)
        ApiToken.objects.filter(stale, pk=token.pk).update(last_used=now)
    # Only a limited token's projects are ever asked for (Identity.token_allows, access.viewer_of).
    project_ids = frozenset(token.projects.values_list("pk", flat=True)) if token.limited_to_projects else frozenset()
    if token.trusted_publisher is not None:
        return Identity(
            user=AnonymousUser(), token=token, token_project_ids=project_ids, publisher=token.trusted_publisher
        )
    return Identity(user=token.user, token=token, token_project_ids=project_ids)
