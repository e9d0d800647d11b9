"""Token writes: create (the secret is returned once) and revoke.

Token events are journaled without a project name: they show in the audit log
but are not project changes, so mirror feeds leave them out.
"""

from __future__ import annotations

from datetime import datetime

from django.db.models import Q
from django.utils import timezone

from packages_app import tokens
from packages_app.models import ApiToken, Project
from packages_app.services import journal


def journal_entries_about_tokens() -> Q:
    """Journal entries about tokens: who holds which key id is for superusers' eyes only."""
    return Q(
        kind__in=[
            journal.TOKEN_CREATED,
            journal.TOKEN_REVOKED,
            journal.TRUSTED_PUBLISHER_ADDED,
            journal.TRUSTED_PUBLISHER_REMOVED,
        ]
    )


@journal.write_transaction()
def create_token(
    owner,
    *,
    name: str = "",
    projects: list[Project] | None = None,
    expires: datetime | None = None,
    read_only: bool = False,
    user=None,
) -> tuple[ApiToken, str]:
    """Create a token and return it with its plaintext, which is never stored.

    A ``read_only`` token installs (reads every page its user may) but never writes.
    """
    new = tokens.generate()
    token = ApiToken.objects.create(
        user=owner,
        name=name,
        key_id=new.key_id,
        secret_hash=new.secret_hash,
        expires=expires,
        read_only=read_only,
        limited_to_projects=bool(projects),
    )
    if projects:
        token.projects.set(projects)
    journal.record(
        f"create token {token.key_id} for {owner.get_username()}",
        kind=journal.TOKEN_CREATED,
        user=user if user is not None else owner,
    )
    return token, new.plaintext


@journal.write_transaction()
def revoke_token(token: ApiToken, *, user=None, reason: str = "") -> ApiToken:
    token = ApiToken.objects.get(pk=token.pk)
    if token.revoked is None:
        token.revoked = timezone.now()
        token.save(update_fields=["revoked"])
    holder = token.user.get_username() if token.user is not None else f"trusted publisher {token.trusted_publisher}"
    action = f"revoke token {token.key_id} of {holder}"
    journal.record(f"{action}: {reason}" if reason else action, kind=journal.TOKEN_REVOKED, user=user)
    return token


@journal.write_transaction()
def revoke_tokens_left_without_projects(token_ids, *, user=None) -> list[ApiToken]:
    """Revoke those of these limited tokens that have no project left (run after a project delete).

    A limited token without projects already works for nothing; revoking it says so in
    the admin and the journal, and keeps it from ever matching a project again.
    """
    orphaned = ApiToken.objects.filter(
        pk__in=token_ids, limited_to_projects=True, revoked__isnull=True, projects__isnull=True
    ).order_by("pk")
    return [revoke_token(token, user=user, reason="its projects are deleted") for token in orphaned]
