"""Each receipt sits under the message that carried the action out, and stays there (black-box
report bb5, finding 2): a later status answer gets its own status receipt, not the refund's; the
refund's receipt does not vanish when the conversation goes on; a refund a person approved sits
under that person's message, not under the assistant's."""

from __future__ import annotations

import html
import re

from tests.e2e.servers import CUSTOMERS, STAFF
from tests.frontend.conftest import text_of
from tests.frontend.test_with_api import live, press, signed_in, ticket_id_from  # noqa: F401


def _rows(page: str) -> list[tuple[str, list[str]]]:
    """The thread as (bubble text, [receipt titles under it]) per message."""
    thread = re.search(r'data-testid="transcript">(.*?)</ol>', page, re.S).group(1)
    rows = []
    for row in re.findall(r'<li class="chat-row.*?</li>', thread, re.S):
        bubble = re.search(r'class="preserve-lines">(.*?)</span>', row, re.S).group(1)
        titles = re.findall(r'class="receipt-title[^"]*">(.*?)</p>', row, re.S)
        rows.append((html.unescape(bubble), [html.unescape(t) for t in titles]))
    return rows


def _receipts(page: str) -> list[tuple[str, str]]:
    return [(text, title) for text, titles in _rows(page) for title in titles]


def test_receipts_stay_under_the_answer_that_acted(live):  # noqa: F811
    dina = CUSTOMERS["receipts"]
    me = signed_in(live, dina)
    ticket_id = ticket_id_from(me.post("/tickets/new", {
        "message": f"I want a refund for order {dina['order']}, it arrived broken",
        "order_id": ""}))
    page = press(me, ticket_id)
    [(refund_answer, title)] = _receipts(page)
    assert title.startswith("Refund of $") and dina["order"] in refund_answer

    mouse = dina["more"][0][0]
    me.post(f"/tickets/{ticket_id}/reply", {"message": f"Where is order {mouse}?"})
    page = text_of(me.client.get(f"/tickets/{ticket_id}"))
    receipts = _receipts(page)
    assert receipts[0] == (refund_answer, title)  # still there, still under its answer
    assert len(receipts) == 2 and receipts[1][1] == f"Order #{mouse}: delivered"
    assert mouse in receipts[1][0] and "Refund of" not in receipts[1][1]

    me.post(f"/tickets/{ticket_id}/reply", {"message": "How long do refunds take to arrive?"})
    page = text_of(me.client.get(f"/tickets/{ticket_id}"))
    assert _receipts(page) == receipts  # a question adds none and takes none away
    assert _rows(page)[-1][1] == []


def test_a_refund_a_person_approved_has_its_receipt_under_their_message(live):  # noqa: F811
    from tests.frontend.test_staff_actions import _case_for
    omar = CUSTOMERS["approved_receipt"]
    me = signed_in(live, omar)
    ticket_id = ticket_id_from(me.post("/tickets/new", {
        "message": f"I want a refund for order {omar['order']}, it arrived broken",
        "order_id": ""}))
    press(me, ticket_id)  # sent for approval: no receipt yet
    case_id = _case_for(live, ticket_id)
    staff = signed_in(live, STAFF)
    staff.post(f"/staff/cases/{case_id}/assign", {})
    staff.post(f"/staff/cases/{case_id}/decision", {"decision": "approve",
                                                    "reason": "Photos confirm the damage"})
    page = text_of(me.client.get(f"/tickets/{ticket_id}"))
    [(under, title)] = _receipts(page)
    assert title == "Refund of $649.00 sent"
    assert "approved your refund" in under
    row = re.findall(r'<li class="chat-row.*?</li>', page, re.S)
    holder = next(r for r in row if 'data-testid="receipt"' in r)
    assert 'data-testid="staff-message"' in holder
