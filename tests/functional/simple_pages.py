"""Reading the simple API through Django's test client, as pip asks for it."""

from __future__ import annotations

import json

JSON_V1 = "application/vnd.pypi.simple.v1+json"
HTML_V1 = "application/vnd.pypi.simple.v1+html"
# pip's Accept header: JSON first, then the HTML forms.
PIP_ACCEPT = f"{JSON_V1}, {HTML_V1}; q=0.1, text/html; q=0.01"


def get_json(client, url: str, **headers) -> dict:
    """The PEP 691 JSON form of a page, after checking it was served as such."""
    response = client.get(url, HTTP_ACCEPT=JSON_V1, **headers)
    assert response.status_code == 200, response.content
    assert response["Content-Type"] == JSON_V1
    return json.loads(response.content)


def assert_moved_permanently(client, url: str, location: str) -> None:
    """A 301 to ``location``: names and URLs are made canonical with a permanent redirect."""
    response = client.get(url)
    assert response.status_code == 301
    assert response["Location"] == location


def assert_not_found(client, url: str) -> None:
    """The simple API's plain 404, asked as pip asks: never a redirect, never a page of another project."""
    response = client.get(url, HTTP_ACCEPT=PIP_ACCEPT)
    assert response.status_code == 404
    assert response["Content-Type"].startswith("text/plain")
    assert response.content == b"404 Not Found"
    assert "Location" not in response
