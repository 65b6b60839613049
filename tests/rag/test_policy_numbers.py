"""Every rule number the policy documents promise equals the setting the code enforces.

The documents are parsed with regular expressions (digits and spelled-out numbers alike),
and each statement is matched to a rule by the words around it. A change to either side —
a policy edit or a new default in config.Settings — fails this test until both agree.
A statement about days that the test cannot attribute to a rule also fails, so a new
window cannot slip into the documents unchecked.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import pytest

from config import ROOT, Settings
from rag.chunking import policy_files

POLICIES = ROOT / "policies"

UNITS = {"zero": 0, "one": 1, "two": 2, "three": 3, "four": 4, "five": 5, "six": 6, "seven": 7,
         "eight": 8, "nine": 9, "ten": 10, "eleven": 11, "twelve": 12, "thirteen": 13,
         "fourteen": 14, "fifteen": 15, "sixteen": 16, "seventeen": 17, "eighteen": 18,
         "nineteen": 19}
TENS = {"twenty": 20, "thirty": 30, "forty": 40, "fifty": 50, "sixty": 60, "seventy": 70,
        "eighty": 80, "ninety": 90}
_WORD = "|".join(sorted([*UNITS, *TENS], key=len, reverse=True))
# "thirty", "forty-five", "five hundred", "one hundred and twenty", "a hundred"
SPELLED = (rf"(?:(?:{_WORD}|a)[\s-]+hundred(?:[\s-]+(?:and[\s-]+)?(?:{_WORD})(?:[\s-]+(?:{_WORD}))?)?"
           rf"|(?:{_WORD})(?:[\s-]+(?:{_WORD}))?)")
NUMBER = rf"(?:\d[\d,]*(?:\.\d+)?|{SPELLED})"

DAYS = re.compile(rf"(?i)\b(?P<n>{NUMBER})(?:[\s-]+calendar)?[\s-]+days?\b")
REFUND_COUNT = re.compile(rf"(?i)\b(?P<n>{NUMBER})\s+(?:\w+\s+)?refunds?\b")
MONEY = re.compile(rf"(?i)(?:\$\s?(?P<d>\d[\d,]*(?:\.\d+)?)"
                   rf"|\b(?P<w>{NUMBER})\s+(?:us\s+)?dollars?\b)")

FRAUD = re.compile(r"(?i)\brolling\b|\bat most\b.*\brefunds?\b|\brefunds? per customer|"
                   r"limit on refunds|count includes|fraud")
REFUND = re.compile(r"(?i)\brefund|money back|\breturn")
REPLACE = re.compile(r"(?i)\breplac")
HIGH_VALUE = re.compile(r"(?i)\brefunds?\b.*\b(?:above|over|more than|exceed\w*|greater than)\b"
                        r"|\b(?:above|over|more than|exceed\w*)\b.*\b(?:approv\w*|review\w*)")


def to_number(text: str) -> float:
    text = text.strip().lower().replace(",", "")
    if re.fullmatch(r"\d+(?:\.\d+)?", text):
        return float(text)
    total = current = 0
    for word in re.split(r"[\s-]+", text):
        if word == "and":
            continue
        if word == "hundred":
            current = (current or 1) * 100
        elif word == "a":
            current = 1
        elif word in UNITS:
            current += UNITS[word]
        elif word in TENS:
            current += TENS[word]
        else:
            raise ValueError(f"not a number: {text!r}")
    return float(total + current)


@dataclass(frozen=True)
class Statement:
    source: str
    section: str
    sentence: str
    setting: str
    value: float


def sections(markdown: str) -> list[tuple[str, str]]:
    """(heading, body) per `##` section; the heading is part of what a rule's words can match."""
    parts = re.split(r"(?m)^## +(.+?)\s*$", markdown)
    return [(parts[i], parts[i + 1]) for i in range(1, len(parts) - 1, 2)]


def sentences(heading: str, body: str) -> list[str]:
    text = " ".join(body.split())
    return [heading, *re.split(r"(?<=[.!?])\s+(?=[A-Z\"(])", text)]


def day_rules(sentence: str, heading: str, body: str) -> list[str]:
    """Which window(s) a 'N days' statement is about: its own sentence first, then its section."""
    for context in (sentence, heading, body):
        if FRAUD.search(context):
            return ["fraud_window_days"]
        found = []
        if REFUND.search(context):
            found.append("refund_window_days")
        if REPLACE.search(context):
            found.append("replacement_window_days")
        if found:
            return found
    return []


def parse(source: str, markdown: str) -> tuple[list[Statement], list[str]]:
    """All rule statements in one document, plus any 'N days' it could not attribute."""
    found, unexplained = [], []
    for heading, body in sections(markdown):
        for sentence in sentences(heading, body):
            for m in DAYS.finditer(sentence):
                rules = day_rules(sentence, heading, body)
                if not rules:
                    unexplained.append(f"{source} / {heading}: {sentence}")
                found += [Statement(source, heading, sentence, r, to_number(m["n"])) for r in rules]
            if FRAUD.search(sentence):
                found += [Statement(source, heading, sentence, "max_refunds_per_window",
                                    to_number(m["n"])) for m in REFUND_COUNT.finditer(sentence)]
            if HIGH_VALUE.search(sentence):
                found += [Statement(source, heading, sentence, "auto_refund_limit",
                                    to_number(m["d"] or m["w"])) for m in MONEY.finditer(sentence)]
    return found, unexplained


def all_statements() -> tuple[list[Statement], list[str]]:
    found, unexplained = [], []
    for path in policy_files(POLICIES):
        f, u = parse(path.name, path.read_text(encoding="utf-8"))
        found += f
        unexplained += u
    return found, unexplained


# The defaults in code, not whatever this machine's environment overrides them with.
DEFAULTS = Settings.model_construct(**{
    name: field.default for name, field in Settings.model_fields.items()})


# --- the parser itself ----------------------------------------------------------------------

@pytest.mark.parametrize("text,value", [
    ("30", 30), ("500.00", 500), ("1,000", 1000), ("thirty", 30), ("two", 2), ("forty-five", 45),
    ("forty five", 45), ("five hundred", 500), ("one hundred and twenty", 120), ("a hundred", 100),
])
def test_numbers_in_digits_and_words(text, value):
    assert to_number(text) == value


@pytest.mark.parametrize("markdown,expected", [
    ("## Refund window\nYou can request a refund within thirty days of delivery.",
     {("refund_window_days", 30)}),
    ("## Refund window\nYou can request a refund within a 45-day window after delivery.",
     {("refund_window_days", 45)}),
    ("## Replacement window\nAsk within fourteen days. The fourteen days start at delivery.",
     {("replacement_window_days", 14)}),
    ("## Limits\nEach customer can receive at most two refunds in any rolling period of "
     "thirty days.", {("max_refunds_per_window", 2), ("fraud_window_days", 30)}),
    ("## Limits\nNo more than three refunds per customer in sixty days.",
     {("max_refunds_per_window", 3), ("fraud_window_days", 60)}),
    ("## Big refunds\nAny refund above $500 is reviewed by a person.",
     {("auto_refund_limit", 500)}),
    ("## Refunds above five hundred dollars\nThey need a person's approval.",
     {("auto_refund_limit", 500)}),
    ("## Approval\nOrders over $1,000.50 need approval before we refund them.",
     {("auto_refund_limit", 1000.5)}),
])
def test_parser_finds_spelled_out_and_digit_statements(markdown, expected):
    found, unexplained = parse("x.md", markdown)
    assert {(s.setting, s.value) for s in found} == expected
    assert unexplained == []


def test_parser_ignores_numbers_that_are_not_rules():
    text = ("## Shipping\nStandard shipping costs $5.99 and takes 3-5 business days. "
            "Gift cards from $25.00 to $250.00. Tracking appears within 24 hours.\n"
            "## One refund per order\nEach order can be refunded only once.")
    assert parse("x.md", text) == ([], [])


def test_parser_reports_a_window_it_cannot_attribute():
    _, unexplained = parse("x.md", "## Misc\nYou have 45 days to decide.")
    assert unexplained == ["x.md / Misc: You have 45 days to decide."]


# --- the documents against the settings -------------------------------------------------------

def test_every_rule_number_in_the_policies_equals_the_setting():
    found, unexplained = all_statements()
    assert not unexplained, ("a number of days the test cannot tie to a rule; name the rule in "
                             f"the sentence or extend this test: {unexplained}")
    wrong = [s for s in found if getattr(DEFAULTS, s.setting) != s.value]
    assert not wrong, "\n".join(
        f"{s.source} / {s.section}: says {s.value:g} for {s.setting} but the code enforces "
        f"{getattr(DEFAULTS, s.setting)}: {s.sentence}" for s in wrong)


@pytest.mark.parametrize("setting,documents", [
    ("refund_window_days", {"refund_policy.md", "cancellation_policy.md", "replacement_policy.md"}),
    ("replacement_window_days", {"replacement_policy.md"}),
    ("fraud_window_days", {"refund_policy.md", "escalation_policy.md"}),
    ("max_refunds_per_window", {"refund_policy.md", "escalation_policy.md"}),
    ("auto_refund_limit", {"refund_policy.md", "escalation_policy.md"}),
])
def test_each_rule_is_stated_where_customers_look_for_it(setting, documents):
    # Guards against a vacuous pass: the parser must actually find each rule's statements.
    found, _ = all_statements()
    stated_in = {s.source for s in found if s.setting == setting}
    assert documents <= stated_in, f"{setting} found only in {sorted(stated_in)}"


def test_the_documents_use_the_same_numbers_as_the_spec_defaults():
    # The SPEC's defaults; if these change on purpose, the policies must be re-read too.
    assert (DEFAULTS.refund_window_days, DEFAULTS.replacement_window_days,
            DEFAULTS.fraud_window_days, DEFAULTS.max_refunds_per_window,
            DEFAULTS.auto_refund_limit) == (30, 30, 30, 2, 500.0)
