"""Webhook writes: add (the secret is returned, and shown once) and remove.

Like token events, webhook events are journaled without a project name: they are in the
admin's journal but not project changes, so the events feed and other webhooks leave them
out. The entry names the receiver's host only: a receiver's path often carries a secret.
"""

from __future__ import annotations

import secrets
from collections.abc import Iterable
from urllib.parse import urlsplit

from packages_app.models import JournalEntry, Project, Webhook
from packages_app.services import journal
from packages_app.services.errors import ServiceError

SECRET_PREFIX = "whsec_"  # noqa: S105 - a prefix, not a secret

# The kinds a webhook can be sent: those of project changes (the events feed's), not the
# audit-only ones journaled without a project.
DELIVERABLE_KINDS = journal.ACTIONS - {
    journal.TOKEN_CREATED,
    journal.TOKEN_REVOKED,
    journal.TRUSTED_PUBLISHER_ADDED,
    journal.TRUSTED_PUBLISHER_REMOVED,
    journal.WEBHOOK_ADDED,
    journal.WEBHOOK_REMOVED,
}


def new_secret() -> str:
    return SECRET_PREFIX + secrets.token_urlsafe(32)


def checked_url(url: str) -> str:
    url = url.strip()
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ServiceError(f"A webhook's URL must be an http or https URL with a host, not {url[:200]!r}.")
    if parts.username or parts.password:
        raise ServiceError("A webhook's URL carries no user name or password: the signature authenticates it.")
    return url


def checked_kinds(kinds: Iterable[str]) -> list[str]:
    chosen = sorted(set(kinds))
    unknown = [kind for kind in chosen if kind not in DELIVERABLE_KINDS]
    if unknown:
        choices = ", ".join(sorted(DELIVERABLE_KINDS))
        raise ServiceError(f"{', '.join(unknown)}: not an action a webhook can be sent; choose from {choices}.")
    return chosen


@journal.write_transaction()
def add_webhook(
    url: str, *, project: Project | None = None, kinds: Iterable[str] = (), user=None
) -> tuple[Webhook, str]:
    """A webhook for ``project``'s events (every project's when None) from now on, and its secret.

    The secret is returned here and never shown again; the index keeps it to sign with.
    """
    secret = new_secret()
    hook = Webhook.objects.create(
        url=checked_url(url),
        secret=secret,
        project=project,
        project_name=project.normalized_name if project is not None else "",
        kinds=checked_kinds(kinds),
        created_by=user if user is not None and user.is_authenticated else None,
        last_delivered_serial=JournalEntry.objects.last_serial(),
    )
    entry = journal.record(
        f"add webhook #{hook.pk} for {hook.project_name or 'every project'} to {urlsplit(hook.url).hostname}",
        kind=journal.WEBHOOK_ADDED,
        user=user,
    )
    # Its events are those after its own entry (which is not one a webhook is sent).
    hook.last_delivered_serial = entry.id
    hook.save(update_fields=["last_delivered_serial"])
    return hook, secret


@journal.write_transaction()
def remove_webhook(hook: Webhook, *, user=None) -> None:
    journal.record(
        f"remove webhook #{hook.pk} for {hook.project_name or 'every project'} to {urlsplit(hook.url).hostname}",
        kind=journal.WEBHOOK_REMOVED,
        user=user,
    )
    hook.delete()


def set_active(hooks, active: bool) -> int:
    """Pause or resume webhooks: the worker's state, not a change to the index, so not journaled.

    A resumed webhook is sent what it missed while paused (its serial did not move).
    """
    return Webhook.objects.filter(pk__in=[hook.pk for hook in hooks]).update(active=active)


def retry_now(hooks) -> int:
    """Clear the wait after failures: the worker tries again on its next pass."""
    return Webhook.objects.filter(pk__in=[hook.pk for hook in hooks]).update(next_attempt_at=None)
