"""The signature of a delivery: HMAC-SHA256 over ``<timestamp>.<body>`` with the hook's secret.

Signing the timestamp with the body lets a receiver refuse a replayed delivery: it checks
the signature, then that ``X-Index-Timestamp`` is within its window (5 minutes by default).
"""

from __future__ import annotations

import hashlib
import hmac
import time

SIGNATURE_HEADER = "X-Index-Signature"
TIMESTAMP_HEADER = "X-Index-Timestamp"
DELIVERY_HEADER = "X-Index-Delivery"
WEBHOOK_HEADER = "X-Index-Webhook"
REPLAY_WINDOW_SECONDS = 300


def signature(secret: str, timestamp: int, body: bytes) -> str:
    """The ``X-Index-Signature`` value: ``sha256=<hex>``."""
    digest = hmac.new(secret.encode(), f"{timestamp}.".encode() + body, hashlib.sha256).hexdigest()
    return f"sha256={digest}"


def verify(
    secret: str,
    body: bytes,
    signature_header: str,
    timestamp_header: str,
    *,
    now: float | None = None,
    window: int = REPLAY_WINDOW_SECONDS,
) -> bool:
    """What a receiver does (docs/webhooks.md): the signature matches and the timestamp is recent."""
    try:
        timestamp = int(timestamp_header)
    except (TypeError, ValueError):
        return False
    if abs((time.time() if now is None else now) - timestamp) > window:
        return False
    return hmac.compare_digest(signature(secret, timestamp, body), signature_header or "")
