"""DRF renderers for the simple repository API, one per media type.

All of them consume the dict a builder in ``builders.py`` makes. The HTML form
is frozen at api-version 1.4 (PEP 833) and written byte for byte in PyPI's
layout: third-party parsers of this page are brittle, and a change of
whitespace or attribute order has broken them before. Nothing JSON-only
(``versions``, ``size``, ``upload-time``) appears in HTML.
"""

from __future__ import annotations

import orjson
from rest_framework.renderers import BaseRenderer

from packages_app.naming import normalize_name

JSON_V1 = "application/vnd.pypi.simple.v1+json"
HTML_V1 = "application/vnd.pypi.simple.v1+html"
TEXT_HTML = "text/html"
# PEP 691 "meta versions": a client may ask for these; we answer with v1.
LATEST_ALIASES = {
    "application/vnd.pypi.simple.latest+json": JSON_V1,
    "application/vnd.pypi.simple.latest+html": HTML_V1,
}
HTML_API_VERSION = "1.4"  # frozen by PEP 833, whatever JSON moves on to


def escape(text: str) -> str:
    """The same five characters, and the same entities, as Jinja's autoescape.

    Chained ``replace`` (each a no-op scan for clean text) is several times faster
    than ``str.translate`` here, which matters on pages with ten thousand links.
    """
    return (
        text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;").replace('"', "&#34;").replace("'", "&#39;")
    )


class SimpleJSONRenderer(BaseRenderer):
    """PEP 691 JSON: sorted keys, compact, UTF-8, a trailing newline (as PyPI)."""

    media_type = JSON_V1
    format = "json"
    charset = None

    def render(self, data, accepted_media_type=None, renderer_context=None) -> bytes:
        # orjson writes compact UTF-8 (no \u escapes); the stdlib took ten times as long on big pages.
        return orjson.dumps(data, option=orjson.OPT_SORT_KEYS | orjson.OPT_APPEND_NEWLINE)


class SimpleHTMLRenderer(BaseRenderer):
    """PEP 503 HTML, as ``application/vnd.pypi.simple.v1+html``."""

    media_type = HTML_V1
    format = "html"
    charset = "utf-8"

    def render(self, data, accepted_media_type=None, renderer_context=None) -> bytes:
        if "projects" in data:
            project_url = (renderer_context or {}).get("project_url", "/simple/{}/")
            text = render_index_html(data, project_url)
        else:
            text = render_project_html(data)
        return text.encode("utf-8")


class SimpleTextHTMLRenderer(SimpleHTMLRenderer):
    """The same HTML as ``text/html``, for clients that predate PEP 691."""

    media_type = TEXT_HTML


def render_index_html(page: dict, project_url: str, anchors: str | None = None) -> str:
    """The root list. ``project_url`` has one ``{}`` for the normalised name; ``anchors``:
    the projects' lines already made (``simple.root_list``), else from ``projects``."""
    if anchors is None:
        anchors = "".join(project_line(project["name"], project_url) for project in page["projects"])
    return (
        "<!DOCTYPE html>\n"
        '<html lang="en">\n'
        "  <head>\n"
        f'    <meta name="pypi:repository-version" content="{HTML_API_VERSION}">\n'
        "    <title>Simple index</title>\n"
        "  </head>\n"
        "  <body>\n"
        f"    {anchors}</body>\n"
        "</html>"
    )


def project_line(name: str, project_url: str) -> str:
    """A project's line of the root list: its anchor, then the indent of the next."""
    return f'<a href="{escape(project_url.format(normalize_name(name)))}">{escape(name)}</a>\n    '


def render_project_html(page: dict, anchors: str | None = None) -> str:
    """A project's page; ``anchors``: its files' lines already made (``simple.pieces``), else from ``files``."""
    if anchors is None:
        anchors = "".join(file_line(file) for file in page["files"])
    before, after = project_html_frame(page)
    return before + anchors + after


def project_html_frame(page: dict) -> tuple[str, str]:
    """A project's page before its files' lines and after them."""
    name = escape(page["name"])
    status = page["project-status"]
    status_meta = f'<meta name="pypi:project-status" content="{escape(status["status"])}">'
    if status.get("reason"):
        status_meta += f'\n    <meta name="pypi:project-status-reason" content="{escape(status["reason"])}">'
    before = (
        "<!DOCTYPE html>\n"
        '<html lang="en">\n'
        "  <head>\n"
        f'    <meta name="pypi:repository-version" content="{HTML_API_VERSION}">\n'
        f"    {status_meta}\n"
        f"    <title>Links for {name}</title>\n"
        "  </head>\n"
        "  <body>\n"
        f"    <h1>Links for {name}</h1>\n"
        "    "
    )
    after = f"</body>\n</html>\n<!--SERIAL {page['meta']['_last-serial']}-->"
    return before, after


def file_line(file: dict) -> str:
    """A file's line of the project page: its anchor, then the break and indent of the next."""
    return _anchor(file) + "<br />\n    "


def _anchor(file: dict) -> str:
    # Attribute order and spacing are PyPI's, including the space left before
    # '>' when a file has no core metadata.
    parts = [f'<a href="{escape(file["url"])}#sha256={file["hashes"]["sha256"]}" ']
    if file["requires-python"]:
        parts.append(f'data-requires-python="{escape(file["requires-python"])}" ')
    yanked = file["yanked"]
    if yanked:
        # Never a bare attribute: that broke xml.etree-based parsers.
        reason = escape(yanked) if isinstance(yanked, str) else ""
        parts.append(f'data-yanked="{reason}" ')
    if file["core-metadata"]:
        digest = file["core-metadata"]["sha256"]
        parts.append(f'data-dist-info-metadata="sha256={digest}" data-core-metadata="sha256={digest}"')
    if file["provenance"]:
        parts.append(f' data-provenance="{escape(file["provenance"])}"')
    parts.append(f">{escape(file['filename'])}</a>")
    return "".join(parts)
