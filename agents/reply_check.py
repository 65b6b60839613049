"""Is the model's reply backed by what the tools did? A reply that claims an action no tool
performed, or names a dollar amount no tool result or policy gave, is not sent."""

from __future__ import annotations

import re

from tools.langchain_tools import ToolCall

NEGATION = re.compile(r"(?i)\b(?:not|cannot|unable|no longer|unless|if|once)\b|n't\b")
CLAIM = re.compile(
    r"(?i)\b(?:(?:i|we)(?:'ve|'ll| have| will| just| now| already| went ahead and)*\s+"
    r"(?:issued|processed|refunded|cancell?ed|approved|initiated|arranged|sent|shipped|created|"
    r"escalated|transferred|forwarded|passed|handed|refund|cancel|replace|escalate|issue|process)"
    r"|(?:has|have) been (?:fully |successfully )?(?:refunded|cancell?ed|replaced|escalated|"
    r"issued|processed|approved|created|sent)"
    r"|(?:specialist|human|manager|agent|someone|team)\b[^.!?]{0,40}\bwill (?:contact you|"
    r"reach out|get back to you|be in touch|call you|email you|review your))")
WHAT = {"refund": re.compile(r"(?i)\brefund|money back|reimburs"),
        "cancel": re.compile(r"(?i)\bcancel"),
        "replacement": re.compile(r"(?i)\breplac|new order"),
        "escalate": re.compile(r"(?i)escalat|specialist|human|manager|person|team|transferr|"
                               r"handed|passed|forwarded")}
MONEY = re.compile(r"\$\s?(\d[\d,]*(?:\.\d{1,2})?)")


def _done(calls: list[ToolCall]) -> set[str]:
    done = set()
    for c in calls:
        if not c.executed:
            continue
        if c.result.status == "success" and c.name in ("issue_refund", "cancel_order"):
            done.add("refund")
        if c.result.status == "success" and c.name == "cancel_order":
            done.add("cancel")
        if c.result.status == "success" and c.name == "create_replacement":
            done.add("replacement")
        if c.result.status == "escalated" or c.result.details.get("escalated"):
            done.add("escalate")
    return done


def _cents(text: str) -> int | None:
    try:
        return round(float(text.replace(",", "")) * 100)
    except ValueError:
        return None


def ungrounded(reply: str, calls: list[ToolCall], sources: list[str]) -> str | None:
    """Why the reply can't be sent as it is (an unbacked claim or amount), or None."""
    done = _done(calls)
    for sentence in re.split(r"(?<=[.!?])\s+|\n+", reply):
        if not CLAIM.search(sentence) or NEGATION.search(sentence):
            continue
        kinds = {k for k, rx in WHAT.items() if rx.search(sentence)}
        if (kinds and not kinds & done) or (not kinds and not done):
            return f"claims what no tool did: {sentence[:120]!r}"
    known = {_cents(n) for text in sources for n in MONEY.findall(text)}
    for amount in MONEY.findall(reply):
        if _cents(amount) not in known:
            return f"mentions an amount no tool or policy gave: ${amount}"
    return None


def states_proposal(reply: str, proposal: dict) -> bool:
    """R11: a reply about a proposal names its order and (when money moves) its amount, so the
    customer's yes is to what will really happen."""
    amount = round(float(proposal.get("amount") or 0) * 100)
    amounts = {_cents(n) for n in MONEY.findall(reply)}
    return (str(proposal["order_id"]) in reply and (amount == 0 or amount in amounts))
