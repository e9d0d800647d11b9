"""A bound on the database work of every web request: PostgreSQL's ``statement_timeout``.

A request whose query runs past ``DATABASE_STATEMENT_TIMEOUT_MS`` has the query
stopped by the server and is answered ``503`` with ``Retry-After``, logged as a
warning: one costly request (an XML-RPC search of a thousand terms once held
PostgreSQL for 41 s) cannot hold a worker and a database connection for minutes,
and a client waiting on a lock another transaction holds too long gets an answer.

Only web processes are bound. ``indexsite/wsgi.py`` (gunicorn, and ``runserver``,
which serves through it) calls :func:`bound_web_requests`; from then on every
connection the process opens gets the timeout, set once when it is opened
(connections persist, ``conn_max_age``). Management commands and migrations never
import that module: building an index on a large table, an import or a storage
check may rightly run for minutes, and get no bound. (A flag in the connection's
``OPTIONS`` would bind them too: settings cannot tell who loads them.)

The bound is per statement, not per request: a request that makes many quick
queries is not cut off. SQLite has no such timeout; the embedded default is for
small installations.
"""

from __future__ import annotations

import logging
import math

from django.conf import settings
from django.db import OperationalError
from django.db.backends.signals import connection_created
from django.http import HttpRequest, HttpResponse

from packages_app.api.problems import problem_response

# SQLSTATE query_canceled: a statement stopped by statement_timeout (or by an operator's
# pg_cancel_backend, which deserves the same answer). Other database errors stay 500s.
QUERY_CANCELED = "57014"
_DISPATCH_UID = "packages_app.statement_timeout"

logger = logging.getLogger(__name__)


def bound_web_requests() -> None:
    """Give every database connection this process opens from now on the statement timeout."""
    connection_created.connect(_set_timeout, dispatch_uid=_DISPATCH_UID)


def unbound() -> None:
    """Undo :func:`bound_web_requests` for connections opened from now on (for tests)."""
    connection_created.disconnect(dispatch_uid=_DISPATCH_UID)


def _set_timeout(sender, connection, **kwargs) -> None:
    milliseconds = settings.DATABASE_STATEMENT_TIMEOUT_MS
    if connection.vendor != "postgresql" or not milliseconds:
        return
    with connection.cursor() as cursor:
        # Session-wide (is_local false), set in autocommit: it outlives every transaction.
        cursor.execute("SELECT set_config('statement_timeout', %s, false)", [f"{milliseconds}ms"])


def is_statement_timeout(error: BaseException) -> bool:
    return isinstance(error, OperationalError) and getattr(error.__cause__, "sqlstate", None) == QUERY_CANCELED


def retry_after_seconds() -> int:
    return max(1, math.ceil(settings.DATABASE_STATEMENT_TIMEOUT_MS / 1000))


def busy_response(request: HttpRequest) -> HttpResponse:
    message = (
        f"A database query of this request ran past the {settings.DATABASE_STATEMENT_TIMEOUT_MS} ms "
        "this index allows one, and was stopped. Try again in a few seconds; "
        "if it keeps happening, ask for less at once or tell the index's operators."
    )
    if request.path_info.startswith("/api/"):
        response = problem_response(503, message)
    else:
        response = HttpResponse(
            f"503 Service Unavailable: {message}\n", status=503, content_type="text/plain; charset=utf-8"
        )
    response["Retry-After"] = str(retry_after_seconds())
    response["Cache-Control"] = "no-store"
    return response


class StatementTimeoutMiddleware:
    """Turns a statement stopped by the timeout into a 503, logged once as a warning."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        return self.get_response(request)

    def process_exception(self, request: HttpRequest, exception: Exception) -> HttpResponse | None:
        if not is_statement_timeout(exception):
            return None
        # Method and path only: no query string, no SQL, no parameters (they may carry what users typed).
        logger.warning(
            "database statement stopped after %d ms (DATABASE_STATEMENT_TIMEOUT_MS); answered 503: %s %s",
            settings.DATABASE_STATEMENT_TIMEOUT_MS,
            request.method,
            request.path,
        )
        response = busy_response(request)
        # Our warning is the log line; django.request would add an ERROR for the 5xx.
        response._has_been_logged = True
        return response
