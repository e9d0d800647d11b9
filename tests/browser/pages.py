"""The admin as a person uses it, for the browser tests: pages, forms, the action bar, lookup pop-ups."""

from __future__ import annotations

from selenium import webdriver
from selenium.common.exceptions import StaleElementReferenceException, WebDriverException
from selenium.webdriver.common.by import By
from selenium.webdriver.common.keys import Keys
from selenium.webdriver.remote.webelement import WebElement
from selenium.webdriver.support import expected_conditions
from selenium.webdriver.support.select import Select
from selenium.webdriver.support.wait import WebDriverWait

from tests.e2e.helpers import IndexServer

# The first admin, made by ``manage.py bootstrap_admin`` as ./scripts/serve makes it.
ADMIN_USERNAME = "admin"
ADMIN_PASSWORD = "browser correct horse battery"
WAIT_SECONDS = 15


def _gone(element: WebElement):
    """Like ``staleness_of``, also when Chrome, mid-navigation, reports the node as belonging
    to no document (an "unhandled inspector error" rather than a stale-element error)."""

    def condition(driver) -> bool:
        try:
            element.is_enabled()
        except StaleElementReferenceException:
            return True
        except WebDriverException as error:
            if "does not belong to the document" in str(error):
                return True
            raise
        return False

    return condition


class AdminBrowser:
    """A logged-in (or logging-in) person in the admin of ``server``."""

    def __init__(self, driver: webdriver.Chrome, server: IndexServer) -> None:
        self.driver = driver
        self.server = server

    # ------------------------------------------------------------ pages

    def open(self, path: str) -> None:
        self.driver.get(self.server.url + path)

    def changelist_path(self, model: str) -> str:
        return f"/admin/packages_app/{model}/"

    @property
    def path(self) -> str:
        url = self.driver.current_url
        return url.removeprefix(self.server.url)

    def body_text(self) -> str:
        return self.driver.find_element(By.TAG_NAME, "body").text

    def messages(self, level: str = "") -> list[str]:
        selector = f"ul.messagelist li.{level}" if level else "ul.messagelist li"
        return [element.text for element in self.driver.find_elements(By.CSS_SELECTOR, selector)]

    def errors(self) -> list[str]:
        return [e.text for e in self.driver.find_elements(By.CSS_SELECTOR, ".errornote, ul.errorlist li")]

    def wait(self, condition, message: str = ""):
        return WebDriverWait(self.driver, WAIT_SECONDS).until(condition, message)

    def submit(self, element: WebElement) -> None:
        """Click ``element`` and wait until the browser has left the page it was on."""
        description = f"{element.tag_name} {element.text or element.get_attribute('value')!r}"
        old_page = self.driver.find_element(By.TAG_NAME, "html")
        element.click()
        self.wait(_gone(old_page), f"no new page after clicking {description}")
        self.wait(lambda d: d.execute_script("return document.readyState") == "complete")

    # ------------------------------------------------------------ session

    def log_in(self, username: str = ADMIN_USERNAME, password: str = ADMIN_PASSWORD) -> None:
        self.open("/admin/login/")
        self.driver.find_element(By.ID, "id_username").send_keys(username)
        self.driver.find_element(By.ID, "id_password").send_keys(password)
        self.submit(self.driver.find_element(By.CSS_SELECTOR, "#login-form [type=submit]"))

    def ensure_logged_in(self) -> None:
        self.open("/admin/")
        if self.path.startswith("/admin/login/"):
            self.log_in()
        assert self.path == "/admin/", f"not logged in: at {self.path}, {self.errors()}"

    # ------------------------------------------------------------ forms

    def fill(self, field_id: str, value: str) -> None:
        element = self.driver.find_element(By.ID, field_id)
        element.clear()
        element.send_keys(value)

    def save(self) -> None:
        self.submit(self.driver.find_element(By.CSS_SELECTOR, "input[name=_save]"))

    def pick_in_lookup(self, field_id: str, link_text: str) -> None:
        """Fill a raw-id field through its magnifier pop-up: click the object's link in the pop-up list."""
        main = self.driver.current_window_handle
        self.driver.find_element(By.ID, f"lookup_{field_id}").click()
        self.wait(lambda d: len(d.window_handles) == 2, "the lookup pop-up did not open")
        popup = next(handle for handle in self.driver.window_handles if handle != main)
        self.driver.switch_to.window(popup)
        self.wait(expected_conditions.presence_of_element_located((By.ID, "result_list")))
        self.driver.find_element(By.XPATH, f"//table[@id='result_list']//a[normalize-space()='{link_text}']").click()
        self.wait(lambda d: len(d.window_handles) == 1, "the lookup pop-up did not close")
        self.driver.switch_to.window(main)

    # ------------------------------------------------------------ changelists

    def search(self, model: str, query: str) -> None:
        self.open(self.changelist_path(model))
        box = self.driver.find_element(By.ID, "searchbar")
        box.send_keys(query)
        old_page = self.driver.find_element(By.TAG_NAME, "html")
        box.send_keys(Keys.ENTER)
        self.wait(_gone(old_page), "searching did not load a page")

    def row_links(self) -> list[str]:
        """The text of each result row's first link (the object's name)."""
        rows = self.driver.find_elements(By.CSS_SELECTOR, "#result_list tbody tr")
        return [row.find_element(By.CSS_SELECTOR, "th a, td a").text for row in rows]

    def run_action(self, action: str, rows: list[str], reason: str | None = None) -> None:
        """Tick the rows whose object link reads as in ``rows``, pick ``action``, fill the reason, press Go."""
        for text in rows:
            row = f"//table[@id='result_list']/tbody/tr[.//a[normalize-space()='{text}']]"
            xpath = f"{row}//input[@name='_selected_action']"
            checkbox = self.driver.find_element(By.XPATH, xpath)
            checkbox.click()
            assert checkbox.is_selected()
        actions = self.driver.find_element(By.CSS_SELECTOR, "div.actions")
        if reason is not None:
            field = actions.find_element(By.NAME, "reason")
            field.clear()
            field.send_keys(reason)
        Select(actions.find_element(By.NAME, "action")).select_by_value(action)
        self.submit(actions.find_element(By.CSS_SELECTOR, "button[name=index]"))


class WebBrowser:
    """A developer in the web UI (packages_app/web) of ``server``: signs in, searches, reads pages."""

    def __init__(self, driver: webdriver.Chrome, server: IndexServer) -> None:
        self.driver = driver
        self.server = server

    def open(self, path: str) -> None:
        self.driver.get(self.server.url + path)

    @property
    def path(self) -> str:
        return self.driver.current_url.removeprefix(self.server.url)

    def text(self, selector: str = "main") -> str:
        return self.driver.find_element(By.CSS_SELECTOR, selector).text

    def wait(self, condition, message: str = ""):
        return WebDriverWait(self.driver, WAIT_SECONDS).until(condition, message)

    def submit(self, element: WebElement) -> None:
        """Click (or press Enter in) ``element`` and wait until the next page has loaded."""
        old_page = self.driver.find_element(By.TAG_NAME, "html")
        if element.tag_name == "input":
            element.send_keys(Keys.ENTER)
        else:
            element.click()
        self.wait(_gone(old_page), "no new page")
        self.wait(lambda d: d.execute_script("return document.readyState") == "complete")

    def sign_out(self) -> None:
        self.driver.delete_all_cookies()

    def sign_in(self, username: str, password: str) -> None:
        """Fill the sign-in form on the page the browser is on (``/account/login/...``)."""
        assert self.path.startswith("/account/login/"), self.path
        for field_id, value in (("id_username", username), ("id_password", password)):
            field = self.driver.find_element(By.ID, field_id)
            field.clear()  # a refused attempt's form comes back with the name filled in
            field.send_keys(value)
        self.submit(self.driver.find_element(By.CSS_SELECTOR, "main form button[type=submit]"))

    def search(self, text: str) -> list[str]:
        """Search from the header's box; the names of the projects found."""
        box = self.driver.find_element(By.ID, "site-search")
        box.clear()
        box.send_keys(text)
        self.submit(box)
        return [link.text for link in self.driver.find_elements(By.CSS_SELECTOR, "ul.projects a.name")]
