"""The admin and the API docs work in a real Chromium under their Content-Security-Policy.

Chromium reports every script, style, image, font, frame or worker a policy blocks in the
console log; each page below is opened, used a little, and its log read: it must hold no
such report, and the page must have rendered. A deliberately injected inline script is
blocked and reported, which shows the log is read and the policy enforced.
"""

from __future__ import annotations

import pytest
from selenium.webdriver.common.by import By
from selenium.webdriver.support import expected_conditions

from tests.browser.pages import ADMIN_USERNAME, AdminBrowser

DOCS_TITLE = "Package index metadata API"
REDOC_LOGO = "Loading the image 'https://cdn.redoc.ly/redoc/logo-mini.svg' violates"


def csp_reports(driver) -> list[str]:
    """The console entries since the last call that report a blocked resource."""
    return [entry["message"] for entry in driver.get_log("browser") if "Content Security Policy" in entry["message"]]


def test_the_policy_is_enforced_and_its_violations_are_seen(admin, index_server):
    admin.open("/admin/")
    csp_reports(admin.driver)
    assert "script-src 'self'" in index_server.get("/admin/login/").headers["Content-Security-Policy"]
    admin.driver.execute_script(
        "const s = document.createElement('script'); s.textContent = 'window.injected = true';"
        "document.body.appendChild(s);"
    )
    assert admin.driver.execute_script("return window.injected === undefined")
    [report] = csp_reports(admin.driver)
    assert "inline script violates the following Content Security Policy directive" in report


def open_and_check(admin: AdminBrowser, path: str, ready) -> None:
    csp_reports(admin.driver)  # forget the pages before
    admin.open(path)
    admin.wait(ready, f"{path} did not render")
    assert csp_reports(admin.driver) == [], path


@pytest.mark.parametrize(
    "model", ["project", "release", "file", "role", "apitoken", "journalentry", "filenameregistry"]
)
def test_admin_lists_and_forms_run_within_the_policy(admin, model):
    changelist = expected_conditions.presence_of_element_located((By.ID, "changelist"))
    open_and_check(admin, admin.changelist_path(model), changelist)
    if model not in ("file", "journalentry", "filenameregistry"):  # these have no add form
        form = expected_conditions.presence_of_element_located((By.CSS_SELECTOR, "#content-main form"))
        open_and_check(admin, f"{admin.changelist_path(model)}add/", form)


def test_the_admin_front_page_and_a_lookup_pop_up_run_within_the_policy(admin):
    open_and_check(admin, "/admin/", expected_conditions.presence_of_element_located((By.ID, "index-totals")))
    # The raw-id lookup opens a pop-up window and fills the field from it, all by script.
    open_and_check(
        admin, "/admin/packages_app/role/add/", expected_conditions.presence_of_element_located((By.ID, "id_user"))
    )
    admin.pick_in_lookup("id_user", ADMIN_USERNAME)
    assert admin.driver.find_element(By.ID, "id_user").get_attribute("value").isdigit()
    assert csp_reports(admin.driver) == []


def test_the_new_token_page_runs_within_the_policy(admin):
    open_and_check(
        admin, "/admin/packages_app/apitoken/add/", expected_conditions.presence_of_element_located((By.ID, "id_name"))
    )
    admin.pick_in_lookup("id_user", ADMIN_USERNAME)
    admin.fill("id_name", "csp check")
    admin.save()
    field = admin.driver.find_element(By.ID, "new-token")
    field.click()  # its script selects the secret for copying
    selected = admin.driver.execute_script(
        "const f = arguments[0]; return f.value.slice(f.selectionStart, f.selectionEnd)", field
    )
    assert selected == field.get_attribute("value")
    assert csp_reports(admin.driver) == []


def test_swagger_ui_renders_within_the_policy(admin):
    title = expected_conditions.text_to_be_present_in_element((By.CSS_SELECTOR, ".swagger-ui .info .title"), DOCS_TITLE)
    open_and_check(admin, "/api/v1/docs/", title)
    # Expanding an operation renders its parameters, still without a blocked resource.
    admin.driver.find_element(By.CSS_SELECTOR, ".opblock-summary").click()
    admin.wait(expected_conditions.presence_of_element_located((By.CSS_SELECTOR, ".opblock-body")))
    assert csp_reports(admin.driver) == []


def test_redoc_renders_and_searches_within_the_policy(admin):
    title = expected_conditions.text_to_be_present_in_element((By.CSS_SELECTOR, ".api-info h1"), DOCS_TITLE)
    csp_reports(admin.driver)
    admin.open("/api/v1/redoc/")
    admin.wait(title, "Redoc did not render")
    # Search runs in a worker that Redoc builds from a blob: URL (allowed on this page only).
    admin.driver.find_element(By.CSS_SELECTOR, "input[placeholder='Search...']").send_keys("release")
    results = expected_conditions.text_to_be_present_in_element(
        (By.CSS_SELECTOR, "[data-role='search:results']"), "releases"
    )
    admin.wait(results, "Redoc's search found nothing")
    # The one thing blocked, on purpose: Redoc's footer logo, which it loads from its makers'
    # site. The docs load nothing from outside the index; Redoc leaves the logo out.
    assert [report for report in csp_reports(admin.driver) if REDOC_LOGO not in report] == []
