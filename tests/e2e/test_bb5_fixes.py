"""Black-box report bb5, in Chromium: a focus ring you can see on Bootstrap's own buttons and
fields (Send, Sign in, Confirm), which Bootstrap's focus rules used to override."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from tests.e2e.conftest import WIDTHS

pytestmark = pytest.mark.browser

RING = ("el => { const s = getComputedStyle(el); return {visible: el.matches(':focus-visible'),"
        " style: s.outlineStyle, width: s.outlineWidth, color: s.outlineColor}; }")
DARK = "rgb(27, 26, 77)"  # #1b1a4d: 3:1 or better on the white and grey grounds


def _ring(page, selector: str) -> dict:
    return page.locator(selector).evaluate(RING)


@pytest.mark.parametrize("width", [WIDTHS["mobile"], WIDTHS["desktop"]])
def test_the_main_buttons_show_a_dark_3px_ring_when_tabbed_to(open_browser, customers, width):
    fay = customers["focus"]
    me = open_browser(width)
    page = me.page
    me.goto("/login")
    page.get_by_label("Email").fill(fay["email"])
    page.get_by_label("Password").fill("portal-pass-123")
    me.tab_to("form button[type=submit], form input[type=submit]")
    assert _ring(page, ":focus") == {"visible": True, "style": "solid", "width": "3px",
                                     "color": DARK}
    page.keyboard.press("Enter")
    expect(page.get_by_test_id("user-name")).to_be_attached()

    me.goto("/tickets/new")
    page.get_by_label("How can we help?").focus()
    assert _ring(page, ":focus")["width"] == "3px"  # a text box too
    page.get_by_label("How can we help?").fill(f"I want a refund for order {fay['order']}")
    page.get_by_role("button", name="Send request").click()
    me.wait_for_answer()
    me.tab_to("[data-testid=offer-confirm]")
    assert _ring(page, ":focus") == {"visible": True, "style": "solid", "width": "3px",
                                     "color": DARK}
    me.screenshot(f"focus-confirm-{width}")
    me.tab_to("form.composer [type=submit]")
    assert _ring(page, ":focus") == {"visible": True, "style": "solid", "width": "3px",
                                     "color": DARK}
    me.screenshot(f"focus-send-{width}")
