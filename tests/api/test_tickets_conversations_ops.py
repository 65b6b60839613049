"""Tickets, feedback (R6), conversations, health and metrics."""

from dataclasses import replace

from sqlalchemy import create_engine, select

from db.engine import transaction
from db.models import EscalationCase
from tests.api.conftest import KEY, resolve


def test_ticket_list_and_detail(client):
    made = resolve(client, "where is order 1043?").json()
    listing = client.get("/tickets?user_id=1", headers=KEY).json()
    assert listing["user_id"] == 1 and listing["tickets"][0]["ticket_id"] == made["ticket_id"]
    ticket = client.get(f"/tickets/{made['ticket_id']}?user_id=1", headers=KEY).json()
    assert ticket["status"] == "resolved" and ticket["action"] == "get_order_status"
    assert ticket["user_input"] == "where is order 1043?"
    assert client.get(f"/tickets/{made['ticket_id']}?user_id=2", headers=KEY).status_code == 404
    assert client.get("/tickets/999999?user_id=1", headers=KEY).status_code == 404
    assert client.get("/tickets?user_id=424242", headers=KEY).status_code == 404
    assert client.get("/tickets", headers=KEY).status_code == 422


def test_unsatisfied_feedback_escalates_once(client, fresh_db):
    made = resolve(client, "where is order 1043?").json()
    url = f"/tickets/{made['ticket_id']}/feedback?user_id=1"
    response = client.post(url, json={"satisfied": False, "rating": 2, "comment": "too slow"},
                           headers=KEY)
    assert response.status_code == 200
    body = response.json()
    assert body["status"] == "escalated" and body["escalated"] is True
    assert body["satisfied"] is False and body["rating"] == 2
    again = client.post(url, json={"satisfied": True, "rating": 5}, headers=KEY)
    assert again.status_code == 409
    assert again.json()["error"]["code"] == "feedback_already_given"
    kept = client.get(f"/tickets/{made['ticket_id']}?user_id=1", headers=KEY).json()
    assert (kept["satisfied"], kept["rating"], kept["feedback_comment"]) == (False, 2, "too slow")
    with transaction(fresh_db.session_factory) as s:
        cases = s.scalars(select(EscalationCase)).all()
        assert [(c.kind, c.priority, c.ticket_id) for c in cases] == [
            ("unsatisfied", "normal", made["ticket_id"])]


def test_satisfied_feedback_is_stored(client):
    made = resolve(client, "where is order 1043?").json()
    body = client.post(f"/tickets/{made['ticket_id']}/feedback",
                       json={"satisfied": True, "rating": 5, "user_id": 1}, headers=KEY).json()
    assert body["satisfied"] is True and body["status"] == "resolved"


def test_feedback_validation(client):
    made = resolve(client, "hi").json()
    url = f"/tickets/{made['ticket_id']}/feedback?user_id=1"
    for bad in ({}, {"satisfied": "maybe"}, {"satisfied": True, "rating": 6},
                {"satisfied": True, "rating": 0}, {"satisfied": True, "comment": "x" * 2001}):
        assert client.post(url, json=bad, headers=KEY).status_code == 422
    assert client.post("/tickets/0/feedback?user_id=1", json={"satisfied": True},
                       headers=KEY).status_code == 404
    assert client.post(url + "&x=1", json={"satisfied": True, "user_id": 2},
                       headers=KEY).status_code == 404


def test_feedback_is_scoped_by_the_query_user_too(client, fresh_db):
    """Found by review: `?user_id=OTHER` rated and escalated another user's ticket."""
    made = resolve(client, "where is order 1043?").json()
    url = f"/tickets/{made['ticket_id']}/feedback"
    for query, body in (("?user_id=2", {}), ("?user_id=2", {"user_id": 1}),
                        ("?user_id=1", {"user_id": 2})):
        response = client.post(url + query, json={"satisfied": False, **body}, headers=KEY)
        assert response.status_code == 404 and response.json()["error"]["code"] == "ticket_not_found"
    ticket = client.get(f"/tickets/{made['ticket_id']}?user_id=1", headers=KEY).json()
    assert ticket["satisfied"] is None and ticket["status"] == "resolved"
    with transaction(fresh_db.session_factory) as s:
        assert s.scalars(select(EscalationCase)).all() == []
    assert client.post(url + "?user_id=1", json={"satisfied": True},
                       headers=KEY).status_code == 200


def test_concurrent_unsatisfied_feedback_opens_one_case(client, fresh_db):
    from concurrent.futures import ThreadPoolExecutor

    made = resolve(client, "where is order 1043?").json()
    url = f"/tickets/{made['ticket_id']}/feedback?user_id=1"
    with ThreadPoolExecutor(max_workers=6) as pool:
        codes = sorted(pool.map(lambda _: client.post(url, json={"satisfied": False},
                                                      headers=KEY).status_code, range(6)))
    assert codes == [200, 409, 409, 409, 409, 409]
    with transaction(fresh_db.session_factory) as s:
        assert len(s.scalars(select(EscalationCase)).all()) == 1


def test_conversation_read_and_delete(client):
    made = resolve(client, "where is order 1043?").json()
    url = f"/conversation/{made['conversation_id']}"
    view = client.get(url + "?user_id=1", headers=KEY).json()
    assert [m["role"] for m in view["messages"]] == ["user", "assistant"]
    assert view["user_id"] == 1 and view["ticket_id"] == made["ticket_id"]
    assert client.get(url + "?user_id=2", headers=KEY).status_code == 404
    assert client.delete(url + "?user_id=2", headers=KEY).status_code == 404
    assert client.delete(url + "?user_id=1", headers=KEY).status_code == 204
    assert client.get(url + "?user_id=1", headers=KEY).status_code == 404
    assert client.delete(url + "?user_id=1", headers=KEY).status_code == 404
    assert client.get(f"/tickets/{made['ticket_id']}?user_id=1", headers=KEY).status_code == 200


def test_health_reports_database_index_and_mode(client):
    body = client.get("/health").json()
    assert body["database"] == "ok" and body["agent_mode"] == "offline"
    assert body["index"]["sections"] > 20


def test_health_is_503_when_the_database_is_unreachable(api_settings, fresh_db):
    from fastapi.testclient import TestClient

    from api.main import create_app
    broken = replace(fresh_db, engine=create_engine(
        "postgresql+psycopg://nobody@127.0.0.1:1/none", connect_args={"connect_timeout": 2}))
    response = TestClient(create_app(api_settings, broken)).get("/health")
    assert response.status_code == 503 and response.json()["database"] == "unreachable"
    assert response.json()["status"] == "degraded"


def test_metrics_count_requests_resolves_refunds_and_escalations(client):
    offer = resolve(client, "refund order 1042").json()
    client.post("/support/confirm", headers=KEY,
                json={"user_id": 1, "proposal_id": offer["proposal"]["id"]})
    resolve(client, "I want to speak to a human")
    text = client.get("/metrics").text
    assert 'supportops_resolves_total{action="issue_refund",intent="refund",outcome="success"} 1.0' in text
    assert "supportops_refunds_issued_total 1.0" in text
    assert 'supportops_escalations_total{source="resolve"} 1.0' in text
    assert 'supportops_http_requests_total{method="POST",route="/support/resolve",status="200"} 2.0' in text
    assert "supportops_http_request_duration_seconds_bucket" in text


def test_feedback_comment_is_stored_redacted(client):
    made = resolve(client, "where is order 1043?").json()
    body = client.post(f"/tickets/{made['ticket_id']}/feedback?user_id=1", headers=KEY, json={
        "satisfied": False, "comment": "call +1 (415) 555-0132 or jane.doe@gmail.com"}).json()
    assert "jane.doe@gmail.com" not in str(body) and "555-0132" not in str(body)
    assert "[EMAIL]" in body["feedback_comment"]
