"""Understanding bugs found by the third black-box pass (bench/eval/cases/blackbox3_*.yaml),
over the evaluation shop, with the cases' sentences and others of our own.

- "how much would I get back for the <item>?" is a question about that order's refund (its
  amount and last day), whatever the item is called: never a random FAQ, never a proposal.
- "can I send it back?" / "send back the battery" are returns, i.e. refunds (R2), not
  replacements (R4 is for damaged, defective or wrong items).
- "I only want $9 back", "give me $4.50 back" ask for money: the full-order refund is
  proposed and the reply says refunds are whole.
- The yes/no opening a fact answer follows the question asked: "is it too late to cancel…?"
  → "No"; "could I return it if it doesn't fit when it arrives?" → "Yes, once delivered".
- "what orders do I have?" lists the customer's orders with their status.
- "This is theft. I want a manager NOW" is very frustrated: escalated with high priority.
"""

from __future__ import annotations

import re

import pytest

from tests.agents.offline_shop import build_eval_shop, cases, chat, refund_rows


@pytest.fixture(scope="module")
def shop(tmp_path_factory):
    services = build_eval_shop(tmp_path_factory, "blackbox3")
    yield services
    services.close()



def answered_with_facts(reply, order_id, amount):
    assert reply["action"] == "none" and reply["proposal"] is None, reply
    assert reply["order_id"] == order_id and amount in reply["response"], reply["response"]


@pytest.mark.parametrize(("user", "text", "order_id", "amount"), [
    (68, "how much would I get back for the kitchen knives?", "37301", "$85.00"),
    (67, "how much do I get back for the shorts?", "37201", "$30.00"),
    (69, "how much would I get back for the colour printer?", "37401", "$199.00"),
    (70, "If I send the radio back, how much money do I get?", "37503", "$60.00"),
    (42, "how much money would I receive for the yoga mat?", "34201", "$38.00"),
    (18, "if I returned the blender how much would the refund be?", "31803", "$89.00"),
    (40, "how much do I get back for the wool beanie?", "34002", "$25.00"),
    (2, "if i send the office chair back how much will i get", "30201", "$219.00"),
])
def test_how_much_back_is_this_orders_refund(shop, user, text, order_id, amount):
    [reply] = chat(shop, user, text)
    answered_with_facts(reply, order_id, amount)
    assert reply["intent"] == "refund"
    assert "gift card" not in reply["response"].lower()


@pytest.mark.parametrize(("user", "text", "amount"), [
    (69, "if i return the printer how much will be refunded?", "$199.00"),
    (1, "how much would I get back if I cancel the bookmark?", "$12.50"),
])
def test_how_much_is_answered_with_the_amount_first(shop, user, text, amount):
    [reply] = chat(shop, user, text)
    assert reply["action"] == "none" and reply["proposal"] is None
    assert reply["response"].startswith(f"You'd get the full {amount} back"), reply["response"]


def test_how_much_for_an_order_on_its_way_says_once_delivered(shop):
    [reply] = chat(shop, 1, "how much do I get back for the telescope?")
    assert reply["action"] == "none" and reply["proposal"] is None
    assert "$289.00" in reply["response"] and "once it's delivered" in reply["response"].lower()


def test_how_much_back_with_no_order_named_moves_nothing(shop):
    [reply] = chat(shop, 8, "how much would I get back if I return something?")
    assert reply["action"] == "none" and reply["proposal"] is None
    assert refund_rows(shop, order_id="30801") == [] and refund_rows(shop, order_id="30802") == []


def test_can_i_send_it_back_is_a_refund_question(shop):
    question, request = chat(shop, 66, "the grey jumper is too itchy, can I send it back?",
                             "ok, please refund it then")
    answered_with_facts(question, "37102", "$55.00")
    assert question["intent"] in ("refund", "policy_question")
    assert "damaged, defective or wrong" not in question["response"]
    assert request["proposal"]["action"] == "issue_refund"
    assert request["proposal"]["order_id"] == "37102" and request["proposal"]["amount"] == 55.0


def test_can_i_send_it_back_own_words(shop):
    [reply] = chat(shop, 46, "the sports bra is the wrong fit for me, can I send it back?")
    answered_with_facts(reply, "34602", "$35.00")
    assert reply["intent"] == "refund"


@pytest.mark.parametrize(("user", "text", "order_id"), [
    (68, "send back the battery", "37303"),
    (2, "send back the office chair please", "30201"),
    (18, "I'd like to send back the ceramic vase", "31801"),
    (68, "send the knives back please", "37301"),
    (68, "i want to send the battery pack back", "37303"),
])
def test_send_back_is_a_refund(shop, user, text, order_id):
    [reply] = chat(shop, user, text)
    assert (reply["intent"], reply["order_id"]) == ("refund", order_id)
    assert reply["action"] in ("issue_refund", "none")
    assert "damaged, defective or wrong" not in reply["response"]
    assert refund_rows(shop, order_id=order_id) == []


@pytest.mark.parametrize(("user", "text", "order_id", "total"), [
    (61, "one of the wine glasses came smashed, I only want $9 back for that one glass",
     "36101", "$54.00"),
    (68, "the batteries were $9, give me $4.50 back since half of them work", "37303", "$9.00"),
    (45, "the gaming mouse double-clicks, just give me $5 back", "34501", "$59.99"),
    (63, "the rug pad is too thin, I only want 10 dollars back", "36303", "$140.00"),
    (42, "the meditation cushion went flat, I'd like 50% back", "34202", "$42.00"),
])
def test_part_of_the_money_back_is_a_full_refund_offer(shop, user, text, order_id, total):
    [reply] = chat(shop, user, text)
    assert (reply["intent"], reply["order_id"]) == ("refund", order_id)
    assert total in reply["response"] and "whole order" in reply["response"]
    if reply["proposal"]:
        assert reply["proposal"]["action"] == "issue_refund"
    assert refund_rows(shop, order_id=order_id) == []


def test_part_of_the_money_with_no_item_named_still_says_refunds_are_whole(shop):
    # Nothing names the order; the one that qualifies is found (R7) and the note still shows.
    [reply] = chat(shop, 61, "I only want $10 back")
    assert reply["proposal"]["order_id"] == "36101" and reply["proposal"]["amount"] == 54.0
    assert "whole order" in reply["response"]
    assert refund_rows(shop, order_id="36101") == []


def opens_with(reply, word):
    return re.match(rf"^\W*{word}\b", reply["response"], re.I) is not None


@pytest.mark.parametrize(("user", "text", "order_id", "first"), [
    (68, "is it too late to cancel the knife sharpener?", "37302", "no"),
    (1, "is it too late to cancel the leather bookmark?", "30103", "no"),
    (1, "is it too late to cancel the telescope?", "30102", "yes"),
    (2, "am I too late to return the office chair?", "30201", "no"),
])
def test_too_late_questions_are_answered_the_right_way_round(shop, user, text, order_id, first):
    [reply] = chat(shop, user, text)
    assert reply["order_id"] == order_id and reply["proposal"] is None
    assert opens_with(reply, first), reply["response"]


@pytest.mark.parametrize(("user", "text", "order_id"), [
    (67, "could I return the running shoes if they don't fit when they arrive?", "37202"),
    (1, "could I send the telescope back if I don't like it once it arrives?", "30102"),
    (21, "if the bike helmet doesn't fit when it comes, can I return it?", "32101"),
])
def test_return_once_it_arrives_is_yes_once_delivered(shop, user, text, order_id):
    [reply] = chat(shop, user, text)
    assert reply["order_id"] == order_id and reply["proposal"] is None
    assert reply["action"] == "none"
    assert opens_with(reply, "yes") and "30 days" in reply["response"], reply["response"]


def test_too_late_without_is_it_is_still_a_question(shop):
    [reply] = chat(shop, 67, "too late to cancel the running shoes?")
    assert reply["action"] == "none" and reply["proposal"] is None
    assert opens_with(reply, "yes") and "37202" in reply["response"]


def test_a_return_now_of_an_order_on_its_way_is_still_no(shop):
    [reply] = chat(shop, 1, "can I get a refund for the telescope now?")
    assert reply["proposal"] is None and not opens_with(reply, "yes")


@pytest.mark.parametrize(("user", "text", "ids"), [
    (67, "what orders do i have", ["37201", "37202", "37203"]),
    (66, "show me my orders", ["37101", "37102", "37103", "37104"]),
    (13, "can you list all my orders?", ["31301", "31302", "31303"]),
    (27, "which orders have I placed?", ["32701", "32702", "32703"]),
    (27, "do I have any orders?", ["32701", "32702", "32703"]),
])
def test_what_orders_do_i_have_lists_them_with_status(shop, user, text, ids):
    [reply] = chat(shop, user, text)
    assert reply["proposal"] is None and reply["action"] == "none"
    for oid in ids:
        assert oid in reply["response"]
    assert "not sure I can help" not in reply["response"]
    assert re.search(r"\b(?:delivered|shipped|pending|processing)\b", reply["response"])


def test_which_orders_can_i_return_is_still_the_eligible_list(shop):
    [reply] = chat(shop, 67, "which of my orders can I still return?")
    assert "37201" in reply["response"] and "37203" not in reply["response"]


def test_theft_and_a_manager_now_is_high_priority(shop):
    [reply] = chat(shop, 65, "I cancelled two orders and I still haven't seen a penny. This is "
                             "theft. I want to talk to a manager NOW")
    assert reply["action"] == "escalate_case" and reply["escalated"]
    assert cases(shop, 65)[-1]["priority"] == "high"


def test_you_are_stealing_from_me_with_a_person_is_high_priority(shop):
    [reply] = chat(shop, 9, "you are stealing my money, get me a supervisor right now")
    assert reply["action"] == "escalate_case"
    assert cases(shop, 9)[-1]["priority"] == "high"


def test_a_polite_manager_request_stays_normal(shop):
    [reply] = chat(shop, 10, "I'd like to speak to a manager about my kettle please")
    assert reply["action"] == "escalate_case"
    assert cases(shop, 10)[-1]["priority"] == "normal"
