"""A reply sent while the agent service is down stays in its conversation (black-box report bb5,
finding 1): the page keeps its number and real status (an escalated case stays escalated), the
message is in the thread marked "not sent yet", and once the service is back it is answered in
that same conversation — nothing lost, no second conversation."""

from __future__ import annotations

import re

from tests.e2e.servers import CUSTOMERS
from tests.frontend.conftest import db_execute, text_of
from tests.frontend.test_with_api import _state, down, live, signed_in, ticket_id_from  # noqa: F401

MESSAGE = "Also, when will the new lamp arrive?"


def _thread(page: str) -> str:
    return re.search(r'data-testid="transcript">.*?</ol>', page, re.S).group(0)


def test_a_reply_sent_while_the_api_is_down_stays_in_its_conversation(live, down):  # noqa: F811
    cai = CUSTOMERS["queued_reply"]
    online = signed_in(live, cai)
    ticket_id = ticket_id_from(online.post("/tickets/new", {
        "message": "I want to talk to a person please", "order_id": cai["order"]}))
    assert _state(live, ticket_id)[0] == "escalated"

    offline = signed_in(down, cai)
    response = offline.post(f"/tickets/{ticket_id}/reply", {"message": MESSAGE})
    assert response.headers["Location"] == f"/tickets/{ticket_id}#latest"
    page = text_of(offline.client.get(f"/tickets/{ticket_id}"))
    assert f"Request #{ticket_id}" in page
    assert re.search(r'data-testid="ticket-status"><span[^>]*>Escalated<', page)
    assert "Passed to a person on our team" in page
    not_sent = re.search(r'data-testid="not-sent">.*?</li>', _thread(page), re.S)
    assert not_sent and MESSAGE in not_sent.group(0) and "Not sent yet" in not_sent.group(0)
    assert page.count("saved your request") == 1  # the notice once, not also as a flash
    cards = text_of(offline.client.get("/tickets/"))
    assert re.findall(r'href="/tickets/(\d+)', cards) == [str(ticket_id)]
    assert MESSAGE in cards
    factory = down.extensions["supportops_portal"].factory
    [(kept,)] = db_execute(factory, "SELECT id FROM tickets WHERE user_id = :u AND "
                                    "status = 'queued'", u=cai["id"])
    assert offline.client.get(f"/tickets/{kept}").headers["Location"] == (
        f"/tickets/{ticket_id}#latest")  # the kept copy is not a conversation of its own

    page = text_of(online.client.get(f"/tickets/{ticket_id}"))  # the service is back
    thread = _thread(page)
    assert 'data-testid="not-sent"' not in thread and thread.count(MESSAGE) == 1
    assert 'data-testid="queued-notice"' not in page
    assert re.search(r'data-testid="ticket-status"><span[^>]*>Escalated<', page)
    assert _state(live, ticket_id)[0] == "escalated"
    assert db_execute(factory, "SELECT count(*) FROM messages m JOIN tickets t ON "
                               "t.conversation_id = m.conversation_id WHERE t.id = :t AND "
                               "m.role = 'user' AND m.content = :c", t=ticket_id, c=MESSAGE) == [(1,)]
    cards = text_of(online.client.get("/tickets/"))
    assert re.findall(r'href="/tickets/(\d+)', cards) == [str(ticket_id)]
    assert online.client.get(f"/tickets/{kept}").headers["Location"] == (
        f"/tickets/{ticket_id}#latest")
