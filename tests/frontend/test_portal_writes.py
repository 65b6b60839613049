"""What the portal writes itself is PII-redacted (issue 12, SPEC "Audit record"): a request kept
while the agent service is away (tickets.user_input, queued_requests.last_error), and the
ticket a retry closes. The text sent is the text kept, so a timed-out request with an e-mail
address in it is still replayed, not run twice."""

from __future__ import annotations

import re
import time

from tests.e2e.servers import CUSTOMERS
from tests.frontend.conftest import ANA_TICKET, db_execute
from tests.frontend.test_with_api import (
    _portal,
    live,  # noqa: F401 (the fixture)
    press,
    signed_in,
    ticket_id_from,
)

PII = ("Refund order 1001 please, it arrived broken. Email me at ana.diaz@example.com or call "
       "+44 20 7946 0958 (or 415-555-0132); card 4111 1111 1111 1111; I live at 12 Baker "
       "Street, London NW1 6XE.")
RAW = ("ana.diaz@example.com", "7946 0958", "555-0132", "4111", "12 Baker Street", "NW1 6XE")


def _assert_redacted(text: str) -> None:
    for raw in RAW:
        assert raw not in text, (raw, text)
    assert "order 1001" in text and "arrived broken" in text  # what support needs stays


def test_a_queued_request_is_stored_redacted(client, auth, factory):
    auth.login("ana@example.com")
    response = auth.post("/tickets/new", {"message": PII, "order_id": ""})
    assert response.status_code == 302
    [(text, status, error)] = db_execute(
        factory, "SELECT t.user_input, t.status, q.last_error FROM tickets t JOIN queued_requests "
                 "q ON q.ticket_id = t.id WHERE t.id = (SELECT max(id) FROM tickets)")
    assert status == "queued"
    _assert_redacted(text)
    assert "[EMAIL]" in text and "[CARD]" in text
    assert error and "@" not in error


def test_a_queued_reply_is_stored_redacted(client, auth, factory):
    auth.login("ana@example.com")
    response = auth.post(f"/tickets/{ANA_TICKET}/reply", {"message": PII})
    assert response.status_code == 302
    [(text, conversation)] = db_execute(
        factory, "SELECT user_input, conversation_id FROM tickets WHERE id = (SELECT max(id) "
                 "FROM tickets)")
    assert conversation == "conv-ana"
    _assert_redacted(text)


def test_nothing_the_portal_keeps_holds_the_raw_text(client, auth, factory):
    auth.login("ana@example.com")
    auth.post("/tickets/new", {"message": PII, "order_id": "1001"})
    auth.post(f"/tickets/{ANA_TICKET}/reply", {"message": PII})
    for table, column in (("tickets", "user_input"), ("tickets", "response"),
                          ("queued_requests", "last_error")):
        for (value,) in db_execute(factory, f"SELECT {column} FROM {table}"):
            for raw in RAW:
                assert raw not in (value or ""), (table, column, raw)


def test_a_timed_out_request_with_pii_is_replayed_not_run_twice(api_stack, live):  # noqa: F811
    """The service acted on the request but answered after the portal gave up. The retry must
    send the very body the service keyed (the redacted one): a different body would be a new
    request with a new key, and the refund would be offered twice."""
    bea = CUSTOMERS["replay_pii"]
    impatient = _portal(api_stack, api_timeout_seconds=0.003)
    auth = signed_in(impatient, bea)
    message = (f"I want a refund for order {bea['order']}, it arrived broken. You can reach me at "
               "bea.lind@example.org or +44 7700 900123.")
    ticket_id = ticket_id_from(auth.post("/tickets/new", {
        "message": message, "order_id": "", "request_key": "bd" * 16}))
    factory = live.extensions["supportops_portal"].factory
    [(kept,)] = db_execute(factory, "SELECT user_input FROM tickets WHERE id = :i", i=ticket_id)
    assert "bea.lind@example.org" not in kept and "7700 900123" not in kept

    def offers():
        return db_execute(factory, "SELECT ticket_id FROM proposals WHERE order_id = :o",
                          o=bea["order"])
    deadline = time.monotonic() + 30
    while not offers() and time.monotonic() < deadline:
        time.sleep(0.1)  # the service finishes the request the portal stopped waiting for
    [(answered,)] = offers()

    online = signed_in(live, bea)
    page = online.client.get(f"/tickets/{ticket_id}").get_data(as_text=True)
    assert len(offers()) == 1  # replayed from the service's record, not proposed again
    assert f"This request was answered in ticket #{answered}" in page
    press(online, answered)
    assert db_execute(factory, "SELECT count(*) FROM refunds WHERE order_id = :o",
                      o=bea["order"]) == [(1,)]
    for (text,) in db_execute(factory, "SELECT content FROM messages m JOIN tickets t ON "
                                       "t.conversation_id = m.conversation_id WHERE t.user_id = "
                                       ":u", u=bea["id"]):
        assert not re.search(r"bea\.lind@|7700 900123", text)
