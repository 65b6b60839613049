""""Did my refund go through?", "when do I get my money?": answered from the refunds table.

The answer names the amount, the order, the day it was issued and where the money went,
and how long banks take. Asking about a refund never starts one (and never trips the
fraud review: a customer at the limit who asks where their money is gets an answer).
"""

from __future__ import annotations

import re
from datetime import datetime, timedelta

from agents.offline_brain import Outcome
from agents.shop_view import OrderFact
from agents.understanding import Understanding
from db.money import fmt
from tools.base import ToolResult

ASKS_ABOUT_REFUND = re.compile(r"""(?ix)
    \b(?:did|has|have|was|were|is|are)\ (?:my|the|your|that|this|both|they|it|those|these)\b
        [^.?!]{0,40}\b(?:refund\w*|refnd\w*|money)\b[^.?!]{0,40}
        \b(?:go(?:ne)?\ through|process\w*|issued|paid|done|sorted|sent|come\ through|arriv\w*|
           complete\w*|out)\b
  | \b(?:did|has|have|was|were|is)\ (?:my|the|your|that|this)\b[^.?!]{0,30}\brefund\w*\b
        [^.?!]{0,40}\b(?:go(?:ne)?\ through|process\w*|issued|paid|done|sorted|sent|come\ through|
           arriv\w*|complete\w*)\b
  | \b(?:haven'?t|have\ not|didn'?t|not|never|still\ not)\ (?:yet\ )?(?:seen|got|gotten|received)\b[^.?!]{0,25}
        \b(?:money|refund)
  | \bhow\ many\ refunds\b | \brefunds?\ (?:have|did)\ i\ (?:had|get|got|received)\b
  | \bany\ (?:news|updates?|word)\ (?:on|about|with)\ (?:the|my)\ (?:[\w-]+\ ){0,2}(?:money|refund)
  | \b(?:did|have)\ (?:you|u)\ (?:refund\w*|process\w*\ (?:my|the)\ refund|pa(?:id|y)\ me)\b
  | \b(?:did|have)\ (?:you|u)\ (?:sen[dt]|get|issue\w*|sort\w*)\b[^.?!]{0,30}\b(?:refund|refnd|money)
  | \b(?:did|have)\ i\ (?:get|got|receive\w*)\b[^.?!]{0,25}\b(?:money|refund)
  | \bwhere(?:'s|s|\ is|\ are)\ (?:my|the)\b[^.?!]{0,20}\b(?:refund|money)
  | \bwhen\ (?:do|will|can|would|should)\ i\ (?:get|receive|see|have)\b[^.?!]{0,30}
        \b(?:money|refund|it\ back)
  | \brefund\ (?:status|update)|\bstatus\ of\ (?:my|the)\ refund
  | \bmoney\ for\ the\b[^.?!]{0,40}\bcancel\w*
  | \b(?:refunds?|money|\$\d[\d.,]*)\b[^.?!]{0,40}\b(?:still\ not|not\ yet|isn'?t|hasn'?t)\b[^.?!]{0,25}
        \b(?:on\ my|in\ my|show\w*|arriv\w*|appear\w*|through)
  | \b(?:don'?t|do\ not|can'?t|cannot)\ (?:yet\ )?see\b[^.?!]{0,30}(?:\$|refund|money|on\ my)
  | \brefunds?\b[^.?!]{0,30}\bboth\ done\b
  | \b(?:were|are)\ (?:both|they|my\ refunds)\ done\b
""")
# "when does the money arrive?", "how long until my refund shows?", "when will I see it on my
# card?": when a refund reaches the customer — not when a card is charged for an order.
MONEY_TIMING = re.compile(r"""(?ix)
    \b(?:when|how\ (?:long|soon|many\ (?:days|business\ days))|what\ day)\b
    (?![^.?!]{0,60}\b(?:charg\w*|bill\w*|debit\w*|pay\ for|taken\ from)\b)
    (?: [^.?!]{0,40}\b(?:the|my|that|this|our)\ (?:\w+\ )?(?:money|refund|funds|cash|reimbursement)\b
      | [^.?!]{0,40}\b(?:see|show\w*|appear\w*|arriv\w*|land\w*|be|get|come|go|hit|reach\w*|
           back)\b[^.?!]{0,20}\b(?:on|in|to|into|onto)\ my\ (?:card|statement|account|bank|
           credit\ card|debit\ card|paypal)\b
      | [^.?!]{0,40}\b(?:hit|reach)\w*\ my\ (?:card|statement|account|bank|credit\ card|
           debit\ card|paypal)\b
      | [^.?!]{0,30}\b(?:money|refund|funds|cash)\b[^.?!]{0,20}\b(?:arriv\w*|come|show|appear|
           land|clear|reach|be\ back|get\ back)\b)
""")
# The same question about "it" right after a refund of a delivered order: the order is already
# here, so only the money can still arrive ("and when will it arrive?", "how long will it take?").
IT_TIMING = re.compile(r"""(?ix)
    ^\W*(?:(?:and|so|ok|okay|great|thanks|cool|perfect)\W+)*
    (?:when\ (?:will|does|do|would|should|can)\ (?:it|i)\b[^.?!]{0,25}\b(?:arriv\w*|come|show|hit|
        appear|land|get\ it|see\ it|have\ it|be\ back|get\ there|reach\w*)
      | how\ (?:long|soon)\b[^.?!]{0,30}\b(?:take|takes|arriv\w*|come|show|appear|land)\b)
      (?:\s+(?!and\b|but\b|or\b|also\b)[\w']+){0,4}\s*\?*\s*$
""")
TIMING = ("Banks usually take 5-10 business days to show a refund on your statement; if it "
          "isn't there after 10 business days, reply here and we'll trace the payment.")


LATE = ("That was {days} business days ago, longer than banks usually take (5-10 business "
        "days). If the money isn't on your statement, say “a person” and our team will trace "
        "the payment with your bank.")


def _business_days(since: datetime, now: datetime) -> int:
    """Weekdays from `since` to `now` (a refund issued on Friday has 1 by Monday)."""
    days, day = 0, since.date()
    while day < now.date():
        day += timedelta(days=1)
        days += day.weekday() < 5
    return days


def _waiting_line(waiting: dict | None, orders: list[OrderFact], u: Understanding) -> str | None:
    """The refund a person still has to approve, when the question is about it (it names that
    order, or no order at all)."""
    if not waiting or not waiting.get("order_id") or u.order_id not in (None, waiting["order_id"]):
        return None
    order = next((o for o in orders if o.id == waiting["order_id"]), None)
    if order is None or order.refund is not None:
        return None
    when = (f" A person will decide by {waiting['due_at']:%a %-d %b, %H:%M} UTC at the latest."
            if waiting.get("due_at") and not waiting.get("answered_at") else "")
    return (f"Your refund of {fmt(order.total_cents)} for order #{order.id} ({order.label}) "
            f"hasn't been issued yet: it is waiting for a person's approval (case "
            f"#{waiting['id']}).{when} Once it is approved, the money goes back to your original "
            "payment method; banks usually take 5-10 business days to show it.")


def asks_about_refund(text: str, just_refunded: bool = False) -> bool:
    """`just_refunded`: the order in focus has been refunded, so "when will it arrive?" is
    about the money."""
    return bool(ASKS_ABOUT_REFUND.search(text) or MONEY_TIMING.search(text)
                or just_refunded and IT_TIMING.search(text))


def _line(o: OrderFact) -> str:
    what = "cancellation refund" if o.refund.kind == "cancellation" else "refund"
    return (f"Your {what} of {fmt(o.refund.amount_cents)} for order #{o.id} ({o.label}) was "
            f"issued on {o.refund.created_at:%-d %b %Y} to your original payment method.")


PLURAL = re.compile(r"(?i)\b(?:refunds|both|all|they|them|those|these|each)\b")


def tracking_outcome(u: Understanding, orders: list[OrderFact], now: datetime,
                     focus: str | None = None, waiting: dict | None = None) -> Outcome:
    """`focus`: the order the conversation is about; a refund of it answers a question that
    names no order ("and when does the money arrive?" right after it was refunded).
    `waiting`: the customer's open case that waits for a person's approval (R2a, R2b): a refund
    not issued yet because of it is named, rather than "I can't see any refunds"."""
    held = _waiting_line(waiting, orders, u)
    if held:
        return Outcome("status", max(u.confidence, 0.8), waiting["order_id"], "none", ToolResult(
            "success", held, {"refund_tracking": True, "refunds": [],
                              "escalation_id": waiting["id"]}, order_id=waiting["order_id"]))
    named = [o for o in orders if o.id == u.order_id] or [
        o for o in orders if o.id in u.candidates]
    if not named and focus and not PLURAL.search(u.text):
        named = [o for o in orders if o.id == focus and o.refund is not None]
    refunded = [o for o in orders if o.refund is not None]
    if named:
        with_refund = [o for o in named if o.refund is not None]
        lines = [_line(o) for o in with_refund]
        lines += [f"I can't see a refund for order #{o.id} ({o.label}) yet — it is {o.status}."
                  for o in named if o.refund is None]
        shown = with_refund
    else:
        recent = [o for o in refunded if o.refund.created_at >= now - timedelta(days=90)]
        shown = sorted(recent or refunded, key=lambda o: o.refund.created_at, reverse=True)[:3]
        if shown:
            lines = [_line(o) for o in shown]
        elif orders:
            lines = ["I can't see any refunds on your account yet. If you'd like one, tell me "
                     "which order and I'll check whether it qualifies."]
            if MONEY_TIMING.search(u.text):
                lines.append("Once a refund is issued, " + TIMING[:1].lower() + TIMING[1:])
        else:
            lines = ["I can't see any orders or refunds on your account."]
    if shown:
        overdue = [o for o in shown if _business_days(o.refund.created_at, now) > 10]
        if overdue and len(overdue) == len(shown):
            lines.append(LATE.format(days=_business_days(overdue[0].refund.created_at, now)))
        else:
            lines.append(TIMING)
    focus = (shown[0].id if shown else named[0].id if named else None)
    return Outcome("status", max(u.confidence, 0.8), focus, "none", ToolResult(
        "success", " ".join(lines), {"refund_tracking": True,
                                     "refunds": [{"order_id": o.id, "amount": o.refund.amount_cents / 100,
                                                  "kind": o.refund.kind,
                                                  "created_at": o.refund.created_at.date().isoformat()}
                                                 for o in shown]}, order_id=focus))
