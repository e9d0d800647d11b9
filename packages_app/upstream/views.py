"""What the simple views need of the upstream: the page or the answer that replaces it."""

from __future__ import annotations

from django.http import HttpResponse

from packages_app.simple.responses import not_found, plain_text
from packages_app.upstream import client, guard, pages

# Where a project page came from: "local" or "upstream".
SOURCE_HEADER = "X-Index-Source"
# Set on an upstream page served from what was kept because upstream failed: the reason.
STALE_HEADER = "X-Index-Stale"


def project_page(normalized: str) -> tuple[pages.UpstreamPage, str | None] | HttpResponse:
    """Upstream's page of ``normalized`` (and why it is stale, if it is), or the answer instead.

    The page may be its head (no files: ``pages.whole`` reads them, when a page is built)."""
    refusal = guard.refusal(normalized)
    if refusal is not None:
        return plain_text(404, f"404 Not Found: {refusal}")
    try:
        return pages.current(normalized, head_only=True)
    except pages.UpstreamNotFound:
        return not_found()
    except client.UpstreamError as error:
        return plain_text(
            error.status, f"{error.status} Upstream error: '{normalized}' is not here, and {error}; try again later."
        )


def mark(response: HttpResponse, stale: str | None) -> None:
    response[SOURCE_HEADER] = "upstream"
    if stale:
        response[STALE_HEADER] = f"upstream unavailable, last good page served: {stale}"
