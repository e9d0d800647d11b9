"""The web UI (packages_app/web) in a real headless Chromium against the real gunicorn, on a
private index (READ_ACCESS=authenticated): signing in, searching, reading projects with a
Markdown and an rST README, copying an install command, and a non-member who never sees a
restricted project. Every page is checked for Content-Security-Policy reports too."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from selenium.webdriver.common.by import By

from tests.browser.pages import WebBrowser
from tests.browser.test_content_security_policy import csp_reports
from tests.e2e.helpers import IndexServer, started_index_server

PASSWORD = "browser web correct horse"

SCENE = """
from django.contrib.auth import get_user_model
from packages_app.models import Project
from packages_app.services import projects, releases, roles

User = get_user_model()
dev = User.objects.get(username="dev")
md = projects.create_project("md-readme")
releases.create_release(md, "1.0", {
    "summary": "Reads barometers, in Markdown",
    "description": "# Barometer\\n\\nReads **pressure**.\\n\\n| unit | value |\\n|---|---|\\n| hPa | 1013 |\\n",
    "description_content_type": "text/markdown",
})
roles.grant_role(md, dev, "Owner")
rst = projects.create_project("rst-readme")
releases.create_release(rst, "2.0", {
    "summary": "Reads barometers, in reStructuredText",
    "description": "Barometer\\n=========\\n\\nReads *pressure*.\\n\\n.. code:: python\\n\\n   read()\\n",
    "description_content_type": "text/x-rst",
})
releases.yank_release(releases.create_release(rst, "1.0"), "wrong units")
hidden = projects.create_project("hidden-barometer", visibility="restricted")
releases.create_release(hidden, "0.1", {"summary": "Reads barometers in secret"})
roles.grant_role(hidden, dev, "Owner")
"""


@pytest.fixture(scope="module")
def index_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[IndexServer]:
    """A private index with three projects: two with READMEs, one restricted to the user ``dev``."""
    base = tmp_path_factory.mktemp("web-ui-index-server")
    with started_index_server(base, extra_env={"READ_ACCESS": "authenticated"}) as server:
        for username in ("dev", "outsider"):
            server.ensure_user(username, PASSWORD)
        server.shell(SCENE)
        yield server


@pytest.fixture
def web(driver, index_server) -> WebBrowser:
    page = WebBrowser(driver, index_server)
    page.sign_out()
    csp_reports(driver)  # forget earlier pages' reports
    yield page
    assert csp_reports(driver) == [], "a Content-Security-Policy report"


def signed_in(web: WebBrowser, username: str, path: str = "/") -> None:
    web.open(path)
    web.sign_in(username, PASSWORD)


def test_an_anonymous_visitor_signs_in_and_comes_back(web, screenshot):
    web.open("/project/md-readme/")
    assert web.path == "/account/login/?next=/project/md-readme/"
    assert "This index is private" in web.text()
    screenshot(web.driver, "web-sign-in")
    web.sign_in("dev", "wrong password")
    assert "Please enter a correct username and password" in web.text()
    web.sign_in("dev", PASSWORD)
    assert web.path == "/project/md-readme/"
    assert "Sign out" in web.text("header")


def test_the_landing_page_tells_how_to_install(web, screenshot, index_server):
    signed_in(web, "dev")
    assert web.path == "/"
    text = web.text()
    assert f"{index_server.url}/simple/" in text
    assert "[[tool.uv.index]]" in text
    recent = [link.text for link in web.driver.find_elements(By.CSS_SELECTOR, "ul.projects a.name")]
    assert recent == ["hidden-barometer", "rst-readme", "md-readme"]
    screenshot(web.driver, "web-landing")


def test_search_finds_projects_by_summary(web, screenshot):
    signed_in(web, "dev")
    assert web.search("barometers") == ["hidden-barometer", "md-readme", "rst-readme"]
    assert "3 projects found" in web.text()
    screenshot(web.driver, "web-search")
    assert web.search("rst-readme") == ["rst-readme"]


def test_a_markdown_readme_renders(web, screenshot):
    signed_in(web, "dev", "/project/md-readme/")
    readme = web.driver.find_element(By.CSS_SELECTOR, ".readme")
    assert readme.find_element(By.TAG_NAME, "h1").text == "Barometer"
    assert readme.find_element(By.TAG_NAME, "strong").text == "pressure"
    assert readme.find_element(By.CSS_SELECTOR, "table td").text == "hPa"
    screenshot(web.driver, "web-project")


def test_an_rst_readme_renders_and_the_history_shows_the_yank(web, screenshot):
    signed_in(web, "dev", "/project/rst-readme/")
    readme = web.driver.find_element(By.CSS_SELECTOR, ".readme")
    assert readme.find_element(By.TAG_NAME, "h1").text.startswith("Barometer")
    assert readme.find_element(By.TAG_NAME, "em").text == "pressure"
    history = web.text("#history")
    assert "yanked wrong units" in history
    web.submit(web.driver.find_element(By.LINK_TEXT, "1.0"))
    assert web.path == "/project/rst-readme/1.0/"
    assert "This release is yanked (PEP 592" in web.text()
    screenshot(web.driver, "web-release")


def test_the_copy_button_copies_the_install_command(web, index_server):
    signed_in(web, "dev", "/project/md-readme/")
    command = web.driver.find_element(By.ID, "cmd-pip").text
    assert command == f"pip install --index-url {index_server.url}/simple/ md-readme"
    button = web.driver.find_element(By.CSS_SELECTOR, "button[data-copy=cmd-pip]")
    button.click()
    # With a clipboard the text is copied; without one (headless, no permission) it is selected.
    web.wait(lambda d: button.text != "Copy", "the copy button did not react")
    if button.text == "Copied":
        permissions = ["clipboardReadWrite", "clipboardSanitizedWrite"]
        web.driver.execute_cdp_cmd("Browser.grantPermissions", {"permissions": permissions, "origin": index_server.url})
        copied = web.driver.execute_script("return await navigator.clipboard.readText()")
    else:
        copied = web.driver.execute_script("return window.getSelection().toString()")
    assert copied == command


def test_a_non_member_never_sees_a_restricted_project(web):
    signed_in(web, "outsider")
    assert "hidden-barometer" not in web.text()
    assert web.search("barometers") == ["md-readme", "rst-readme"]
    assert web.search("hidden") == []
    for path in ("/project/hidden-barometer/", "/project/hidden-barometer/0.1/", "/project/Hidden_Barometer/"):
        web.open(path)
        assert web.driver.find_element(By.TAG_NAME, "h1").text == "Not found", path
        assert "barometer" not in web.text().lower(), path
    assert web.server.get("/project/hidden-barometer/").status == 302  # anonymous: to sign in first


def test_my_projects(web):
    signed_in(web, "dev", "/account/projects/")
    assert web.path == "/account/projects/"
    rows = [row.text for row in web.driver.find_elements(By.CSS_SELECTOR, "table.mine tbody tr")]
    assert rows == ["hidden-barometer restricted Owner Active", "md-readme Owner Active"]
