"""The portal as a live conversation, in a real headless Chromium against the real API and
portal, at phone (390 px) and desktop (1366 px) widths:

a whole conversation without a reload (working indicator with its steps, order cards,
Confirm, receipt, one-tap rating once resolved); "Talk to a person"; a slow answer told
honestly; a draft that survives an expired session; the same journey with JavaScript off;
keyboard only."""

from __future__ import annotations

import re

import pytest
import requests
from playwright.sync_api import expect
from sqlalchemy import create_engine, text

from tests.e2e.conftest import WIDTHS
from tests.e2e.servers import API_KEY

pytestmark = pytest.mark.browser


def _db(api_stack, sql: str, **params) -> list[tuple]:
    engine = create_engine(api_stack.database_url)
    try:
        with engine.connect() as conn:
            return [tuple(r) for r in conn.execute(text(sql), params)]
    finally:
        engine.dispose()


def _tickets(api_stack, user_id: int) -> list[dict]:
    return requests.get(f"{api_stack.url}/tickets?user_id={user_id}",
                        headers={"X-API-Key": API_KEY}, timeout=30).json()["tickets"]


@pytest.mark.parametrize("who,width", [("live", WIDTHS["desktop"]), ("mobile", WIDTHS["mobile"])])
def test_a_whole_conversation_live_without_a_reload(open_browser, customers, api_stack, who,
                                                    width):
    person = customers[who]
    other_order = person["more"][0][0]
    me = open_browser(width)
    page = me.page
    me.login(person["email"])
    me.goto("/tickets/new")
    me.no_reload_marker()

    # Sending shows the message at once and the assistant's steps while it works.
    page.get_by_label("How can we help?").fill("I want a refund please")
    page.get_by_role("button", name="Send request").click()
    expect(page.locator(".chat-row.pending")).to_contain_text("I want a refund please")
    expect(page.get_by_test_id("working-step")).to_contain_text("Reading your message…")
    expect(page.locator("#live-status")).not_to_be_empty()
    me.wait_for_answer()
    me.assert_not_reloaded()
    assert re.search(r"/tickets/\d+#latest$", page.url), page.url

    # Which order? Cards to pick from; no rating while a question is open.
    cards = page.get_by_test_id("order-pick")
    expect(cards).to_have_count(2)
    expect(page.get_by_test_id("rate-5")).to_have_count(0)
    expect(page.get_by_test_id("response")).to_be_in_viewport()
    cards.filter(has_text=f"Order #{person['order']}").click()
    me.wait_for_answer()

    # The offer: what will happen, Confirm.
    card = page.get_by_test_id("offer-card")
    expect(card).to_contain_text(f"#{person['order']}")
    expect(page.get_by_test_id("rate-5")).to_have_count(0)
    assert _db(api_stack, "SELECT count(*) FROM refunds WHERE order_id = :o",
               o=person["order"]) == [(0,)]
    card.get_by_role("button", name="Confirm").click()
    me.wait_for_answer()
    me.assert_not_reloaded()

    receipt = page.get_by_test_id("receipt").last
    expect(receipt).to_contain_text("Refund of $")
    expect(receipt).to_contain_text("Your original payment method")
    expect(page.get_by_test_id("ticket-status")).to_have_text("Resolved")
    expect(page.get_by_test_id("sources").get_by_role("link").first).to_have_attribute(
        "href", re.compile(r"^/help/[a-z-]+(#[a-z0-9-]+)?$"))
    assert _db(api_stack, "SELECT count(*) FROM refunds WHERE order_id = :o",
               o=person["order"]) == [(1,)]
    assert _db(api_stack, "SELECT count(*) FROM refunds WHERE order_id = :o",
               o=other_order) == [(0,)]

    # Resolved: rate it with one tap, once.
    page.get_by_test_id("rate-4").click()
    me.wait_for_answer()
    expect(page.get_by_test_id("given-feedback")).to_contain_text("rated it 4/5")
    expect(page.get_by_test_id("rate-4")).to_have_count(0)
    me.assert_not_reloaded()
    assert page.evaluate("document.documentElement.scrollWidth") <= width
    me.screenshot(f"conversation-receipt-{width}")


def test_talk_to_a_person_from_any_answer(open_browser, customers, api_stack):
    quinn = customers["person"]
    me = open_browser(WIDTHS["mobile"])
    page = me.page
    me.login(quinn["email"])
    me.goto("/tickets/new")
    page.get_by_label("How can we help?").fill(f"Where is order {quinn['order']}?")
    page.get_by_role("button", name="Send request").click()
    expect(page.get_by_test_id("working-step")).to_contain_text(
        re.compile(r"Reading your message…|Checking order"))
    me.wait_for_answer()
    expect(page.get_by_test_id("receipt").last).to_contain_text(f"Order #{quinn['order']}")

    page.get_by_test_id("talk-to-person").click()
    me.wait_for_answer()
    expect(page.get_by_test_id("escalation-notice")).to_contain_text("Passed to a person")
    expect(page.get_by_test_id("talk-to-person")).to_have_count(0)
    expect(page.get_by_test_id("rate-1")).to_have_count(0)  # not while a person has it
    [case] = _db(api_stack, "SELECT kind, status FROM escalations WHERE user_id = :u",
                 u=quinn["id"])
    assert case[1] == "open"


def test_a_slow_answer_says_so_and_nothing_runs_twice(open_browser, customers, api_stack):
    xena = customers["slow"]
    me = open_browser(WIDTHS["desktop"])
    page = me.page
    page.add_init_script("window.SUPPORTOPS_SLOW_AFTER_MS = 400")
    me.login(xena["email"])
    me.goto("/tickets/new")
    held = []
    page.route("**/tickets/new", lambda route: held.append(route)
               if route.request.method == "POST" else route.continue_())
    page.get_by_label("How can we help?").fill(f"Please cancel order {xena['order']}")
    page.get_by_role("button", name="Send request").click()
    slow = page.locator(".working-slow")
    expect(slow).to_contain_text("taking longer than usual")
    expect(slow).to_contain_text("nothing will be done twice")
    expect(page.get_by_role("button", name="Send request")).to_be_disabled()
    assert len(held) == 1
    held[0].continue_()
    me.wait_for_answer()
    expect(page.get_by_test_id("response")).to_be_visible()
    assert len(_tickets(api_stack, xena["id"])) == 1


def test_a_draft_survives_an_expired_session(open_browser, customers, api_stack):
    sven = customers["draft"]
    me = open_browser(WIDTHS["mobile"])
    page = me.page
    me.login(sven["email"])
    me.goto("/tickets/new")
    page.get_by_label("How can we help?").fill(f"Where is my order {sven['order']}?")
    page.get_by_role("button", name="Send request").click()
    me.wait_for_answer()
    ticket_id = me.ticket_id()

    words = "Could you also send the invoice for it? I need it for my company."
    page.get_by_label("Your reply").fill(words)
    page.context.clear_cookies()  # the session ends while the customer is typing
    page.locator("form.composer").get_by_role("button", name="Send").click()
    page.wait_for_url(re.compile(r".*/login\?next="))
    expect(page.locator(".alert")).to_contain_text("Your session ended, so nothing was sent")
    page.get_by_label("Email").fill(sven["email"])
    page.get_by_label("Password").fill("portal-pass-123")
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url(re.compile(rf".*/tickets/{ticket_id}(#latest)?$"))
    expect(page.get_by_label("Your reply")).to_have_value(words)
    expect(page.locator("[data-draft-note]")).to_be_visible()
    before = len(_db(api_stack, "SELECT id FROM messages WHERE content = :c", c=words))
    assert before == 0  # nothing was sent while signed out

    page.locator("form.composer").get_by_role("button", name="Send").click()
    me.wait_for_answer()
    expect(page.get_by_test_id("transcript")).to_contain_text("send the invoice")
    expect(page.get_by_label("Your reply")).to_have_value("")
    assert page.evaluate("Object.keys(localStorage).filter(k => k.startsWith("
                         "'supportops-draft:')).length") == 0


def test_everything_works_with_javascript_off(open_browser, customers, api_stack):
    tara = customers["nojs"]
    me = open_browser(WIDTHS["mobile"], javascript=False)
    page = me.page
    me.login(tara["email"])
    me.goto("/tickets/new")

    # A greeting is answered in place and opens no ticket.
    page.get_by_label("How can we help?").fill("Hi there!")
    page.get_by_role("button", name="Send request").click()
    expect(page.get_by_test_id("transcript")).to_contain_text("Hi, Tara!")
    assert _tickets(api_stack, tara["id"]) == []

    page.get_by_label("How can we help?").fill("I want a refund please")
    page.get_by_role("button", name="Send request").click()
    page.wait_for_url(re.compile(r".*/tickets/\d+#latest$"))
    page.get_by_test_id("order-pick").filter(has_text=f"Order #{tara['order']}").click()
    page.get_by_test_id("offer-card").get_by_role("button", name="Confirm").click()
    expect(page.get_by_test_id("receipt").last).to_contain_text("Refund of $")
    page.get_by_test_id("rate-5").click()
    expect(page.get_by_test_id("given-feedback")).to_contain_text("rated it 5/5")
    me.send("thanks!")
    expect(page.get_by_test_id("response")).to_contain_text("You're welcome, Tara!")
    assert len(_tickets(api_stack, tara["id"])) == 1
    times = page.locator("time[datetime]").first
    expect(times).to_contain_text("UTC")  # the server's absolute time, no script to localise it


def test_keyboard_only(open_browser, customers):
    uma = customers["keyboard"]
    me = open_browser(WIDTHS["desktop"])
    page = me.page
    me.login(uma["email"])  # keyboard only (see conftest)
    me.tab_to("a[href='/tickets/new']")
    page.keyboard.press("Enter")
    expect(page.get_by_label("How can we help?")).to_be_focused()
    page.keyboard.type("I want a refund please")
    me.tab_to("input[type=submit][value='Send request']")
    page.keyboard.press("Enter")
    me.wait_for_answer()
    expect(page.get_by_test_id("response")).to_be_focused()  # the answer, where reading goes on
    me.tab_to(f"button[data-order-id='{uma['order']}']")
    page.keyboard.press("Enter")
    me.wait_for_answer()
    me.tab_to("[data-testid=offer-confirm]")
    page.keyboard.press("Enter")
    me.wait_for_answer()
    expect(page.get_by_test_id("receipt").last).to_contain_text("Refund of $")
    me.tab_to("[data-testid=rate-5]")
    page.keyboard.press("Enter")
    me.wait_for_answer()
    expect(page.get_by_test_id("given-feedback")).to_contain_text("rated it 5/5")
    # The composer is reachable too, and Ctrl+Enter sends.
    me.tab_to("form.composer textarea")
    page.keyboard.type("Where is order " + uma["more"][0][0] + "?")
    page.keyboard.press("Control+Enter")
    me.wait_for_answer()
    expect(page.get_by_test_id("transcript")).to_contain_text("Where is order")
