"""``/api/v1/`` itself: the API root, linking every collection, the schema and the docs."""

from __future__ import annotations

import pytest

from packages_app.services import projects

COLLECTIONS = {"projects", "events", "namespaces", "schema", "docs", "redoc"}
TEMPLATES = {
    "project": "/api/v1/projects/{name}/",
    "releases": "/api/v1/projects/{name}/releases/",
    "release": "/api/v1/projects/{name}/releases/{version}/",
    "file": "/api/v1/files/{sha256}/",
    "user_projects": "/api/v1/users/{username}/projects/",
    "namespace": "/api/v1/namespaces/{namespace}/",
    "publishers": "/api/v1/projects/{name}/publishers/",
}


def test_the_root_answers_json_with_a_link_to_everything(client, db):
    response = client.get("/api/v1/", HTTP_ACCEPT="application/json")
    assert response.status_code == 200, response.content
    assert response["Content-Type"] == "application/json"
    links = response.json()
    assert set(links) == COLLECTIONS | set(TEMPLATES)
    for name in COLLECTIONS:
        assert links[name].startswith("http://testserver/api/v1/"), links[name]
        assert client.get(links[name].removeprefix("http://testserver")).status_code == 200, name
    for name, template in TEMPLATES.items():
        assert links[name] == f"http://testserver{template}"


def test_the_templates_lead_to_real_resources(client, db):
    projects.create_project("demo")
    links = client.get("/api/v1/").json()
    url = links["project"].format(name="demo").removeprefix("http://testserver")
    assert client.get(url).json()["name"] == "demo"


@pytest.mark.parametrize("accept", [None, "*/*", "application/json"])
def test_clients_get_json(client, db, accept):
    response = client.get("/api/v1/", **({"HTTP_ACCEPT": accept} if accept else {}))
    assert response["Content-Type"] == "application/json"
    assert "Accept" in response["Vary"]


def test_browsers_get_the_browsable_page(client, db):
    accept = "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"
    response = client.get("/api/v1/", HTTP_ACCEPT=accept)
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/html")
    page = response.content.decode()
    assert "Api Root" in page or "API root" in page
    assert "http://testserver/api/v1/projects/" in page
    assert "http://testserver/api/v1/docs/" in page
    assert "Accept" in response["Vary"]


def test_the_root_is_revalidated_like_every_read(client, db):
    first = client.get("/api/v1/")
    assert first["Cache-Control"].endswith("public")
    again = client.get("/api/v1/", HTTP_IF_NONE_MATCH=first["ETag"])
    assert again.status_code == 304


def test_writing_to_the_root_is_405(client, db):
    response = client.post("/api/v1/", {}, content_type="application/json")
    assert response.status_code == 405
