"""Where pages link to: file URLs, URL templates of the simple and metadata APIs, absolute URLs.

Built by reversing a route with placeholders, so they follow ``urls.py`` and the
mount point (``SCRIPT_NAME``) rather than being written out a second time.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass

from django.conf import settings
from django.urls import get_script_prefix, reverse

from packages_app.pages import store

# Stands in for an argument of a route while it is reversed, then replaced.
_SLOT = "__slot__"


def url_template(route: str, *placeholders: str) -> str:
    """The path of ``route`` with its arguments replaced by ``placeholders`` (``{}``, ``{name}``, or ``""``)."""
    url = reverse(route, args=[f"{_SLOT}{index}" for index in range(len(placeholders))])
    for index, placeholder in enumerate(placeholders):
        url = url.replace(f"{_SLOT}{index}", placeholder)
    return url


def files_base_url() -> str:
    """Prefix of every file URL: storage paths are appended to it."""
    return settings.PUBLIC_BASE_URL + url_template("files", "")


class UrlLayout:
    """Where simple pages link to, fixed per deployment; part of every page key.

    Time-travel root pages link to projects relatively (``name/``), so a link
    stays under the snapshot or cool-down it was found in, however its time
    was written, and one stored page serves every spelling of that time.
    """

    def __init__(self, relative_project_links: bool) -> None:
        self.project_url = "{}/" if relative_project_links else url_template("simple-project", "{}")
        self.files_base = files_base_url()
        self.tag = store.key_tag(self.project_url + " " + self.files_base)


@functools.lru_cache(maxsize=8)
def _layout_for(script_prefix: str, public_base_url: str, relative_project_links: bool) -> UrlLayout:
    return UrlLayout(relative_project_links)


def url_layout(*, relative_project_links: bool = False) -> UrlLayout:
    # Computed once per (mount point, public URL) rather than with two reverse() per request.
    return _layout_for(get_script_prefix(), settings.PUBLIC_BASE_URL, relative_project_links)


@dataclass(frozen=True)
class AbsoluteUrls:
    """Absolute URLs for one deployment, as PyPI's legacy JSON and XML-RPC give them (bandersnatch needs them so)."""

    files_base: str
    project_page: str  # with one {} for the normalised name
    release_page: str  # with {} for the name and {} for the version


def absolute_urls(base: str) -> AbsoluteUrls:
    """Under ``base`` (scheme and host): files, and the metadata API's project and release resources."""
    return AbsoluteUrls(
        files_base=base + url_template("files", ""),
        project_page=base + url_template("api:project", "{}"),
        release_page=base + url_template("api:release", "{}", "{}"),
    )
