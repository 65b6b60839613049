"""Findings of a black-box tester in the browser and of the issue-12 probes, each reproduced here
in Chromium against the real API and portal:

- a sent message came back into the reply box ("We kept what you were writing"), so "yes"
  could be sent twice — also when the page after a sent message fails to load;
- on a resolved ticket the reply box was wider than the conversation column;
- the portal wrote dates two ways; the menu kept marking the page the customer had left;
- a session cookie copied before sign-out kept working.
"""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from tests.e2e.conftest import WIDTHS
from tests.e2e.servers import PASSWORD

pytestmark = pytest.mark.browser

DRAFTS = "Object.keys(localStorage).filter(k => k.startsWith('supportops-draft:')).length"
DATE = r"\d{1,2} (Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec) \d{4}"


def _start(me, who: dict, message: str) -> None:
    me.login(who["email"])
    me.goto("/tickets/new")
    me.page.get_by_label("How can we help?").fill(message)
    me.page.get_by_role("button", name="Send request").click()
    me.wait_for_answer()


def test_a_sent_message_is_not_put_back_in_the_box(open_browser, customers):
    yara = customers["sent"]
    me = open_browser(WIDTHS["desktop"])
    page = me.page
    _start(me, yara, "I want a refund please")
    box = page.get_by_label("Your reply")
    for words in (f"order {yara['order']}", "yes"):
        box.fill(words)
        page.locator("form.composer").get_by_role("button", name="Send").click()
        me.wait_for_answer()
        expect(page.get_by_test_id("transcript")).to_contain_text(words)
        expect(box).to_have_value("")
        expect(page.locator("[data-draft-note]")).to_be_hidden()
        assert page.evaluate(DRAFTS) == 0
    expect(page.get_by_test_id("receipt").last).to_contain_text("Refund of $")
    yes = page.locator(".chat-row-user .preserve-lines").filter(has_text=re.compile(r"^yes$"))
    expect(yes).to_have_count(1)
    page.reload()
    expect(page.get_by_label("Your reply")).to_have_value("")
    expect(page.locator("[data-draft-note]")).to_be_hidden()


def test_a_sent_message_is_forgotten_even_when_the_next_page_fails(open_browser, customers):
    yara = customers["sent"]
    me = open_browser(WIDTHS["mobile"])
    page = me.page
    _start(me, yara, f"Where is order {yara['order']}?")
    ticket_id = me.ticket_id()
    # The message is taken (the POST is answered with a redirect), but the page it leads to
    # fails: here the redirect is bent to a page that does not exist.
    taken = []

    def _bend_redirect(route):
        answer = route.fetch(max_redirects=0)
        taken.append(answer.status)
        route.fulfill(status=303, headers={"Location": "/tickets/999999"}, body="")

    page.route(f"**/tickets/{ticket_id}/reply", _bend_redirect)
    page.get_by_label("Your reply").fill(f"Where is order {yara['more'][0][0]}?")
    page.locator("form.composer").get_by_role("button", name="Send").click()
    expect(page.get_by_role("heading", name="Page not found")).to_be_visible()
    assert taken == [302]
    assert page.evaluate(DRAFTS) == 0
    page.unroute(f"**/tickets/{ticket_id}/reply")
    me.goto(f"/tickets/{ticket_id}")
    expect(page.get_by_label("Your reply")).to_have_value("")
    expect(page.get_by_test_id("transcript")).to_contain_text(
        f"Where is order {yara['more'][0][0]}?")


@pytest.mark.parametrize("width", [WIDTHS["mobile"], WIDTHS["desktop"]])
def test_on_a_resolved_ticket_the_reply_box_keeps_to_the_conversation_column(
        open_browser, customers, width):
    zoe = customers["layout"]
    me = open_browser(width)
    page = me.page
    _start(me, zoe, f"Where is order {zoe['order']}?")
    expect(page.get_by_test_id("ticket-status")).to_have_text("Resolved")
    expect(page.get_by_test_id("rate-5")).to_be_visible()
    column = page.locator(".conversation-page").bounding_box()
    for part in ("form.composer", "[data-testid=feedback]", "[data-testid=transcript]"):
        box = page.locator(part).bounding_box()
        assert box["x"] >= column["x"] - 0.5, (part, box, column)
        assert box["x"] + box["width"] <= column["x"] + column["width"] + 0.5, (part, box, column)
    composer = page.locator("form.composer").bounding_box()
    transcript = page.get_by_test_id("transcript").bounding_box()
    assert abs(composer["width"] - transcript["width"]) <= 1
    assert page.evaluate("document.documentElement.scrollWidth") <= width


def test_dates_are_written_one_way_and_the_menu_follows_the_page(open_browser, customers):
    zoe = customers["layout"]
    me = open_browser(WIDTHS["desktop"])
    page = me.page
    _start(me, zoe, f"Where is order {zoe['order']}?")
    # The receipt's dates and the times' titles read "26 Nov 2026", like every portal page.
    facts = page.get_by_test_id("receipt").last.locator("dd")
    expect(facts.filter(has_text=re.compile(DATE)).first).to_have_text(re.compile(rf"^{DATE}$"))
    titles = page.locator("time[data-relative]").evaluate_all("ts => ts.map(t => t.title)")
    assert titles and all(re.fullmatch(rf"{DATE}, \d\d:\d\d", t) for t in titles), titles
    # The menu no longer marks "New request" once the conversation is shown in its place.
    expect(page.locator("#main-nav .nav-link.active")).to_have_text("My conversations")


def test_a_cookie_copied_before_sign_out_stops_working(open_browser, customers):
    abel = customers["session"]
    me = open_browser(WIDTHS["desktop"])
    me.login(abel["email"], PASSWORD)
    me.goto("/orders/")
    copied = me.page.context.cookies()
    assert any(c["name"] == "session" for c in copied)

    thief = open_browser(WIDTHS["desktop"])
    thief.page.context.add_cookies(copied)
    thief.goto("/orders/")
    expect(thief.page.get_by_text(f"#{abel['order']}").first).to_be_visible()  # works, for now

    me.logout()
    thief.goto("/orders/")
    thief.page.wait_for_url(re.compile(r".*/login\?next="))
    expect(thief.page.get_by_role("link", name="Sign in")).to_be_visible()
