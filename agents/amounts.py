"""Amounts the customer names: "refund $5 only, I keep the item", "20% back", "half my money".

Refunds are always the full order total (R2), so a request for part of it is never paid
silently as the whole: the reply says so plainly and the full amount is proposed (or, when
the customer means to keep the item — a discount, a price difference — offered as a
question). An amount equal to the order's total ("I want my $89.95 back") is just a refund.
"""

from __future__ import annotations

import re

from db.money import fmt

MONEY = re.compile(r"(?i)(?:[$€£]\s?(\d[\d,]*(?:\.\d{1,2})?)|(\d[\d,]*(?:\.\d{1,2})?)\s?"
                   r"(?:dollars?|bucks|usd|eur|euros?)\b|\bpaid\s(\d[\d,]*(?:\.\d{1,2})?)\b)")
PART = re.compile(r"(?i)\b(?:\d{1,3}\s?%|percent|half|partial(?:ly)?|part of|some of|only part|"
                  r"one (?:pair|of them)|the difference|difference in price|shipping cost|"
                  r"discount|price (?:drop|match|adjustment)|(?:now|is|was|it's) (?:\$?\d+ )?"
                  r"cheaper|cheaper (?:on|at|elsewhere|online|now)\b|compensation|goodwill)")
# The customer means to keep the item and get money off: not a refund at all.
KEEP = re.compile(r"(?i)\b(?:discount|difference|(?:now|is|was|it's) (?:\$?\d+ )?cheaper|"
                  r"cheaper (?:on|at|elsewhere|online|now)\b|price (?:drop|match|adjustment)|"
                  r"compensation|goodwill)")


def asked_cents(text: str) -> list[int]:
    out = []
    for match in MONEY.finditer(text):
        raw = next(g for g in match.groups() if g)
        try:
            out.append(round(float(raw.replace(",", "")) * 100))
        except ValueError:
            continue
    return out


def partial_request(text: str, total_cents: int, intent: str = "refund") -> bool:
    """Does the customer ask for something other than the order's full total? For a
    cancellation, a cheaper price elsewhere or a discount is the reason ("cancel it, I found it
    cheaper elsewhere"), not part of the money."""
    amounts = asked_cents(text)
    if any(a != total_cents for a in amounts):
        return True
    part = PART.search(KEEP.sub(" ", text) if intent == "cancel" else text)
    return bool(part) and not amounts


def keeps_item(text: str) -> bool:
    return bool(KEEP.search(text))


def full_order_note(total_cents: int, keep: bool) -> str:
    if keep:
        return ("We can't refund part of an order or a difference in price: a refund is always "
                f"for the whole order, here {fmt(total_cents)}, and the item comes back to us. ")
    return ("Refunds are always for the whole order, so I can't refund part of it: the full "
            f"{fmt(total_cents)} goes back to you, and the item comes back to us. ")


def whole_order_note(text: str, total_cents: int, intent: str) -> str | None:
    """The plain note for a proposal whose order was found without being named (R7: "I only
    want $10 back" with one order that qualifies), when the words ask for part of it."""
    if intent not in ("refund", "cancel") or not partial_request(text, total_cents, intent):
        return None
    if intent == "cancel":
        return ("An order can only be cancelled as a whole, so I can't cancel part of it; "
                f"cancelling it refunds the full {fmt(total_cents)}. ")
    return full_order_note(total_cents, keeps_item(text))
