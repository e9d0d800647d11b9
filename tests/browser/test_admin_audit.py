"""The audit trail as an operator follows it in a browser: the journal's filters (action,
date, user, project search) with yank reasons, the file's uploader and token, and the
ready-to-paste snippets on a new token's page."""

from __future__ import annotations

import re

from selenium.webdriver.common.by import By
from selenium.webdriver.support import expected_conditions

from harness.dists import build_wheel
from tests.browser.pages import ADMIN_USERNAME, AdminBrowser
from tests.e2e.helpers import Clients, IndexServer

REASON = "wrong wheel tags, use 2.0"


def _rows(admin: AdminBrowser) -> list[str]:
    return [row.text for row in admin.driver.find_elements(By.CSS_SELECTOR, "#result_list tbody tr")]


def _pick_filter(admin: AdminBrowser, link_text: str) -> None:
    admin.submit(admin.driver.find_element(By.CSS_SELECTOR, "#changelist-filter").find_element(By.LINK_TEXT, link_text))


def test_journal_filters_and_the_uploads_token(admin, clients: Clients, dist_dir, index_server: IndexServer):
    token = index_server.manage("create_token", ADMIN_USERNAME, "--name", "audit ci").strip()
    old, new = build_wheel(dist_dir, "acme-audit", "1.0"), build_wheel(dist_dir, "acme-audit", "2.0")
    result = clients.twine("upload", old, new, username="__token__", password=token)
    assert result.returncode == 0, result.stdout + result.stderr
    admin.search("release", "acme-audit")
    admin.run_action("yank", ["acme-audit 1.0"], reason=REASON)
    assert admin.messages("success") == ["Yanked 1 release."]

    # By action: only the yank, with its reason and who made it.
    admin.open(admin.changelist_path("journalentry"))
    _pick_filter(admin, "release-yanked")
    assert "kind=release-yanked" in admin.path
    rows = _rows(admin)
    assert len(rows) == 1
    assert "acme-audit" in rows[0]
    assert REASON in rows[0]
    assert ADMIN_USERNAME in rows[0]
    assert re.search(r"\d{4}-\d\d-\d\d \d\d:\d\d:\d\d UTC", rows[0]), rows[0]

    # By date, on top of it: the past 7 days keep the yank.
    _pick_filter(admin, "Past 7 days")
    assert "submitted_date__gte=" in admin.path
    assert "kind=release-yanked" in admin.path
    assert len(_rows(admin)) == 1

    # By actor: the admin's changes, every kind.
    admin.open(admin.changelist_path("journalentry"))
    _pick_filter(admin, ADMIN_USERNAME)
    assert "submitted_by__id__exact=" in admin.path
    kinds = " ".join(_rows(admin))
    assert "yank release" in kinds
    assert "add py3 file acme_audit-2.0-py3-none-any.whl" in kinds

    # By project, in another spelling.
    admin.search("journalentry", "ACME_Audit")
    rows = _rows(admin)
    assert rows
    assert all("acme-audit" in row for row in rows)

    # The file's page: who uploaded it, with which token.
    admin.search("file", "acme_audit-2.0")
    admin.submit(admin.driver.find_element(By.LINK_TEXT, "acme_audit-2.0-py3-none-any.whl"))
    text = admin.body_text()
    assert f"by {ADMIN_USERNAME}" in text
    assert f"audit ci (key id {token.split('_')[1]})" in text
    assert token.split("_", 2)[2] not in admin.driver.page_source


def test_new_token_page_offers_snippets(admin, index_server: IndexServer, screenshot):
    driver = admin.driver
    admin.open("/admin/packages_app/apitoken/add/")
    assert driver.find_element(By.CSS_SELECTOR, "#content h1").text == "Add API token"
    # The user is the requester already: no lookup needed.
    assert driver.find_element(By.ID, "id_user").get_attribute("value").isdigit()
    admin.fill("id_name", "snippets check")
    admin.save()
    assert driver.find_element(By.CSS_SELECTOR, "#content h1").text == "Token created"
    admin.wait(expected_conditions.presence_of_element_located((By.ID, "token-snippets")))
    token = driver.find_element(By.ID, "new-token").get_attribute("value")
    base = index_server.url
    pypirc = driver.find_element(By.ID, "snippet-pypirc").text
    assert f"repository = {base}/legacy/" in pypirc
    assert "username = __token__" in pypirc
    assert f"password = {token}" in pypirc
    uv = driver.find_element(By.ID, "snippet-uv").text
    assert uv.splitlines() == [f"export UV_PUBLISH_URL={base}/legacy/", f"export UV_PUBLISH_TOKEN={token}"]
    scheme, rest = base.split("://", 1)
    assert driver.find_element(By.ID, "snippet-index-url").text == f"{scheme}://__token__:{token}@{rest}/simple/"
