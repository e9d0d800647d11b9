"""The web UI for the company's developers: browse, search, read and install (docs/web-ui.md).

Server-rendered Django templates over the same QuerySets as the APIs: every project a page
names goes through ``Project.objects.visible_to(request.viewer)``, so a restricted project is
a 404 to a non-member here as everywhere. The admin stays the operators' tool.

The paths below are where ``indexsite/urls.py`` mounts ``packages_app.web.urls``: the read
middleware (``packages_app.read_access``) sends an anonymous visitor of a closed index from
these pages to the sign-in page instead of answering 401, and the Content-Security-Policy
(``indexsite.content_security_policy``) covers them. tests/functional/test_web_urls.py checks
them against the URLconf.
"""

from __future__ import annotations

HOME_PATH = "/"
PAGE_PREFIXES = ("/project/", "/search/", "/account/")
SIGN_IN_PATH = "/account/login/"


def is_web_page(path: str) -> bool:
    """Whether ``path`` is one of the web UI's pages (people's pages, not installers')."""
    return path == HOME_PATH or path.startswith(PAGE_PREFIXES)
