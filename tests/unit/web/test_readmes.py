"""packages_app/web/readmes.py: which renderer a content type picks."""

from __future__ import annotations

import pytest

from packages_app.web import readmes


@pytest.mark.parametrize(
    ("content_type", "expected"),
    [
        ("text/markdown; charset=UTF-8; variant=GFM", ("text/markdown", {"charset": "UTF-8", "variant": "GFM"})),
        ("Text/X-RST", ("text/x-rst", {})),
        ('text/markdown; variant="CommonMark"', ("text/markdown", {"variant": "CommonMark"})),
        ("", ("", {})),
    ],
)
def test_content_type_parts(content_type, expected):
    assert readmes.content_type_parts(content_type) == expected


@pytest.mark.parametrize(
    ("content_type", "text", "expected"),
    [
        ("text/markdown", "~~gone~~", "<del>gone</del>"),  # GitHub's flavour by default
        ("text/x-rst", "*em*", "<em>em</em>"),
        ("text/x-rst", ".. raw:: html\n\n   <b>x</b>\n", "&lt;b&gt;x&lt;/b&gt;"),  # refused: shown as text
        ("text/plain", "<b>x</b>", "&lt;b&gt;x&lt;/b&gt;"),
    ],
)
def test_render_readme(content_type, text, expected):
    assert expected in readmes.render_readme(text, content_type)


def test_nothing_to_render():
    assert readmes.render_readme("  \n", "text/markdown") == ""
