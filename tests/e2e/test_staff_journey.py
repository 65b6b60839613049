"""The hand-off journey in a real headless Chromium, against the real API (which mails the
customer through a real SMTP server on loopback) and the real portal:

a customer asks for a high-value refund -> proposal -> Confirm -> "a person will approve" ->
staff take the case and approve it -> the refund is recorded, the customer sees it in the
thread and the e-mail arrives -> the customer writes while the case is with a person -> no
assistant reply -> staff hand back -> the assistant answers again.
"""

from __future__ import annotations

import re

import pytest
import requests
from playwright.sync_api import expect
from sqlalchemy import create_engine, text

from tests.e2e.servers import API_KEY

pytestmark = pytest.mark.browser


def _refunds(api_stack, order_id: str) -> list[int]:
    engine = create_engine(api_stack.database_url)
    try:
        with engine.connect() as conn:
            return [r[0] for r in conn.execute(
                text("SELECT amount_cents FROM refunds WHERE order_id = :o"), {"o": order_id})]
    finally:
        engine.dispose()




def test_high_value_refund_approved_by_a_person_then_handed_back(browser_user, customers, staff,
                                                                api_stack):
    omar = customers["journey"]
    page = browser_user.page
    browser_user.login(omar["email"])
    browser_user.goto("/tickets/new")
    page.get_by_label("How can we help?").fill(
        f"I want a refund for order {omar['order']}, it arrived broken")
    page.get_by_role("button", name="Send request").click()
    browser_user.wait_for_answer()
    ticket_id = browser_user.ticket_id()

    card = page.get_by_test_id("offer-card")
    expect(page.get_by_test_id("offer-amount")).to_have_text("$649.00")
    expect(card).to_contain_text("A person on our team approves it after you confirm")
    card.get_by_role("button", name="Confirm").click()
    browser_user.wait_for_answer()
    expect(page.get_by_test_id("response")).to_contain_text("need a person's approval")
    expect(page.get_by_test_id("escalation-notice")).to_contain_text(
        "Passed to a person on our team")
    assert _refunds(api_stack, omar["order"]) == []
    browser_user.logout()

    # Staff: the queue, the case, take it, approve it.
    browser_user.login(staff["email"], staff["password"])
    row = page.locator("li.case-card", has_text=f"ticket #{ticket_id}")
    expect(row).to_contain_text("Needs a decision")
    row.get_by_role("link", name=re.compile(r"Case #\d+")).click()
    page.get_by_test_id("take-case").click()
    expect(page.get_by_test_id("case-owner")).to_contain_text("With Sam Support")
    approve = page.locator("label.choice-btn", has_text="Approve the refund")  # a large button
    assert approve.bounding_box()["height"] >= 44
    approve.click()
    expect(page.get_by_label("Approve the refund")).to_be_checked()  # the radio underneath
    page.get_by_label("Reason").fill("Photos show the damage")
    page.get_by_role("button", name="Record decision").click()
    expect(page.get_by_test_id("decision-outcome")).to_contain_text("Refund approved by Sam")
    expect(page.get_by_test_id("decision-outcome")).to_contain_text("Done")
    assert _refunds(api_stack, omar["order"]) == [64900]
    ticket = requests.get(f"{api_stack.url}/tickets/{ticket_id}", headers={"X-API-Key": API_KEY},
                          params={"user_id": omar["id"]}, timeout=10).json()
    assert ticket["action_result"]["status"] == "success" and ticket["status"] == "with_agent"

    # The e-mail arrives at the local SMTP server.
    [mail] = api_stack.mailbox.wait_for(
        lambda m: omar["email"] in m["To"] and m["Subject"] == f"A decision on your request "
                                                                f"#{ticket_id}")
    body = mail.get_content()
    assert "approved your refund of $649.00" in body and f"/tickets/{ticket_id}" in body
    assert mail["Message-ID"].startswith("<supportops.")
    browser_user.logout()

    # The customer sees it in the thread, from a person; writing now gets no assistant answer.
    browser_user.login(omar["email"])
    browser_user.goto(f"/tickets/{ticket_id}")
    from_person = page.get_by_test_id("staff-message").last
    expect(from_person).to_contain_text("approved your refund of $649.00")
    expect(from_person).to_contain_text("Sam from our support team")
    browser_user.send(f"Thanks! And where is order {omar['order']} now?")
    transcript = page.get_by_test_id("transcript")
    expect(transcript).to_contain_text("Sam is handling your case and has your message")
    expect(transcript).not_to_contain_text(f"Order #{omar['order']} is delivered")
    browser_user.logout()

    # Staff hand the conversation back; the assistant answers again.
    browser_user.login(staff["email"], staff["password"])
    browser_user.goto("/staff/?status=mine")
    page.locator("li.case-card", has_text=f"ticket #{ticket_id}").get_by_role(
        "link", name=re.compile(r"Case #\d+")).click()
    page.get_by_role("button", name="Hand back to the assistant").click()
    expect(page.locator(".alert-success")).to_contain_text("Handed back to the assistant")
    browser_user.logout()

    browser_user.login(omar["email"])
    browser_user.goto(f"/tickets/{ticket_id}")
    expect(page.get_by_test_id("escalation-notice")).to_contain_text("handed this conversation "
                                                                      "back to the assistant")
    browser_user.send(f"Where is order {omar['order']} now?")
    expect(page.get_by_test_id("transcript")).to_contain_text(
        f"Order #{omar['order']} is delivered")
