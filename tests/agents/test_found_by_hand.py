"""Cases found by a black-box review of the running service, kept as tests."""

import pytest

from agents.entities import extract_order_id
from audit.redact import redact
from tests.agents.offline_shop import build_shop, order_row, refund_rows, says_yes
from tests.conftest import order, users


@pytest.fixture(scope="module")
def shop(tmp_path_factory):
    return build_shop(tmp_path_factory, "found-by-hand", {"users": users(1, 2, 3, 4), "orders": [
        order("1105", 1, "pending", 15.0), order("1106", 1, "delivered", 56.0, delivered_days_ago=5),
        order("7", 2, "pending", 12.0), order("A-100", 2, "shipped", 20.0),
        order("12", 2, "delivered", 30.0, delivered_days_ago=3),
        order("3001", 3, "pending", 9.0), order("3002", 3, "shipped", 9.0),
        order("3003", 3, "delivered", 9.0, delivered_days_ago=3),
        order("4001", 4, "delivered", 40.0, delivered_days_ago=100)]})


@pytest.fixture(scope="module")
def agent(shop):
    return shop.agent


@pytest.mark.parametrize("text,order_id", [
    ("Please do NOT cancel order 1105, I still want it! Just tell me when it ships.", "1105"),
    ("I don't need a refund for order 1106, I only want to know when it was delivered", "1106"),
])
def test_a_negated_action_is_not_taken(agent, shop, text, order_id):
    reply = agent.resolve(1, text)
    assert reply["action"] in ("get_order_status", "none")
    assert order_row(shop, "1105")["status"] == "pending"
    assert refund_rows(shop, user_id=1) == []


@pytest.mark.parametrize("text,expected", [
    ("where is order 7?", "7"), ("status of my order #12", "12"), ("where is order A-100?", "A-100"),
    ("whats the status of order 1105-R", "1105-R"), ("my order 2 days ago was late", None),
    ("call me on 4155550111", None), ("order 3707955617 is late", "3707955617")])
def test_short_and_lettered_order_numbers(text, expected):
    assert extract_order_id(text) == expected


def test_short_order_number_is_used_not_guessed(agent, shop):
    reply = says_yes(agent, 2, agent.resolve(2, "cancel order 7 please"))
    assert reply["order_id"] == "7" and reply["action_result"]["status"] == "success"
    other = agent.resolve(2, "refund order 7 of user 3")  # R9: still this user's own order 7
    assert other["action_result"]["status"] != "success"
    assert refund_rows(shop, user_id=3) == []


@pytest.mark.parametrize("follow_up", ["3002", "3002 please", "that would be order no. 3002",
                                       "no. 3002"])
def test_an_order_number_answers_the_pending_question(agent, shop, follow_up):
    ask = agent.resolve(3, "where is my order?")
    assert ask["action_result"]["status"] == "needs_info"
    reply = agent.resolve(3, follow_up, ask["conversation_id"])
    assert reply["action"] == "get_order_status" and reply["order_id"] == "3002"
    assert order_row(shop, "3001")["status"] == "pending"
    assert order_row(shop, "3002-R") is None


def test_a_bare_order_number_alone_shows_its_status(agent, shop):
    reply = agent.resolve(3, "3001")
    assert reply["intent"] == "status" and reply["action"] == "get_order_status"
    assert order_row(shop, "3001")["status"] == "pending"


def test_an_unknown_order_number_takes_no_action(agent):
    reply = agent.resolve(4, "refund order 999 please")
    assert reply["action"] == "none" and reply["action_result"]["status"] == "needs_info"


def test_cancel_delivered_order_points_to_a_refund_now(agent):
    reply = agent.resolve(4, "I no longer need order 4001, cancel it")
    assert reply["action_result"]["status"] == "denied"
    assert "delivered, so it can't be cancelled" in reply["action_result"]["reason"]


def test_more_pii_is_redacted():
    assert redact("my number 4155550111 thanks") == "my number [PHONE] thanks"
    assert redact("cvv 123") == "cvv [CVV]"
    assert redact("order 4155550111") == "order 4155550111"  # an order number stays


def test_an_informational_follow_up_keeps_the_tickets_headline(agent, shop):
    from tests.agents.offline_shop import ticket

    first = says_yes(agent, 1, agent.resolve(1, "please refund order 1106, I changed my mind"))
    assert first["action_result"]["status"] == "success"
    follow = agent.resolve(1, "and where is order 1105 now?", first["conversation_id"])
    assert follow["action"] == "get_order_status" and follow["ticket_id"] == first["ticket_id"]
    saved = ticket(shop, first["ticket_id"])
    assert saved["action"] == "issue_refund" and saved["status"] == "resolved"


@pytest.mark.parametrize("text", [
    "I never asked you to cancel order 3001! what's its status?",
    "why did you cancel order 3001?? I didn't want that",
    "I was going to ask for a refund on 3003 but never mind, it works now"])
def test_complaints_and_retractions_are_not_requests(agent, shop, text):
    reply = agent.resolve(3, text)
    assert reply["action"] in ("none", "get_order_status", "escalate_case")
    assert order_row(shop, "3001")["status"] == "pending"
    assert refund_rows(shop, user_id=3) == []


def test_angry_but_clear_request_still_acts(agent, shop):
    offer = agent.resolve(2, "Why did you send me a broken lamp? I want a refund for order 12")
    assert offer["action"] == "issue_refund" and offer["order_id"] == "12"
    reply = says_yes(agent, 2, offer)
    assert reply["action"] == "issue_refund" and reply["action_result"]["status"] == "success"


@pytest.mark.parametrize("follow_up", ["3002", "it's 3002", "no, 3002", "the one with id 3002"])
def test_short_replies_name_the_order(agent, follow_up):
    ask = agent.resolve(3, "where is my order")
    reply = agent.resolve(3, follow_up, ask["conversation_id"])
    assert reply["action"] == "get_order_status" and reply["order_id"] == "3002"


def test_lone_short_and_lettered_ids_and_polite_requests(agent, shop):
    assert agent.resolve(2, "A-100")["order_id"] == "A-100"
    reply = agent.resolve(2, "the item in 12 is fine, I just don't like it, replace it please")
    assert "not_needed" not in reply["response"] and "not_needed" not in reply["action_result"][
        "reason"]


def test_a_message_in_another_language_gets_a_clear_answer(agent):
    reply = agent.resolve(4, "Ich möchte meine Bestellung 4001 stornieren bitte")
    assert reply["action"] == "none" and "only read English" in reply["response"]
    assert "German" in reply["response"] and "person" in reply["response"]


def test_wanting_to_return_an_item_is_a_refund_request(agent):
    reply = agent.resolve(4, "I also want to return the chair from 4001, it doesn't fit my room")
    assert reply["intent"] == "refund"
    assert reply["action_result"]["reason"].startswith("R2")  # the refund window, not R4


def test_a_second_order_number_is_acknowledged_not_ignored(agent):
    reply = agent.resolve(3, "where are order 3001 and order 3002?")
    assert reply["order_id"] == "3001" and "#3002" in reply["response"]
