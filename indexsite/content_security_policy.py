"""A Content-Security-Policy on the pages a person's browser opens: the web UI, the admin and the API docs.

django-csp builds the header and the per-answer nonce (``request.csp_nonce``, used by the
docs' templates for their inline script and style). Its middleware is narrowed here to
those pages: simple pages, files and JSON are read by installers and mirrors, which a
policy does not protect, so they skip it at the cost of one prefix test.
"""

from __future__ import annotations

from csp.middleware import CSPMiddleware

from packages_app import web

# The admin (indexsite/urls.py), the Swagger UI and Redoc pages (packages_app/api/urls.py) and
# the web UI's pages (packages_app/web); tests/hostile/test_content_security_policy.py checks
# these against the URLconf. The web UI's landing page is "/" itself: an exact path, not a prefix.
POLICED_PATH_PREFIXES = ("/admin/", "/api/v1/docs/", "/api/v1/redoc/", *web.PAGE_PREFIXES)
POLICED_PATHS = (web.HOME_PATH,)


def policed(path: str) -> bool:
    return path in POLICED_PATHS or path.startswith(POLICED_PATH_PREFIXES)


class PeoplePagesCSPMiddleware(CSPMiddleware):
    """django-csp's middleware for the web UI, the admin and the API docs only."""

    def process_request(self, request):
        if policed(request.path_info):
            super().process_request(request)

    def process_response(self, request, response):
        if not policed(request.path_info):
            return response
        return super().process_response(request, response)
