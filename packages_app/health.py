"""``/_health/``: can this server answer? Checks the database, the file storage and the cache.

Answered by a middleware placed before every other one, so a load balancer that
probes by IP address over plain http gets the real answer, not a 400 for an
unknown host or a redirect to https. The body names each part and says ``ok``
or the kind of error (never its message, which may hold host names or keys);
the details go to the log.
"""

from __future__ import annotations

import logging
import os

from django.conf import settings
from django.core.cache import cache
from django.core.files.storage import FileSystemStorage
from django.db import connection
from django.http import HttpRequest, JsonResponse

from packages_app.storage import package_storage

HEALTH_PATH = "/_health/"
_PROBE_NAME = "health-probe/absent"

logger = logging.getLogger(__name__)


def check_database() -> None:
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")
        cursor.fetchone()


def check_storage() -> None:
    storage = package_storage()
    if isinstance(storage, FileSystemStorage):
        # exists() of a missing name is False even when the folder cannot be written;
        # a new install has no folder until its first upload, so make it.
        os.makedirs(storage.location, exist_ok=True)
        if not os.access(storage.location, os.W_OK | os.X_OK):
            raise PermissionError("the files folder is not writable")
    # A round trip to the store (a HEAD request on S3): fails on a wrong endpoint,
    # bucket or credentials.
    storage.exists(_PROBE_NAME)


def check_cache() -> None:
    cache.get("health-probe")


def health_report() -> tuple[bool, dict[str, str]]:
    checks = {"database": check_database, "storage": check_storage}
    if settings.REDIS_URL:
        checks["cache"] = check_cache
    results = {}
    for name, check in checks.items():
        try:
            check()
        except Exception as error:  # noqa: BLE001 - any failure means "not healthy", reported by kind
            logger.error("health check %s failed", name, exc_info=True)
            results[name] = f"error: {type(error).__name__}"
        else:
            results[name] = "ok"
    return all(value == "ok" for value in results.values()), results


class HealthCheckMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request: HttpRequest):
        if request.path_info != HEALTH_PATH:
            return self.get_response(request)
        healthy, results = health_report()
        body = {"status": "ok" if healthy else "error", "checks": results}
        response = JsonResponse(body, status=200 if healthy else 503)
        response["Cache-Control"] = "no-store"
        return response
