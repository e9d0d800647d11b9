"""Legacy JSON and the metadata API answer for local projects only, and say so, with an upstream on."""

from __future__ import annotations

import orjson

from tests.functional.test_upstream import page, wheel  # noqa: F401 - fixtures

NOTE = "answers for this index's own projects only"


def test_legacy_json_of_an_upstream_project_is_a_404_that_says_why(client, db, upstream, wheel):  # noqa: F811
    upstream.add("tool-kit", wheel)
    assert page(client, "tool-kit").status_code == 200
    hits = len(upstream.hits())
    response = client.get("/pypi/tool-kit/json")
    assert response.status_code == 404
    data = orjson.loads(response.content)
    assert data["message"] == "Not Found"  # the shape clients know
    assert NOTE in data["detail"]
    assert "/simple/tool-kit/" in data["detail"]
    assert client.get("/pypi/tool-kit/1.0/json").status_code == 404
    assert len(upstream.hits()) == hits  # these never ask upstream


def test_the_metadata_api_of_an_upstream_project_is_a_404_that_says_why(client, db, upstream, wheel):  # noqa: F811
    upstream.add("tool-kit", wheel)
    for path in ("/api/v1/projects/tool-kit/", "/api/v1/projects/Tool_Kit/releases/"):
        response = client.get(path)
        assert response.status_code == 404
        assert NOTE in response.content.decode()
    assert upstream.hits() == []


def test_without_an_upstream_the_404_is_plain(client, db, settings):
    settings.UPSTREAM_INDEX_URL = ""
    assert orjson.loads(client.get("/pypi/tool-kit/json").content) == {"message": "Not Found"}
    assert NOTE not in client.get("/api/v1/projects/tool-kit/").content.decode()


def test_a_restricted_local_name_gets_the_same_404_as_a_missing_one(client, db, upstream, wheel):  # noqa: F811
    from packages_app.models import Project, Visibility

    upstream.add("tool-kit", wheel)
    Project.objects.create(name="tool-kit", normalized_name="tool-kit", visibility=Visibility.RESTRICTED)
    restricted = client.get("/pypi/tool-kit/json")
    missing = client.get("/pypi/no-such/json")
    assert restricted.status_code == missing.status_code == 404
    assert restricted.content == missing.content.replace(b"no-such", b"tool-kit")
    api = client.get("/api/v1/projects/tool-kit/")
    assert api.status_code == 404
    assert api.content == client.get("/api/v1/projects/no-such/").content.replace(b"no-such", b"tool-kit")
    assert upstream.hits() == []
