"""What the understanding reads: typos of our words fixed, real words and acronyms left alone."""

from __future__ import annotations

import pytest

from agents.order_linking import _singular, without_fine_items
from agents.spelling import normalise

ITEMS = ("phone", "case", "charger", "earbuds", "jersey", "football")


@pytest.mark.parametrize("text,expected", [
    # Black-box pass 5: "came" was "corrected" to the item word "case", so "earbuds came today,
    # broke" also asked for the charging case and "it came damaged" picked the phone case.
    ("it came damaged can you send another", "it came damaged can you send another"),
    ("earbuds came today, already broke", "earbuds came today, already broke"),
    ("the same one", "the same one"),
    # typos of our own words are still fixed
    ("cancle my jersy ordr plz", "cancel my jersey order please"),
    # drawn-out words, but not an acronym
    ("pleaseeeee helpppp my phone chargerrrr", "please help my phone charger"),
    ("I'm reporting you to the BBB", "I'm reporting you to the BBB"),
])
def test_what_the_understanding_reads(text, expected):
    assert normalise(text, ITEMS) == expected


@pytest.mark.parametrize("word,singular", [("cases", "case"), ("glasses", "glass"),
                                           ("boxes", "box"), ("watches", "watch"),
                                           ("knives", "knife"), ("batteries", "battery"),
                                           ("socks", "sock"), ("dress", "dress")])
def test_plurals_name_the_same_item(word, singular):
    assert _singular(word) == singular


def test_an_item_that_came_and_is_fine_is_not_what_the_message_is_about():
    text = "can you cancel the football and also the jersey came but its fine thanks"
    quiet = without_fine_items(text)
    assert "football" in quiet and "jersey" not in quiet and len(quiet) == len(text)
