""""My keyboard has a sticky key, what are my options?": what could be done for one order.

A question, so nothing is proposed: each action that could apply to the order as it stands is
checked with the guard's own dry run (check_eligibility), and the customer chooses. The choice
keeps what they said was wrong ("ok replace it then" needs no second description).
"""

from __future__ import annotations

import re
from datetime import date

from agents.offline_brain import Outcome
from agents.replies import PERSON_QUESTION, plain
from agents.understanding import Understanding
from tools.base import ToolContext, ToolResult
from tools.registry import ToolRunner

# "what are my options?", "what can you do about it?", "what do I do now?"
OPTIONS = re.compile(
    r"(?i)\b(?:what(?:'s| are| r)? (?:my|the) (?:options|choices)|what options|"
    r"what (?:can|could|should|do|would) (?:i|you|we) do(?: about (?:it|this|that))?\b(?! to)|"
    r"what(?:'s| is) (?:possible|the next step)|how (?:can|could) you (?:help|fix (?:it|this)))")
YES = re.compile(r"^(?:R\d+\w* \w+: )?yes\s*[—-]\s*", re.I)
ITEM_PROBLEMS = ("damaged", "defective", "wrong_item")
VERBS = {"refund": "refund it", "replacement": "send a replacement", "cancel": "cancel it"}
WORDS = {"refund": "a refund", "replacement": "a free replacement", "cancel": "cancelling it"}


def _day(iso: str) -> str:
    return f"{date.fromisoformat(iso):%-d %b %Y}"


def purposes_for(status: str) -> tuple[str, ...]:
    return ("cancel",) if status in ("pending", "processing") else ("refund", "replacement")


def options_outcome(u: Understanding, ctx: ToolContext, runner: ToolRunner, order) -> Outcome:
    u.intent = "other" if u.intent == "policy_question" else u.intent  # answered here
    checks = [runner.invoke("check_eligibility", ctx, order_id=order.id, purpose=p)
              for p in purposes_for(order.status)]
    open_ = [r for r in checks if r.status == "success" and r.details.get("eligible")]
    if not open_:
        why = plain(checks[0].reason)
        return Outcome(u.intent, u.confidence, order.id, "none", ToolResult(
            "success", f"{why} {PERSON_QUESTION}", {"explained": True}, order_id=order.id),
            pending={"intent": "escalate", "awaiting": "person", "confidence": 1.0,
                     "order_id": order.id, "reason": None, "text": u.text[:500]})
    chosen = [r.details["purpose"] for r in open_]
    text = YES.sub("", plain(open_[0].reason))
    text = text[:1].upper() + text[1:]
    if len(open_) > 1:  # the refund's facts first, then the replacement as the alternative
        text += (" Or, if it arrived damaged, defective or wrong, we can send a free "
                 f"replacement instead, until {_day(open_[1].details['deadline'])} (once per "
                 "order).")
    if len(chosen) == 1:
        ask = f" Would you like me to {VERBS[chosen[0]]}?"
        pending = {"intent": chosen[0], "awaiting": "confirm", "confidence": 1.0,
                   "order_id": order.id, "reason": u.reason}
    else:
        ask = (" Which would you like — " + " or ".join(WORDS[p] for p in chosen) + "?")
        likely = "replacement" if u.reason in ITEM_PROBLEMS and "replacement" in chosen \
            else chosen[0]
        pending = {"intent": likely, "awaiting": "choice", "options": chosen,
                   "confidence": 1.0, "order_id": order.id, "reason": u.reason}
    return Outcome(u.intent, u.confidence, order.id, "none", ToolResult(
        "success", text + ask, {"explained": True, "options": chosen}, order_id=order.id),
        pending=pending)
