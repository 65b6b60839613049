"""End to end through SupportAgent.resolve: every intent and rule, on a real SQLite shop.

One agent per module (real MiniLM, FAISS index and intent model); every scenario has its own
customer, so the assertions on the database are exact.
"""

from __future__ import annotations

import pytest
from sqlalchemy import select

from agents.agent import SupportAgent
from agents.errors import NotFound
from audit.audit_log import AuditLog
from db.engine import make_engine, make_session_factory, transaction
from db.models import Conversation, Message
from tests.agents.offline_shop import (
    audit_lines,
    build_shop,
    cases,
    count_orders,
    order_row,
    refund_rows,
    replacement_rows,
    says_yes,
    ticket,
)
from tests.conftest import iso, order, users
from tools.registry import ToolRunner

SHOP = {
    "users": users(*range(1, 25)),
    "orders": [
        order("1101", 1, "delivered", 59.99, delivered_days_ago=5),
        order("1201", 2, "delivered", 20.00, delivered_days_ago=45, ordered_days_ago=50),
        order("1301", 3, "delivered", 899.00, delivered_days_ago=2),
        order("1401", 4, "delivered", 15.00, delivered_days_ago=20),
        order("1402", 4, "delivered", 16.00, delivered_days_ago=20),
        order("1403", 4, "delivered", 25.00, delivered_days_ago=3),
        order("1501", 5, "pending", 30.00),
        order("1502", 5, "shipped", 31.00),
        order("1503", 5, "cancelled", 32.00),
        order("1601", 6, "delivered", 45.00, delivered_days_ago=4,
              items=[{"sku": "VASE-1", "name": "Glass vase", "qty": 2, "price": 22.50}]),
        order("1701", 7, "shipped", 12.00),
        order("1702", 7, "processing", 13.00),
        order("2001", 10, "delivered", 20.00, delivered_days_ago=3),
        order("2002", 10, "delivered", 21.00, delivered_days_ago=100,
              ordered_days_ago=105),
        order("2003", 10, "shipped", 22.00),
        order("2101", 11, "delivered", 20.00, delivered_days_ago=3),
        order("2102", 11, "delivered", 35.00, delivered_days_ago=4),
        order("2201", 12, "delivered", 40.00, delivered_days_ago=3),
        order("2301", 13, "delivered", 23.00, delivered_days_ago=3),
        order("2302", 13, "delivered", 24.00, delivered_days_ago=6),
        order("2401", 14, "delivered", 18.00, delivered_days_ago=2),
        order("2501", 15, "delivered", 77.00, delivered_days_ago=2),
        order("2601", 16, "delivered", 61.00, delivered_days_ago=3),
        order("2602", 16, "delivered", 62.00, delivered_days_ago=5),
        order("2701", 17, "delivered", 19.00, delivered_days_ago=8),
        order("2801", 18, "delivered", 640.00, delivered_days_ago=1),
        order("2802", 18, "delivered", 10.00, delivered_days_ago=90, ordered_days_ago=95),
        order("2901", 19, "delivered", 33.00, delivered_days_ago=6),
        order("2902", 19, "delivered", 34.00, delivered_days_ago=7),
        order("2903", 19, "pending", 35.00),
        order("3001", 20, "delivered", 700.00, delivered_days_ago=2),
        order("3002", 20, "delivered", 20.00, delivered_days_ago=3),
    ],
    "refunds": [
        {"order_id": "1401", "user_id": 4, "amount": 15.00, "created_at": iso(5)},
        {"order_id": "1402", "user_id": 4, "amount": 16.00, "created_at": iso(12)},
    ],
}


@pytest.fixture(scope="module")
def shop(tmp_path_factory):
    services = build_shop(tmp_path_factory, "pipeline", SHOP)
    yield services
    services.close()


@pytest.fixture(scope="module")
def agent(shop) -> SupportAgent:
    return shop.agent


def assert_sources(reply: dict, expected_source: str | None = None):
    assert reply["policy_sources"], reply
    for src in reply["policy_sources"]:
        assert set(src) == {"source", "section", "score"}
        assert src["source"].endswith(".md") and src["section"] and isinstance(src["score"], float)
    if expected_source:
        assert reply["policy_sources"][0]["source"] == expected_source, reply["policy_sources"]


# --- refunds (R2, R2a, R2b) -----------------------------------------------------------------

def test_refund_success(agent, shop):
    offer = agent.resolve(1, "I want a refund for order #1101, it arrived broken",
                          request_id="req-offer-1")
    assert (offer["intent"], offer["action"], offer["order_id"]) == ("refund", "issue_refund", "1101")
    assert offer["proposal"]["amount"] == 59.99 and "$59.99" in offer["response"]
    assert "Item 1101" in offer["response"] and "original payment method" in offer["response"]
    assert refund_rows(shop, user_id=1) == []
    assert ticket(shop, offer["ticket_id"])["status"] == "awaiting_customer"
    [created] = audit_lines(shop, request_id="req-offer-1")
    assert (created["tool"], created["outcome"]) == ("issue_refund", "needs_confirmation")
    assert created["details"]["proposal_id"] == offer["proposal"]["id"]

    reply = says_yes(agent, 1, offer, request_id="req-refund-1")
    assert (reply["intent"], reply["action"], reply["order_id"]) == ("refund", "issue_refund", "1101")
    result = reply["action_result"]
    assert result["status"] == "success" and result["amount"] == 59.99 and result["refund_id"]
    assert result["reason"].startswith("R2")
    assert "$59.99" in reply["response"]
    assert reply["confidence"] >= 0.6 and reply["mode"] == "offline" and not reply["escalated"]
    assert_sources(reply, "refund_policy.md")
    assert refund_rows(shop, user_id=1) == [("1101", 5999, "refund")]
    assert ticket(shop, reply["ticket_id"])["status"] == "resolved"

    lines = audit_lines(shop, request_id="req-refund-1")
    assert [line["tool"] for line in lines] == ["issue_refund"]
    assert lines[0]["conversation_id"] == reply["conversation_id"]
    assert lines[0]["ticket_id"] == reply["ticket_id"]
    assert (lines[0]["user_id"], lines[0]["order_id"], lines[0]["outcome"]) == (1, "1101", "success")

    assert lines[0]["details"]["proposal_event"] == "confirmed"

    again = agent.resolve(1, "refund order 1101 again please")
    assert again["action_result"]["status"] == "denied" and "R8" in again["action_result"]["reason"]
    assert again["proposal"] is None
    assert refund_rows(shop, user_id=1) == [("1101", 5999, "refund")]


def test_refund_outside_the_window_is_denied(agent, shop):
    reply = agent.resolve(2, "refund order 1201 please")
    assert reply["action"] == "issue_refund"
    assert reply["action_result"]["status"] == "denied"
    assert "R2 refund window" in reply["action_result"]["reason"]
    assert "45 days" in reply["response"] and "30 days" in reply["response"]
    assert_sources(reply, "refund_policy.md")
    assert refund_rows(shop, user_id=2) == []
    assert ticket(shop, reply["ticket_id"])["status"] == "resolved"


def test_high_value_refund_is_escalated_for_approval(agent, shop):
    offer = agent.resolve(3, "Please refund order 1301, I don't need it anymore")
    assert offer["proposal"]["needs_approval"] is True and not offer["escalated"]
    assert "approval" in offer["response"] and "$899.00" in offer["response"]
    assert cases(shop, 3) == []
    reply = says_yes(agent, 3, offer, "yes please go ahead")
    assert reply["action"] == "issue_refund" and reply["escalated"] is True
    assert reply["action_result"]["status"] == "escalated"
    assert "R2a" in reply["action_result"]["reason"]
    assert "$899.00" in reply["response"]
    assert refund_rows(shop, user_id=3) == []
    [case] = cases(shop, 3)
    assert (case["kind"], case["priority"], case["order_id"]) == ("high_value", "high", "1301")
    assert case["ticket_id"] == reply["ticket_id"]
    assert ticket(shop, reply["ticket_id"])["status"] == "escalated"


def test_fraud_limit_denies_and_escalates(agent, shop):
    reply = agent.resolve(4, "I want a refund for order 1403")
    assert reply["action"] == "issue_refund"
    assert reply["action_result"]["status"] == "denied" and reply["escalated"] is True
    assert "R2b" in reply["action_result"]["reason"]
    assert refund_rows(shop, order_id="1403") == []
    [case] = cases(shop, 4)
    assert (case["kind"], case["priority"], case["order_id"]) == ("fraud", "high", "1403")
    assert ticket(shop, reply["ticket_id"])["status"] == "escalated"
    assert_sources(reply)
    assert reply["policy_sources"][0]["section"] == "Limit on refunds per customer"


# --- cancel (R3) ------------------------------------------------------------------------------

def test_cancel_pending_order(agent, shop):
    offer = agent.resolve(5, "please cancel order 1501")
    assert (offer["intent"], offer["action"]) == ("cancel", "cancel_order")
    assert order_row(shop, "1501")["status"] == "pending" and "$30.00" in offer["response"]
    reply = says_yes(agent, 5, offer, "ok do it")
    assert (reply["intent"], reply["action"]) == ("cancel", "cancel_order")
    assert reply["action_result"]["status"] == "success" and reply["action_result"]["amount"] == 30.0
    assert "$30.00" in reply["response"]
    assert order_row(shop, "1501")["status"] == "cancelled"
    assert refund_rows(shop, order_id="1501") == [("1501", 3000, "cancellation")]
    assert_sources(reply, "cancellation_policy.md")
    assert ticket(shop, reply["ticket_id"])["status"] == "resolved"


def test_cancel_shipped_order_is_denied_with_the_refund_path(agent, shop):
    reply = agent.resolve(5, "cancel order 1502")
    assert reply["action"] == "cancel_order" and reply["action_result"]["status"] == "denied"
    assert "R3" in reply["action_result"]["reason"]
    assert "refund" in reply["response"].lower() and "shipped" in reply["response"]
    assert order_row(shop, "1502")["status"] == "shipped"
    assert refund_rows(shop, order_id="1502") == []


def test_cancel_already_cancelled_changes_nothing(agent, shop):
    reply = agent.resolve(5, "cancel order 1503")
    assert reply["action_result"]["status"] == "denied"
    assert "already cancelled" in reply["action_result"]["reason"]
    assert refund_rows(shop, order_id="1503") == []


# --- replacement (R4) -------------------------------------------------------------------------

def test_replacement_for_a_cracked_item_creates_a_linked_order(agent, shop):
    before = count_orders(shop)
    offer = agent.resolve(6, "order 1601 arrived cracked, can you send a new one?")
    assert (offer["intent"], offer["action"]) == ("replacement", "create_replacement")
    assert offer["proposal"]["amount"] == 0 and "2 × Glass vase" in offer["response"]
    assert count_orders(shop) == before
    reply = says_yes(agent, 6, offer, "yes please")
    assert (reply["intent"], reply["action"]) == ("replacement", "create_replacement")
    result = reply["action_result"]
    assert result["status"] == "success" and result["reason"].startswith("R4")
    new_id = result["replacement_order_id"]
    assert new_id in reply["response"]
    assert count_orders(shop) == before + 1
    assert order_row(shop, new_id) == {"status": "processing", "total_cents": 0, "user_id": 6,
                                       "replacement_for": "1601", "items": [("VASE-1", 2)]}
    assert replacement_rows(shop, 6) == [("1601", new_id, "damaged")]
    assert refund_rows(shop, user_id=6) == []
    assert_sources(reply, "replacement_policy.md")

    again = agent.resolve(6, "order 1601 is cracked, send another one")
    assert again["action_result"]["status"] == "denied"
    assert count_orders(shop) == before + 1


# --- status (R5) ------------------------------------------------------------------------------

def test_status_reports_carrier_and_tracking(agent, shop):
    reply = agent.resolve(7, "where is my order 1701?")
    assert (reply["intent"], reply["action"]) == ("status", "get_order_status")
    assert reply["action_result"]["status"] == "success"
    assert "shipped" in reply["response"] and "UPS" in reply["response"]
    assert "1Z1701" in reply["response"]
    assert reply["action_result"]["order"]["tracking_number"] == "1Z1701"
    assert ticket(shop, reply["ticket_id"])["status"] == "resolved"


def test_status_of_an_unshipped_order(agent):
    reply = agent.resolve(7, "track order 1702")
    assert reply["action"] == "get_order_status"
    assert "processing" in reply["response"] and "hasn't shipped" in reply["response"]


# --- escalation (R6) --------------------------------------------------------------------------

def test_asking_for_a_human_escalates_with_a_handoff_summary(agent, shop):
    text = ("I want to talk to a human about order 2401. Call me on 555 123 4567 or write to "
            "jane.doe@example.com")
    reply = agent.resolve(14, text)
    assert (reply["intent"], reply["action"]) == ("escalate", "escalate_case")
    assert reply["action_result"]["status"] == "escalated" and reply["escalated"] is True
    assert ticket(shop, reply["ticket_id"])["status"] == "escalated"
    assert_sources(reply, "escalation_policy.md")
    assert reply["policy_sources"][0]["section"] == "Asking to speak to a person"
    [case] = cases(shop, 14)
    assert (case["kind"], case["priority"], case["order_id"]) == ("human_request", "normal", "2401")
    summary = case["summary"]
    assert "User 14" in summary and "#2401" in summary          # customer and order
    assert "talk to a human" in summary                          # what was asked
    assert "escalate_case" in summary                            # what the agent did
    assert "Mood:" in summary
    assert "555 123 4567" not in summary and "jane.doe@example.com" not in summary
    assert "[PHONE]" in summary and "[EMAIL]" in summary
    assert refund_rows(shop, user_id=14) == []


def test_very_frustrated_customer_is_escalated_with_high_priority(agent, shop):
    reply = agent.resolve(15, "THIS IS THE THIRD TIME I'M WRITING ABOUT ORDER 2501!!! Your "
                              "service is useless and a total joke")
    assert reply["action"] == "escalate_case" and reply["escalated"] is True
    [case] = cases(shop, 15)
    assert (case["kind"], case["priority"], case["order_id"]) == ("frustration", "high", "2501")
    assert "very frustrated" in case["summary"]
    assert reply["policy_sources"][0]["section"] == "When you're frustrated with us"
    assert refund_rows(shop, user_id=15) == []
    assert ticket(shop, reply["ticket_id"])["status"] == "escalated"


def test_very_frustrated_customer_asking_for_a_manager_gets_high_priority(agent, shop):
    reply = agent.resolve(21, "THIS IS RIDICULOUS!!! I've written three times already. I want to "
                              "speak to a manager NOW")
    assert reply["action"] == "escalate_case" and reply["action_result"]["priority"] == "high"
    [case] = cases(shop, 21)
    assert (case["kind"], case["priority"]) == ("frustration", "high")


# --- no action: policy questions and chit-chat ------------------------------------------------

def test_policy_question_is_answered_with_sources_and_no_action(agent, shop):
    orders_before = count_orders(shop)
    reply = agent.resolve(17, "how long do I have to return something?")
    assert (reply["intent"], reply["action"]) == ("policy_question", "none")
    assert reply["action_result"]["status"] == "success"
    assert_sources(reply, "refund_policy.md")
    assert "30 days" in reply["response"]
    assert refund_rows(shop, user_id=17) == [] and count_orders(shop) == orders_before
    assert audit_lines(shop, conversation_id=reply["conversation_id"]) == []
    assert ticket(shop, reply["ticket_id"])["status"] == "resolved"


def test_greeting_is_other_with_no_action(agent, shop):
    reply = agent.resolve(17, "hi there")
    assert (reply["intent"], reply["action"]) == ("other", "none")
    assert reply["policy_sources"] == []
    assert reply["response"].startswith("Hi User!")
    assert audit_lines(shop, conversation_id=reply["conversation_id"]) == []


@pytest.mark.parametrize("text,section", [
    ("how do I reset my password?", "How do I reset my password?"),
    ("can I change the delivery address for order 2201?", "Changing your shipping address"),
])
def test_out_of_scope_question_with_an_faq_answer_gets_it(agent, shop, text, section):
    reply = agent.resolve(17, text)
    assert reply["action"] == "none" and reply["intent"] in ("other", "policy_question")
    assert reply["policy_sources"][0]["section"] == section
    assert "I'm not sure I can help" not in reply["response"]
    assert audit_lines(shop, conversation_id=reply["conversation_id"]) == []


@pytest.mark.parametrize("text,start", [
    ("What's the capital of France?", "I'm not sure I can help with that here"),
    ("thanks, that's all", "You're welcome"),
    ("ok cool", "Great, User."),
])
def test_chit_chat_and_off_topic_get_no_policy(agent, text, start):
    reply = agent.resolve(17, text)
    assert (reply["intent"], reply["action"], reply["policy_sources"]) == ("other", "none", [])
    assert reply["response"].startswith(start)


# --- R7: which order --------------------------------------------------------------------------

def test_no_order_number_and_one_qualifying_order_acts_on_it(agent, shop):
    offer = agent.resolve(10, "I want a refund please")
    assert offer["action"] == "issue_refund" and offer["order_id"] == "2001"
    assert "#2001" in offer["response"] and refund_rows(shop, user_id=10) == []
    reply = says_yes(agent, 10, offer)
    assert reply["action_result"]["status"] == "success"
    assert refund_rows(shop, user_id=10) == [("2001", 2000, "refund")]


def test_no_order_number_and_several_qualifying_orders_asks(agent, shop):
    reply = agent.resolve(11, "I want a refund")
    assert reply["intent"] == "refund" and reply["action"] == "none"
    assert reply["action_result"]["status"] == "needs_info"
    assert "R7" in reply["action_result"]["reason"]
    assert set(reply["action_result"]["qualifying"]) == {"2101", "2102"}
    assert "#2101" in reply["response"] and "#2102" in reply["response"]
    assert refund_rows(shop, user_id=11) == []
    assert ticket(shop, reply["ticket_id"])["status"] == "awaiting_customer"


def test_an_order_number_the_user_does_not_have_asks_again(agent, shop):
    reply = agent.resolve(12, "refund order 9999")
    assert reply["action_result"]["status"] == "needs_info"
    assert reply["action_result"]["found"] is False
    assert refund_rows(shop, user_id=12) == []


# --- multi-turn, state in the database ---------------------------------------------------------

def test_follow_up_completes_a_pending_request_on_another_agent_instance(agent, shop):
    first = agent.resolve(16, "I want a refund")
    assert first["action_result"]["status"] == "needs_info" and first["action"] == "none"
    assert refund_rows(shop, user_id=16) == []

    # A second agent over the same database (a new engine, as another worker would have): the
    # pending request can only come from the conversation row.
    settings = shop.agent.settings
    engine = make_engine(settings.database_url)
    try:
        factory = make_session_factory(engine)
        other_worker = SupportAgent(settings, factory, ToolRunner(factory, AuditLog(
            settings.audit_log_path)), shop.index, shop.nlu)
        offer = other_worker.resolve(16, "it's order 2602", first["conversation_id"])
        second = says_yes(other_worker, 16, offer)
    finally:
        engine.dispose()
    assert second["conversation_id"] == first["conversation_id"]
    assert second["ticket_id"] == first["ticket_id"]
    assert (second["intent"], second["action"], second["order_id"]) == ("refund", "issue_refund",
                                                                        "2602")
    assert second["action_result"]["status"] == "success"
    assert refund_rows(shop, user_id=16) == [("2602", 6200, "refund")]
    assert ticket(shop, first["ticket_id"])["status"] == "resolved"
    with transaction(shop.session_factory) as s:
        conv = s.get(Conversation, first["conversation_id"])
        assert conv.state.get("pending") is None and conv.state.get("proposal_id") is None
        roles = [m.role for m in s.scalars(select(Message).where(
            Message.conversation_id == conv.id).order_by(Message.id))]
    assert roles == ["user", "assistant"] * 3


def test_handoff_summary_after_a_follow_up_shows_the_whole_request(agent, shop):
    first = agent.resolve(20, "I'd like my money back please, my number is 555 123 4567")
    assert first["action_result"]["status"] == "needs_info"
    offer = agent.resolve(20, "it's order 3001", first["conversation_id"])
    second = says_yes(agent, 20, offer)
    assert second["action_result"]["status"] == "escalated" and second["order_id"] == "3001"
    [case] = cases(shop, 20)
    assert (case["kind"], case["order_id"], case["ticket_id"]) == ("high_value", "3001",
                                                                 first["ticket_id"])
    assert "Earlier: \"I'd like my money back please, my number is [PHONE]\"" in case["summary"]
    assert "it's order 3001" in case["summary"]
    assert "555 123 4567" not in case["summary"]
    assert refund_rows(shop, user_id=20) == []


def test_hedged_request_asks_first_then_yes_runs_it(agent, shop):
    first = agent.resolve(12, "maybe I should get a refund for order 2201, not sure")
    assert first["action"] == "none" and first["action_result"]["status"] == "needs_info"
    assert "R10" in first["action_result"]["reason"] and first["confidence"] < 0.6
    assert refund_rows(shop, user_id=12) == []
    assert ticket(shop, first["ticket_id"])["status"] == "awaiting_customer"

    offer = agent.resolve(12, "yes", first["conversation_id"])
    assert refund_rows(shop, user_id=12) == []
    second = says_yes(agent, 12, offer)
    assert (second["action"], second["order_id"]) == ("issue_refund", "2201")
    assert second["action_result"]["status"] == "success"
    assert refund_rows(shop, user_id=12) == [("2201", 4000, "refund")]


def test_declining_a_confirmation_changes_nothing(agent, shop):
    first = agent.resolve(13, "I'm thinking about a refund for order 2301, maybe")
    assert first["action_result"]["status"] == "needs_info"
    second = agent.resolve(13, "no, forget it", first["conversation_id"])
    assert second["action"] == "none"
    assert "haven't changed anything" in second["response"]
    assert refund_rows(shop, user_id=13) == []


@pytest.mark.parametrize("question,order_id", [
    ("what's the refund window for order 2901?", "2901"),
    ("would I get a refund if I sent back order 2902?", "2902"),
    ("is there a fee if I cancel order 2903?", "2903"),
    ("how long does a refund take for order 2901?", "2901"),
    ("does order 2902 qualify for a replacement?", "2902"),
])
def test_a_question_about_an_action_is_answered_not_acted_on(agent, shop, question, order_id):
    reply = agent.resolve(19, question)
    assert reply["action"] == "none"
    assert refund_rows(shop, user_id=19) == [] and replacement_rows(shop, 19) == []
    assert order_row(shop, "2903")["status"] == "pending"
    assert_sources(reply)
    if reply["intent"] != "policy_question":
        # Read as a question about this order: answered with its facts and the rule, and the
        # customer is asked whether they want it (nothing is proposed yet).
        assert reply["action_result"]["status"] == "success" and reply["proposal"] is None
        assert f"#{order_id}" in reply["response"]


def test_yes_after_a_question_about_an_action_runs_it(agent, shop):
    first = agent.resolve(19, "what's the refund window for order 2901?")
    assert first["intent"] == "refund" and first["action"] == "none"
    assert first["policy_sources"][0]["section"] == "Refund window"
    assert "can be refunded until" in first["response"] and "$33.00" in first["response"]
    assert refund_rows(shop, order_id="2901") == []
    offer = agent.resolve(19, "yes please", first["conversation_id"])
    assert refund_rows(shop, order_id="2901") == []
    second = says_yes(agent, 19, offer, "yes")
    assert (second["action"], second["order_id"]) == ("issue_refund", "2901")
    assert refund_rows(shop, order_id="2901") == [("2901", 3300, "refund")]


def test_replacement_without_a_reason_asks_for_it_then_completes(agent, shop):
    first = agent.resolve(17, "I need a replacement for order 2701")
    assert first["action_result"]["status"] == "needs_info" and replacement_rows(shop, 17) == []
    offer = agent.resolve(17, "it arrived with a cracked lid", first["conversation_id"])
    assert replacement_rows(shop, 17) == []
    second = says_yes(agent, 17, offer)
    assert second["action"] == "create_replacement"
    assert second["action_result"]["status"] == "success"
    assert replacement_rows(shop, 17) == [("2701", "2701-R", "damaged")]


def test_another_users_conversation_is_not_found(agent, shop):
    mine = agent.resolve(18, "hello")
    with pytest.raises(NotFound):
        agent.resolve(1, "refund order 2801", mine["conversation_id"])
    with pytest.raises(NotFound):
        agent.resolve(18, "hello", "no-such-conversation")
    assert refund_rows(shop, user_id=18) == []


def test_unknown_user_and_empty_input_are_rejected(agent):
    with pytest.raises(NotFound):
        agent.resolve(999, "hello")
    with pytest.raises(ValueError):
        agent.resolve(18, "   ")
    with pytest.raises(ValueError):
        agent.resolve(18, "x" * 4001)
