"""Fixtures for the browser tests: a real headless Chromium driving the admin of a real gunicorn.

Every test in this folder is marked ``browser`` and ``e2e`` (it needs a live server,
so ``-m "not e2e"`` skips it too). Chromium and its chromedriver are Debian's
(``/usr/bin/chromium``, ``/usr/bin/chromedriver``), installed by ``scripts/_browser.sh``.

Screenshots go to a folder of the test run (named in the summary at the end) and,
with ``UPDATE_SCREENSHOTS=1``, also to ``docs/screenshots/`` for the README.
"""

from __future__ import annotations

import os
import re
import shutil
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from selenium import webdriver
from selenium.common.exceptions import WebDriverException
from selenium.webdriver.chrome.service import Service

from tests.browser.pages import ADMIN_PASSWORD, ADMIN_USERNAME, AdminBrowser
from tests.e2e.helpers import REPO_ROOT, Clients, IndexServer, started_index_server

BROWSER_DIR = Path(__file__).resolve().parent
CHROMIUM = Path("/usr/bin/chromium")
CHROMEDRIVER = Path("/usr/bin/chromedriver")
DOCS_SCREENSHOTS = REPO_ROOT / "docs" / "screenshots"
_SCREENSHOT_DIR = pytest.StashKey[Path]()


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    # This hook sees the whole session's items, not only this folder's.
    for item in items:
        if item.path.is_relative_to(BROWSER_DIR):
            item.add_marker(pytest.mark.browser)
            item.add_marker(pytest.mark.e2e)


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo) -> Iterator[None]:
    report = yield
    if not report.failed:
        return report
    funcargs = getattr(item, "funcargs", {})
    server = funcargs.get("index_server")
    if isinstance(server, IndexServer):
        report.sections.append(("gunicorn log (tail)", server.log_tail()))
    driver = funcargs.get("driver")
    folder = item.config.stash.get(_SCREENSHOT_DIR, None)
    if isinstance(driver, webdriver.Chrome) and folder is not None:
        # What the browser showed when the test failed.
        path = folder / f"FAILED-{re.sub(r'[^A-Za-z0-9_.-]+', '_', item.name)}-{report.when}.png"
        try:
            driver.save_screenshot(str(path))
            report.sections.append(("browser", f"page {driver.current_url}\nscreenshot {path}"))
        except WebDriverException as error:
            report.sections.append(("browser", f"no screenshot: {error.msg}"))
    return report


def pytest_terminal_summary(terminalreporter, config: pytest.Config) -> None:
    folder = config.stash.get(_SCREENSHOT_DIR, None)
    if folder is not None:
        terminalreporter.write_line(f"browser screenshots: {folder}")


@pytest.fixture(scope="module")
def index_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[IndexServer]:
    """gunicorn with the production settings on a free port, and its first admin made by ``bootstrap_admin``."""
    base = tmp_path_factory.mktemp("browser-index-server")
    with started_index_server(base, first_admin=(ADMIN_USERNAME, ADMIN_PASSWORD)) as server:
        yield server


@pytest.fixture(scope="module")
def clients(tmp_path_factory: pytest.TempPathFactory, index_server: IndexServer) -> Clients:
    """twine (and uv, pip) isolated from this machine's configuration, pointed at ``index_server``."""
    return Clients(tmp_path_factory.mktemp("browser-clients"), index_server.url)


@pytest.fixture
def dist_dir(tmp_path: Path) -> Path:
    path = tmp_path / "dists"
    path.mkdir()
    return path


@pytest.fixture(scope="module")
def driver(tmp_path_factory: pytest.TempPathFactory, index_server: IndexServer) -> Iterator[webdriver.Chrome]:
    """Headless Chromium with a throw-away profile, driven through Debian's chromedriver.

    It depends on ``index_server`` so that it quits first: an idle connection the
    browser keeps open would hold a gunicorn worker through the graceful shutdown.
    """
    for path in (CHROMIUM, CHROMEDRIVER):
        if not os.access(path, os.X_OK):
            pytest.fail(
                f"{path} is missing: the browser tests need Debian's chromium and chromium-driver "
                "(./scripts/test installs them through scripts/_browser.sh).",
                pytrace=False,
            )
    options = webdriver.ChromeOptions()
    options.binary_location = str(CHROMIUM)
    for argument in (
        "--headless=new",
        "--no-sandbox",
        "--disable-dev-shm-usage",
        "--window-size=1400,1000",
        f"--user-data-dir={tmp_path_factory.mktemp('chromium-profile')}",
        "--lang=en-US",
        "--no-proxy-server",  # the server is on 127.0.0.1
        "--no-first-run",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--hide-scrollbars",  # steadier screenshots
    ):
        options.add_argument(argument)
    # The console log, for the CSP violations Chromium reports there (test_content_security_policy).
    options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    # No password-manager bubbles or leak checks after the login form.
    options.add_experimental_option(
        "prefs",
        {
            "credentials_enable_service": False,
            "profile.password_manager_enabled": False,
            "profile.password_manager_leak_detection": False,
        },
    )
    log_path = tmp_path_factory.mktemp("chromedriver") / "chromedriver.log"
    with pytest.MonkeyPatch.context() as env:
        # Selenium reads the proxy variables once, here: its calls to chromedriver on localhost
        # must not go through a proxy configured on the machine.
        for key in ("no_proxy", "NO_PROXY"):
            env.setenv(key, "localhost,127.0.0.1")
        browser = webdriver.Chrome(service=Service(str(CHROMEDRIVER), log_output=str(log_path)), options=options)
    browser.set_page_load_timeout(30)
    try:
        yield browser
    finally:
        browser.quit()


@pytest.fixture(scope="session", autouse=True)
def screenshot(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Callable[..., Path]:
    """``screenshot(driver, name)`` saves the viewport as ``<name>.png`` into the run's folder,
    and into docs/screenshots/ too when ``UPDATE_SCREENSHOTS=1``."""
    folder = tmp_path_factory.mktemp("screenshots")
    request.config.stash[_SCREENSHOT_DIR] = folder
    update_docs = os.environ.get("UPDATE_SCREENSHOTS") == "1"

    def save(driver: webdriver.Chrome, name: str) -> Path:
        path = folder / f"{name}.png"
        assert driver.save_screenshot(str(path)), f"Chromium saved no screenshot for {name}"
        if update_docs:
            DOCS_SCREENSHOTS.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(path, DOCS_SCREENSHOTS / path.name)
        return path

    return save


@pytest.fixture
def admin(driver: webdriver.Chrome, index_server: IndexServer) -> AdminBrowser:
    """The browser, logged in to the admin as the bootstrap admin."""
    page = AdminBrowser(driver, index_server)
    page.ensure_logged_in()
    return page
