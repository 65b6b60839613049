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
    match = re.fullmatch(r"/tickets/(\d+)", response.headers["Location"])
    assert match, response.headers["Location"]
    return int(match.group(1))


def test_ticket_list_shows_status_and_outcome(client, auth):
    auth.login("ana@example.com")
    page = text_of(client.get("/tickets/"))
    row = re.search(rf'<tr data-ticket-id="{ANA_TICKET}">.*?</tr>', page, re.S).group(0)
    assert 'data-status="resolved">Resolved</span>' in row
    assert 'data-status="success">Done</span>' in row and "Refund" in row
    queued = re.search(rf'<tr data-ticket-id="{ANA_QUEUED}">.*?</tr>', page, re.S).group(0)
    assert 'data-status="queued">Queued</span>' in queued
    assert page.index(f'data-ticket-id="{ANA_QUEUED}"') < page.index(
        f'data-ticket-id="{ANA_TICKET}"')


def test_ticket_list_empty_state(client, auth):
    auth.login("cleo@example.com")
    page = text_of(client.get("/tickets/"))
    assert "No requests yet" in page and 'href="/tickets/new"' in page
    assert "data-ticket-id" not in page


def test_ticket_page_shows_answer_action_outcome_sources_and_transcript(client, auth):
    auth.login("ana@example.com")
    page = text_of(client.get(f"/tickets/{ANA_TICKET}"))
    assert "I&#39;ve refunded $84.49 for order #1001" in page
    assert 'data-testid="action">Refund</span>' in page
    assert 'data-status="success">Done</span>' in page
    assert "Delivered 8 days ago." in page and "R2 refund:" not in page
    assert "$84.49" in re.search(r'<dl class="row small mb-0 result-details">.*?</dl>', page,
                                 re.S).group(0)
    assert "refund_policy.md</span>Refund window" in page and "relevance 83%" in page
    transcript = re.search(r'data-testid="transcript">.*?</ol>', page, re.S).group(0)
    assert transcript.count("chat-row-user") == 1 and transcript.count("chat-row-assistant") == 1
    assert "Escalated to a support specialist" in page  # Ana's open "unsatisfied" case
    assert 'action="/tickets/1/feedback"' in page and 'action="/tickets/1/reply"' in page
    assert '<legend class="form-label fs-6 fw-medium">Did this solve your problem?</legend>' in page


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


@pytest.mark.parametrize("message,error", [("   ", "Tell us what you need."),
                                           ("x" * 4001, "Please keep it under 4000 characters.")])
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
    ticket_id = _new_ticket_id(response)
    assert ticket_id != ANA_TICKET
    assert _ticket(factory, ticket_id)[1:4] == ("queued", "Can it be faster?", "conv-ana")


def test_a_queued_ticket_cannot_take_a_reply_or_feedback(client, auth, factory):
    auth.login("ana@example.com")
    reply = auth.post(f"/tickets/{ANA_QUEUED}/reply", {"message": "hello?"})
    assert reply.headers["Location"] == f"/tickets/{ANA_QUEUED}"
    feedback = auth.post(f"/tickets/{ANA_QUEUED}/feedback", {"satisfied": "no"})
    assert feedback.headers["Location"] == f"/tickets/{ANA_QUEUED}"
    assert db_execute(factory, "SELECT count(*), max(satisfied) FROM tickets") == [(3, None)]


def test_feedback_while_the_api_is_down_keeps_what_was_typed(client, auth, factory):
    auth.login("ana@example.com")
    response = auth.post(f"/tickets/{ANA_TICKET}/feedback",
                         {"satisfied": "no", "rating": "2", "comment": "Still waiting for it"})
    assert response.status_code == 503
    page = text_of(response)
    assert "feedback wasn&#39;t saved" in page
    assert "Still waiting for it</textarea>" in page
    assert '<option selected value="2">' in page
    assert db_execute(factory, "SELECT satisfied, rating FROM tickets WHERE id = 1") == [
        (None, None)]


def test_feedback_needs_a_choice(client, auth):
    auth.login("ana@example.com")
    response = auth.post(f"/tickets/{ANA_TICKET}/feedback", {"rating": "3"})
    assert response.status_code == 400
    assert "Choose satisfied or not satisfied." in text_of(response)
