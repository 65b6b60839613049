"""The pieces of understanding that tie words to the customer's own orders: order numbers
however written, item names, list positions, 'it'; several requests in one message;
spelling; other languages; yes/no to an offer; refund-tracking questions."""

from __future__ import annotations

import pytest

from agents.confirmation import answer_to_offer
from agents.language import foreign_language, says_yes
from agents.order_linking import link
from agents.refund_tracking import asks_about_refund
from agents.requests import split
from agents.shop_view import OrderFact
from agents.spelling import normalise


def fact(oid, status, *items, total=1000):
    return OrderFact(oid, status, tuple(items), total, None, None, None, None, None, None, False,
                     None)


ORDERS = [fact("30101", "delivered", "Fleece blanket", total=4500),
          fact("30102", "shipped", "Telescope", total=28900),
          fact("30103", "pending", "Leather bookmark", total=1250),
          fact("32401", "delivered", "Phone case (blue)"),
          fact("32402", "delivered", "Phone case (black)"),
          fact("31208", "delivered", "Smartphone"),
          fact("34101", "delivered", "Football jersey"),
          fact("34102", "pending", "Football"),
          fact("34001", "delivered", "Wool sweater"),
          fact("34002", "delivered", "Beanie"),
          fact("7", "pending", "Mug"),
          fact("A-100", "shipped", "Lamp"),
          fact("004711", "delivered", "Soap")]


@pytest.mark.parametrize("text,expected", [
    ("I want a refund for my telescope, it's taking forever", ["30102"]),
    ("please refund the fleece blanket", ["30101"]),
    ("cancel the bookmark order", ["30103"]),
    ("the blue phone case is the wrong shade", ["32401"]),
    ("the phone stopped working", ["31208"]),
    ("the football jersey has a hole in it", ["34101"]),
    ("where is my football", ["34102"]),
    ("refund the sweater and the beanie", ["34001", "34002"]),
    ("cancel order 7", ["7"]), ("where is A-100", ["A-100"]),
    ("ORD-30101 refund", ["30101"]), ("order 30 101", ["30101"]), ("#030101", ["30101"]),
    ("order ٣٠١٠١ please", ["30101"]), ("status of 4711", ["004711"]),
    ("refund 30102 and 30101", ["30102", "30101"]),
])
def test_words_point_at_the_customers_own_orders(text, expected):
    assert link(text, ORDERS).order_ids == expected


def test_what_does_not_point_at_an_order():
    assert link("I waited 7 days for nothing", ORDERS).order_ids == []  # a count, not order 7
    assert link("just in case, where is it?", ORDERS).order_ids == []
    missing = link("refund order 99999", ORDERS)
    assert missing.order_ids == [] and missing.unknown_id == "99999"  # R1: answered not found
    two = link("refund my phone case", ORDERS)
    assert two.order_ids == [] and set(two.candidates) == {"32401", "32402"}


def test_references_to_the_last_list_and_to_the_order_in_focus():
    listed = ["32401", "32402"]
    assert link("the black one", ORDERS, listed).order_ids == ["32402"]
    assert link("the second one", ORDERS, listed).order_ids == ["32402"]
    assert link("the first", ORDERS, listed).order_ids == ["32401"]
    assert link("the pending one", ORDERS, ["30101", "30103"]).order_ids == ["30103"]
    assert link("the cheaper one", ORDERS, ["30101", "30102"]).order_ids == ["30101"]
    assert link("the other one", ORDERS, listed, focus="32401").order_ids == ["32402"]
    assert link("cancel it", ORDERS, focus="30103").order_ids == ["30103"]


@pytest.mark.parametrize("text,expected", [
    ("cancel 30103 and where is 30102?", [("cancel", "30103"), ("status", "30102")]),
    ("cancel 30103 and 30102", [("cancel", "30103"), ("cancel", "30102")]),
    ("refund the sweater and the beanie", [("refund", "34001"), ("refund", "34002")]),
    ("I want a refund for order 30101, it arrived broken", []),           # one request
    ("my blanket arrived torn, I want my money back or a replacement", []),  # alternatives
    ("I never asked you to cancel order 30103! what's its status?", []),  # negated action
])
def test_several_requests_in_one_message(text, expected):
    assert [(r.intent, r.order_id) for r in split(text, ORDERS)] == expected


def test_a_question_inside_several_requests_is_marked():
    parts = split("cancel the bookmark, and is the blanket still refundable?", ORDERS)
    assert [(r.intent, r.order_id, r.question) for r in parts] == [
        ("cancel", "30103", False), ("refund", "30101", True)]


@pytest.mark.parametrize("text,expected", [
    ("cancle my jersy ordr plz", "cancel my jersey order please"),
    ("i wnt my mony bak for ordr 33901", "i want my money back for order 33901"),
    ("cnacel teh trekking poels", "cancel the trekking poles"),
    ("@SupportOps refund pls #fail", "refund please #fail"),
    ("WHERE IS MY MONITOR ARM", "where is my monitor arm"),
    ("my older order", "my older order"),                       # real words stay
    ("Please refund order #1042, jan@example.com", "Please refund order #1042, jan@example.com"),
])
def test_spelling_is_repaired_but_numbers_and_real_words_are_not(text, expected):
    assert normalise(text, ("jersey", "trekking", "poles", "monitor")) == expected


@pytest.mark.parametrize("text,language", [
    ("Hola, quiero cancelar mi pedido 31601 por favor", "Spanish"),
    ("por favor cancela mi pedido 31601 ahora", "Spanish"),
    ("Je veux être remboursé pour la poêle, commande 32602", "French"),
    ("Ich will mein Geld zurück für 30501", "German"),
    ("我想退款，订单号30501", "Chinese"), ("Я хочу вернуть деньги за заказ 30201", "Russian"),
    ("hola! I want a refund for order 30501 por favor", None),
    ("cancel my jersey order please", None), ("refund pls", None), ("thanks!", None),
])
def test_another_language_is_recognised_and_english_is_not_mistaken_for_one(text, language):
    assert foreign_language(text) == language


def test_yes_in_other_languages_accepts_the_offer_of_a_person():
    assert all(says_yes(t) for t in ("sí, por favor", "oui", "ja bitte", "yes please"))
    assert not says_yes("no gracias")


@pytest.mark.parametrize("text,answer", [
    ("yes", "yes"), ("yes please", "yes"), ("ok do it", "yes"), ("go ahead", "yes"),
    ("ok", "yes"), ("yes 👍", "yes"), ("✅", "yes"),
    ("no", "no"), ("no thanks", "no"), ("not now", "no"), ("never mind", "no"),
    ("thanks", "unclear"), ("great", "unclear"),
    ("yes but only $5", "other"), ("yes, for order 1043 instead", "other"),
    ("how long will it take?", "other"), ("ok thanks, I'll think about it", "other"),
])
def test_only_an_unmistakable_yes_confirms_an_offer(text, answer):
    assert answer_to_offer(text, order_id="1042") == answer


@pytest.mark.parametrize("text", [
    "did my refund go through?", "when do I get my money for the headphones?",
    "did you refund the bed sheets?", "has the refund for 34203 been processed",
    "where's my refund for the drill", "refund status please",
    "I still don't see the $75 on my card", "money for the earbuds I cancelled?"])
def test_refund_tracking_questions(text):
    assert asks_about_refund(text)


@pytest.mark.parametrize("text", [
    "I want a refund for order 30101", "refund 34301", "can I get my money back?",
    "Why did you send me a broken lamp? I want a refund for order 12"])
def test_refund_requests_are_not_tracking_questions(text):
    assert not asks_about_refund(text)
