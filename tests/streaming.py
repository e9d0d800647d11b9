"""Streamed answers in in-process tests."""

from __future__ import annotations

from django.core.signals import request_finished
from django.db import close_old_connections
from django.http import StreamingHttpResponse


def close_unread(response: StreamingHttpResponse) -> None:
    """Close a streamed answer without reading it, as a WSGI server does when a client goes away.

    ``response.close()`` fires ``request_finished``, whose ``close_old_connections`` would close
    the test's own database connection (on PostgreSQL every later query then fails); the test
    client disconnects it around its own ``close()`` calls, and so does this.
    """
    request_finished.disconnect(close_old_connections)
    try:
        response.close()
    finally:
        request_finished.connect(close_old_connections)
