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
        expect(self.page.get_by_test_id("user-name")).to_be_visible()

    def logout(self) -> None:
        self.page.get_by_role("button", name="Sign out").click()
        self.page.wait_for_url(re.compile(r".*/login$"))


@pytest.fixture
def browser_user(page, portal):
    return Browser(page, portal.url)


@pytest.fixture
def customers():
    return CUSTOMERS


@pytest.fixture
def staff():
    return STAFF
