"""The customer-facing reply: the outcome, the reason in plain words, the next step, the source."""

from __future__ import annotations

import re
from datetime import datetime

from agents.understanding import HOW_MUCH_BACK, Understanding, courtesy_only
from tools.base import ToolResult

RULE_PREFIX = re.compile(r"^R\d+[a-z]? [\w\- ]+?: ")


def plain(reason: str) -> str:
    """'R2 refund window: order ...' -> 'Order ...' (the rule name stays in action_result)."""
    text = RULE_PREFIX.sub("", reason or "").strip()
    return text[:1].upper() + text[1:]


def doc_title(source: str) -> str:
    name = source.rsplit(".", 1)[0].replace("_", " ")
    return "FAQs" if name == "faqs" else name[:1].upper() + name[1:]


def citation(sources: list[dict]) -> str:
    if not sources:
        return ""
    top = sources[0]
    return f"(Source: {doc_title(top['source'])} — “{top['section']}”.)"


def excerpt(text: str, limit: int = 600) -> str:
    text = " ".join(text.split())
    if len(text) <= limit:
        return text
    cut = text[:limit].rsplit(". ", 1)[0]
    return cut + "."


# "is it too late to cancel…?", "have I missed the return window?": asked the other way
# round, so the facts' yes (it can still be done) is the answer "no".
TOO_LATE = re.compile(
    r"(?i)\b(?:(?:is|am|are|was) (?:it|i|we)(?: already| now)? too late|too late (?:for|to)\b|"
    r"(?:have|did|has) (?:i|we)(?: already)? miss(?:ed)?\b|(?:is|has) (?:the|my) (?:\w+ ){0,2}"
    r"(?:window|deadline|period|time) (?:already )?(?:closed|over|expired|passed|gone|ended|"
    r"run out)|(?:is|am|are) (?:it|i|we|this|that) (?:already )?(?:past|outside|out of) (?:the )?"
    r"(?:\w+ ){0,2}(?:window|deadline|period|time))")
# "could I return the shoes if they don't fit when they arrive?": about later, after delivery.
LATER = re.compile(
    r"(?i)\b(?:if|once|in case|what if|hypothetically|suppos(?:e|ing))\b|\b(?:when|after) "
    r"(?:it|they|the|my|this|that|these|those|i get)\b[^?.!]{0,40}?\b(?:arriv|come|get here|"
    r"deliver|turn up|show up|fit|work|get (?:it|them))")
# "how long do I have?", "until when?", "what's the deadline?": how much time is left to act —
# answered with the window and this order's last day, not with a yes.
TIME_LEFT = re.compile(
    r"(?i)\b(?:how (?:long|much time|many days) (?:do|have|did|would|will|'?ve) (?:i|we)\b|"
    r"how (?:much time|many days|long) (?:is |are |do i have |have i got )?(?:left|remain\w*)|"
    r"how long (?:is|until|till|before) the (?:\w+ )?(?:window|deadline|period)|until when|"
    r"till when|by when|what(?:'s| is) the (?:last day|deadline|time limit|cut-?off)|"
    r"(?:last|final) day\b|time limit|is there a deadline|when (?:is|does) the (?:\w+ )?(?:window|deadline|period)"
    r"(?: close| end| expire| run out)?\b)")
WHAT_IF_WRONG = {"refund": "return it for a full refund", "replacement": "get a free replacement "
                 "if it arrives damaged, defective or wrong"}


def fact_answer(text: str, reason: str, result: ToolResult, offer: bool = True) -> str:
    """A question about an action answered with the order's facts, opening with the yes or
    no that answers the question as it was asked (`offer=False`: without offering to act,
    when the offer is made anyway)."""
    details = result.details
    offer = {"refund": " Would you like me to refund it?",
             "cancel": " Would you like me to cancel it?",
             "replacement": " If so, tell me what's wrong with it and I'll set it up."
             }.get(details.get("purpose"), "") if offer else ""
    lower = f"{reason[:1].lower()}{reason[1:]}"
    bare = re.sub(r"^yes\s*[—-]\s*", "", lower)
    if TIME_LEFT.search(text) and details.get("eligible") and not HOW_MUCH_BACK.search(text):
        if details.get("window_days") and details.get("deadline"):
            return f"{details['window_days']} days from delivery — {bare}{offer}"
        if details.get("purpose") == "cancel":
            return f"Until it ships — {bare}{offer}"
    how_much = HOW_MUCH_BACK.search(text) and details.get("purpose") in ("refund", "cancel")
    if how_much and details.get("eligible") and details.get("amount") is not None:
        # "how much would I get back?": the amount is the answer, not a yes.
        return (f"You'd get the full ${details['amount']:,.2f} back. {bare[:1].upper()}"
                f"{bare[1:]}{offer}")
    if TOO_LATE.search(text):
        if details.get("eligible"):
            return f"No, it's not too late — {bare}{offer}"
        return f"Yes, I'm afraid so — {lower}"
    if not details.get("eligible"):
        if details.get("once_delivered") and (LATER.search(text) or how_much) \
                and details.get("purpose") in WHAT_IF_WRONG:
            days = details.get("window_days")
            amount = (f" of ${details['amount']:,.2f} to your original payment method"
                      if details.get("purpose") == "refund" and details.get("amount") else "")
            what = WHAT_IF_WRONG[details["purpose"]]
            lead = "Once" if how_much else "Yes — once"
            return (f"{lead} it's delivered, you'll have {days} days from the delivery date "
                    f"to {what}{amount}. Right now order #{result.order_id} is "
                    f"{details.get('order_status')}, so nothing can be done yet.")
        if how_much:
            verb = "refunded" if details.get("purpose") == "refund" else "cancelled"
            return f"I'm afraid it can't be {verb}, so nothing would come back — {lower}"
        return f"No — {lower}"
    return f"{reason}{offer}"


def _choices(result: ToolResult) -> str:
    choices = result.details.get("choices") or []
    if not choices:
        return ""
    return " Your orders: " + "; ".join(choices[:8]) + "."


# The question a person is offered with; a plain yes to it hands over (agent.SupportAgent).
PERSON_OFFER = "or would you like me to pass this to a person on our team?"
PERSON_QUESTION = "Would you like me to pass this to a person on our team?"


def compose(name: str, u: Understanding, action: str, result: ToolResult,
            sources: list[dict], *, answer: str | None = None) -> str:
    first = name.split()[0] if name else "there"
    empathy = "I'm sorry for the trouble. " if u.frustration.frustrated else ""
    reason = plain(result.reason)
    cite = citation(sources)
    status = result.status

    if answer is not None:  # policy question
        return f"{answer} {cite}".strip()
    if action == "none" and status == "success":
        if "asks what we can do" in u.signals:
            return (f"I can help you with your orders, {first}: refunds, cancellations, "
                    "replacements for damaged, defective or wrong items, and where an order is. I "
                    "can also answer questions about our policies, or connect you with a person. "
                    "Just tell me what you need, in your own words.")
        if (result.details.get("already_done") or result.details.get("nothing_pending")
                or result.details.get("refund_tracking") or result.details.get("foreign")
                or result.details.get("explained")):
            return reason
        if result.details.get("answer"):  # a question about an action, with this order's facts
            return fact_answer(u.text, reason, result)
        if result.details.get("declined") and result.order_id:
            return f"{reason} Is there anything else I can help with?"
        if u.negative or result.details.get("declined"):
            return (f"No problem, {first} — I haven't changed anything. Is there anything else I "
                    "can help with?")
        if u.is_greeting:
            return (f"Hi {first}! I can help with refunds, cancellations, replacements, order "
                    "status, or put you in touch with a person. What can I do for you?")
        if u.is_thanks:
            return f"You're welcome, {first}! Is there anything else I can help with?"
        if courtesy_only(u.text):  # "ok cool", "bye", "got it"
            return f"Great, {first}. Is there anything else I can help with?"
        if "might want a person" in u.signals:
            return (f"I'm sorry this has been frustrating, {first}. {PERSON_QUESTION} Just say "
                    "“a person”. Or tell me what you need — a refund, a cancellation, a "
                    "replacement, or where an order is.")
        return (f"I'm not sure I can help with that here, {first}. I can handle refunds, "
                "cancellations, replacements and order status, and answer policy questions — "
                f"{PERSON_OFFER}")
    if status == "needs_confirmation":
        return (f"{empathy}{reason} Reply “yes” to go ahead, or “no” to leave everything as "
                "it is.")
    if status == "needs_info":
        if result.details.get("found") is False:
            return f"{empathy}{reason} If it's a different order, just tell me its number."
        if result.details.get("asking") and reason.startswith("Happy to help"):
            return f"{empathy}{reason}{_choices(result)}"
        if result.details.get("asking"):
            return (f"{empathy}{reason}{_choices(result)} Just tell me which one — the number, "
                    "the item, or “the first one”.")
        return f"{empathy}{reason}"
    if status == "error":
        return f"{empathy}{reason}"
    if status == "escalated":
        return (f"{empathy}{reason} You'll hear from us by email; you don't need to do anything "
                f"else. {cite}").strip()

    lead = {"issue_refund": "Done — ", "cancel_order": "Done — ", "create_replacement": "Done — ",
            "get_order_status": ""}.get(action, "")
    if action == "get_order_status" and status == "success":
        return status_text(result.details["order"])
    if status == "denied":
        extra = ""
        if result.details.get("escalated"):
            extra = " A specialist will review your account and contact you."
        return f"{empathy}I can't do that: {reason[:1].lower() + reason[1:]}{extra} {cite}".strip()
    if lead and re.match(r"(?:The|Order|Your|This|It)\b", reason):
        reason = reason[:1].lower() + reason[1:]  # "Done — the damaged item…", not "— The"
    return f"{empathy}{lead}{reason} {cite}".strip()


def status_text(order: dict) -> str:
    """Dates written the way the portal writes them ("26 Nov 2026"), never ISO."""
    parts = [f"Order #{order['order_id']} is {order['status']}."]
    if order.get("ordered_at"):
        parts.append(f"Ordered {day(order['ordered_at'])}.")
    if order.get("shipped_at"):
        parts.append(f"Shipped {day(order['shipped_at'])}" +
                     (f" with {order['carrier']}" if order.get("carrier") else "") +
                     (f", tracking number {order['tracking_number']}" if order.get(
                         "tracking_number") else "") + ".")
    if order.get("delivered_at"):
        parts.append(f"Delivered {day(order['delivered_at'])}.")
    elif order["status"] in ("pending", "processing"):
        parts.append("It hasn't shipped yet; you'll get a tracking number when it does.")
    return " ".join(parts)


def day(moment) -> str:
    """"26 Nov 2026" from a datetime or an ISO string (the tools' results carry strings)."""
    if isinstance(moment, str):
        try:
            moment = datetime.fromisoformat(moment.replace("Z", "+00:00"))
        except ValueError:
            return moment[:10]
    return f"{moment.day} {moment:%b %Y}"


def handoff_summary(name: str, user_id: int, u: Understanding, order_id: str | None,
                    action: str, result: ToolResult | None,
                    earlier: list[str] | None = None) -> str:
    """What a human needs to pick the case up without re-reading everything (templated).

    `earlier`: the customer's previous messages in this conversation, so a follow-up such as
    "it's order 1042" still shows what was asked for in the first place."""
    from agents.entities import mood_label
    from audit.redact import redact

    did = (f"{action} -> {result.status}: {result.reason}" if result and action != "none"
           else "no automatic action")
    signals = ", ".join(u.frustration.signals) or "none"
    return (f"Customer: {name} (user {user_id}). Order: {('#' + order_id) if order_id else 'none'}."
            + "".join(f"\nEarlier: \"{redact(t)[:300]}\"" for t in (earlier or [])[-3:])
            + f"\nAsked: \"{redact(u.text)[:500]}\""
            f"\nUnderstood: {u.requested_intent} (confidence {u.confidence:.2f})."
            f"\nAgent did: {did}"
            f"\nMood: {mood_label(u.frustration)} (signals: {signals}).")
