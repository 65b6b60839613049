"""Messages with a simple answer of their own: "why not?", "?", "let me check", "which of my
orders can I still return?", "how long until someone gets back to me?", "never mind" after
something was done, and a message in a language the brain cannot read."""

from __future__ import annotations

import re

from agents import records
from agents.confirmation import answer_to_offer
from agents.dialogue import Dialogue
from agents.offline_brain import Outcome
from agents.turns import DEFER, Step
from agents.understanding import Understanding
from db.money import fmt
from tools.base import ToolResult

WHY = re.compile(r"(?i)^\s*(?:but |and |so |ok |okay |hmm,? |then )*(?:why(?: not| is that| so)?|"
                 r"how come|what do you mean|on what (?:basis|grounds)|what (?:can|should|do) i "
                 r"do(?: now| then| instead| about it)?(?: now| then)?|what are my options|"
                 r"what now|so what now|now what)\b[^a-z]{0,5}$")

# "why not? it's only been a bit over a month": the why, and a comment on the refusal (no new
# request, no other order).
WHY_THEN = re.compile(r"(?i)^\s*(?:but |and |so |ok |okay |hmm,? |then )*(?:why(?: not| is that| so)?|"
                      r"how come)\s*[?!.]+\s*(?P<rest>[^?]{0,120})[.!]*\s*$")
NEW_REQUEST = re.compile(r"(?i)\d{3,}|\b(?:refund|money back|cancel|replac|exchange|instead|"
                         r"status|where|track|person|human)\w*")


def asks_why(text: str) -> bool:
    """"why?", "why not?", "how come? it's only a day late": asking why after a refusal."""
    if WHY.match(text):
        return True
    then = WHY_THEN.match(text)
    return bool(then) and not NEW_REQUEST.search(then.group("rest"))

WHICH_ORDERS = re.compile(r"(?i)\bwhich (?:of my )?(?:orders?|items?|things?|ones?)\b[^?.!]{0,40}\b(?:refund|"
                          r"return|cancel|replace|exchange)\w*|\bwhat (?:can|could) i (?:still )?"
                          r"(?:return|refund|cancel|replace)\b")
HEAR_BACK = re.compile(r"(?i)\b(?:how long (?:until|till|before) (?:someone|somebody|a person|you|"
                       r"the team|i hear)|when (?:will|do|does|would) (?:someone|somebody|a person|"
                       r"you|the team|your team|i) (?:get back|reply|respond|contact|call|hear|"
                       r"answer)|hear back|get back to me|any news on my case|still waiting (?:for|"
                       r"on) (?:a|the|your) (?:reply|answer|person|team))\b")

# "what orders do I have?", "show me my orders", "list all my orders": the customer's own
# orders with their status (R5), nothing more.
MY_ORDERS = re.compile(
    r"(?i)^\W*(?:(?:hi|hello|hey|ok|okay|so|please|pls|can you|could you|would you|can i|could "
    r"i|i'?d like to|i want to|i wanna|let me)\W+)*(?:(?:what|which) (?:orders?|purchases) (?:do i "
    r"have|have i (?:got|placed|made)|did i (?:place|make)|are (?:on|in|under) my account|i have)"
    r"|(?:show|list|see|view|give|tell|check)(?: me)?(?: (?:all|a list))?(?: of)? my (?:orders|"
    r"order history|purchases)|do i have (?:any )?orders|(?:all )?(?:my )?orders(?: please)?|(?:my )?order history|what (?:have|"
    r"did) i (?:order(?:ed)?|buy|bought))\b[^?.!]{0,20}[?.!]*\s*$")
# "what's the status of my orders?", "where are all my packages?": every order's status at once
# (plural, no order named), not "which one do you mean?".
ALL_STATUS = re.compile(
    r"(?i)\b(?:status(?:es)? (?:of|on|for) (?:all )?(?:of )?my (?:orders|packages|parcels|"
    r"deliveries|purchases)|where (?:are|r) (?:all )?(?:of )?my (?:orders|packages|parcels|"
    r"deliveries|things|stuff)|(?:track|check) (?:all )?(?:of )?my (?:orders|packages|parcels|"
    r"deliveries)|(?:updates?|news) on (?:all )?(?:of )?my (?:orders|packages|parcels|deliveries)|"
    r"(?:how|what)(?:'s|s| is| are) (?:happening with |up with |going on with )?(?:all )?my (?:orders|packages|parcels|"
    r"deliveries)(?: doing| coming along)?)\b")
# "what's left on my account that hasn't shipped?", "which orders haven't shipped yet?": the
# orders still waiting to ship, with their status (R5).
NOT_SHIPPED = re.compile(
    r"(?i)\b(?:what|which|anything|any orders?|orders?)\b[^?.!]{0,40}\b(?:(?:hasn'?t|haven'?t|"
    r"has not|have not|isn'?t|aren'?t|not|yet to)(?: yet)? (?:been )?(?:shipped|sent out|"
    r"dispatched|gone out|left)|still (?:to ship|to be shipped|waiting to ship|unshipped)|unshipped)")
ACTION_MENTION = re.compile(r"(?i)\b(?:refund|money back|cancel|replac|exchange|return|"
                            r"send \w+ back|broken|damaged|wrong)\w*|\d{3,}")


def _purpose(text: str) -> str:
    low = text.lower()
    return ("cancel" if "cancel" in low else "replacement" if "replac" in low or "exchang" in low
            else "refund")


def eligible_orders(orders: list, purpose: str, settings) -> tuple[str, list[str]]:
    """Which of the customer's orders an action could still apply to, with the last day; and
    their ids, so "the first one" or "both" can follow."""
    from datetime import timedelta

    from db.models import utcnow

    now = utcnow()
    lines, ids = [], []
    for o in orders:
        if purpose == "cancel" and o.status in ("pending", "processing") and not o.replacement_for:
            lines.append(f"#{o.id} ({o.label}, {fmt(o.total_cents)})")
            ids.append(o.id)
        elif purpose in ("refund", "replacement") and o.status == "delivered" and not o.replaced \
                and o.refund is None and not o.replacement_for:
            delivered = o.delivered_at or o.shipped_at or o.ordered_at
            days = (settings.refund_window_days if purpose == "refund"
                    else settings.replacement_window_days)
            last = delivered + timedelta(days=days)
            if (now.date() - delivered.date()).days <= days:
                lines.append(f"#{o.id} ({o.label}, {fmt(o.total_cents)}) until {last:%-d %b}")
                ids.append(o.id)
    verb = {"refund": "refunded", "cancel": "cancelled", "replacement": "replaced"}[purpose]
    if not lines:
        return f"None of your orders can be {verb} right now.", []
    if len(lines) == 1:
        return (f"This one can still be {verb}: {lines[0]}. Just say if you'd like that.",
                ids)
    return (f"These can still be {verb}: " + "; ".join(lines[:6]) + ". Tell me which one and "
            "I'll check it for you.", ids[:6])


def case_status(case: dict) -> str:
    """Which case has it, since when, and by when a person answers."""
    if case.get("answered_at"):
        when = (f" A person first replied on {case['answered_at']:%-d %b}, and will "
                "answer your next messages")
    elif case["due_at"]:
        when = (f" A person will reply by {case['due_at']:%a %-d %b, %H:%M} UTC at the "
                "latest,")
    else:
        when = " A person will reply"
    about = f" about order #{case['order_id']}" if case["order_id"] else ""
    return (f"Your case #{case['id']}{about} is with our team (opened "
            f"{case['created_at']:%-d %b}).{when} here and by email.")


def order_list(orders: list) -> str:
    """The customer's orders, newest first, each with its status and the date that goes with
    it."""
    if not orders:
        return ("I can't see any orders on your account. If you ordered with another email "
                "address, sign in with that one.")
    lines = []
    for o in orders[:10]:
        when = (f"delivered {o.delivered_at:%-d %b}" if o.status == "delivered" and o.delivered_at
                else f"shipped {o.shipped_at:%-d %b}, on its way" if o.status == "shipped"
                and o.shipped_at else o.status)
        extra = " (refunded)" if o.refund is not None and o.status != "cancelled" else ""
        lines.append(f"#{o.id} ({o.label}, {fmt(o.total_cents)}) — {when}{extra}")
    more = f" … and {len(orders) - 10} more." if len(orders) > 10 else ""
    return (f"You have {len(orders)} order{'s' if len(orders) != 1 else ''}: "
            + "; ".join(lines) + f".{more} Tell me which one you'd like to know more about or "
            "do something with — the number, the item, or “the first one”.")


class SimpleAnswers:
    """Mixed into SupportAgent (which provides settings, session_factory, ...)."""

    def _small_talk(self, turn: records.Turn, u: Understanding, shop: dict,
                    dialogue: Dialogue) -> Step | None:
        """Messages with a simple, factual answer: "hmm let me check", "?", "which of my orders
        can I still return?", "how long until someone gets back to me?"."""
        def answer(text: str, intent: str = "other", **details) -> Step:
            return Step(Outcome(intent, u.confidence, None, "none", ToolResult(
                "success", text, {"explained": True, **details})), understanding=u,
                dialogue=dialogue)

        if answer_to_offer(u.text) in ("yes", "no"):
            return None
        if not re.search(r"[^\W\d_]", u.text) and not re.search(r"\d", u.text):
            return answer("Sorry — could you tell me a bit more about what you need? I can help "
                          "with refunds, cancellations, replacements and where an order is.")
        if DEFER.search(u.text) and not u.wants_human:
            return answer("Of course — take your time. Nothing has changed; just write here "
                          "when you're ready.")
        which = WHICH_ORDERS.search(u.text)
        if which:
            purpose = _purpose(which.group(0))
            text, ids = eligible_orders(list(shop.values()), purpose, self.settings)
            step = answer(text, purpose, choice_ids=ids)
            if ids:  # "the first one", "both", "the candle" (or "yes" to the only one)
                step.outcome.pending = {"intent": purpose, "confidence": 1.0, "reason": None,
                                        "awaiting": "confirm" if len(ids) == 1 else "order",
                                        "order_id": ids[0] if len(ids) == 1 else None}
            return step
        if ((MY_ORDERS.match(u.text) or ALL_STATUS.search(u.text))
                and not ACTION_MENTION.search(u.text) and not u.wants_human):
            return answer(order_list(list(shop.values())), "status",
                          choice_ids=[oid for oid in shop][:10])
        if (NOT_SHIPPED.search(u.text) and not u.order_id and not u.wants_human
                and not ACTION_MENTION.search(u.text)):  # "…hasn't shipped, cancel it": a request
            waiting = [o for o in shop.values() if o.status in ("pending", "processing")]
            lines = [f"#{o.id} ({o.label}, {o.status}, {fmt(o.total_cents)})" for o in waiting]
            text = ("Everything on your account has shipped (or been cancelled) — nothing is "
                    "still waiting to go out." if not lines else
                    f"{'These haven' if len(lines) > 1 else 'This hasn'}'t shipped yet: "
                    + "; ".join(lines[:10]) + ". Orders that haven't shipped can still be "
                    "cancelled — just say which, if you'd like that.")
            return answer(text, "status", choice_ids=[o.id for o in waiting][:10])
        if HEAR_BACK.search(u.text) and not u.wants_human:
            case = records.open_case_of(self.session_factory, turn.user_id, turn.ticket_id)
            if case is None:
                return answer("There's no open case with our team for you right now. If you'd "
                              "like a person to look at something, just say “a person”.")
            return answer(case_status(case), "escalate")
        return None

    def _case_status_step(self, case: dict, u: Understanding, dialogue: Dialogue) -> Step:
        """Where the open case stands (a bare "yes" after it was opened): nothing new runs."""
        return Step(Outcome("escalate", u.confidence, case["order_id"], "none", ToolResult(
            "success", case_status(case), {"explained": True}, order_id=case["order_id"])),
            understanding=u, dialogue=dialogue)

    def _explain(self, last: dict, u: Understanding, dialogue: Dialogue) -> Step:
        """"Why not?" after a refusal: the reason again, in words, and a person offered (unless
        a person already has it)."""
        if last.get("outcome") == "escalated" or "review" in last["reason"]:
            return Step(Outcome(last.get("intent") or "other", u.confidence,
                                 last.get("order_id"), "none", ToolResult(
                                     "success", last["reason"] if "will reply" in last[
                                         "reason"] else f"{last['reason']} A person on our team "
                                         "is already looking at it and will reply to you.",
                                     {"explained": True}, order_id=last.get("order_id"))),
                         understanding=u, dialogue=dialogue)
        outcome = Outcome(last.get("intent") or "other", u.confidence, last.get("order_id"),
                          "none", ToolResult(
                              "success", f"{last['reason']} That's our policy, and I can't "
                                         "change it myself — but if you think it's wrong, reply "
                                         "“yes” and I'll pass this to a person on our team.",
                              {"explained": True}, order_id=last.get("order_id")),
                          pending={"intent": "escalate", "awaiting": "person", "confidence": 1.0,
                                   "order_id": last.get("order_id"), "reason": None,
                                   "text": u.text[:500]})
        return Step(outcome, understanding=u, dialogue=dialogue)

    def _foreign(self, u: Understanding, language: str, dialogue: Dialogue) -> Step:
        """Never act on a message the brain cannot read: say so, and offer a person."""
        outcome = Outcome("other", u.confidence, None, "none", ToolResult(
            "success", f"Sorry — I can only read English, and your message looks like "
                       f"{language}, so I haven't done anything with it. You can write to me in "
                       "English, or reply “yes” and I'll pass your message to a person on our "
                       "team.", {"foreign": language}),
            pending={"intent": "escalate", "awaiting": "person", "confidence": 1.0,
                     "order_id": None, "reason": None, "text": u.text[:500]})
        return Step(outcome, understanding=u, dialogue=dialogue)

    def _nothing_to_undo(self, last: dict | None, u: Understanding) -> Step:
        """"Never mind": if an action already ran, say so (no false comfort) and how a person
        can help; otherwise confirm that nothing changed."""
        if last is None:
            return Step(Outcome("other", u.confidence, None, "none",
                                 ToolResult("success", "Customer declined; nothing changed.",
                                            {"declined": True})))
        order_id = last.get("order_id")
        if last["action"] == "escalate_case":
            about = f" about order #{order_id}" if order_id else ""
            text = (f"Your request{about} is already with our team, so a person will still "
                    "look at it. If it's sorted now, just tell them in your reply — nothing else "
                    "has changed.")
        else:
            done = {"issue_refund": "refunded", "cancel_order": "cancelled",
                    "create_replacement": "arranged a replacement for"}[last["action"]]
            text = (f"That's already done: I {done} order #{order_id} earlier in this "
                    "conversation, so I can't simply take it back here. If you'd like it "
                    "reversed, ask for a person and our team will help.")
        return Step(Outcome("other", u.confidence, order_id, "none", ToolResult(
            "success", text, {"already_done": True}, order_id=order_id)))

