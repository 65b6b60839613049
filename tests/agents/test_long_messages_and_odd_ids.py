"""Long e-mails (the request sentence decides; items said to be fine are not picked), order
numbers written oddly (one order, never a phantom second one) and price references to the
last list ("the dearer one"). Unit level: no models needed."""

from __future__ import annotations

import pytest

from agents.entities import extract_order_id, extract_order_ids, extract_reason
from agents.order_linking import link
from agents.several_requests import request_sentences
from agents.shop_view import OrderFact


def fact(oid, status, *items, total=1000):
    return OrderFact(oid, status, tuple(items), total, None, None, None, None, None, None, False,
                     None)


HAROLD = [fact("37501", "delivered", "Reading glasses", total=2500),
          fact("37502", "shipped", "Crossword book", total=1500),
          fact("37503", "delivered", "Radio", total=6000)]
MIXED = [fact("40101", "delivered", "Garden hose", total=3000),
         fact("40102", "processing", "Bird feeder", total=2000),
         fact("40103", "delivered", "Watering can", total=1800),
         fact("40104", "shipped", "Trowel", total=900)]

RADIO_REFUND = (
    "Dear Sir or Madam, I hope this finds you well. My granddaughter helped me order a few "
    "things from your website last month, a pair of reading glasses, a crossword book and a "
    "little radio for the kitchen. The glasses arrived and they are fine I suppose, although "
    "the case is a bit flimsy. The radio however stopped working after a week, it just crackles "
    "and there is no sound at all, which is a shame because I listen to the cricket. I would "
    "like my money back for the radio please. Also could you tell me when the crossword book "
    "will arrive? Kind regards, Harold Bell")
RADIO_REPLACE = (
    "Good morning. I am writing about the radio I bought from you. It worked for about a week "
    "and now it only makes a hissing noise. I have tried new batteries, which my neighbour "
    "kindly fetched for me, and I have tried moving it to the window, but nothing helps. The "
    "reading glasses I ordered at the same time are perfectly fine. Could you please send me a "
    "new radio that works? Many thanks, H. Bell")
BOOK_CANCEL = (
    "Hello, my reading glasses are fine, thank you, no complaints there at all. But I would "
    "like to cancel the crossword book please, my daughter already bought me one for my "
    "birthday.")


def asked(text, orders):
    found = request_sentences(text, orders, [], None)
    return None if found is None else [(r.intent, r.order_id) for r in found]


# --- items said to be fine are not what a request is about --------------------------------

@pytest.mark.parametrize("text,expected", [
    (BOOK_CANCEL, ["37502"]),
    ("My reading glasses came fine and quickly. Where is the book?", ["37502"]),
    ("the glasses are perfectly fine but the radio is broken", ["37503"]),
    ("no complaints about the radio, it's the crossword book I want to cancel", ["37502"]),
    ("I'm happy with the glasses. The radio though has stopped working.", ["37503"]),
    # the only item named is said to be fine: still that item (nothing else to point at)
    ("the radio is fine now but I still want my money back", ["37503"]),
    # not said to be fine: both named
    ("the glasses are not fine and the radio is broken", ["37501", "37503"]),
    ("the radio worked fine for a week, but the glasses are scratched", ["37503", "37501"]),
])
def test_an_item_said_to_be_fine_is_not_pointed_at(text, expected):
    assert link(text, HAROLD).order_ids == expected


def test_fine_in_another_sense_does_not_hide_an_item():
    assert link("I hope it's ok to ask about my radio", HAROLD).order_ids == ["37503"]
    assert link("is it fine if I send the watering can back?", MIXED).order_ids == ["40103"]


# --- the request sentence decides which order a long message is about ---------------------

def test_the_request_sentence_decides_and_a_status_question_comes_alongside():
    assert asked(RADIO_REFUND, HAROLD) == [("refund", "37503"), ("status", "37502")]


def test_a_replacement_asked_for_in_the_last_sentence_is_about_that_item():
    assert link(RADIO_REPLACE, HAROLD).order_ids == ["37503"]  # the glasses are "fine"
    assert extract_reason(RADIO_REPLACE) == "defective"


@pytest.mark.parametrize("text,expected", [
    ("I bought a garden hose, a bird feeder and a trowel from you. The hose leaks a little but "
     "I can live with it. Please cancel the bird feeder.", [("cancel", "40102")]),
    ("Last spring I got a garden hose and a watering can. Both were lovely. This time the "
     "watering can arrived dented. I want a refund for the watering can. And where is my "
     "trowel?", [("refund", "40103"), ("status", "40104")]),
    ("Hi there. The trowel and the hose came last week. When do you think the bird feeder will "
     "be delivered?", [("status", "40102")]),
])
def test_request_sentences_in_my_own_words(text, expected):
    assert asked(text, MIXED) == expected


@pytest.mark.parametrize("text", [
    "refund the garden hose",                                       # one sentence
    "The garden hose leaks. Refund it please.",                     # one order named
    "I bought a hose and a trowel. Refund them both please.",       # request names no item
    "cancel 40102. where is 40104?",                                # every sentence asks
])
def test_short_or_already_clear_messages_are_read_as_before(text):
    assert request_sentences(text, MIXED, [], None) is None


# --- one order number however written: never a second, phantom one -----------------------

@pytest.mark.parametrize("text,expected", [
    ("refund order no. 37 101 please", ["37101"]),
    ("status of ORD-37104?", ["37104"]),
    ("where is order ３７３０２", ["37302"]),
    ("cancel #37-103", ["37103"]),
    ("order 37,402 - cancel it", ["37402"]),
    ("order no. 1,042 please", ["1042"]),
    ("order 30101 and #30102", ["30101", "30102"]),
    ("order 7101-R is late", ["7101-R"]),
    ("where is A-100", ["A-100"]),
])
def test_an_order_number_written_oddly_is_one_order(text, expected):
    assert extract_order_ids(text) == expected


def test_the_first_order_number_written_oddly():
    assert extract_order_id("refund order no. 37 101 please") == "37101"
    assert extract_order_id("where is order ３７３０２") == "37302"
    assert extract_order_id("I placed order 12 100 days ago") is None  # a count of days


# --- price references to the last list ----------------------------------------------------

@pytest.mark.parametrize("text,expected", [
    ("the dearer one", "40101"), ("the dearest", "40101"), ("the pricier one", "40101"),
    ("the pricey one", "40101"), ("the more expensive one", "40101"),
    ("the one that costs more", "40101"),
    ("the cheaper one", "40103"), ("the cheap one", "40103"), ("the cheapest", "40103"),
    ("the less expensive one", "40103"), ("the least expensive", "40103"),
    ("the one that costs less", "40103"),
])
def test_price_words_pick_from_the_last_list(text, expected):
    assert link(text, MIXED, ["40103", "40101"]).order_ids == [expected]


@pytest.mark.parametrize("text,expected", [
    ("I ordered reading glasses, a crossword book and a radio. The radio stopped working after "
     "two days. I would like my money back for it. When will the book arrive?",
     [("refund", "37503"), ("status", "37502")]),
    ("Hello. I ordered reading glasses and a radio last month. The glasses are lovely, thank "
     "you. Unfortunately the radio has stopped working. Could you replace it please?",
     [("replacement", "37503")]),
    ("Hi. I got a crossword book and a radio from you. The radio is fine. The glasses arrived "
     "broken, so I want a refund. And the crossword book still hasn't arrived.",
     [("refund", "37501"), ("status", "37502")]),
    ("I bought the glasses and the radio. Both arrived. Please refund them.", None),  # both
])
def test_a_request_that_says_it_is_about_the_order_just_described(text, expected):
    assert asked(text, HAROLD) == expected
    if expected is None:  # "them" after two items: both, read whole as before
        assert link(text, HAROLD).order_ids == ["37501", "37503"]
