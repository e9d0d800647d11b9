"""A Content-Security-Policy on the pages a person's browser opens: the admin and the API docs.

django-csp builds the header and the per-answer nonce (``request.csp_nonce``, used by the
docs' templates for their inline script and style). Its middleware is narrowed here to
those pages: simple pages, files and JSON are read by installers and mirrors, which a
policy does not protect, so they skip it at the cost of one prefix test.
"""

from __future__ import annotations

from csp.middleware import CSPMiddleware

# The admin (indexsite/urls.py) and the Swagger UI and Redoc pages (packages_app/api/urls.py);
# tests/hostile/test_content_security_policy.py checks these against the URLconf.
POLICED_PATH_PREFIXES = ("/admin/", "/api/v1/docs/", "/api/v1/redoc/")


class PeoplePagesCSPMiddleware(CSPMiddleware):
    """django-csp's middleware for the admin and the API docs only."""

    def process_request(self, request):
        if request.path_info.startswith(POLICED_PATH_PREFIXES):
            super().process_request(request)

    def process_response(self, request, response):
        if not request.path_info.startswith(POLICED_PATH_PREFIXES):
            return response
        return super().process_response(request, response)
