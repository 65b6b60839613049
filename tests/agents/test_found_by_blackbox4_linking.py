"""Understanding and linking bugs found by the fourth black-box pass
(bench/eval/cases/blackbox4_*.yaml), with the cases' sentences and others of our own.

- A correction in the same message ("cancel the candle - no sorry, I mean the throw pillow",
  "refund 31201 - sorry typo, 31202") used to propose the order taken back: "yes" then moved
  money for it. What follows the correction replaces what it takes back.
"""

from __future__ import annotations

from datetime import datetime

import pytest

from agents.spelling import normalise, take_back
from tests.agents.offline_shop import build_eval_shop, chat, order_row, refund_rows

ITEMS = ("scented", "candle", "throw", "pillow", "phone", "case", "wireless", "mouse", "office",
         "chair", "socks", "boots", "blue", "black")


@pytest.mark.parametrize(("text", "meant"), [
    ("cancel the candle - no sorry, I mean the throw pillow", "cancel the throw pillow"),
    ("refund 31201 - sorry typo, 31202", "refund 31202"),
    ("refund the blue phone case. sorry, I mean the black one", "refund the black phone case"),
    ("cancel the phone case, oh sorry I meant refund the mouse", "refund the mouse"),
    # our own
    ("refund the socks, no hang on, the boots", "refund the boots"),
    ("cancel 31301, make that 31302", "cancel 31302"),
    ("cancel order 31301, no, 31302", "cancel order 31302"),
    ("Please cancel order 31303... oops wrong number, I meant 31302", "Please cancel order 31302"),
    ("refund the chair, actually the mouse", "refund the mouse"),
    ("refund my chair, oops, wrong one: the mouse", "refund the mouse"),
    ("refund the mouse - sorry, I meant replace it", "replace the mouse"),
    ("refund not the chair but the mouse", "refund the mouse"),
    ("refund the mouse, not the chair", "refund the mouse"),
    ("where is my chair? sorry, I mean the mouse", "where is the mouse?"),
    ("i want my money back for the boots. no sorry, the socks!", "i want my money back for the socks!"),
    ("I want a refund for the chair, I mean for the mouse", "I want a refund for the mouse"),
    ("cancel the candle. sorry, I meant to say the pillow because I don't need it",
     "cancel the pillow because I don't need it"),
    ("refund the chair - sorry, I mean the mouse, it stopped working",
     "refund the mouse, it stopped working"),
    ("I want to cancel my candle order because I don't need it - scratch that, the pillow",
     "I want to cancel the pillow because I don't need it"),
])
def test_a_correction_replaces_what_it_takes_back(text, meant):
    assert take_back(text, ITEMS) == meant


@pytest.mark.parametrize("text", [
    "refund the mouse please, sorry for the trouble",
    "refund the mouse, no rush",
    "cancel the candle, no longer need it",
    "refund the mouse, sorry, it stopped working",
    "refund the chair, no, the box is damaged",
    "So I'd like to return the blanket and get my money back please. Anyway, thanks, and sorry "
    "for the essay lol",
    "refund the chair, sorry to bother you, the mouse is fine",
    "refund the mouse, I mean it's really broken",
    "yes... actually no, wait",
    "no no no. yes to the mouse though",
    "yes but for the mouse instead",
    "wait actually no",
    "refund order no. 37 101 please",
    "please cancel order no. 33601",
    # an addition, not a correction
    "cancel the candle. Sorry, cancel the pillow too",
    "refund the chair. sorry, where is my mouse?",
    # "not" about something that is not one of their items
    "please refund it to his paypal, not my card",
])
def test_words_that_only_look_like_a_correction_change_nothing(text):
    assert take_back(text, ITEMS) == text


def test_the_understanding_reads_the_corrected_request():
    assert normalise("cancle the candel - no sorry, I mean the throw pilow", ITEMS) == \
        "cancel the throw pillow"


@pytest.fixture(scope="module")
def shop(tmp_path_factory):
    services = build_eval_shop(tmp_path_factory, "blackbox4-linking", replacements=True)
    yield services
    services.close()



@pytest.mark.parametrize(("user", "text", "action", "meant", "taken_back"), [
    (13, "cancel the candle - no sorry, I mean the throw pillow", "cancel_order", "31302", "31301"),
    (12, "refund 31201 - sorry typo, 31202", "issue_refund", "31202", "31201"),
    (24, "refund the blue phone case. sorry, I mean the black one", "issue_refund", "32402",
     "32401"),
    (2, "cancel the phone case, oh sorry I meant refund the mouse", "issue_refund", "30202",
     "30203"),
    # our own
    (29, "refund the socks, no hang on, the boots", "issue_refund", "32901", "32902"),
    (13, "cancel the wall clock. oops, make that the candle", "cancel_order", "31301", "31303"),
    (9, "refund the bed sheets - scratch that, I meant the pillow", "issue_refund",
     "30902", "30901"),
    (18, "I'd like a refund for the vase. No wait, the blender, sorry", "issue_refund", "31803",
     "31801"),
])
def test_the_corrected_order_is_proposed_and_the_other_never_moves(shop, user, text, action,
                                                                    meant, taken_back):
    before = refund_rows(shop, user_id=user)
    status_before = order_row(shop, taken_back)["status"]
    offer, done = chat(shop, user, text, "yes")
    assert (offer["action"], offer["order_id"], offer["action_result"]["status"]) == (
        action, meant, "needs_confirmation"), offer["response"]
    assert f"#{taken_back}" not in offer["response"]
    assert done["action_result"]["status"] == "success" and done["order_id"] == meant
    assert [r[0] for r in refund_rows(shop, user_id=user)[len(before):]] == [meant]
    assert order_row(shop, taken_back)["status"] == status_before


# --- R7: orders described by status or by when something happened to them -----------------

from agents.order_linking import link  # noqa: E402
from agents.shop_view import OrderFact  # noqa: E402

NOW = datetime(2026, 11, 30, 12, 0)


def fact(oid, status, item, ordered, delivered=None, total=1000):
    day = lambda n: None if n is None else datetime(2026, 11, 30 - n, 9, 0)  # noqa: E731
    return OrderFact(oid, status, (item,), total, day(ordered), None, day(delivered), None, None,
                     None, False, None)


MIA = [fact("31301", "pending", "Scented candle", 1), fact("31302", "pending", "Throw pillow", 2),
       fact("31303", "processing", "Wall clock", 3)]
RAJ = [fact("30201", "delivered", "Office chair", 7, 3), fact("30202", "delivered",
       "Wireless mouse", 16, 12), fact("30203", "processing", "Phone case", 2)]


@pytest.mark.parametrize(("text", "orders", "ids", "candidates"), [
    ("cancel both pending ones", MIA, ["31301", "31302"], []),
    ("cancel all my pending orders", MIA, ["31301", "31302"], []),
    ("cancel my pending order", MIA, [], ["31301", "31302"]),  # one of two: ask among them
    ("cancel the processing one", MIA, ["31303"], []),
    ("I ordered something yesterday by mistake, cancel it", MIA, ["31301"], []),
    ("cancel the thing I bought 3 days ago", MIA, ["31303"], []),
    ("I want to return the thing that arrived 12 days ago", RAJ, ["30202"], []),
    ("refund what was delivered three days ago", RAJ, ["30201"], []),
    ("the stuff I ordered last week, refund it", RAJ, ["30201"], []),
    ("the stuff from last week, refund it", RAJ, [], ["30201", "30202"]),
    ("cancel the unshipped order", RAJ, ["30203"], []),
    ("cancel everything that hasn't shipped", MIA, ["31301", "31302", "31303"], []),
    ("cancel the order that has not been shipped yet", RAJ, ["30203"], []),
    ("where is the one that hasn't arrived?", RAJ, ["30203"], []),
])
def test_words_that_describe_orders_narrow_the_choice(text, orders, ids, candidates):
    found = link(text, orders, now=NOW)
    assert (found.order_ids, found.candidates) == (ids, candidates)


@pytest.mark.parametrize(("text", "orders"), [
    ("cancel my order", MIA),
    ("I ordered it 20 days ago, cancel it", MIA),   # nothing fits: ask, don't guess
    ("it arrived yesterday, refund it", RAJ),
    ("the order is pending for ages", MIA),
])
def test_descriptions_nothing_fits_leave_the_choice_open(text, orders):
    found = link(text, orders, now=NOW)
    assert (found.order_ids, found.candidates) == ([], [])


def test_an_item_named_beats_a_date():
    assert link("cancel the wall clock I ordered yesterday", MIA, now=NOW).order_ids == ["31303"]


@pytest.mark.parametrize(("user", "messages", "first", "rest"), [
    (12, ["cancel both unshipped orders"], "31204", "31205"),
])
def test_both_named_by_status_proposes_one_and_names_the_other(shop, user, messages, first,
                                                                rest):
    offer = chat(shop, user, *messages)[-1]
    assert (offer["action"], offer["order_id"], offer["action_result"]["status"]) == (
        "cancel_order", first, "needs_confirmation"), offer["response"]
    assert f"#{rest}" in offer["response"] and "31203" not in offer["response"]


def test_a_date_picks_the_one_order_it_fits(shop):
    offer = chat(shop, 42, "I want a refund for what was delivered 10 days ago")[0]
    assert (offer["action"], offer["order_id"], offer["action_result"]["status"]) == (
        "issue_refund", "34201", "needs_confirmation"), offer["response"]
    ask = chat(shop, 42, "refund the thing that arrived yesterday")[0]  # none did
    assert (ask["action"], ask["action_result"]["status"]) == ("none", "needs_info")


# --- a yes that asks for more ---------------------------------------------------------------

def test_yes_and_another_order_too_confirms_and_keeps_the_second(shop):
    offer, done, again = chat(shop, 26, "cancel the cookbook", "yes, and refund the pan too",
                              "yes")
    assert offer["order_id"] == "32601" and offer["action_result"]["status"] == \
        "needs_confirmation"
    assert done["action_result"]["status"] == "success" and done["order_id"] == "32601"
    assert "32602" in done["response"]
    assert (again["action"], again["order_id"], again["action_result"]["status"]) == (
        "issue_refund", "32602", "needs_confirmation"), again["response"]


@pytest.mark.parametrize("text", ["yes", "yes please, thanks!", "yes, go ahead and do it"])
def test_a_plain_yes_asks_for_nothing_more(text):
    from agents.dialogue import also_asked
    assert also_asked(text, MIA, "31301", "cancel") is None


def test_yes_with_the_same_order_again_asks_for_nothing_more():
    from agents.dialogue import also_asked
    assert also_asked("yes, cancel the candle too", MIA, "31301", "cancel") is None
    assert also_asked("yes and the throw pillow too", MIA, "31301", "cancel") == {
        "intent": "cancel", "order_id": "31302", "reason": None}


# --- a second request in a multi-request message is never dropped ---------------------------

from agents.requests import split  # noqa: E402

TEA = [fact("34801", "delivered", "Tea set", 10, 6), fact("34802", "pending", "Tea kettle", 1)]


@pytest.mark.parametrize(("text", "expected"), [
    ("the tea kettle - I placed it yesterday, can u cancel. also the tea set from last week has "
     "a chip, want a new one", [("cancel", "34802"), ("replacement", "34801")]),
    ("please cancel the kettle. The tea set arrived cracked, I need a new one",
     [("cancel", "34802"), ("replacement", "34801")]),
    ("cancel the kettle; plus the tea set is chipped, could I get a new one?",
     [("cancel", "34802"), ("replacement", "34801")]),
])
def test_a_request_put_after_its_story_keeps_its_order(text, expected):
    assert [(r.intent, r.order_id) for r in split(text, TEA)] == expected


def test_the_replacement_order_named_is_not_a_request_for_one():
    phones = [fact("31901", "delivered", "Wireless headphones", 24, 20),
              OrderFact("31901-R", "delivered", ("Wireless headphones",), 0, NOW, None, NOW,
                        None, None, None, False, "31901")]
    text = "the replacement headphones you sent are broken as well, refund them please"
    assert split(text, phones) == []
    assert link(text, phones).order_ids == ["31901-R"]
    assert link("the original headphones are broken", phones).order_ids == ["31901"]
    assert link("the headphones are broken", phones).candidates == ["31901", "31901-R"]


def test_the_replacement_order_named_gets_the_action_asked_for_and_no_none(shop):
    reply = chat(shop, 19, "the replacement headphones you sent are broken as well, refund "
                           "them please")[0]
    assert "None" not in reply["response"]
    assert (reply["intent"], reply["order_id"]) == ("refund", "31901-R"), reply["response"]
    assert reply["proposal"] is None


def test_a_second_request_with_no_order_is_asked_about_never_none(shop):
    reply = chat(shop, 63, "cancel the desk lamp and refund them please")[0]
    assert "None" not in reply["response"]


def test_the_tea_set_replacement_is_named_with_the_kettle_proposal(shop):
    offer, done, nxt = chat(shop, 48, "the tea kettle - I placed it yesterday, can u cancel. also "
                            "the tea set from last week has a chip, want a new one", "yes", "yes")
    assert (offer["action"], offer["order_id"]) == ("cancel_order", "34802"), offer["response"]
    assert "34801" in offer["response"]
    assert done["action_result"]["status"] == "success" and done["order_id"] == "34802"
    assert (nxt["action"], nxt["order_id"], nxt["action_result"]["status"]) == (
        "create_replacement", "34801", "needs_confirmation"), nxt["response"]


# --- "never mind" followed by a question of its own ---------------------------------------

def test_never_mind_then_a_status_question_answers_it(shop):
    person, status = chat(shop, 1, "get me a human please",
                          "actually never mind, I figured it out. where's my telescope?")
    assert person["action_result"]["status"] == "escalated"
    assert (status["action"], status["order_id"]) == ("get_order_status", "30102")
    assert "1Z8F4E00030102" in status["response"] and "None" not in status["response"]


@pytest.mark.parametrize(("text", "more"), [
    ("actually never mind, I figured it out. where's my telescope?", True),
    ("nah forget it, cancel the bookmark instead", True),
    ("no. where is it?", True),
    ("never mind", False),
    ("no thanks", False),
    ("no, leave it", False),
    ("no, I want that undone", False),
])
def test_what_follows_a_no(text, more):
    from agents.dialogue import asks_more
    assert asks_more(text) is more
