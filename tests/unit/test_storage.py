"""The content type a stored file is served with."""

from __future__ import annotations

import pytest

from packages_app.storage import content_type_for


@pytest.mark.parametrize(
    ("name", "content_type"),
    [
        ("demo-1.0-py3-none-any.whl", "application/zip"),
        ("demo-1.0-py3-none-any.whl.metadata", "text/plain; charset=utf-8"),
        ("demo-1.0.tar.gz", "application/gzip"),
        ("demo-1.0.zip", "application/zip"),
        ("demo-1.0-py2.7.egg", "application/zip"),
        ("demo-1.0.win32.exe", "application/octet-stream"),
    ],
)
def test_content_type(name, content_type):
    assert content_type_for(name) == content_type
