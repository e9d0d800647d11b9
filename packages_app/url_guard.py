"""A NUL character anywhere in a request's URL is a 400, before any view runs.

PostgreSQL's text cannot hold a NUL: a project name, version, file path, cursor
or filter carrying one made the query fail, a 500 with a traceback in the log
(SQLite quietly found nothing). No name, version, path or parameter of the index
can contain one, so such a URL asks for nothing that exists. One check here
covers every endpoint, present and future, rather than a test in each view.
"""

from __future__ import annotations

from urllib.parse import unquote

from django.http import HttpRequest, HttpResponse

from packages_app.api.problems import problem_response

NUL = "\x00"
MESSAGE = "The URL contains a NUL character (%00); no name, version, path or parameter of this index can hold one."
_API_PREFIX = "/api/"


def has_nul(request: HttpRequest) -> bool:
    # path_info is already percent-decoded; the query string is not (request.GET would decode it, and more).
    return NUL in request.path_info or NUL in unquote(request.META.get("QUERY_STRING", ""), errors="replace")


def refusal(request: HttpRequest) -> HttpResponse:
    if request.path_info.startswith(_API_PREFIX):
        # The metadata API answers every error as a problem document (RFC 9457).
        return problem_response(400, MESSAGE)
    return HttpResponse(f"400 Bad Request: {MESSAGE}\n", status=400, content_type="text/plain; charset=utf-8")


class NulInUrlMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if has_nul(request):
            return refusal(request)
        return self.get_response(request)
