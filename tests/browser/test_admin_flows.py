"""The admin in a real headless Chromium against the real gunicorn server.

Each flow is checked twice: in the browser, through what the operator sees
(messages, lists, pages), and over HTTP through the index's public API, with
twine where a client is involved. Setup that is not the flow under test (a
distribution to act on) goes through twine with a token made by ``create_token``.
"""

from __future__ import annotations

import json
import re
from html.parser import HTMLParser
from pathlib import Path

import pytest
from selenium.webdriver.common.by import By
from selenium.webdriver.support import expected_conditions

from harness.dists import build_sdist, build_wheel
from tests.browser.pages import ADMIN_PASSWORD, ADMIN_USERNAME, AdminBrowser
from tests.e2e.helpers import Clients, IndexServer

SIMPLE_JSON = {"Accept": "application/vnd.pypi.simple.v1+json"}
SIMPLE_HTML = {"Accept": "text/html"}
DELETED_NAME_REFUSAL = "This filename was previously used by a file that has since been deleted"
MASKED_TOKEN = "pyidx_<hidden>"


# ---------------------------------------------------------------- helpers


def one_line(text: str) -> str:
    return re.sub(r"\s+", " ", text)


def simple_json(server: IndexServer, name: str = "") -> dict:
    path = f"/simple/{name}/" if name else "/simple/"
    response = server.get(path, headers=SIMPLE_JSON)
    assert response.status == 200, (path, response.status, response.text)
    return json.loads(response.body)


class _Anchors(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.anchors: dict[str, dict[str, str | None]] = {}
        self._current: dict[str, str | None] | None = None

    def handle_starttag(self, tag, attrs):
        if tag == "a":
            self._current = dict(attrs)

    def handle_data(self, data):
        if self._current is not None:
            self.anchors[data.strip()] = self._current
            self._current = None


def simple_html_anchors(server: IndexServer, name: str) -> dict[str, dict[str, str | None]]:
    """The attributes of each file link on the PEP 503 page, by filename."""
    response = server.get(f"/simple/{name}/", headers=SIMPLE_HTML)
    assert response.status == 200, response.text
    parser = _Anchors()
    parser.feed(response.text)
    return parser.anchors


def twine_upload(clients: Clients, token: str, *dists: Path):
    return clients.twine("upload", *dists, username="__token__", password=token)


def upload(clients: Clients, token: str, *dists: Path) -> None:
    result = twine_upload(clients, token, *dists)
    assert result.returncode == 0, result.stdout + result.stderr


@pytest.fixture(scope="module")
def setup_token(index_server: IndexServer) -> str:
    """A token of the admin for setting up distributions, made on the command line."""
    return index_server.manage("create_token", ADMIN_USERNAME, "--name", "browser-test setup").strip()


# ---------------------------------------------------------------- flows


def test_log_in_with_username_and_password(driver, index_server):
    page = AdminBrowser(driver, index_server)
    driver.delete_all_cookies()

    page.open("/admin/packages_app/project/")
    assert page.path == "/admin/login/?next=/admin/packages_app/project/"

    page.fill("id_username", ADMIN_USERNAME)
    page.fill("id_password", "not the password")
    page.submit(driver.find_element(By.CSS_SELECTOR, "#login-form [type=submit]"))
    assert "Please enter the correct username and password" in " ".join(page.errors())

    page.fill("id_username", ADMIN_USERNAME)
    page.fill("id_password", ADMIN_PASSWORD)
    page.submit(driver.find_element(By.CSS_SELECTOR, "#login-form [type=submit]"))
    assert page.path == "/admin/packages_app/project/"  # where the person was going
    assert f"welcome, {ADMIN_USERNAME}" in driver.find_element(By.ID, "user-tools").text.lower()
    assert driver.find_element(By.ID, "site-name").text == "Package index administration"

    # Over HTTP: the browser's session is a real one on the server; without it the admin stays closed.
    session = driver.get_cookie("sessionid")
    assert session is not None
    assert session["httpOnly"]
    assert index_server.get("/admin/", headers={"Cookie": f"sessionid={session['value']}"}).status == 200
    anonymous = index_server.get("/admin/")
    assert anonymous.status == 302
    assert anonymous.headers["Location"].startswith("/admin/login/")


def test_create_token_in_the_admin_and_upload_with_twine(admin, clients, dist_dir, index_server, screenshot):
    driver = admin.driver
    admin.open("/admin/packages_app/apitoken/add/")
    admin.pick_in_lookup("id_user", ADMIN_USERNAME)
    assert driver.find_element(By.ID, "id_user").get_attribute("value").isdigit()
    admin.fill("id_name", "release laptop")
    admin.fill("id_expires_in_days", "30")
    admin.save()

    # The one-time page.
    assert admin.errors() == []
    assert driver.find_element(By.CSS_SELECTOR, "#content h1").text == "Token created"
    assert "shown only this once" in admin.body_text()
    token = driver.find_element(By.ID, "new-token").get_attribute("value")
    assert re.fullmatch(r"pyidx_[0-9a-f]{16}_[A-Za-z0-9_-]{43}", token), token
    key_id = token.split("_")[1]
    # Never a real secret in a screenshot that may end up in docs/.
    driver.execute_script(
        "const field = document.getElementById('new-token');"
        "field.value = arguments[0]; field.setAttribute('value', arguments[0]);"
        "for (const snippet of document.querySelectorAll('.token-snippet'))"
        "  snippet.textContent = snippet.textContent.replaceAll(arguments[1], arguments[0]);",
        MASKED_TOKEN,
        token,
    )
    assert token not in driver.page_source
    assert token.split("_", 2)[2] not in driver.page_source
    screenshot(driver, "token-created")

    # twine with the token: a new project, owned by the token's user.
    wheel = build_wheel(dist_dir, "acme-widgets", "1.0", summary="Widgets for the whole company")
    sdist = build_sdist(dist_dir, "acme-widgets", "1.0", summary="Widgets for the whole company")
    upload(clients, token, wheel, sdist)
    page = simple_json(index_server, "acme-widgets")
    assert {file["filename"] for file in page["files"]} == {wheel.name, sdist.name}
    assert page["versions"] == ["1.0"]

    # Reloading the one-time page never shows this secret again,
    # and neither does the token's own page, which has only its key id.
    driver.refresh()
    assert token not in driver.page_source
    admin.search("apitoken", key_id)
    assert admin.row_links() == ["release laptop"]
    row = driver.find_element(By.CSS_SELECTOR, "#result_list tbody tr")
    assert row.find_element(By.CSS_SELECTOR, "td.field-last_used_at").text != "—"  # the upload used it
    admin.submit(row.find_element(By.LINK_TEXT, "release laptop"))
    assert key_id in admin.body_text()
    assert token not in driver.page_source
    assert token.split("_", 2)[2] not in driver.page_source

    # The operator's view of what twine made.
    admin.search("project", "acme-widgets")
    admin.submit(driver.find_element(By.LINK_TEXT, "acme-widgets"))
    text = admin.body_text()
    assert "1 release," in text
    assert "2 files" in text
    assert "1.0 — 2 files" in text
    assert f"Owner: {ADMIN_USERNAME}" in text
    screenshot(driver, "project-change")
    admin.submit(driver.find_element(By.LINK_TEXT, "1.0"))
    text = admin.body_text()
    assert wheel.name in text
    assert sdist.name in text
    assert "Widgets for the whole company" in text
    screenshot(driver, "release-change")


def test_reloading_the_token_page_makes_no_second_token(admin):
    """The secret page is the answer to the form's POST (the secret is kept nowhere to be shown
    later); its script makes a reload a GET of the empty form, not the form posted again."""
    admin.open("/admin/packages_app/apitoken/add/")
    admin.pick_in_lookup("id_user", ADMIN_USERNAME)
    admin.fill("id_name", "reload check")
    admin.save()
    assert admin.driver.find_element(By.CSS_SELECTOR, "#content h1").text == "Token created"
    secret = admin.driver.find_element(By.ID, "new-token").get_attribute("value")
    admin.driver.refresh()
    admin.wait(lambda d: d.execute_script("return document.readyState") == "complete")
    assert admin.path == "/admin/packages_app/apitoken/add/"
    assert admin.driver.find_element(By.CSS_SELECTOR, "#content h1").text == "Add API token"
    assert secret not in admin.driver.page_source
    admin.search("apitoken", "reload check")
    assert admin.row_links() == ["reload check"]


def test_yank_a_release_with_a_reason(admin, clients, dist_dir, index_server, setup_token):
    old, new = build_wheel(dist_dir, "acme-yank", "1.0"), build_wheel(dist_dir, "acme-yank", "2.0")
    upload(clients, setup_token, old, new)
    reason = 'broken on Windows & "py3.14", use 2.0'

    admin.search("release", "acme-yank")
    assert sorted(admin.row_links()) == ["acme-yank 1.0", "acme-yank 2.0"]
    admin.run_action("yank", ["acme-yank 1.0"], reason=reason)
    assert admin.messages("success") == ["Yanked 1 release."]
    admin.open(admin.changelist_path("release") + "?q=acme-yank&yanked__exact=1")
    assert admin.row_links() == ["acme-yank 1.0"]
    admin.submit(admin.driver.find_element(By.LINK_TEXT, "acme-yank 1.0"))
    assert reason in admin.body_text()

    page = simple_json(index_server, "acme-yank")
    yanked = {file["filename"]: file["yanked"] for file in page["files"]}
    assert yanked == {old.name: reason, new.name: False}
    assert page["versions"] == ["1.0", "2.0"]
    anchors = simple_html_anchors(index_server, "acme-yank")
    assert anchors[old.name]["data-yanked"] == reason
    assert "data-yanked" not in anchors[new.name]


def test_add_a_release_without_files(admin, index_server):
    driver = admin.driver
    admin.open("/admin/packages_app/project/add/")
    admin.fill("id_name", "acme-planned")
    admin.save()
    assert admin.messages("success") == ["The project “acme-planned” was added successfully."]

    admin.open("/admin/packages_app/release/add/")
    admin.pick_in_lookup("id_project", "acme-planned")
    admin.fill("id_version", "0.1")
    admin.fill("id_summary", "Placeholder for the planned service")
    admin.fill("id_requires_python", ">=3.11")
    admin.save()
    assert admin.errors() == []
    assert admin.messages("success") == ["The release “acme-planned 0.1” was added successfully."]

    admin.search("project", "acme-planned")
    admin.submit(driver.find_element(By.LINK_TEXT, "acme-planned"))
    assert "0.1 — 0 files" in admin.body_text()
    admin.submit(driver.find_element(By.LINK_TEXT, "0.1"))
    text = admin.body_text()
    assert "No files." in text
    assert "Placeholder for the planned service" in text

    # The same version again is a form error, not a second release.
    admin.open("/admin/packages_app/release/add/")
    admin.pick_in_lookup("id_project", "acme-planned")
    admin.fill("id_version", "0.1.0")
    admin.save()
    assert "acme-planned already has a release 0.1.0." in admin.errors()

    page = simple_json(index_server, "acme-planned")
    assert (page["versions"], page["files"]) == (["0.1"], [])
    assert "acme-planned" in {project["name"] for project in simple_json(index_server)["projects"]}


def test_delete_a_file_and_fail_to_upload_its_name_again(admin, clients, dist_dir, index_server, setup_token):
    driver = admin.driver
    wheel, sdist = build_wheel(dist_dir, "acme-delete", "1.0"), build_sdist(dist_dir, "acme-delete", "1.0")
    upload(clients, setup_token, wheel, sdist)

    # The wheel through the changelist action and the page where it asks first.
    admin.search("file", "acme_delete")
    assert sorted(admin.row_links()) == sorted([wheel.name, sdist.name])
    admin.run_action("delete_files", [wheel.name])
    text = admin.body_text()
    assert "can never be used again" in text
    assert wheel.name in text
    assert sdist.name not in text
    assert simple_json(index_server, "acme-delete")["files"] != []  # nothing deleted before the answer
    admin.submit(driver.find_element(By.CSS_SELECTOR, "#content form [type=submit]"))
    assert admin.messages("success") == ["Deleted 1 file."]
    assert admin.row_links() == [sdist.name]

    # The sdist through its page's Delete link and the confirmation page.
    admin.submit(driver.find_element(By.LINK_TEXT, sdist.name))
    admin.submit(driver.find_element(By.CSS_SELECTOR, "a.deletelink"))
    text = admin.body_text()
    assert "Are you sure" in text
    assert "can never be used again" in text
    assert sdist.name in text
    admin.submit(driver.find_element(By.CSS_SELECTOR, "#content form [type=submit]"))
    assert admin.messages("success") == [f"The file “{sdist.name}” was deleted successfully."]

    admin.search("file", "acme_delete")
    assert admin.row_links() == []
    admin.search("filenameregistry", "acme_delete")
    assert sorted(admin.row_links()) == sorted([wheel.name, sdist.name])

    page = simple_json(index_server, "acme-delete")
    assert (page["files"], page["versions"]) == ([], ["1.0"])
    for dist in (wheel, sdist):
        again = twine_upload(clients, setup_token, dist)
        output = one_line(again.stdout + again.stderr)
        assert again.returncode != 0, output
        assert "HTTPError: 400" in output, output
        assert DELETED_NAME_REFUSAL in output, output
    assert simple_json(index_server, "acme-delete")["files"] == []


def test_quarantine_a_project(admin, clients, dist_dir, index_server, setup_token):
    wheel = build_wheel(dist_dir, "acme-quarantine", "1.0")
    upload(clients, setup_token, wheel)
    before = simple_json(index_server, "acme-quarantine")
    assert [file["filename"] for file in before["files"]] == [wheel.name]
    download = before["files"][0]["url"]
    assert str(index_server.get(download).status) == index_server.file_status  # the file, or on S3 its redirect
    assert "acme-quarantine" in {project["name"] for project in simple_json(index_server)["projects"]}

    admin.search("project", "acme-quarantine")
    admin.run_action("set_status_quarantined", ["acme-quarantine"], reason="malware reported")
    assert admin.messages("success") == ["Set 1 project to quarantined."]
    row = admin.driver.find_element(By.CSS_SELECTOR, "#result_list tbody tr")
    assert row.find_element(By.CSS_SELECTOR, "td.field-status").text == "Quarantined"

    page = simple_json(index_server, "acme-quarantine")
    assert page["files"] == []
    assert page["versions"] == []
    assert page["project-status"] == {"status": "quarantined", "reason": "malware reported"}
    assert "acme-quarantine" not in {project["name"] for project in simple_json(index_server)["projects"]}
    assert simple_html_anchors(index_server, "acme-quarantine") == {}
    assert index_server.get(download).status == 404

    admin.search("journalentry", "acme-quarantine")
    rows = admin.driver.find_elements(By.CSS_SELECTOR, "#result_list tbody tr")
    assert "set status quarantined" in rows[0].text


def test_screenshots_of_the_main_pages(admin, screenshot):
    """The admin's index, project list and journal (fuller after the flows above)."""
    driver = admin.driver
    admin.open("/admin/")
    assert driver.find_element(By.ID, "site-name").text == "Package index administration"
    screenshot(driver, "admin-index")
    for model, name in [("project", "project-list"), ("journalentry", "journal")]:
        admin.open(admin.changelist_path(model))
        admin.wait(expected_conditions.presence_of_element_located((By.ID, "changelist")))
        screenshot(driver, name)
