"""Problems no tool of ours can fix, where the right answer is a person: a double charge, a
parcel marked delivered that never came, items missing from a box, a new delivery address, an
order the customer never placed, a different size or colour.

Acting on them with the nearest tool did harm: "refund the extra charge" proposed returning the
whole order, "only got the boots, the socks never came" asked for a replacement of the boots,
"I didn't order the phone case" offered a replacement. Instead the customer is told plainly
what we can't do here, with the order's facts where one is named, and offered a person; a
"yes" opens the case about that order.
"""

from __future__ import annotations

import re

from agents.offline_brain import Outcome
from agents.replies import PERSON_QUESTION
from agents.understanding import Understanding
from tools.base import ToolContext, ToolResult
from tools.registry import ToolRunner

PROBLEMS: tuple[tuple[str, re.Pattern, str], ...] = (
    ("billing", re.compile(
        r"(?i)\b(?:charged (?:me )?(?:twice|two times|double|2x)|double[- ]?charged|"
        r"duplicate (?:charge|payment)|(?:the|an) extra charge|overcharged|charged (?:me )?(?:the )?"
        r"wrong amount|billed twice|paid twice)\b"),
     "A double or wrong charge needs our billing team to look at your payment — I can't see "
     "card transactions from here."),
    ("not_ordered", re.compile(
        r"(?i)\b(?:i )?(?:didn'?t|did not|never) (?:order|place|buy|purchase)\b|"
        r"(?:someone|somebody) (?:used|has used|stole) my (?:card|account)|unauthori[sz]ed|"
        r"fraudulent (?:order|charge)|hacked"),
     "An order you didn't place needs our team straight away, so they can secure your account "
     "and sort out the payment."),
    ("missing", re.compile(
        r"(?i)\b(?:(?:says|shows|marked|listed)(?: as)? delivered\b.{0,40}\b(?:but|never|not|no)\b|"
        r"missing from (?:my|the) (?:box|package|parcel|order|delivery)|(?:is|are|was|were) "
        r"missing\b|never (?:came|arrived|got here|turned up)|(?:only|just) (?:got|received) the|"
        r"not in the (?:box|package|parcel)|no \w+ anywhere|stolen (?:from|off) (?:my|the))"),
     "A delivery that didn't reach you, or items missing from a box, is something a person "
     "looks into with the carrier and our warehouse."),
    ("address", re.compile(
        r"(?i)\b(?:change|update|correct|fix) (?:the |my )?(?:delivery |shipping )?address\b|"
        r"\b(?:wrong|old) (?:delivery |shipping )?address\b|deliver (?:it |them )?to (?:a |my )?"
        r"(?:different|new|other) address"),
     "I can't change a delivery address myself; a person on our team can, as long as the "
     "order hasn't shipped."),
)
# "can I exchange the shoes for a different size?": a replacement sends the same item again.
OTHER_SIZE = re.compile(
    r"(?i)\b(?:exchange|swap|switch|change)\b.{0,40}\b(?:for|to|into) (?:a |an |the )?"
    r"(?:different|bigger|smaller|larger|other) (?:size|colou?r|one)\b|\b(?:exchange|swap|"
    r"switch)\b.{0,40}\bfor (?:a |an )?(?:size \w+|small|medium|large|x+l|xs|s|m|l)\b")


# "refund A100, the board game is missing pieces": a faulty item, and an action asked for.
ASKS_ACTION = re.compile(r"(?i)\b(?:refund|money back|cancel\w*|replac\w*|send (?:me )?(?:a |an )?"
                         r"(?:new|another)|return)\b")
MISSING_PARTS = re.compile(r"(?i)\bmissing (?:\w+ )?(?:pieces?|parts?|screws?|buttons?|keys?|"
                          r"cables?|instructions|manual|lid|battery|batteries)\b")


def person_problem(text: str) -> tuple[str, str] | None:
    for kind, pattern, why in PROBLEMS:
        if not pattern.search(text):
            continue
        if kind == "missing" and (MISSING_PARTS.search(text) or ASKS_ACTION.search(text)):
            continue  # a faulty item, or a request the tools can handle
        if kind in ("not_ordered", "address") and ASKS_ACTION.search(text):
            continue  # "I didn't order this, cancel it": the cancellation is proposed
        return kind, why
    return None


def problem_outcome(u: Understanding, kind: str, why: str, order=None) -> Outcome:
    about = ""
    if order is not None:
        about = f" This is about order #{order.id} ({order.label}, {order.status})."
    return Outcome("other", u.confidence, order.id if order is not None else None, "none", ToolResult(
                       "success", f"{why}{about} {PERSON_QUESTION}",
                       {"explained": True, "problem": kind},
                       order_id=order.id if order is not None else None),
                   pending={"intent": "escalate", "awaiting": "person", "confidence": 1.0,
                            "order_id": order.id if order is not None else None,
                            "reason": None, "text": u.text[:500]})


def other_size_outcome(u: Understanding, ctx: ToolContext, runner: ToolRunner, order) -> Outcome:
    """A different size or colour: we can't swap it (a replacement is the same item again), but
    a return for a refund may be open — with this order's facts from the guard's dry run."""
    lead = ("We can't swap an item for a different size or colour: a replacement sends the same "
            "item again.")
    if order is None:
        return Outcome("refund", u.confidence, None, "none", ToolResult(
            "success", f"{lead} You can return it for a refund within 30 days of delivery and "
                       "order the one you need. Which order is it?", {"explained": True}))
    facts = runner.invoke("check_eligibility", ctx, order_id=order.id, purpose="refund")
    if facts.status == "success" and facts.details.get("eligible"):
        text = (f"{lead} You can return it instead: {facts.reason.split('— ', 1)[-1]} Then "
                "order the size you need. Would you like me to refund it?")
        pending = {"intent": "refund", "awaiting": "confirm", "confidence": 1.0,
                   "order_id": order.id, "reason": u.reason}
    else:
        reason = facts.reason.split(": ", 1)[-1]
        text = f"{lead} {reason[:1].upper()}{reason[1:]} {PERSON_QUESTION}"
        pending = {"intent": "escalate", "awaiting": "person", "confidence": 1.0,
                   "order_id": order.id, "reason": None, "text": u.text[:500]}
    return Outcome("refund", u.confidence, order.id, "none", ToolResult(
        "success", text, {"explained": True, "problem": "other_size"}, order_id=order.id),
        pending=pending)
