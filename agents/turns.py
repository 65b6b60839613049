"""What one customer message leads to, shared by the steps that answer it.

`Step` carries a step's outcome and what the turn's records need to know (the words that
asked for the action, a confirmed proposal, an offer that stays open, state to remember).
The small helpers here are used by several steps (offers, messages, simple answers).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from agents.dialogue import Dialogue
from agents.offline_brain import Outcome
from agents.understanding import Understanding
from tools.registry import MONEY_TOOLS

# "order 1042" in a question pulls retrieval towards the sections whose examples quote an order
# number ("How to request a refund"); the question reads the same about "it".
ORDER_REFERENCE = re.compile(r"(?i)(?:\b(?:my |the |this )?(?:order|purchase)\s*(?:no\.?|number|nr\.?|"
                             r"#)?\s*#?\s*\d{3,12}\b|#\s?\d{3,12}\b)")


def as_policy_query(text: str) -> str:
    return ORDER_REFERENCE.sub("it", text)


@dataclass
class Step:
    """What one message led to, and what the turn's records need to know about it."""

    outcome: Outcome
    mode: str = "offline"
    request_text: str | None = None  # the words that asked for the action, when not this message
    confirmed: str | None = None     # the proposal this message confirmed
    keep_offer: bool = False         # the proposal on the table stays there
    understanding: Understanding | None = None
    dialogue: Dialogue | None = None
    remember: dict = field(default_factory=dict)  # extra conversation state for next turn


DEFER = re.compile(r"(?i)\b(?:let me (?:check|think|see|look|ask)|i'?ll (?:think|check|get back|"
                   r"let you know)|give me a (?:sec|second|minute|moment)|not sure yet|think "
                   r"about it|hold that thought)\b")


def last_action(history: list[dict]) -> dict | None:
    """The previous turn's action, if it changed something for the customer."""
    last = history[-1] if history else None
    if last and (last.get("action") in MONEY_TOOLS and last.get("outcome") == "success"
                 or last.get("action") == "escalate_case" and last.get("outcome") == "escalated"):
        return last
    return None


def offer_intent(snapshot: dict) -> str:
    return {"issue_refund": "refund", "cancel_order": "cancel",
            "create_replacement": "replacement"}.get(snapshot["action"], "")


def public_view(snapshot: dict) -> dict:
    """The `proposal` object of a response, from a proposal snapshot."""
    return {k: snapshot[k] for k in ("id", "action", "order_id", "amount", "items",
                                     "needs_approval", "summary", "expires_at")}
