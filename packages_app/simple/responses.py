"""The small plain answers of the simple API and the file host: PyPI's 404, errors, redirects."""

from __future__ import annotations

from django.http import HttpResponse, HttpResponsePermanentRedirect


def plain_text(status: int, message: str) -> HttpResponse:
    return HttpResponse(message, status=status, content_type="text/plain; charset=utf-8")


def not_found() -> HttpResponse:
    # PyPI's lightweight 404 for everything under /simple/; never a fall-through elsewhere.
    return plain_text(404, "404 Not Found")


def redirect_keeping_query(request, url: str) -> HttpResponse:
    query = request.META.get("QUERY_STRING", "")
    return HttpResponsePermanentRedirect(f"{url}?{query}" if query else url)
