"""Cool-downs on upstream files (packages_app/upstream/cooldown.py), against a real upstream on 127.0.0.1.

Upstream files carry their PEP 700 upload times; the index's clock is moved with time-machine.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import orjson
import pytest
from django.core.exceptions import ImproperlyConfigured

from harness.dists import build_wheel
from harness.upstream_index import UpstreamIndex
from packages_app.upstream import cooldown
from tests.functional.test_upstream import JSON, body, page

NOW = datetime(2026, 6, 1, 12, 0, tzinfo=UTC)


def stamp(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%dT%H:%M:%S.%fZ")


@pytest.fixture
def clock(time_machine):
    time_machine.move_to(NOW, tick=False)
    return time_machine


@pytest.fixture
def upstream(settings, clock):
    with UpstreamIndex() as index:
        settings.UPSTREAM_INDEX_URL = index.url
        settings.UPSTREAM_BLOCKED_PREFIXES = []
        settings.UPSTREAM_ALLOWED_PROJECTS = []
        settings.UPSTREAM_PAGE_TTL = 10**9  # the clock moves by days: keep the page
        settings.UPSTREAM_TIMEOUT_SECONDS = 2.0
        settings.UPSTREAM_COOLDOWN = "3d"
        settings.UPSTREAM_COOLDOWN_EXEMPT_PROJECTS = []
        settings.UPSTREAM_NOT_AFTER = ""
        yield index


@pytest.fixture
def tool_kit(upstream, tmp_path):
    """tool-kit 1.0 (10 days old), 2.0 (1 day old), 3.0 (no upload time)."""
    wheels = [build_wheel(tmp_path / version, "tool-kit", version) for version in ("1.0", "2.0", "3.0")]
    project = upstream.add("tool-kit", *wheels)
    project.files[0].upload_time = stamp(NOW - timedelta(days=10))
    project.files[1].upload_time = stamp(NOW - timedelta(days=1))
    project.files[2].upload_time = None
    return project


def offered(response) -> list[str]:
    assert response.status_code == 200, response.content
    return [file["filename"] for file in orjson.loads(response.content)["files"]]


def versions(response) -> list[str]:
    return orjson.loads(response.content)["versions"]


def download(client, project, index: int):
    file = project.files[index]
    return client.get(f"/packages/upstream/{project.name}/{file.sha256}/{file.filename}")


def test_young_and_undated_files_are_hidden_until_their_time(client, db, clock, tool_kit):
    response = page(client, "tool-kit")
    assert offered(response) == ["tool_kit-1.0-py3-none-any.whl"]
    assert versions(response) == ["1.0"]  # a version with no file shown is not listed either
    html = page(client, "tool-kit", "text/html").content.decode()
    assert "tool_kit-1.0" in html
    assert "tool_kit-2.0" not in html

    clock.move_to(NOW + timedelta(days=2, hours=1), tick=False)
    response = page(client, "tool-kit")
    assert offered(response) == ["tool_kit-1.0-py3-none-any.whl", "tool_kit-2.0-py3-none-any.whl"]
    assert versions(response) == ["1.0", "2.0"]
    assert "max-age=0" in response["Cache-Control"] or "max-age=60" in response["Cache-Control"]


def test_the_page_keeps_its_etag_while_nothing_comes_of_age(client, db, clock, tool_kit):
    first = page(client, "tool-kit")
    clock.move_to(NOW + timedelta(hours=5), tick=False)
    later = page(client, "tool-kit")
    assert later["ETag"] == first["ETag"]
    assert client.get("/simple/tool-kit/", HTTP_ACCEPT=JSON, HTTP_IF_NONE_MATCH=first["ETag"]).status_code == 304
    clock.move_to(NOW + timedelta(days=2, hours=1), tick=False)
    assert page(client, "tool-kit")["ETag"] != first["ETag"]


def test_a_hidden_file_cannot_be_downloaded_and_upstream_is_not_asked_for_it(client, db, tool_kit, upstream):
    page(client, "tool-kit")
    for index in (1, 2):
        response = download(client, tool_kit, index)
        assert response.status_code == 404
        assert b"cool-down" in response.content
    assert upstream.hits("/files/") == []
    response = download(client, tool_kit, 0)
    assert response.status_code == 200
    assert body(response) == tool_kit.files[0].data


def test_exempt_projects_show_everything(client, db, settings, tool_kit):
    settings.UPSTREAM_COOLDOWN_EXEMPT_PROJECTS = ["Tool_Kit"]
    assert len(offered(page(client, "tool-kit"))) == 3
    assert body(download(client, tool_kit, 1)) == tool_kit.files[1].data


def test_not_after_hides_later_files_from_everyone_even_kept_ones(client, db, settings, tool_kit):
    settings.UPSTREAM_COOLDOWN = ""
    assert len(offered(page(client, "tool-kit"))) == 3
    assert body(download(client, tool_kit, 1)) == tool_kit.files[1].data  # now kept here

    settings.UPSTREAM_NOT_AFTER = stamp(NOW - timedelta(days=2))
    settings.UPSTREAM_COOLDOWN_EXEMPT_PROJECTS = ["tool-kit"]  # the emergency brake spares no one
    assert offered(page(client, "tool-kit")) == ["tool_kit-1.0-py3-none-any.whl"]
    response = download(client, tool_kit, 1)
    assert response.status_code == 404
    assert b"cool-down" in response.content


def test_cooldown_and_snapshot_routes_serve_proxied_projects(client, db, tool_kit):
    assert offered(client.get("/cooldown/5d/simple/tool-kit/", HTTP_ACCEPT=JSON)) == ["tool_kit-1.0-py3-none-any.whl"]
    assert offered(client.get("/cooldown/12d/simple/tool-kit/", HTTP_ACCEPT=JSON)) == []
    moment = stamp(NOW - timedelta(days=11))
    assert offered(client.get(f"/snapshot/{moment}/simple/tool-kit/", HTTP_ACCEPT=JSON)) == []
    moment = stamp(NOW - timedelta(days=5))
    response = client.get(f"/snapshot/{moment}/simple/tool-kit/", HTTP_ACCEPT=JSON)
    assert offered(response) == ["tool_kit-1.0-py3-none-any.whl"]
    assert response["X-Index-Source"] == "upstream"
    # The files' URLs are the same under every route: relative to the page, into /packages/.
    url = orjson.loads(response.content)["files"][0]["url"]
    assert url.endswith(f"/packages/upstream/tool-kit/{tool_kit.files[0].sha256}/tool_kit-1.0-py3-none-any.whl")
    redirect = client.get("/cooldown/5d/simple/Tool_Kit/")
    assert redirect.status_code == 301
    assert redirect["Location"] == "/cooldown/5d/simple/tool-kit/"


def test_without_any_cutoff_undated_files_are_offered(client, db, settings, tool_kit):
    settings.UPSTREAM_COOLDOWN = ""
    response = page(client, "tool-kit")
    assert len(offered(response)) == 3
    assert versions(response) == ["1.0", "2.0", "3.0"]


def test_the_default_cooldown_on_simple_holds_back_proxied_projects_too(client, db, settings, tool_kit):
    settings.UPSTREAM_COOLDOWN = ""
    settings.SIMPLE_DEFAULT_COOLDOWN = "5d"
    assert offered(page(client, "tool-kit")) == ["tool_kit-1.0-py3-none-any.whl"]


@pytest.mark.parametrize(("name", "value"), [("UPSTREAM_COOLDOWN", "3 days"), ("UPSTREAM_NOT_AFTER", "yesterday")])
def test_a_malformed_cutoff_refuses_to_start(settings, name, value):
    setattr(settings, name, value)
    with pytest.raises(ImproperlyConfigured, match=name):
        cooldown.check_settings()


# ---------------------------------------------------------------- remembered answers


def test_a_name_upstream_does_not_have_is_asked_once_per_ttl(client, db, upstream):
    assert page(client, "nowhere").status_code == 404
    assert page(client, "nowhere").status_code == 404
    assert upstream.hits("/simple/nowhere/") == ["/simple/nowhere/"]


def test_a_failing_upstream_is_asked_again_only_after_a_pause(client, db, clock, upstream, tool_kit):
    tool_kit.mode = "500"
    assert page(client, "tool-kit").status_code == 502
    assert page(client, "tool-kit").status_code == 502
    assert len(upstream.hits("/simple/tool-kit/")) == 1
    tool_kit.mode = "ok"
    clock.move_to(NOW + timedelta(seconds=20), tick=False)
    assert page(client, "tool-kit").status_code == 200
    assert len(upstream.hits("/simple/tool-kit/")) == 2
