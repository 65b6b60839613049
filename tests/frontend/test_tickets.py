"""Requests and tickets while the agent service is down (a real closed port): the ticket page,
the list, and nothing typed ever lost."""

from __future__ import annotations

import json
import re

import pytest

from tests.frontend.conftest import ANA_QUEUED, ANA_TICKET, db_execute, text_of


def _queue(factory, ticket_id):
    """The portal's retry bookkeeping for a queued ticket (its own table, not the result)."""
    rows = db_execute(factory, "SELECT attempts, last_error, request_key FROM queued_requests "
                               "WHERE ticket_id = :i", i=ticket_id)
    return dict(zip(("attempts", "last_error", "request_key"), rows[0], strict=True)) if rows else None


def _ticket(factory, ticket_id):
    rows = db_execute(factory, "SELECT user_id, status, user_input, conversation_id, result "
                               "FROM tickets WHERE id = :i", i=ticket_id)
    if not rows:
        return None
    user_id, status, user_input, conversation_id, result = rows[0]
    return user_id, status, user_input, conversation_id, json.loads(result) if result else None


def _new_ticket_id(response) -> int:
    assert response.status_code == 302, response.status_code
    match = re.fullmatch(r"/tickets/(\d+)(#latest)?", response.headers["Location"])
    assert match, response.headers["Location"]
    return int(match.group(1))


def _card(page: str, ticket_id: int) -> str:
    return re.search(rf'data-ticket-id="{ticket_id}">.*?</li>', page, re.S).group(0)


def test_ticket_list_shows_cards_with_status_and_the_last_message(client, auth):
    auth.login("ana@example.com")
    page = text_of(client.get("/tickets/"))
    card = _card(page, ANA_TICKET)
    assert 'data-status="resolved">Resolved</span>' in card
    assert "Assistant:</span> I&#39;ve refunded $84.49 for order #1001" in card
    assert f'href="/tickets/{ANA_TICKET}#latest"' in card and "order #1001" in card
    assert "<table" not in page  # cards, readable on a phone
    queued = _card(page, ANA_QUEUED)
    assert 'data-status="queued">Queued</span>' in queued
    assert "You:</span> Where is my order 1002?" in queued


def test_ticket_list_filters_open_and_solved(client, auth):
    auth.login("ana@example.com")
    solved = text_of(client.get("/tickets/?show=solved"))
    assert f'data-ticket-id="{ANA_TICKET}"' in solved and f'data-ticket-id="{ANA_QUEUED}"' not in solved
    opened = text_of(client.get("/tickets/?show=open"))
    assert f'data-ticket-id="{ANA_QUEUED}"' in opened and f'data-ticket-id="{ANA_TICKET}"' not in opened
    assert 'aria-current="page" href="/tickets/?show=open">Open' in opened


def test_a_reply_from_a_person_shows_an_unread_dot_until_seen(client, auth, factory):
    db_execute(factory, "INSERT INTO messages (conversation_id, role, content, ticket_id, "
                        "created_at, author_name) VALUES ('conv-ana', 'agent', 'Sam here: I can "
                        "help.', 1, CURRENT_TIMESTAMP, 'Sam')")
    auth.login("ana@example.com")
    card = _card(text_of(client.get("/tickets/")), ANA_TICKET)
    assert 'data-testid="unread"' in card and "Our team:</span> Sam here" in card
    client.get(f"/tickets/{ANA_TICKET}")
    assert 'data-testid="unread"' not in _card(text_of(client.get("/tickets/")), ANA_TICKET)


def test_ticket_list_empty_state(client, auth):
    auth.login("cleo@example.com")
    page = text_of(client.get("/tickets/"))
    assert "No requests yet" in page and 'href="/tickets/new"' in page
    assert "data-ticket-id" not in page


def test_ticket_page_is_the_conversation_with_a_receipt_and_readable_sources(client, auth):
    auth.login("ana@example.com")
    page = text_of(client.get(f"/tickets/{ANA_TICKET}"))
    transcript = re.search(r'data-testid="transcript">.*?</ol>', page, re.S).group(0)
    assert transcript.count("chat-row-user") == 1 and transcript.count("chat-row-assistant") == 1
    # The answer is shown once, in the thread, as the latest answer.
    assert page.count("I&#39;ve refunded $84.49 for order #1001") == 1
    assert re.search(r'id="latest" tabindex="-1" data-testid="response"', page)
    receipt = re.search(r'data-testid="receipt".*?</div>\s*</div>', page, re.S).group(0)
    assert "Refund of $84.49 sent" in receipt and "Your original payment method" in receipt
    assert "Mechanical keyboard" in receipt
    # Citations are readable titles that link to the help centre.
    assert ('<a href="/help/refund-policy#refund-window">Refund Policy › Refund window</a>'
            in page)
    assert re.search(r'<time datetime="[\d\-T:]+Z" data-relative', page)
    assert "Passed to a person on our team" in page  # Ana's open "unsatisfied" case
    assert 'action="/tickets/1/feedback"' in page and 'action="/tickets/1/reply"' in page
    assert 'data-testid="rate-1"' in page and 'data-testid="rate-5"' in page


@pytest.mark.parametrize("path", [f"/tickets/{ANA_TICKET}", "/tickets/", "/tickets/new",
                                  f"/tickets/{ANA_QUEUED}", "/orders/"])
def test_customer_pages_show_no_internal_words(client, auth, path):
    """No rule codes, file names, scores, percentages or booleans reach a customer."""
    auth.login("ana@example.com")
    visible = re.sub(r"<[^>]+>", " ", text_of(client.get(path)))
    for leak in (r"\bR\d+[a-z]?\b", r"\w+\.md\b", r"\d+\s?%", r"relevance", r"\bTrue\b",
                 r"\bFalse\b", r"\bNone\b", r"confidence", r"_policy"):
        assert not re.search(leak, visible), (leak, path)


def test_customer_text_is_escaped(client, auth, factory):
    auth.login("ana@example.com")
    auth.post("/tickets/new", {"message": "<script>alert('x')</script> order 1001",
                               "order_id": ""})
    [(ticket_id,)] = db_execute(factory, "SELECT max(id) FROM tickets")
    page = text_of(client.get(f"/tickets/{ticket_id}"))
    assert "<script>alert" not in page and "&lt;script&gt;alert(&#39;x&#39;)" in page


def test_new_request_is_queued_when_the_api_is_down(client, auth, factory):
    auth.login("ana@example.com")
    assert "How can we help?" in text_of(client.get("/tickets/new"))
    response = auth.post("/tickets/new", {"message": "My keyboard arrived broken, refund please",
                                          "order_id": "1001"})
    ticket_id = _new_ticket_id(response)
    user_id, status, user_input, conversation_id, result = _ticket(factory, ticket_id)
    assert (user_id, status, conversation_id) == (1, "queued", None)
    assert user_input == "My keyboard arrived broken, refund please (order #1001)"
    assert result is None and "unreachable" in _queue(factory, ticket_id)["last_error"]

    page = text_of(client.get(f"/tickets/{ticket_id}"))
    assert "saved your request" in page and "processed automatically" in page
    assert 'data-testid="queued-notice"' in page
    assert 'data-testid="feedback"' not in page and "/reply" not in page
    assert _ticket(factory, ticket_id)[1] == "queued"  # still down: still queued, not lost


def test_a_picked_order_is_not_added_when_the_text_names_one(client, auth, factory):
    auth.login("ana@example.com")
    response = auth.post("/tickets/new", {"message": "Cancel order #1002 please",
                                          "order_id": "1001"})
    assert _ticket(factory, _new_ticket_id(response))[2] == "Cancel order #1002 please"


def test_a_double_submitted_form_keeps_one_queued_ticket(client, auth, factory):
    auth.login("ana@example.com")
    form = {"message": "Where is order 1002?", "order_id": "", "request_key": "ab" * 16}
    first = _new_ticket_id(auth.post("/tickets/new", form))
    second = _new_ticket_id(auth.post("/tickets/new", form))
    assert first == second
    assert db_execute(factory, "SELECT count(*) FROM tickets WHERE user_id = 1") == [(3,)]


@pytest.mark.parametrize("message,error", [
    ("   ", "Tell us what you need."),
    ("x" * 4001, "This is 4,001 characters long; the limit is 4,000.")])
def test_new_request_validation(client, auth, factory, message, error):
    auth.login("ana@example.com")
    response = auth.post("/tickets/new", {"message": message, "order_id": ""})
    assert response.status_code == 400 and error in text_of(response)
    assert db_execute(factory, "SELECT count(*) FROM tickets") == [(3,)]


def test_queued_tickets_are_retried_on_view_and_stay_queued_while_down(client, auth, factory):
    auth.login("ana@example.com")
    assert _ticket(factory, ANA_QUEUED)[4] is None
    client.get("/tickets/")
    client.get(f"/tickets/{ANA_QUEUED}")
    status, queue = _ticket(factory, ANA_QUEUED)[1], _queue(factory, ANA_QUEUED)
    assert status == "queued"
    assert queue["attempts"] == 2 and "unreachable" in queue["last_error"]


def test_a_reply_while_the_api_is_down_is_queued_in_the_same_conversation(client, auth, factory):
    auth.login("ana@example.com")
    response = auth.post(f"/tickets/{ANA_TICKET}/reply", {"message": "Can it be faster?"})
    # The customer stays on the conversation's own page (its number and status), where the
    # reply is shown as not sent yet; the kept copy is a queued row of the same conversation.
    assert _new_ticket_id(response) == ANA_TICKET
    [(ticket_id,)] = db_execute(factory, "SELECT id FROM tickets WHERE status = 'queued' AND "
                                         "conversation_id = 'conv-ana'")
    assert _ticket(factory, ticket_id)[1:4] == ("queued", "Can it be faster?", "conv-ana")
    page = text_of(client.get(f"/tickets/{ANA_TICKET}"))
    assert 'data-testid="not-sent"' in page and "Can it be faster?" in page


def test_a_queued_ticket_cannot_take_a_reply_or_feedback(client, auth, factory):
    auth.login("ana@example.com")
    reply = auth.post(f"/tickets/{ANA_QUEUED}/reply", {"message": "where is it?"})
    assert reply.headers["Location"] == f"/tickets/{ANA_QUEUED}#latest"
    feedback = auth.post(f"/tickets/{ANA_QUEUED}/feedback", {"rating": "1"})
    assert feedback.headers["Location"] == f"/tickets/{ANA_QUEUED}#latest"
    assert db_execute(factory, "SELECT count(*), max(satisfied) FROM tickets") == [(3, None)]


def test_feedback_while_the_api_is_down_keeps_what_was_typed(client, auth, factory):
    auth.login("ana@example.com")
    response = auth.post(f"/tickets/{ANA_TICKET}/feedback",
                         {"rating": "2", "comment": "Still waiting for it"})
    assert response.status_code == 503
    page = text_of(response)
    assert "feedback wasn&#39;t saved" in page
    assert "Still waiting for it</textarea>" in page and '<details class="small" open>' in page
    assert db_execute(factory, "SELECT satisfied, rating FROM tickets WHERE id = 1") == [
        (None, None)]


def test_feedback_needs_a_choice(client, auth):
    auth.login("ana@example.com")
    response = auth.post(f"/tickets/{ANA_TICKET}/feedback", {"comment": "hmm"})
    assert response.status_code == 400
    assert "Choose a rating from 1 to 5." in text_of(response)
