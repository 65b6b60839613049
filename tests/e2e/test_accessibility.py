"""Every page, scanned with axe-core (vendored from the npm registry, tests/e2e/vendor/) at phone
and desktop widths: no serious or critical violation. A screenshot of each page at both widths
goes to test-results/pages/ for people to review."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect
from sqlalchemy import create_engine, text

from tests.e2e.conftest import AXE, SCREENSHOTS, WIDTHS, Browser
from tests.e2e.servers import CUSTOMERS, STAFF

pytestmark = pytest.mark.browser

AXE_TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "wcag22aa", "best-practice"]


def _scan(person, name: str, width: int) -> list[dict]:
    """axe's serious and critical findings for the page as it is now; screenshot it too."""
    page = person.page
    page.wait_for_load_state()
    person.screenshot(f"{name}-{width}")
    page.add_script_tag(path=str(AXE))
    result = page.evaluate("tags => axe.run(document, {runOnly: {type: 'tag', values: tags}})",
                           AXE_TAGS)
    found = [{"page": name, "width": width, "rule": v["id"], "impact": v["impact"],
              "help": v["help"], "nodes": [n["target"] for n in v["nodes"]][:5]}
             for v in result["violations"] if v["impact"] in ("serious", "critical")]
    assert page.evaluate("document.documentElement.scrollWidth") <= width + 1, \
        f"{name} scrolls sideways at {width}px"
    return found


def _start(person, message: str) -> int:
    person.goto("/tickets/new")
    person.page.get_by_label("How can we help?").fill(message)
    person.page.get_by_role("button", name="Send request").click()
    person.wait_for_answer()
    return person.ticket_id()


@pytest.fixture(scope="module")
def tour_pages(browser, portal, api_stack):
    """The conversations the scan visits, made once through the portal (a customer with two
    orders): a question with order cards, an open offer, a receipt with the rating, and a
    case with a person."""
    wen = CUSTOMERS["tour"]
    context = browser.new_context(viewport={"width": 1366, "height": 844})
    person = Browser(context.new_page(), portal.url)
    person.login(wen["email"])
    pages = {
        "ticket-which-order": _start(person, "I want a refund please"),
        "ticket-offer": _start(person, f"I want a refund for order {wen['order']}, it arrived "
                                       "broken"),
        "ticket-receipt": _start(person, f"Where is order {wen['more'][0][0]}?"),
    }
    handoff = _start(person, "I'd like to talk to a person about my orders")
    context.close()
    engine = create_engine(api_stack.database_url)
    try:
        with engine.connect() as conn:
            case_id = conn.execute(text("SELECT id FROM escalations WHERE ticket_id = :t"),
                                   {"t": handoff}).scalar_one()
    finally:
        engine.dispose()
    return pages, case_id


PUBLIC = {"home": "/", "login": "/login", "register": "/register", "help": "/help/",
          "help-search": "/help/?q=how+long+do+refunds+take", "help-article": "/help/refund-policy",
          "not-found": "/no-such-page"}
CUSTOMER = {"orders": "/orders/", "conversations": "/tickets/", "new-request": "/tickets/new",
            "account": "/account"}
STAFF_PAGES = {"staff-queue": "/staff/", "staff-dashboard": "/staff/dashboard",
               "staff-policies": "/staff/policies/",
               "staff-policy": "/staff/policies/refund_policy.md"}


@pytest.mark.parametrize("width", [WIDTHS["mobile"], WIDTHS["desktop"]])
def test_every_page_has_no_serious_accessibility_violation(open_browser, tour_pages, width):
    tickets, case_id = tour_pages
    wen = CUSTOMERS["tour"]
    person = open_browser(width, bypass_csp=True)  # lets the test inject axe; the app is unchanged
    problems = []
    for name, path in PUBLIC.items():
        person.goto(path)
        problems += _scan(person, name, width)

    person.login(wen["email"])
    for name, path in CUSTOMER.items():
        person.goto(path)
        problems += _scan(person, name, width)
    for name, ticket_id in tickets.items():
        person.goto(f"/tickets/{ticket_id}")
        problems += _scan(person, name, width)
    # A form error is announced, focused and scanned too.
    person.goto("/tickets/new")
    person.page.get_by_role("button", name="Send request").click()
    expect(person.page.get_by_label("How can we help?")).to_be_focused()
    expect(person.page.locator(".invalid-feedback[role=alert]")).to_contain_text(
        "Tell us what you need")
    problems += _scan(person, "new-request-error", width)
    person.logout()

    person.login(STAFF["email"], STAFF["password"])
    for name, path in {**STAFF_PAGES, "staff-case": f"/staff/cases/{case_id}"}.items():
        person.goto(path)
        problems += _scan(person, name, width)
    assert problems == [], "\n".join(str(p) for p in problems)


def test_screenshots_of_every_page_are_saved(tour_pages):
    """The scan above saves them (run it first); this checks the set is complete for review."""
    saved = {p.name for p in (SCREENSHOTS / "pages").glob("*.png")}
    for name in [*PUBLIC, *CUSTOMER, *STAFF_PAGES, "staff-case", *tour_pages[0]]:
        for width in WIDTHS.values():
            assert f"{name}-{width}.png" in saved, f"{name}-{width}.png"
