"""End to end in a real headless Chromium: the customer's refund, the unhappy rating, the staff
queue, and the ownership rule, against the real agent API and the real portal."""

from __future__ import annotations

import re

import pytest
import requests
from playwright.sync_api import expect

from tests.e2e.servers import API_KEY

pytestmark = pytest.mark.browser


def test_refund_then_unsatisfied_rating_escalates_to_the_staff_queue(browser_user, customers,
                                                                     staff):
    ana = customers["refund"]
    page = browser_user.page
    browser_user.login(ana["email"])
    expect(page.get_by_test_id("user-name")).to_contain_text(ana["name"])

    page.get_by_role("navigation", name="Main navigation").get_by_role(
        "link", name="New request").click()
    page.get_by_label("How can we help?").fill(
        f"I want a refund for order {ana['order']}, it arrived broken")
    page.get_by_role("button", name="Send request").click()
    browser_user.wait_for_answer()

    # The ticket page first shows exactly what will happen, and nothing has changed yet (R11).
    ticket_id = browser_user.ticket_id()
    card = page.get_by_test_id("offer-card")
    expect(card).to_contain_text(f"#{ana['order']}")
    expect(page.get_by_test_id("offer-amount")).to_have_text("$40.00")
    expect(card).to_contain_text("Your original payment method")
    expect(page.get_by_test_id("ticket-status")).to_have_text("Waiting for you")
    card.get_by_role("button", name="Confirm").click()
    browser_user.wait_for_answer()

    # After Confirm: the refund it made, the receipt, and the policy it used (by its title).
    expect(page.get_by_test_id("offer-card")).to_have_count(0)
    expect(page.get_by_test_id("receipt").last).to_contain_text("Refund of $40.00 sent")
    expect(page.get_by_test_id("response")).to_contain_text("$40.00")
    expect(page.get_by_test_id("ticket-status")).to_have_text("Resolved")
    expect(page.get_by_test_id("sources").last).to_contain_text("Refund Policy")
    expect(page.locator("main")).not_to_contain_text("refund_policy.md")
    expect(page.get_by_test_id("transcript")).to_contain_text("it arrived broken")

    page.get_by_text("Add a comment first (optional)").click()
    page.get_by_label("Comment").fill("I wanted a replacement instead")
    page.get_by_test_id("rate-2").click()  # 1-2: not satisfied, a person takes over
    browser_user.wait_for_answer()

    expect(page.get_by_test_id("ticket-status")).to_have_text("Escalated")
    expect(page.get_by_test_id("escalation-notice")).to_contain_text(
        "Passed to a person on our team")
    expect(page.get_by_test_id("given-feedback")).to_contain_text("not satisfied")
    browser_user.logout()

    # Staff see the case in the queue, open it, and see the transcript and the audit trail.
    browser_user.login(staff["email"], staff["password"])
    row = page.locator("li.case-card", has_text=f"ticket #{ticket_id}")
    expect(row).to_contain_text(ana["name"])
    expect(row).to_contain_text(f"#{ana['order']}")
    expect(row).to_contain_text("Unsatisfied")
    row.get_by_role("link", name=re.compile(r"Case #\d+")).click()
    expect(page.get_by_test_id("case-customer")).to_have_text(ana["name"])
    expect(page.get_by_test_id("transcript")).to_contain_text("it arrived broken")
    expect(page.get_by_test_id("audit-events")).to_contain_text("issue_refund")

    page.get_by_label("Note for the record").fill("Called the customer; replacement arranged.")
    page.get_by_role("button", name="Save").click()
    expect(page.locator(".alert-success")).to_contain_text("marked resolved")
    expect(page.locator("li.case-card", has_text=f"ticket #{ticket_id}")).to_have_count(0)
    browser_user.logout()

    # The customer sees the outcome on their ticket.
    browser_user.login(ana["email"])
    browser_user.goto(f"/tickets/{ticket_id}")
    expect(page.get_by_test_id("escalation-notice")).to_contain_text("replacement arranged")
    expect(page.get_by_test_id("ticket-status")).to_have_text("Resolved")


def test_a_customer_cannot_open_another_customers_ticket(browser_user, customers, api_stack):
    ben = customers["other"]
    answer = requests.post(api_stack.url + "/support/resolve", headers={"X-API-Key": API_KEY},
                           json={"user_input": f"Where is my order {ben['order']}?",
                                 "user_id": ben["id"], "conversation_id": None}, timeout=60)
    assert answer.status_code == 200, answer.text
    bens_ticket = answer.json()["ticket_id"]

    browser_user.login(customers["refund"]["email"])
    response = browser_user.goto(f"/tickets/{bens_ticket}")
    assert response.status == 404
    page = browser_user.page
    expect(page.get_by_role("heading", name="Page not found")).to_be_visible()
    expect(page.locator("main")).not_to_contain_text(ben["order"])
    browser_user.goto("/tickets/")
    expect(page.locator(f'[data-ticket-id="{bens_ticket}"]')).to_have_count(0)


def test_a_visitor_registers_and_sees_empty_states(browser_user):
    page = browser_user.page
    response = browser_user.goto("/tickets/")
    assert re.search(r"/login\?next=%2Ftickets%2F$", page.url), page.url
    assert response.status == 200
    page.get_by_role("link", name="Create an account").click()
    page.get_by_label("Full name").fill("Grace Hopper")
    page.get_by_label("Email").fill("grace@shop.test")
    page.get_by_label("Password", exact=True).fill("compilers-1952")
    page.get_by_label("Confirm password").fill("compilers-1952")
    page.get_by_role("button", name="Create account").click()
    expect(page.get_by_role("heading", name="My orders")).to_be_visible()
    expect(page.get_by_test_id("user-name")).to_contain_text("Grace Hopper")
    expect(page.get_by_text("No orders yet")).to_be_visible()
    page.get_by_role("link", name="My conversations").click()
    expect(page.get_by_text("No requests yet")).to_be_visible()


def test_not_now_on_an_offer_changes_nothing(browser_user, customers, api_stack):
    who = customers["decline"]
    page = browser_user.page
    browser_user.login(who["email"])
    browser_user.goto("/tickets/new")
    page.get_by_label("How can we help?").fill(f"please cancel order {who['order']}")
    page.get_by_role("button", name="Send request").click()
    browser_user.wait_for_answer()
    card = page.get_by_test_id("offer-card")
    expect(card).to_contain_text("cancel")
    card.get_by_role("button", name="Not now").click()
    browser_user.wait_for_answer()
    expect(page.get_by_test_id("offer-card")).to_have_count(0)
    expect(page.get_by_test_id("response")).to_contain_text("nothing has changed")
    orders = requests.get(api_stack.url + f"/tickets?user_id={who['id']}",
                          headers={"X-API-Key": API_KEY}, timeout=30).json()
    assert all(t["action_result"]["status"] != "success" or t["action"] == "none"
               for t in orders["tickets"])
