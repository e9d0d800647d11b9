"""Sending journal events to webhooks: at-least-once, in serial order per hook, no broker.

Each hook remembers the last serial it was sent (``last_delivered_serial``). A pass takes the
journal's entries after it that the hook wants (its project, its kinds, and only projects its
creator may see), POSTs them one at a time in serial order, and moves the serial after each
2xx, never before: a worker killed mid-delivery sends that event again when it restarts. A
failure (an error status, a timeout, a refused connection, a redirect) stops the hook's pass,
records the error and waits before the next attempt, twice as long after each failure up to
``BACKOFF_CAP_SECONDS``. Every state is in the database; a worker claims a hook (claims.py)
while it sends its events, so several workers never send one hook's events out of order.
"""

from __future__ import annotations

import json
import logging
import threading
import time
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta

import urllib3
from django.db import DatabaseError
from django.db.models import Q
from django.utils import timezone

from packages_app import access
from packages_app.api.serializers import EventSerializer
from packages_app.authentication import Identity
from packages_app.models import JournalEntry, Webhook, WebhookDelivery
from packages_app.querysets import JournalQuerySet
from packages_app.webhooks import claims, signing

logger = logging.getLogger("packages_app.webhooks")

TIMEOUT_SECONDS = 10.0
MAX_RESPONSE_BYTES = 4096  # what is read of a receiver's answer (for the error message)
BACKOFF_BASE_SECONDS = 10
BACKOFF_CAP_SECONDS = 3600
BATCH_SIZE = 100  # events one pass sends a hook before the worker turns to the others
FAILURES_KEPT = 50  # failed attempts kept per hook for the admin
USER_AGENT = "pyindex-webhooks/1"

# No retries and no redirects followed (a 3xx is a failure: the receiver's URL is the one
# configured, never another host's); no proxies from the environment (urllib3 reads none).
_pool = urllib3.PoolManager(retries=False, maxsize=4)


def backoff(failures: int) -> timedelta:
    """The wait after the ``failures``-th failure in a row: 10 s, 20 s, 40 s... up to an hour."""
    return timedelta(seconds=min(BACKOFF_BASE_SECONDS * 2 ** min(max(failures - 1, 0), 30), BACKOFF_CAP_SECONDS))


def viewer_of_hook(hook: Webhook) -> access.Viewer:
    """Whose eyes a hook has: its creator's, so a hook never tells of a project they may not read.

    A hook whose creator is gone or disabled sees only what every reader of the index sees.
    """
    user = hook.created_by
    if user is None or not user.is_active:
        return access.ANONYMOUS
    return access.viewer_of(Identity(user))


def pending_entries(hook: Webhook, until: int) -> JournalQuerySet:
    """The entries after the hook's serial, up to ``until``, it is to be sent, in serial order."""
    entries = JournalEntry.objects.published().seen_by(viewer_of_hook(hook))
    entries = entries.filter(id__gt=hook.last_delivered_serial, id__lte=until)
    if hook.project_name:
        entries = entries.filter(normalized_name=hook.project_name)
    if hook.kinds:
        entries = entries.filter(kind__in=hook.kinds)
    return entries.select_related("submitted_by").order_by("id")


def payload(entry: JournalEntry) -> bytes:
    """The events feed's shape of one event (docs/api.md), as compact JSON."""
    return json.dumps(EventSerializer(entry).data, separators=(",", ":"), sort_keys=True).encode()


@dataclass(frozen=True)
class Attempt:
    delivery_id: str
    status: int | None
    error: str  # empty when delivered

    @property
    def delivered(self) -> bool:
        return not self.error


def send(hook: Webhook, entry: JournalEntry) -> Attempt:
    """POST one event to the hook, signed; a 2xx is delivered, anything else an error."""
    body = payload(entry)
    timestamp = int(time.time())  # the wall clock, whatever clock schedules the attempts: receivers check it
    delivery_id = str(uuid.uuid4())
    headers = {
        "Content-Type": "application/json",
        "User-Agent": USER_AGENT,
        signing.SIGNATURE_HEADER: signing.signature(hook.secret, timestamp, body),
        signing.TIMESTAMP_HEADER: str(timestamp),
        signing.DELIVERY_HEADER: delivery_id,
        signing.WEBHOOK_HEADER: str(hook.pk),
    }
    timeout = urllib3.Timeout(total=TIMEOUT_SECONDS, connect=TIMEOUT_SECONDS, read=TIMEOUT_SECONDS)
    try:
        response = _pool.request(
            "POST", hook.url, body=body, headers=headers, timeout=timeout, redirect=False, preload_content=False
        )
        try:
            answer = response.read(MAX_RESPONSE_BYTES)
        finally:
            response.close()  # the rest of a large answer is not read, so the connection is not reused
    except urllib3.exceptions.HTTPError as error:
        return Attempt(delivery_id, None, f"{type(error).__name__}: {error}"[:2000])
    if 200 <= response.status < 300:
        return Attempt(delivery_id, response.status, "")
    if 300 <= response.status < 400:
        where = response.headers.get("Location", "")[:500]
        return Attempt(delivery_id, response.status, f"HTTP {response.status} to {where!r}: redirects are not followed")
    text = answer.decode("utf-8", errors="replace").strip()[:500]
    return Attempt(delivery_id, response.status, f"HTTP {response.status}" + (f": {text}" if text else ""))


def _record_failure(hook: Webhook, entry: JournalEntry, attempt: Attempt, now: datetime) -> None:
    failures = hook.failure_count + 1
    # From when it failed, not from when a long pass began (a test's clock may be ahead of both).
    now = max(now, timezone.now())
    recorded = Webhook.objects.filter(pk=hook.pk).update(
        failure_count=failures, next_attempt_at=now + backoff(failures), last_error=attempt.error
    )
    if not recorded:
        return  # removed meanwhile: nothing to record it on
    WebhookDelivery.objects.create(
        webhook=hook,
        serial=entry.id,
        delivery_id=attempt.delivery_id,
        attempted_at=now,
        status_code=attempt.status,
        error=attempt.error,
    )
    old = WebhookDelivery.objects.filter(webhook=hook).order_by("-attempted_at", "-id")[FAILURES_KEPT:]
    WebhookDelivery.objects.filter(pk__in=list(old.values_list("pk", flat=True))).delete()
    logger.warning("webhook #%s: serial %s not delivered (%s failures): %s", hook.pk, entry.id, failures, attempt.error)


def deliver_hook(hook_id: int, *, now: datetime | None = None, stop: threading.Event | None = None) -> int:
    """One pass for one hook: the events it is owed (up to ``BATCH_SIZE``), until one fails.

    Returns how many were delivered; 0 when the hook is not due or another worker holds it.
    """
    now = now or timezone.now()
    with claims.claimed(hook_id) as mine:
        if not mine:
            return 0
        # Read again under the claim: another worker may have just sent its events, or failed.
        hook = (
            Webhook.objects.select_related("created_by")
            .filter(pk=hook_id, active=True)
            .filter(Q(next_attempt_at__isnull=True) | Q(next_attempt_at__lte=now))
            .first()
        )
        if hook is None:
            return 0
        return _deliver(hook, now, stop)


def _deliver(hook: Webhook, now: datetime, stop: threading.Event | None) -> int:
    # Read first: on PostgreSQL serials become visible in commit order, so every entry up
    # to this one is visible to the query below, and the hook may move past all of them.
    until = JournalEntry.objects.last_serial()
    entries = list(pending_entries(hook, until)[:BATCH_SIZE])
    delivered = 0
    for entry in entries:
        if stop is not None and stop.is_set():
            return delivered  # what was delivered is recorded; the rest waits for the next start
        attempt = send(hook, entry)
        if not attempt.delivered:
            _record_failure(hook, entry, attempt, now)
            return delivered
        Webhook.objects.filter(pk=hook.pk).update(
            last_delivered_serial=entry.id,
            failure_count=0,
            next_attempt_at=None,
            last_error="",
            last_success_at=timezone.now(),
        )
        hook.failure_count = 0
        delivered += 1
    if len(entries) < BATCH_SIZE:
        # Nothing more it wants up to ``until``: past the entries it is not sent, so its lag reads 0.
        Webhook.objects.filter(pk=hook.pk, last_delivered_serial__lt=until).update(last_delivered_serial=until)
    return delivered


def due_hooks(now: datetime) -> list[int]:
    """The active hooks with events they may be owed and no wait pending, oldest first."""
    last = JournalEntry.objects.last_serial()
    return list(
        Webhook.objects.filter(active=True, last_delivered_serial__lt=last)
        .filter(Q(next_attempt_at__isnull=True) | Q(next_attempt_at__lte=now))
        .order_by("id")
        .values_list("pk", flat=True)
    )


def deliver_due(*, now: datetime | None = None, stop: threading.Event | None = None) -> int:
    """One pass over every due hook; how many events were delivered. ``stop`` set ends it early."""
    now = now or timezone.now()
    delivered = 0
    for hook_id in due_hooks(now):
        if stop is not None and stop.is_set():
            break
        try:
            delivered += deliver_hook(hook_id, now=now, stop=stop)
        except DatabaseError:
            raise  # the database is gone for every hook: the worker stops, and its supervisor restarts it
        except Exception:  # noqa: BLE001 - one hook's fault must not stop the others' deliveries
            logger.exception("webhook #%s: its pass failed; the others go on", hook_id)
    return delivered


def lag(hook: Webhook, last_serial: int | None = None) -> int:
    """Journal entries the hook has not been brought past yet (0 when it is up to date)."""
    last = JournalEntry.objects.last_serial() if last_serial is None else last_serial
    return max(last - hook.last_delivered_serial, 0)
