"""The web UI (packages_app/web) in a real headless Chromium against the real gunicorn, on a
private index (READ_ACCESS=authenticated): signing in, searching, reading projects with a
Markdown and an rST README, copying an install command, and a non-member who never sees a
restricted project. Every page is checked for Content-Security-Policy reports too."""

from __future__ import annotations

import base64
import json
import shlex
from collections.abc import Iterator

import pytest
from axe_selenium_python import Axe
from selenium.webdriver.common.by import By

from harness.dists import build_wheel
from tests.browser.pages import WebBrowser
from tests.browser.test_content_security_policy import csp_reports
from tests.e2e.helpers import IndexServer, installed_version, started_index_server

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


@pytest.fixture(scope="module")
def md_wheel(index_server, clients, tmp_path_factory) -> None:
    """md-readme 1.1 as a wheel, uploaded with twine and a token made on the command line."""
    token = index_server.manage("create_token", "dev", "--name", "browser setup").strip()
    wheel = build_wheel(tmp_path_factory.mktemp("md-wheel"), "md-readme", "1.1")
    result = clients.twine("upload", wheel, username="__token__", password=token)
    assert result.returncode == 0, result.stdout + result.stderr


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


def test_the_copy_button_copies_the_install_command(web, index_server, md_wheel):
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


def test_a_non_member_never_sees_a_restricted_project(web, screenshot):
    signed_in(web, "outsider")
    assert "hidden-barometer" not in web.text()
    assert web.search("barometers") == ["md-readme", "rst-readme"]
    assert web.search("hidden") == []
    for path in ("/project/hidden-barometer/", "/project/hidden-barometer/0.1/", "/project/Hidden_Barometer/"):
        web.open(path)
        assert web.driver.find_element(By.TAG_NAME, "h1").text == "Not found", path
        assert "barometer" not in web.text().lower(), path
    screenshot(web.driver, "web-not-found")
    assert web.server.get("/project/hidden-barometer/").status == 302  # anonymous: to sign in first


def test_my_projects(web, screenshot):
    signed_in(web, "dev", "/account/projects/")
    assert web.path == "/account/projects/"
    rows = [row.text for row in web.driver.find_elements(By.CSS_SELECTOR, "table.mine tbody tr")]
    assert rows == ["hidden-barometer restricted Owner Active", "md-readme Owner Active"]
    screenshot(web.driver, "web-my-projects")


def basic(username: str, password: str) -> dict[str, str]:
    encoded = base64.b64encode(f"{username}:{password}".encode()).decode()
    return {"Authorization": f"Basic {encoded}"}


def make_token(web: WebBrowser, name: str, *, read_only: bool) -> str:
    """Make a token on the tokens page; its secret, read from the page that shows it once."""
    web.open("/account/tokens/")
    web.driver.find_element(By.ID, "id_name").send_keys(name)
    box = web.driver.find_element(By.ID, "id_read_only")
    if box.is_selected() != read_only:
        box.click()
    web.submit(web.driver.find_element(By.CSS_SELECTOR, "main form.stacked button[type=submit]"))
    assert web.driver.find_element(By.TAG_NAME, "h1").text == "Token created"
    return web.driver.find_element(By.ID, "new-token").get_attribute("value")


def test_a_developer_uploads_installs_the_copied_command_yanks_and_revokes(web, clients, dist_dir, screenshot):
    """Tokens made in the browser upload (twine: md-readme 1.1 again, the identical file, is a
    success) and install (pip with the page's own command and a netrc entry); a yank with a
    reason made on the release page shows on the simple page."""
    server = web.server
    signed_in(web, "dev", "/account/tokens/")
    upload_token = make_token(web, "ci", read_only=False)
    read_token = make_token(web, "laptop", read_only=True)
    web.driver.execute_script("document.getElementById('new-token').value = 'pyidx_<hidden>'")
    screenshot(web.driver, "web-token-created")
    result = clients.twine(
        "upload", build_wheel(dist_dir, "md-readme", "1.1"), username="__token__", password=upload_token
    )
    assert result.returncode == 0, result.stdout + result.stderr
    refused = clients.twine(
        "upload", build_wheel(dist_dir, "md-readme", "1.2"), username="__token__", password=read_token
    )
    assert refused.returncode != 0
    assert "read-only" in refused.stdout + refused.stderr

    netrc = clients.home / ".netrc"
    netrc.write_text(f"machine 127.0.0.1 login __token__ password {read_token}\n")
    netrc.chmod(0o600)
    web.open("/project/md-readme/")
    command = web.driver.find_element(By.ID, "cmd-pip").text
    result = clients.pip(*shlex.split(command)[1:])
    assert result.returncode == 0, result.stdout + result.stderr
    assert installed_version(clients, clients.python, "md-readme") == "1.1"

    web.open("/project/md-readme/1.1/")
    web.driver.find_element(By.ID, "id_reason").send_keys("bad build")
    web.submit(web.driver.find_element(By.CSS_SELECTOR, "#manage button[type=submit]"))
    assert "md-readme 1.1 is yanked." in web.text()
    assert "This release is yanked (PEP 592: installers skip it unless it is pinned exactly): bad build" in web.text()
    screenshot(web.driver, "web-release-yanked")
    headers = {"Accept": "application/vnd.pypi.simple.v1+json", **basic("__token__", read_token)}
    page = json.loads(server.get("/simple/md-readme/", headers=headers).body)
    assert [file["yanked"] for file in page["files"]] == ["bad build"]

    web.open("/account/tokens/")
    screenshot(web.driver, "web-tokens")
    web.submit(web.driver.find_element(By.XPATH, "//tr[td[1][.='laptop']]//button"))
    assert "stops working at once" in web.text()
    assert server.get("/simple/md-readme/", headers=headers).status == 401


def test_an_owner_adds_a_maintainer(web, screenshot):
    signed_in(web, "dev", "/project/md-readme/")
    web.submit(web.driver.find_element(By.LINK_TEXT, "Manage roles, status and visibility"))
    assert web.path == "/project/md-readme/manage/"
    holder = web.driver.find_element(By.ID, "id_holder")
    holder.send_keys("outsider")
    web.driver.find_element(By.ID, "id_role").send_keys("Maintainer")
    web.submit(web.driver.find_element(By.CSS_SELECTOR, "#add-role button[type=submit]"))
    assert "outsider is now Maintainer of md-readme." in web.text()
    screenshot(web.driver, "web-manage-roles")
    web.open("/project/md-readme/")
    assert "outsider Maintainer" in web.text(".roles")
    # A Maintainer uploads but does not manage: no way in for them.
    web.sign_out()
    signed_in(web, "outsider", "/project/md-readme/manage/")
    assert "isn't an owner of project 'md-readme'" in web.text()
    web.sign_out()
    signed_in(web, "dev", "/project/md-readme/manage/")
    row = next(
        row for row in web.driver.find_elements(By.CSS_SELECTOR, "#roles tbody tr") if row.text.startswith("outsider")
    )
    web.submit(row.find_element(By.TAG_NAME, "button"))
    assert "outsider no longer has a role on md-readme." in web.text()


def test_others_cannot_yank(web):
    signed_in(web, "outsider", "/project/md-readme/1.0/")
    assert web.driver.find_elements(By.ID, "manage") == []


# What axe-core checks: the WCAG 2 A and AA rules (the bundled axe-core predates its 2.1 tags).
# A page passes with no "serious" or "critical" finding.
AXE_OPTIONS = {"runOnly": {"type": "tag", "values": ["wcag2a", "wcag2aa"]}}
BLOCKING_IMPACTS = ("serious", "critical")


def run_axe(web: WebBrowser) -> dict:
    """axe.run() on the page, its failure reported rather than waited on."""
    web.driver.set_script_timeout(60)
    outcome = web.driver.execute_async_script(
        "const done = arguments[arguments.length - 1];"
        "axe.run(document, arguments[0]).then(r => done({results: r}), e => done({error: String(e)}));",
        AXE_OPTIONS,
    )
    assert "error" not in outcome, outcome["error"]
    return outcome["results"]


@pytest.mark.parametrize(
    ("user", "path"),
    [
        (None, "/account/login/?next=/"),
        ("dev", "/"),
        ("dev", "/search/?q=barometers"),
        ("dev", "/project/rst-readme/"),
        ("dev", "/project/rst-readme/1.0/"),
        ("dev", "/project/md-readme/1.1/"),
        ("dev", "/account/tokens/"),
        ("dev", "/account/projects/"),
        ("dev", "/project/md-readme/manage/"),
        ("outsider", "/project/hidden-barometer/"),
    ],
)
@pytest.mark.parametrize("scheme", ["light", "dark"])
def test_pages_have_no_serious_accessibility_issue(web, md_wheel, user, path, scheme):
    """axe-core, in the browser, on each page, in the light and the dark colours."""
    web.driver.execute_cdp_cmd(
        "Emulation.setEmulatedMedia", {"features": [{"name": "prefers-color-scheme", "value": scheme}]}
    )
    try:
        if user is None:
            web.open(path)
        else:
            signed_in(web, user, path)
        assert web.path == path
        axe = Axe(web.driver)
        axe.inject()
        results = run_axe(web)
    finally:
        web.driver.execute_cdp_cmd("Emulation.setEmulatedMedia", {"features": []})
    blocking = [violation for violation in results["violations"] if violation["impact"] in BLOCKING_IMPACTS]
    assert blocking == [], axe.report(blocking)
