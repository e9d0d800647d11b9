"""The web UI's pages of a project from the upstream index, in a real headless Chromium against
the real gunicorn, with a real upstream index on 127.0.0.1: what they show, and axe-core finds
no serious accessibility issue on them."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from axe_selenium_python import Axe
from selenium.webdriver.common.by import By

from harness.dists import build_wheel
from harness.upstream_index import UpstreamIndex
from tests.browser.pages import WebBrowser
from tests.browser.test_content_security_policy import csp_reports
from tests.browser.test_web_ui import BLOCKING_IMPACTS, run_axe
from tests.e2e.helpers import IndexServer, started_index_server


@pytest.fixture(scope="module")
def upstream(tmp_path_factory: pytest.TempPathFactory) -> Iterator[UpstreamIndex]:
    folder = tmp_path_factory.mktemp("upstream-wheels")
    with UpstreamIndex() as index:
        wheels = [build_wheel(folder / v, "tool-kit", v, requires_python=">=3.9") for v in ("1.0", "2.0", "2.1rc1")]
        project = index.add("tool-kit", *wheels)
        project.files[0].yanked = "broken build"
        yield index


@pytest.fixture(scope="module")
def index_server(tmp_path_factory: pytest.TempPathFactory, upstream: UpstreamIndex) -> Iterator[IndexServer]:
    base = tmp_path_factory.mktemp("web-upstream-index-server")
    with started_index_server(base, extra_env={"UPSTREAM_INDEX_URL": upstream.url, "READ_ACCESS": "public"}) as server:
        yield server


@pytest.fixture
def web(driver, index_server) -> Iterator[WebBrowser]:
    page = WebBrowser(driver, index_server)
    csp_reports(driver)
    yield page
    assert csp_reports(driver) == [], "a Content-Security-Policy report"


def test_an_upstream_project_reads_like_a_local_one(web, screenshot):
    web.open("/search/?q=tool-kit")
    web.driver.find_element(By.PARTIAL_LINK_TEXT, "on the upstream index").click()
    assert web.path == "/project/tool-kit/"
    assert web.driver.find_element(By.TAG_NAME, "h1").text == "tool-kit 2.0"
    assert "from the upstream index" in web.text()
    history = [row.text for row in web.driver.find_elements(By.CSS_SELECTOR, "table.releases tbody tr")]
    assert [row.split()[0] for row in history] == ["2.1rc1", "2.0", "1.0"]
    assert "broken build" in history[2]
    screenshot(web.driver, "web-upstream-project")
    web.driver.find_element(By.LINK_TEXT, "2.0").click()
    assert web.path == "/project/tool-kit/2.0/"
    link = web.driver.find_element(By.CSS_SELECTOR, "#files h3 a")
    assert link.get_attribute("pathname").startswith("/packages/upstream/tool-kit/")
    assert "Core metadata" in web.text()
    screenshot(web.driver, "web-upstream-release")


@pytest.mark.parametrize("path", ["/project/tool-kit/", "/project/tool-kit/2.0/", "/project/tool-kit/1.0/"])
def test_upstream_pages_have_no_serious_accessibility_issue(web, path):
    web.open(path)
    assert web.path == path
    axe = Axe(web.driver)
    axe.inject()
    results = run_axe(web)
    blocking = [violation for violation in results["violations"] if violation["impact"] in BLOCKING_IMPACTS]
    assert blocking == [], axe.report(blocking)
