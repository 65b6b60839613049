"""Understanding and linking bugs found by the fourth black-box pass
(bench/eval/cases/blackbox4_*.yaml), with the cases' sentences and others of our own.

- A correction in the same message ("cancel the candle - no sorry, I mean the throw pillow",
  "refund 31201 - sorry typo, 31202") used to propose the order taken back: "yes" then moved
  money for it. What follows the correction replaces what it takes back.
"""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from agents.spelling import normalise, take_back
from bench.eval.fixture import build_fixture
from tests.agents.offline_shop import build_shop, order_row, refund_rows

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
    ("cancel order 31301, no, 31302", "cancel 31302"),
    ("refund the chair, actually the mouse", "refund the mouse"),
    ("refund my chair, oops, wrong one: the mouse", "refund the mouse"),
    ("refund the mouse - sorry, I meant replace it", "replace the mouse"),
    ("refund not the chair but the mouse", "refund the mouse"),
    ("refund the mouse, not the chair", "refund the mouse"),
    ("where is my chair? sorry, I mean the mouse", "where is the mouse?"),
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
    fixture = build_fixture(datetime.now(UTC))
    fixture.pop("replacements", None)  # not part of the seed-file format (see fixture.py)
    services = build_shop(tmp_path_factory, "blackbox4-linking", fixture)
    yield services
    services.close()


def chat(shop, user_id, *messages):
    replies, conversation = [], None
    for text in messages:
        reply = shop.agent.resolve(user_id, text, conversation)
        conversation = reply["conversation_id"]
        replies.append(reply)
    return replies


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
