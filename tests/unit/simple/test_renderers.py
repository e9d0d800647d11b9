"""The simple API's renderers: PyPI's HTML byte for byte, and its JSON shape."""

from __future__ import annotations

import json

import pytest

from packages_app.simple.renderers import SimpleHTMLRenderer, SimpleJSONRenderer, escape

SHA_A = "a" * 64
SHA_M = "b" * 64


def file_entry(**overrides) -> dict:
    entry = {
        "filename": "demo-1.0-py3-none-any.whl",
        "url": "/packages/ab/cd/ef/demo-1.0-py3-none-any.whl",
        "hashes": {"sha256": SHA_A},
        "requires-python": None,
        "yanked": False,
        "size": 1234,
        "upload-time": "2026-01-02T03:04:05Z",
        "core-metadata": False,
        "data-dist-info-metadata": False,
        "provenance": None,
    }
    entry.update(overrides)
    return entry


def project_page(files, status=None) -> dict:
    return {
        "meta": {"api-version": "1.4", "_last-serial": 42},
        "name": "demo",
        "project-status": status or {"status": "active"},
        "versions": ["1.0"],
        "files": files,
    }


def html(page: dict, **context) -> str:
    return SimpleHTMLRenderer().render(page, renderer_context=context).decode()


def test_project_html_is_pypis_layout():
    page = project_page(
        [
            file_entry(
                **{"requires-python": ">=3.9,<4", "core-metadata": {"sha256": SHA_M}},
                **{"data-dist-info-metadata": {"sha256": SHA_M}},
            ),
            file_entry(filename="demo-1.0.tar.gz", url="/packages/x/demo-1.0.tar.gz", yanked=True),
            file_entry(filename="demo-0.9.tar.gz", url="/packages/y/demo-0.9.tar.gz", yanked='bad "build"'),
        ]
    )
    assert html(page) == (
        "<!DOCTYPE html>\n"
        '<html lang="en">\n'
        "  <head>\n"
        '    <meta name="pypi:repository-version" content="1.4">\n'
        '    <meta name="pypi:project-status" content="active">\n'
        "    <title>Links for demo</title>\n"
        "  </head>\n"
        "  <body>\n"
        "    <h1>Links for demo</h1>\n"
        f'    <a href="/packages/ab/cd/ef/demo-1.0-py3-none-any.whl#sha256={SHA_A}" '
        'data-requires-python="&gt;=3.9,&lt;4" '
        f'data-dist-info-metadata="sha256={SHA_M}" data-core-metadata="sha256={SHA_M}"'
        ">demo-1.0-py3-none-any.whl</a><br />\n"
        f'    <a href="/packages/x/demo-1.0.tar.gz#sha256={SHA_A}" data-yanked="" >demo-1.0.tar.gz</a><br />\n'
        f'    <a href="/packages/y/demo-0.9.tar.gz#sha256={SHA_A}" data-yanked="bad &#34;build&#34;" '
        ">demo-0.9.tar.gz</a><br />\n"
        "    </body>\n"
        "</html>\n"
        "<!--SERIAL 42-->"
    )


def test_project_html_without_files_and_with_status_reason():
    page = project_page([], status={"status": "archived", "reason": "Moved to <new>"})
    assert html(page) == (
        "<!DOCTYPE html>\n"
        '<html lang="en">\n'
        "  <head>\n"
        '    <meta name="pypi:repository-version" content="1.4">\n'
        '    <meta name="pypi:project-status" content="archived">\n'
        '    <meta name="pypi:project-status-reason" content="Moved to &lt;new&gt;">\n'
        "    <title>Links for demo</title>\n"
        "  </head>\n"
        "  <body>\n"
        "    <h1>Links for demo</h1>\n"
        "    </body>\n"
        "</html>\n"
        "<!--SERIAL 42-->"
    )


def test_html_never_shows_json_only_fields():
    text = html(project_page([file_entry(size=987654321, **{"upload-time": "2001-02-03T04:05:06Z"})]))
    assert "987654321" not in text
    assert "2001-02-03" not in text
    assert "upload-time" not in text
    assert "data-size" not in text


def test_provenance_url_when_present():
    text = html(project_page([file_entry(provenance="https://index.example/p?a=1&b=2")]))
    assert ' data-provenance="https://index.example/p?a=1&amp;b=2">' in text


def test_index_html_is_pypis_layout():
    page = {
        "meta": {"api-version": "1.4", "_last-serial": 9},
        "projects": [{"name": "Demo_Pkg", "_last-serial": 3}, {"name": "a<b", "_last-serial": 9}],
    }
    assert html(page, project_url="/simple/{}/") == (
        "<!DOCTYPE html>\n"
        '<html lang="en">\n'
        "  <head>\n"
        '    <meta name="pypi:repository-version" content="1.4">\n'
        "    <title>Simple index</title>\n"
        "  </head>\n"
        "  <body>\n"
        '    <a href="/simple/demo-pkg/">Demo_Pkg</a>\n'
        '    <a href="/simple/a&lt;b/">a&lt;b</a>\n'
        "    </body>\n"
        "</html>"
    )


def test_json_is_sorted_compact_utf8_with_newline():
    page = project_page([file_entry(yanked="kaputt ü")])
    body = SimpleJSONRenderer().render(page)
    assert body.endswith(b"}\n")
    assert "kaputt ü".encode() in body  # not \u escapes
    assert b": " not in body
    assert b", " not in body
    assert json.loads(body) == page
    keys = list(json.loads(body))
    assert keys == sorted(keys)


@pytest.mark.parametrize(
    ("text", "escaped"),
    [("<>&\"'", "&lt;&gt;&amp;&#34;&#39;"), ("plain-1.0.tar.gz", "plain-1.0.tar.gz")],
)
def test_escape(text, escaped):
    assert escape(text) == escaped
