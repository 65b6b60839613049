"""SPEC R12: an order (or, without one, a ticket) has at most one open escalation case; a
repeat adds a dated note to it and the customer is told the team already has it."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from db.engine import transaction
from db.models import CaseNote, EscalationCase
from tests.agents.offline_shop import build_shop, cases, refund_rows, says_yes
from tests.conftest import iso, order, users


@pytest.fixture(scope="module")
def shop(tmp_path_factory):
    services = build_shop(tmp_path_factory, "r12", {
        "users": users(1, 2, 3, 4),
        "orders": [order("5001", 1, "delivered", 649.00, delivered_days_ago=3),
                   order("5101", 2, "delivered", 30.00, delivered_days_ago=3),
                   order("5102", 2, "delivered", 31.00, delivered_days_ago=4),
                   order("5103", 2, "delivered", 32.00, delivered_days_ago=5),
                   order("5201", 3, "shipped", 20.00),
                   order("5301", 4, "delivered", 25.00, delivered_days_ago=3)],
        "refunds": [{"order_id": "5102", "user_id": 2, "amount": 31.00, "created_at": iso(3)},
                    {"order_id": "5103", "user_id": 2, "amount": 32.00, "created_at": iso(4)}]})
    yield services
    services.close()


def notes(shop, case_id: int) -> list[str]:
    with transaction(shop.session_factory) as s:
        return [n.body for n in s.scalars(select(CaseNote).where(CaseNote.case_id == case_id))]


def open_cases(shop, user_id: int) -> list[EscalationCase]:
    with transaction(shop.session_factory) as s:
        return list(s.scalars(select(EscalationCase).where(EscalationCase.user_id == user_id)))


def test_a_repeated_high_value_request_adds_to_the_waiting_case(shop):
    agent = shop.agent
    first = says_yes(agent, 1, agent.resolve(1, "refund order 5001 please, it's faulty"))
    assert first["action_result"]["status"] == "escalated"
    again = agent.resolve(1, "I asked for a refund of order 5001, any news?? refund it")
    assert again["action_result"]["status"] == "escalated" and again["proposal"] is None
    assert again["action_result"]["existing_case"] is True
    assert again["action_result"]["escalation_id"] == first["action_result"]["escalation_id"]
    assert "already has your case" in again["response"]
    [case] = cases(shop, 1)
    assert case["kind"] == "high_value"
    [note] = notes(shop, again["action_result"]["escalation_id"])
    assert "raised again" in note and f"ticket #{again['ticket_id']}" in note
    assert refund_rows(shop, user_id=1) == []


def test_the_fraud_limit_repeated_opens_one_review(shop):
    agent = shop.agent
    first = agent.resolve(2, "refund order 5101")
    second = agent.resolve(2, "refund order 5101 now please")
    assert first["action_result"]["status"] == second["action_result"]["status"] == "denied"
    assert first["proposal"] is None and second["proposal"] is None  # denials are not proposed
    assert [c["kind"] for c in cases(shop, 2)] == ["fraud"]
    assert second["action_result"]["existing_case"] is True


def test_asking_for_a_person_twice_in_one_ticket_is_one_case(shop):
    agent = shop.agent
    first = agent.resolve(3, "I want to talk to a human please")
    second = agent.resolve(3, "hello?? a real person please", first["conversation_id"])
    assert first["escalated"] and second["escalated"]
    assert len(open_cases(shop, 3)) == 1
    assert "already" in second["response"]


def test_a_frustrated_repeat_about_the_same_order_raises_the_priority(shop):
    agent = shop.agent
    agent.resolve(4, "can I speak to someone about order 5301")
    agent.resolve(4, "THIS IS THE THIRD TIME I'M ASKING ABOUT ORDER 5301!!! useless")
    [case] = open_cases(shop, 4)
    assert case.priority == "high" and case.order_id == "5301"
