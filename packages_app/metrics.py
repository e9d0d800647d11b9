"""Prometheus metrics, at ``/_metrics/`` when the operator sets ``METRICS_TOKEN``.

Counted as requests are served (``prometheus_client``): requests by route, method and status
and their latency by route; page-store answers (kept on disk, copied from Redis, built);
uploads and their bytes. Read at each scrape from the database: the journal's serial, the
bytes the index's files hold, projects and files, and how far the webhooks are behind.

Under gunicorn each worker is its own process: with ``PROMETHEUS_MULTIPROC_DIR`` set (the
index's ``gunicorn.conf.py`` does it when ``METRICS_TOKEN`` is set) each writes its counts to
that folder and a scrape, whichever worker answers it, adds them all up (the library's
multiprocess mode); a dead worker's gauges are dropped by ``child_exit``.

The endpoint answers only ``Authorization: Bearer <METRICS_TOKEN>``; without the setting it is
answered like any unknown URL. It is answered by a middleware placed before the others, so
neither ``ALLOWED_HOSTS`` probes nor ``READ_ACCESS`` stand in a scraper's way.

Without ``METRICS_TOKEN`` nothing is counted (no one could read the counts) and
``prometheus_client`` is never imported: 2 MiB less in every worker (issue #25).
"""

from __future__ import annotations

import functools
import hmac
import os
import time
from types import SimpleNamespace

from django.conf import settings
from django.db.models import Count, Max, Min, Q, Sum
from django.http import HttpRequest, HttpResponse

METRICS_PATH = "/_metrics/"
# Any other method a client makes up is counted as "other": labels must stay few.
_METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"})


@functools.cache
def _meters() -> SimpleNamespace:
    """The process's counters, made (and prometheus_client imported) by the first count."""
    from prometheus_client import Counter, Histogram

    return SimpleNamespace(
        requests=Counter("pyindex_requests", "HTTP requests answered.", ["route", "method", "status"]),
        latency=Histogram(
            "pyindex_request_seconds",
            "Time to answer a request, by route.",
            ["route"],
            buckets=(0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30),
        ),
        page_store=Counter(
            "pyindex_page_store", "Stored pages asked for, by how they were found: kept, redis, built.", ["result"]
        ),
        uploads=Counter("pyindex_uploads", "Files uploaded and stored (not identical re-uploads)."),
        upload_bytes=Counter("pyindex_upload_bytes", "Bytes of the files uploaded and stored."),
    )


def page_store(result: str) -> None:
    if settings.METRICS_TOKEN:
        _meters().page_store.labels(result=result).inc()


def uploaded(size: int) -> None:
    if settings.METRICS_TOKEN:
        meters = _meters()
        meters.uploads.inc()
        meters.upload_bytes.inc(size)


class IndexCollector:
    """What the database says at scrape time (one query each)."""

    def collect(self):
        from prometheus_client.core import GaugeMetricFamily

        from packages_app.models import File, JournalEntry, Project, Webhook

        serial = JournalEntry.objects.aggregate(serial=Max("id"))["serial"] or 0
        files = File.objects.aggregate(size=Sum("size"))
        yield GaugeMetricFamily("pyindex_journal_serial", "The newest journal serial.", value=serial)
        yield GaugeMetricFamily("pyindex_storage_bytes", "Bytes the index's files hold.", value=files["size"] or 0)
        yield GaugeMetricFamily("pyindex_projects", "Projects on the index.", value=Project.objects.count())
        yield GaugeMetricFamily("pyindex_files", "Files on the index.", value=File.objects.count())
        hooks = Webhook.objects.filter(active=True).aggregate(
            oldest=Min("last_delivered_serial"), failing=Count("pk", filter=Q(failure_count__gt=0))
        )
        lag = serial - hooks["oldest"] if hooks["oldest"] is not None else 0
        yield GaugeMetricFamily(
            "pyindex_webhook_lag", "Journal entries the furthest-behind active webhook has yet to get.", value=lag
        )
        yield GaugeMetricFamily(
            "pyindex_webhooks_failing", "Active webhooks whose last attempt failed.", value=hooks["failing"]
        )


def exposition() -> bytes:
    """Every metric in Prometheus' text format: the processes' counts, then the database's."""
    from prometheus_client import REGISTRY, CollectorRegistry, generate_latest, multiprocess

    _meters()  # every counter listed, even before its first count
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        workers = CollectorRegistry()
        multiprocess.MultiProcessCollector(workers)
        counted = generate_latest(workers)
    else:
        counted = generate_latest(REGISTRY)
    index = CollectorRegistry()
    index.register(IndexCollector())
    return counted + generate_latest(index)


def _authorized(request: HttpRequest) -> bool:
    expected = f"Bearer {settings.METRICS_TOKEN}".encode()
    given = request.headers.get("Authorization", "").encode()
    return hmac.compare_digest(given, expected)


class MetricsMiddleware:
    """Times and counts every request, and answers ``/_metrics/`` (first of the middlewares)."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if not settings.METRICS_TOKEN:
            return self.get_response(request)
        if request.path == METRICS_PATH:
            if not _authorized(request):
                response = HttpResponse("Metrics need Authorization: Bearer <METRICS_TOKEN>.\n", status=401)
                response["WWW-Authenticate"] = 'Bearer realm="metrics"'
                return response
            from prometheus_client import CONTENT_TYPE_LATEST

            response = HttpResponse(exposition(), content_type=CONTENT_TYPE_LATEST)
            response["Cache-Control"] = "no-store"
            return response
        started = time.perf_counter()
        response = self.get_response(request)
        match = getattr(request, "resolver_match", None)
        route = match.route if match is not None and match.route else "unmatched"
        meters = _meters()
        meters.latency.labels(route=route).observe(time.perf_counter() - started)
        method = request.method if request.method in _METHODS else "other"
        meters.requests.labels(route=route, method=method, status=str(response.status_code)).inc()
        return response
