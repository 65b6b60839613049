"""Findings of the fifth black-box pass over the HTTP and Staff APIs (/tmp/bb5/api_report.md),
each a test before its fix: deleting a conversation under an open case, /metrics counting
repeats, staff_id and user_id required, feedback while an offer is open, error messages."""

from __future__ import annotations

import re

import pytest
from sqlalchemy import delete, select

from api.services import staff_messages
from db.engine import transaction
from db.models import Conversation, EscalationCase, Message, Proposal, Ticket
from tests.api import case_helpers
from tests.api.case_helpers import (
    SAM,
    act,
    ask_for_a_person,
    cases,
    error_code,
    high_value_case,
    ok,
    outbox,
    refund_cents,
)
from tests.api.conftest import KEY, resolve

api, staff_db = case_helpers.api, case_helpers.staff_db  # fixtures


def _drop_conversation_behind_the_apis_back(factory, conversation_id: str) -> None:
    """What a conversation deleted before the DELETE guard existed (or by a race with the
    escalation that opened its case) leaves: a case whose ticket names a conversation that
    is gone."""
    with transaction(factory) as s:
        s.execute(delete(Message).where(Message.conversation_id == conversation_id))
        s.execute(delete(Conversation).where(Conversation.id == conversation_id))


# --- 1. deleting a conversation while a person works on it -------------------------------

def test_a_conversation_with_an_open_case_cannot_be_deleted(api, staff_db):
    made = ask_for_a_person(api)
    url = f"/conversation/{made['conversation_id']}?user_id=1"
    response = api.delete(url, headers=KEY)
    assert error_code(response, 409) == "conversation_has_open_case"
    assert "case" in response.json()["error"]["message"]
    assert api.get(url, headers=KEY).status_code == 200  # nothing was deleted
    [case] = cases(api, staff_id=SAM)
    ok(act(api, case["id"], "reply", message="Hi, I'm looking at it now."))
    ok(act(api, case["id"], "resolve", note="Sorted on the phone."))
    assert api.delete(url, headers=KEY).status_code == 204  # once the case is over, it may go


@pytest.mark.parametrize("step,body", [("reply", {"message": "Hi there"}), ("handback", {}),
                                       ("resolve", {"note": "done"}), ("close", {"note": "dup"})])
def test_staff_steps_work_on_a_case_whose_conversation_is_gone(api, staff_db, step, body):
    made = ask_for_a_person(api)
    _drop_conversation_behind_the_apis_back(staff_db.session_factory, made["conversation_id"])
    [case] = cases(api, staff_id=SAM)
    view = ok(act(api, case["id"], step, **body))
    assert view["transcript"] == []
    if step in ("reply", "resolve"):  # the customer still hears it, by e-mail
        assert [m.kind for m in outbox(staff_db.session_factory)] == [
            "reply" if step == "reply" else "resolved"]


def test_approving_after_the_conversation_is_gone_records_the_result_and_tells_the_customer(
        api, staff_db):
    done, case = high_value_case(api)
    _drop_conversation_behind_the_apis_back(staff_db.session_factory, done["conversation_id"])
    view = ok(act(api, case["id"], "decision", decision="approve", reason="checks out"))
    assert view["decision"] == "approved" and view["decision_result"]["status"] == "success"
    assert refund_cents(staff_db.session_factory, "1044") == [64900]
    assert [m.kind for m in outbox(staff_db.session_factory)] == ["decision"]


def test_an_approval_that_cannot_tell_the_customer_moves_no_money(api, staff_db, monkeypatch):
    """The refund, the decision's result and the customer's message commit together: when the
    last part fails, the money has not moved, the approval is undone and the answer says so."""
    done, case = high_value_case(api)
    real_tell = staff_messages.tell

    def broken(*args, **kwargs):
        raise RuntimeError("mail queue unavailable")
    monkeypatch.setattr(staff_messages, "tell", broken)
    response = act(api, case["id"], "decision", decision="approve", reason="ok")
    assert error_code(response, 503) == "unavailable"
    assert refund_cents(staff_db.session_factory, "1044") == []
    assert cases(api, staff_id=SAM)[0]["decision"] is None
    monkeypatch.setattr(staff_messages, "tell", real_tell)
    view = ok(act(api, case["id"], "decision", decision="approve", reason="ok"))
    assert view["decision_result"]["status"] == "success"
    assert refund_cents(staff_db.session_factory, "1044") == [64900]
    assert [m.kind for m in outbox(staff_db.session_factory)] == ["decision"]


# --- 2. /metrics counts an action once -----------------------------------------------------

def _metric(client, line: str) -> float:
    match = re.search(rf"^{re.escape(line)} (\S+)$", client.get("/metrics").text, re.M)
    return float(match.group(1)) if match else 0.0


RESOLVED_REFUND = 'supportops_resolves_total{action="issue_refund",intent="refund",outcome="success"}'


def test_a_repeated_confirm_is_not_counted_again(client):
    offer = resolve(client, "refund order 1042").json()
    for _ in range(3):
        assert client.post("/support/confirm", headers=KEY, json={
            "user_id": 1, "proposal_id": offer["proposal"]["id"]}).status_code == 200
    assert _metric(client, "supportops_refunds_issued_total") == 1.0
    assert _metric(client, "supportops_refunded_dollars_total") == 59.99
    assert _metric(client, RESOLVED_REFUND) == 1.0


def test_an_idempotent_replay_is_not_counted_again(make_client):
    client = make_client(confirm_actions="when_unsure")
    for _ in range(3):
        body = resolve(client, "I want a refund for order 1042",
                       headers={"Idempotency-Key": "bb5-metrics"}).json()
        assert body["action_result"]["status"] == "success"
    assert _metric(client, "supportops_refunds_issued_total") == 1.0
    assert _metric(client, RESOLVED_REFUND) == 1.0


# --- 3. the Staff API needs staff_id ------------------------------------------------------

def test_a_staff_change_names_its_staff_member_and_a_named_reader_must_be_staff(api, staff_db):
    """SPEC: staff act naming themselves with staff_id, a user whose role is staff, else 403.
    Every change needs one (422 naming the field); the reads in SPEC's table (GET /cases?status=,
    GET /cases/{id}) work with the API key, and a staff_id given there must be staff."""
    ask_for_a_person(api)
    [case] = cases(api, staff_id=SAM)
    for response in (api.post(f"/cases/{case['id']}/assign", json={}, headers=KEY),
                     api.post(f"/cases/{case['id']}/note", json={"body": "x"}, headers=KEY)):
        assert error_code(response, 422) == "validation_error"
        assert response.json()["error"]["message"] == "staff_id: Field required"
    for response in (api.get("/cases?staff_id=1", headers=KEY),
                     api.get(f"/cases/{case['id']}?staff_id=1", headers=KEY)):
        assert error_code(response, 403) == "not_staff"
    assert api.get("/cases?status=open", headers=KEY).json()["cases"][0]["id"] == case["id"]
    assert api.get(f"/cases/{case['id']}", headers=KEY).status_code == 200
    assert cases(api, staff_id=SAM)[0]["status"] == "open"


# --- 4. customer endpoints are scoped by user_id ---------------------------------------------

def test_customer_endpoints_are_scoped_by_the_user_id_given(client):
    """SPEC: every endpoint that takes a user_id is scoped by it — another user's conversation or
    ticket is a 404 exactly like a missing one, and nothing changes."""
    made = resolve(client, "where is order 1043?").json()
    ticket, conversation = made["ticket_id"], made["conversation_id"]
    for response in (client.get(f"/tickets/{ticket}?user_id=2", headers=KEY),
                     client.get(f"/conversation/{conversation}?user_id=2", headers=KEY),
                     client.delete(f"/conversation/{conversation}?user_id=2", headers=KEY),
                     client.post(f"/tickets/{ticket}/feedback", json={"satisfied": True,
                                                                      "user_id": 2},
                                 headers=KEY)):
        assert response.status_code == 404, response.text
    assert error_code(client.get("/tickets", headers=KEY), 422) == "validation_error"
    assert client.get(f"/conversation/{conversation}?user_id=1", headers=KEY).status_code == 200
    assert client.get(f"/tickets/{ticket}?user_id=1", headers=KEY).json()["satisfied"] is None
    # in the body, as the portal sends it, or in the query: both are fine
    assert client.post(f"/tickets/{ticket}/feedback", json={"satisfied": True, "user_id": 1},
                       headers=KEY).status_code == 200


# --- 5. feedback waits for the customer's answer to an offer ------------------------------

def test_feedback_while_an_offer_is_open_is_refused_and_changes_nothing(client, fresh_db):
    offer = resolve(client, "refund order 1042").json()
    assert offer["action_result"]["status"] == "needs_confirmation"
    response = client.post(f"/tickets/{offer['ticket_id']}/feedback?user_id=1",
                           json={"satisfied": False, "rating": 1}, headers=KEY)
    assert error_code(response, 409) == "offer_open"
    assert "offer" in response.json()["error"]["message"]
    with transaction(fresh_db.session_factory) as s:
        ticket = s.get(Ticket, offer["ticket_id"])
        assert ticket.satisfied is None and ticket.status != "escalated"
        assert s.scalars(select(EscalationCase)).all() == []
        assert s.get(Proposal, offer["proposal"]["id"]).state == "proposed"
    done = client.post("/support/confirm", headers=KEY, json={
        "user_id": 1, "proposal_id": offer["proposal"]["id"]}).json()
    assert done["action_result"]["status"] == "success"
    assert client.post(f"/tickets/{offer['ticket_id']}/feedback?user_id=1",
                       json={"satisfied": True}, headers=KEY).status_code == 200


# --- 6. error messages ----------------------------------------------------------------------

def test_a_missing_field_called_body_is_named(api, staff_db):
    ask_for_a_person(api)
    [case] = cases(api, staff_id=SAM)
    response = act(api, case["id"], "note")
    assert error_code(response, 422) == "validation_error"
    assert response.json()["error"]["message"] == "body: Field required"


def test_a_body_that_is_not_json_gets_a_plain_message(client):
    response = client.post("/support/resolve", content=b"{not json",
                           headers={**KEY, "content-type": "application/json"})
    assert error_code(response, 422) == "validation_error"
    assert response.json()["error"]["message"] == "The request body is not valid JSON."


def test_handing_back_an_undecided_case_reads_well(api, staff_db):
    _, case = high_value_case(api)
    response = act(api, case["id"], "handback")
    assert error_code(response, 409) == "decision_pending"
    assert "hand it back" in response.json()["error"]["message"]


@pytest.mark.parametrize("conversation_id", ["", "   "])
def test_an_empty_conversation_id_is_refused(client, conversation_id):
    response = resolve(client, "where is order 1043?", conversation_id=conversation_id)
    assert error_code(response, 422) == "validation_error"
    assert response.json()["error"]["message"].startswith("conversation_id:")
