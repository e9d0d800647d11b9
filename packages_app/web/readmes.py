"""A release's description (its README) as HTML that is safe to put in a page.

``readme_renderer`` is what the public index uses: Markdown (GitHub's flavour unless the
content type names CommonMark), reStructuredText, or plain text, each sanitised by its nh3
pass, so raw HTML, scripts, event handlers and ``javascript:`` links come out inert. The
content type is the release's ``Description-Content-Type`` (core metadata 2.1, PEP 566); none
means reStructuredText, and rST that does not render is shown as plain text, as there.
Rendering a long README costs milliseconds, so the result is kept in the cache by its digest.
The renderers (docutils, comrak, nh3, pygments: ~7 MiB together) are imported by the first
rendering that needs them, not with the module: most workers serve installs and never render one.
"""

from __future__ import annotations

import hashlib
import io

from django.core.cache import cache
from django.utils.safestring import SafeString, mark_safe

# Bump when the rendering changes, so kept renderings of the old way are not served.
_VERSION = "1"
_CACHE_SECONDS = 24 * 3600


def content_type_parts(content_type: str) -> tuple[str, dict[str, str]]:
    """``text/markdown; charset=UTF-8; variant=GFM`` -> ``("text/markdown", {"charset": ..., "variant": "GFM"})``."""
    kind, *parameters = (part.strip() for part in content_type.split(";"))
    parsed = {}
    for parameter in parameters:
        key, _, value = parameter.partition("=")
        parsed[key.strip().lower()] = value.strip().strip('"')
    return kind.lower(), parsed


def _render(text: str, content_type: str) -> str:
    # Each renderer imported when first needed (docutils alone is ~5 MiB).
    import readme_renderer.txt

    kind, parameters = content_type_parts(content_type)
    if kind == "text/markdown":
        import readme_renderer.markdown

        variant = "CommonMark" if parameters.get("variant", "").lower() == "commonmark" else "GFM"
        html = readme_renderer.markdown.render(text, variant=variant)
    elif kind == "text/plain":
        html = readme_renderer.txt.render(text)
    else:  # text/x-rst, or nothing said
        import readme_renderer.rst

        html = readme_renderer.rst.render(text, stream=io.StringIO())
    if html is None:  # rST with errors: shown as the text it is
        html = readme_renderer.txt.render(text)
    return html or ""


def render_readme(text: str, content_type: str) -> SafeString:
    """The sanitised HTML of a README (empty for none)."""
    if not text.strip():
        return mark_safe("")  # noqa: S308 - empty
    digest = hashlib.sha256(f"{content_type}\0{text}".encode("utf-8", "surrogatepass")).hexdigest()
    key = f"web-readme:{_VERSION}:{digest}"
    html = cache.get(key)
    if html is None:
        html = _render(text, content_type)
        cache.set(key, html, _CACHE_SECONDS)
    # Sanitised by readme_renderer (nh3's allow-list of tags, attributes and URL schemes).
    return mark_safe(html)  # noqa: S308
