"""SPEC R11 over HTTP: propose -> confirm -> execute, exactly once; nothing moves without a yes."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select, update

from agents.factory import services_for
from api.main import create_app
from db.engine import transaction
from db.fixture_schema import parse_fixture
from db.models import Order, Proposal, Refund, Ticket, utcnow
from db.seed import load_fixture
from tests.api.conftest import KEY, resolve, shop
from tests.api.test_resolve import refund_count


def confirm(client, proposal_id, user_id=1):
    return client.post("/support/confirm", headers=KEY,
                       json={"user_id": user_id, "proposal_id": proposal_id})


def audit(api_settings, **match):
    import json

    lines = [json.loads(x) for x in api_settings.audit_log_path.read_text().splitlines()]
    return [x for x in lines if all(x.get(k) == v for k, v in match.items())]


def offer(client, text="I want a refund for order 1042", user_id=1, **kw):
    body = resolve(client, text, user_id=user_id, **kw).json()
    assert body["action_result"]["status"] == "needs_confirmation", body
    return body


def test_proposal_says_exactly_what_will_happen_and_changes_nothing(client, fresh_db):
    body = offer(client)
    p = body["proposal"]
    assert (body["action"], body["order_id"], body["escalated"]) == ("issue_refund", "1042", False)
    assert (p["action"], p["order_id"], p["amount"], p["needs_approval"]) == (
        "issue_refund", "1042", 59.99, False)
    assert p["items"] == [{"name": "Item 1042", "qty": 1}]
    for fact in ("$59.99", "#1042", "Item 1042", "original payment method", "go ahead"):
        assert fact in body["response"]
    assert "R11" not in body["response"] and "%" not in body["response"]
    assert "proposal" not in body["action_result"]
    assert refund_count(fresh_db) == 0
    ticket = client.get(f"/tickets/{body['ticket_id']}?user_id=1", headers=KEY).json()
    assert ticket["status"] == "awaiting_customer"
    assert [a["status"] for a in ticket["actions"]] == ["needs_confirmation"]


def test_yes_in_the_conversation_runs_it_once(client, fresh_db, api_settings):
    body = offer(client)
    done = resolve(client, "yes please", conversation_id=body["conversation_id"]).json()
    assert done["action_result"]["status"] == "success" and done["proposal"] is None
    assert done["ticket_id"] == body["ticket_id"]
    assert refund_count(fresh_db, order_id="1042") == 1
    again = resolve(client, "yes", conversation_id=body["conversation_id"]).json()
    assert again["action"] != "issue_refund" or again["action_result"]["status"] != "success"
    assert refund_count(fresh_db, order_id="1042") == 1
    pid = body["proposal"]["id"]
    events = [(x["tool"], x["outcome"], x["details"].get("proposal_event"))
              for x in audit(api_settings, conversation_id=body["conversation_id"])
              if x["details"].get("proposal_id") == pid]
    assert events == [("issue_refund", "needs_confirmation", "created"),
                      ("issue_refund", "success", "confirmed")]
    # The button on the card now returns the same result instead of running it again.
    replay = confirm(client, pid)
    assert replay.status_code == 200 and replay.json() == done


def test_no_drops_it_and_a_later_yes_does_nothing(client, fresh_db, api_settings):
    body = offer(client, "cancel order 2002", user_id=2)
    no = resolve(client, "no thanks", user_id=2, conversation_id=body["conversation_id"]).json()
    assert no["action"] == "none" and no["proposal"] is None
    assert "haven't cancelled order #2002" in no["response"]
    late = resolve(client, "yes", user_id=2, conversation_id=body["conversation_id"]).json()
    assert late["action"] == "none" and "nothing has changed" in late["response"]
    assert confirm(client, body["proposal"]["id"], user_id=2).status_code == 409
    with transaction(fresh_db.session_factory) as s:
        assert s.get(Order, "2002").status == "pending"
        assert s.get(Proposal, body["proposal"]["id"]).state == "dropped"
    [dropped] = [x for x in audit(api_settings, tool="proposal")
                 if x["details"]["proposal_id"] == body["proposal"]["id"]]
    assert dropped["details"]["proposal_event"] == "dropped" and dropped["user_id"] == 2


def test_an_unrelated_message_drops_it_and_is_answered_as_itself(client, fresh_db):
    body = offer(client)
    other = resolve(client, "where is order 1043?", conversation_id=body["conversation_id"])
    assert other.json()["action"] == "get_order_status"
    gone = confirm(client, body["proposal"]["id"])
    assert gone.status_code == 409 and gone.json()["error"]["code"] == "proposal_dropped"
    late = resolve(client, "yes", conversation_id=body["conversation_id"]).json()
    assert late["action"] == "none"
    assert refund_count(fresh_db) == 0


def test_an_acknowledgement_asks_again_and_keeps_the_offer(client, fresh_db):
    body = offer(client)
    ack = resolve(client, "thanks", conversation_id=body["conversation_id"]).json()
    assert ack["action_result"]["status"] == "needs_confirmation"
    assert ack["proposal"]["id"] == body["proposal"]["id"] and "$59.99" in ack["response"]
    assert refund_count(fresh_db) == 0
    assert confirm(client, body["proposal"]["id"]).json()["action_result"]["status"] == "success"


def test_expired_proposal_is_409_and_a_late_yes_makes_a_fresh_offer(client, fresh_db,
                                                                       api_settings):
    body = offer(client)
    with transaction(fresh_db.session_factory) as s:
        s.execute(update(Proposal).values(expires_at=utcnow() - timedelta(minutes=1)))
    gone = confirm(client, body["proposal"]["id"])
    assert gone.status_code == 409 and gone.json()["error"]["code"] == "proposal_expired"
    assert refund_count(fresh_db) == 0
    assert [x["details"]["proposal_event"] for x in audit(api_settings, tool="proposal")
            if x["details"]["proposal_id"] == body["proposal"]["id"]] == ["expired"]

    second = offer(client)
    with transaction(fresh_db.session_factory) as s:
        s.execute(update(Proposal).where(Proposal.id == second["proposal"]["id"])
                  .values(expires_at=utcnow() - timedelta(seconds=1)))
    late = resolve(client, "yes", conversation_id=second["conversation_id"]).json()
    assert late["action_result"]["status"] == "needs_confirmation"
    assert late["proposal"]["id"] != second["proposal"]["id"] and "expired" in late["response"]
    assert refund_count(fresh_db) == 0


def test_another_users_or_unknown_proposal_is_404_and_runs_nothing(client, fresh_db):
    body = offer(client)
    for user_id, pid in ((2, body["proposal"]["id"]), (1, "p_nope"), (99, body["proposal"]["id"])):
        response = confirm(client, pid, user_id=user_id)
        assert response.status_code == 404
        assert response.json()["error"]["code"] == "proposal_not_found"
    assert refund_count(fresh_db) == 0
    assert confirm(client, body["proposal"]["id"]).status_code == 200
    bad = client.post("/support/confirm", headers=KEY, json={"user_id": "1", "proposal_id": "x"})
    assert bad.status_code == 422


def test_not_now_button_drops_it(client, fresh_db):
    body = offer(client)
    response = client.post("/support/decline", headers=KEY,
                           json={"user_id": 1, "proposal_id": body["proposal"]["id"]})
    assert response.status_code == 200 and response.json()["action"] == "none"
    assert confirm(client, body["proposal"]["id"]).status_code == 409
    assert refund_count(fresh_db) == 0


def test_the_rules_are_checked_again_at_confirmation(client, fresh_db):
    first = offer(client)
    second = offer(client)  # the same refund proposed in another conversation
    assert confirm(client, second["proposal"]["id"]).json()["action_result"]["status"] == "success"
    late = confirm(client, first["proposal"]["id"])
    assert late.status_code == 200
    result = late.json()["action_result"]
    assert result["status"] == "denied" and "R8" in result["reason"]
    assert refund_count(fresh_db, order_id="1042") == 1


def test_a_conversation_can_confirm_only_its_own_proposal(client, fresh_db):
    mine = offer(client)
    other = resolve(client, "hello").json()
    # A "yes" in another conversation confirms nothing.
    assert resolve(client, "yes", conversation_id=other["conversation_id"]).json()[
        "action"] == "none"
    assert refund_count(fresh_db) == 0
    assert confirm(client, mine["proposal"]["id"]).status_code == 200


def test_when_unsure_mode_runs_confident_requests_at_once(make_client, fresh_db):
    client = make_client(confirm_actions="when_unsure")
    body = resolve(client, "I want a refund for order 1042").json()
    assert body["action_result"]["status"] == "success" and body["proposal"] is None
    assert refund_count(fresh_db, order_id="1042") == 1
    hedged = resolve(client, "maybe cancel order 1043? not sure").json()
    assert hedged["action_result"]["status"] in ("needs_info", "denied")


def test_deleting_the_conversation_withdraws_its_proposal(client, fresh_db):
    body = offer(client)
    assert client.delete(f"/conversation/{body['conversation_id']}?user_id=1",
                         headers=KEY).status_code == 204
    assert confirm(client, body["proposal"]["id"]).status_code == 409
    assert refund_count(fresh_db) == 0


@pytest.mark.parametrize("backend", ["sqlite", "postgresql"])
def test_twenty_concurrent_confirmations_run_one_action(backend, request, services, tmp_path):
    """R11 exactly once, on both backends: 20 presses of Confirm at the same moment."""
    if backend == "sqlite":
        settings = services.agent.settings.model_copy(update={
            "database_url": f"sqlite:///{tmp_path / 'c.db'}",
            "audit_log_path": tmp_path / "audit.jsonl"})
    else:
        settings = request.getfixturevalue("any_backend_pg").model_copy(update={
            "audit_log_path": tmp_path / "audit.jsonl"})
    own = services_for(settings, services)
    try:
        load_fixture(own.session_factory, parse_fixture(shop()), reset=True)
        client = TestClient(create_app(settings, own), raise_server_exceptions=False)
        body = offer(client)
        with ThreadPoolExecutor(max_workers=20) as pool:
            responses = list(pool.map(lambda _: confirm(client, body["proposal"]["id"]),
                                      range(20)))
        assert [r.status_code for r in responses] == [200] * 20
        results = {(r.json()["action_result"]["status"], r.json()["action_result"].get(
            "refund_id")) for r in responses}
        assert len(results) == 1 and next(iter(results))[0] == "success"
        with transaction(own.session_factory) as s:
            assert len(s.scalars(select(Refund)).all()) == 1
            assert s.get(Ticket, body["ticket_id"]).status == "resolved"
        confirmed = [x for x in audit(settings, tool="issue_refund")
                     if x["details"].get("proposal_event") == "confirmed"]
        assert len(confirmed) == 1
    finally:
        own.close()


def test_a_ticket_keeps_every_action_and_thanks_does_not_replace_the_headline(client, fresh_db):
    first = offer(client, "refund order 1042 please")
    conv = first["conversation_id"]
    refunded = resolve(client, "yes", conversation_id=conv).json()
    resolve(client, "where is order 1043?", conversation_id=conv)
    offer(client, "and refund order 1044 too", conversation_id=conv)
    held = resolve(client, "go ahead", conversation_id=conv).json()
    resolve(client, "thanks!", conversation_id=conv)
    ticket = client.get(f"/tickets/{first['ticket_id']}?user_id=1", headers=KEY).json()
    assert [(a["action"], a["order_id"], a["status"]) for a in ticket["actions"]] == [
        ("issue_refund", "1042", "needs_confirmation"), ("issue_refund", "1042", "success"),
        ("get_order_status", "1043", "success"), ("issue_refund", "1044", "needs_confirmation"),
        ("issue_refund", "1044", "escalated")]
    assert ticket["actions"][1]["response"] == refunded["response"]
    assert ticket["actions"][3]["request"] == "and refund order 1044 too"
    # The headline is the latest consequential outcome, with its own words and reply.
    assert (ticket["action"], ticket["order_id"], ticket["action_result"]["status"]) == (
        "issue_refund", "1044", "escalated")
    assert ticket["response"] == held["response"]
    assert ticket["user_input"] == "and refund order 1044 too"
    assert ticket["status"] == "escalated"


def test_an_offer_left_to_run_out_is_recorded_as_expired(client, fresh_db, api_settings):
    body = offer(client)
    with transaction(fresh_db.session_factory) as s:
        s.execute(update(Proposal).values(expires_at=utcnow() - timedelta(minutes=1)))
    resolve(client, "hello")  # any later message from the customer, in any conversation
    with transaction(fresh_db.session_factory) as s:
        assert s.get(Proposal, body["proposal"]["id"]).state == "expired"
    [expired] = [x for x in audit(api_settings, tool="proposal")
                 if x["details"]["proposal_id"] == body["proposal"]["id"]]
    assert expired["details"]["proposal_event"] == "expired"
    assert refund_count(fresh_db) == 0
