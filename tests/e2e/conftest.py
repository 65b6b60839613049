"""Browser tests: Debian's chromium driven by Playwright against the real API and portal."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from playwright.sync_api import expect

from config import ROOT
from tests.e2e.servers import CUSTOMERS, PASSWORD, STAFF, api_stack, start_portal  # noqa: F401

SCREENSHOTS = ROOT / "test-results"
CHROMIUM = "/usr/bin/chromium"
AXE = Path(__file__).parent / "vendor" / "axe.min.js"
WIDTHS = {"mobile": 390, "desktop": 1366}


@pytest.fixture(scope="session")
def browser_type_launch_args():
    assert Path(CHROMIUM).exists(), "install Debian's chromium: apt-get install -y chromium"
    return {"executable_path": CHROMIUM,
            "args": ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic",
                     "--no-first-run", "--disable-background-networking",
                     "--disable-component-update", "--disable-sync"]}


@pytest.fixture(scope="session")
def portal(api_stack):  # noqa: F811
    server = start_portal(api_stack.portal_config(QUEUE_RETRY_WORKER=False))
    yield server
    server.stop()


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item, call):
    report = yield
    setattr(item, f"rep_{report.when}", report)
    return report


@pytest.fixture
def page(context, request):
    """pytest-playwright's page, plus a full-page screenshot in test-results/ when a test fails."""
    page = context.new_page()
    page.set_default_timeout(20_000)
    yield page
    report = getattr(request.node, "rep_call", None)
    if report is not None and report.failed:
        SCREENSHOTS.mkdir(exist_ok=True)
        name = re.sub(r"[^A-Za-z0-9_.-]+", "_", request.node.nodeid)[-150:]
        page.screenshot(path=str(SCREENSHOTS / f"{name}.png"), full_page=True)
    page.close()


class Browser:
    """What a person does in the portal, step by step."""

    def __init__(self, page, base_url: str):
        self.page = page
        self.base = base_url

    def goto(self, path: str):
        return self.page.goto(self.base + path)

    def login(self, email: str, password: str = PASSWORD) -> None:
        """With the keyboard only: the email field has focus, Tab to the password, Enter to send."""
        self.goto("/login")
        expect(self.page.get_by_label("Email")).to_be_focused()
        self.page.keyboard.type(email)
        self.page.keyboard.press("Tab")
        expect(self.page.get_by_label("Password")).to_be_focused()
        self.page.keyboard.type(password)
        self.page.keyboard.press("Enter")
        # On a phone the name sits in the collapsed menu: present, not necessarily visible.
        expect(self.page.get_by_test_id("user-name")).to_be_attached()
        expect(self.page.get_by_role("link", name="Sign in")).to_have_count(0)

    def logout(self) -> None:
        menu = self.page.get_by_role("button", name="Toggle navigation")
        if menu.is_visible():  # a phone: the sign-out button is in the collapsed menu
            menu.click()
        self.page.get_by_role("button", name="Sign out").click()
        self.page.wait_for_url(re.compile(r".*/login$"))

    def wait_for_answer(self) -> None:
        """The live page has sent the message and swapped in the answer (no reload)."""
        expect(self.page.get_by_test_id("working")).to_have_count(0, timeout=60_000)
        expect(self.page.locator(".chat-row.pending")).to_have_count(0)

    def send(self, message: str, button: str = "Send") -> None:
        """Type in the composer and send it; with JavaScript the answer arrives in place."""
        self.page.locator("form.composer textarea[name=message]").fill(message)
        self.page.locator("form.composer").get_by_role("button", name=button).click()
        self.settle()

    def settle(self) -> None:
        if self._js:
            self.wait_for_answer()
        else:  # a plain form post: the browser loads the next page
            self.page.wait_for_load_state()

    _js = True  # False for a window opened without JavaScript

    def ticket_id(self) -> int:
        match = re.search(r"/tickets/(\d+)", self.page.url)
        assert match, self.page.url
        return int(match.group(1))

    def tab_to(self, selector: str, limit: int = 60) -> None:
        """Keyboard only: press Tab until the element matching `selector` has focus."""
        for _ in range(limit):
            self.page.keyboard.press("Tab")
            if self.page.evaluate("s => { const a = document.activeElement; "
                                  "return !!(a && a.matches(s)); }", selector):
                return
        raise AssertionError(f"Tab never reached {selector}")

    def no_reload_marker(self) -> None:
        """Set a mark on the window; it survives only if the page never reloads."""
        self.page.evaluate("window.__noReload = 'still here'")

    def assert_not_reloaded(self) -> None:
        assert self.page.evaluate("window.__noReload") == "still here", "the page reloaded"

    def screenshot(self, name: str) -> Path:
        folder = SCREENSHOTS / "pages"
        folder.mkdir(parents=True, exist_ok=True)
        path = folder / f"{name}.png"
        self.page.screenshot(path=str(path), full_page=True)
        return path


@pytest.fixture
def browser_user(page, portal):
    return Browser(page, portal.url)


@pytest.fixture
def open_browser(browser, portal, request):
    """A fresh browser window at a width (390 phone, 1366 desktop), optionally without
    JavaScript; a screenshot of it goes to test-results/ if the test fails."""
    opened = []

    def _open(width: int = 1366, *, javascript: bool = True, bypass_csp: bool = False) -> Browser:
        context = browser.new_context(viewport={"width": width, "height": 844},
                                      java_script_enabled=javascript, bypass_csp=bypass_csp)
        page = context.new_page()
        page.set_default_timeout(20_000)
        opened.append((context, page))
        person = Browser(page, portal.url)
        person._js = javascript
        return person

    yield _open
    report = getattr(request.node, "rep_call", None)
    for i, (context, page) in enumerate(opened):
        if report is not None and report.failed:
            SCREENSHOTS.mkdir(exist_ok=True)
            name = re.sub(r"[^A-Za-z0-9_.-]+", "_", request.node.nodeid)[-140:]
            page.screenshot(path=str(SCREENSHOTS / f"{name}-{i}.png"), full_page=True)
        context.close()


@pytest.fixture
def customers():
    return CUSTOMERS


@pytest.fixture
def staff():
    return STAFF
