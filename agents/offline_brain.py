"""The offline brain's decision: from an Understanding to exactly one tool call (or none).

It decides which tool to call and with which order; whether the tool may act is
the policy guard's call, inside the tool.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field, replace

from agents.confirmation import answer_to_offer
from agents.understanding import (
    ACTION_INTENTS,
    ACTION_WORDS,
    QUESTION_START,
    STATUS_WORDS,
    Understanding,
    asks_for,
)
from db.money import fmt
from tools import policy_guard as guard
from tools.base import ToolContext, ToolResult
from tools.registry import ToolRunner

TOOL_FOR_INTENT = {"refund": "issue_refund", "cancel": "cancel_order",
                   "replacement": "create_replacement", "status": "get_order_status"}


@dataclass
class Outcome:
    intent: str
    confidence: float
    order_id: str | None
    action: str
    result: ToolResult
    pending: dict | None = None
    extra: dict = field(default_factory=dict)

    @property
    def proposal(self) -> dict | None:
        """The offer waiting for the customer's yes (R11), if this outcome made one."""
        if self.result.status != "needs_confirmation":
            return None
        return self.result.details.get("proposal")


def _pending(u: Understanding, awaiting: str, order_id: str | None = None) -> dict:
    return {"intent": u.intent, "confidence": u.confidence, "awaiting": awaiting,
            "order_id": order_id or u.order_id, "reason": u.reason, "text": u.text[:500]}


VERB = {"refund": "refund", "cancel": "cancel", "replacement": "send a replacement for",
        "status": "look up"}


def _label(shop: dict, order_id: str | None) -> str:
    fact = shop.get(order_id) if order_id else None
    if fact is None:
        return f"order #{order_id}" if order_id else "your order"
    return f"order #{order_id} ({fact.label}, {fmt(fact.total_cents)})"


def _unsure(u: Understanding, ctx: ToolContext, shop: dict) -> Outcome:
    """R10: say what was understood and ask — never a bare percentage."""
    details: dict = {}
    if u.order_id:
        ask = (f"Just to be sure: do you want me to {VERB[u.intent]} {_label(shop, u.order_id)}? "
               "Reply “yes” and I'll tell you exactly what will happen before anything changes.")
    elif not shop:
        ask = ("I can't see any orders on your account, so there's nothing for me to change yet. "
               "If you ordered with another email address, sign in with that one — or tell me "
               "what you need and I can connect you with a person.")
    else:
        recent = list(shop.values())[:5]
        noun = {"refund": "a refund", "cancel": "to cancel an order",
                "replacement": "a replacement"}.get(u.intent)
        if noun and asks_for(ACTION_WORDS[u.intent], u.text):
            ask = (f"Happy to help — it sounds like you'd like {noun}. Which order is it? Tell "
                   "me in your own words if it's one of these.")
        else:
            ask = ("Happy to help — what would you like: a refund, a cancellation, a "
                   "replacement, or to know where an order is? Tell me in your own words, and "
                   "which order if it's one of these.")
        details = {"choices": [f"#{o.id} ({o.label}, {o.status}, {fmt(o.total_cents)})"
                               for o in recent], "choice_ids": [o.id for o in recent],
                   "asking": True}
    return Outcome(u.intent, u.confidence, u.order_id, "none",
                   ToolResult("needs_info", f"R10 confidence: {ask}", details,
                              order_id=u.order_id),
                   pending=_pending(u, "confirm") if u.order_id else None)


FITTING_STATUS = {"refund": ("delivered",), "replacement": ("delivered",),
                  "cancel": ("pending", "processing")}
# "it still hasn't come": only an order on its way can be the one that hasn't arrived.
NOT_ARRIVED = re.compile(r"(?i)\b(?:hasn'?t|haven'?t|has not|have not|not|never|didn'?t|did not|"
                         r"isn'?t|yet to)(?: yet)? (?:arrived?|come|shown up|turned up|been "
                         r"delivered|got here|gotten here|get here|here)\b")


def could_fit(order, intent: str, text: str = "") -> bool:
    """Whether an order is in a state the action could apply to — what the choice list offers
    (the guard still decides): a refunded order is not offered for a refund or a replacement,
    a replaced one not for another replacement or a refund; an order that has not come is what
    "it still hasn't come" is about."""
    if intent == "status":
        return not NOT_ARRIVED.search(text) or order.status in ("pending", "processing",
                                                                "shipped")
    if order.status not in FITTING_STATUS.get(intent, ()):
        return False
    if intent in ("refund", "replacement"):
        return order.refund is None and not order.replaced
    return True


def _ask_which(found: ToolResult, shop: dict) -> ToolResult:
    ids = [oid for oid in shop]
    return ToolResult("needs_info", "R7 which order: which order do you mean?",
                      {"choices": [f"#{o.id} ({o.label}, {o.status}, {fmt(o.total_cents)})"
                                   for o in list(shop.values())[:6]],
                       "choice_ids": ids[:6], "asking": True})


def _which_of(u: Understanding, ctx: ToolContext, runner: ToolRunner, shop: dict) -> Outcome:
    """The words fit several orders equally ("my phone case"): if only one of them is in a
    state the action could apply to (the delivered kettle, not its replacement on the way),
    that one; otherwise ask which, listing only those."""
    known = [oid for oid in u.candidates if oid in shop]
    fitting = [oid for oid in known if could_fit(shop[oid], u.intent, u.text)]
    if not fitting:
        # None could qualify (the kettle already replaced, its replacement still on the way):
        # the one in the right state, so the guard's answer says why not.
        fitting = [oid for oid in known if shop[oid].status in FITTING_STATUS.get(u.intent, ())]
    if len(fitting) == 1:
        return decide(replace(u, order_id=fitting[0], candidates=[]), ctx, runner, shop)
    runner.invoke("find_orders", ctx, purpose=u.intent)
    # Offer only the orders that could qualify; when none could, all of them.
    listed = fitting or known
    choices = [f"#{oid} ({shop[oid].label}, {shop[oid].status}, {fmt(shop[oid].total_cents)})"
               for oid in listed]
    result = ToolResult("needs_info", f"R7 which order: {len(listed)} of your orders fit "
                                      "what you said. Which one do you mean?",
                        {"choices": choices, "choice_ids": listed, "asking": True})
    return Outcome(u.intent, u.confidence, None, "none", result, pending=_pending(u, "order"))


def _answer_question(u: Understanding, ctx: ToolContext, runner: ToolRunner) -> Outcome:
    """A question about an action for a known order: the rule and this order's facts, and an
    offer to go ahead (a yes then leads to a proposal, never straight to the action)."""
    result = runner.invoke("check_eligibility", ctx, order_id=u.order_id, purpose=u.intent)
    if result.status != "success":
        return Outcome(u.intent, u.confidence, result.order_id, "none", result,
                       pending=_pending(u, "order", None))
    eligible = bool(result.details.get("eligible"))
    answer = ToolResult("success", result.reason, {**result.details, "answer": True},
                        order_id=result.order_id)
    return Outcome(u.intent, u.confidence, result.order_id, "none", answer,
                   pending=_pending(u, "confirm", result.order_id) if eligible else None)


def asks_about(u: Understanding) -> bool:
    """The message is a question that names the action in its own words."""
    return ((u.text.rstrip().endswith("?") or bool(QUESTION_START.match(u.text)))
            and asks_for(ACTION_WORDS[u.intent], u.text))


def decide(u: Understanding, ctx: ToolContext, runner: ToolRunner,
           shop: dict | None = None) -> Outcome:
    shop = shop or {}
    if u.intent == "escalate":
        # R6: a very frustrated customer gets high priority even when they also ask for a person.
        very = u.frustration.very_frustrated
        kind = "frustration" if very else "human_request"
        reason = ("Customer asked for a person and is very frustrated" if u.wants_human and very
                  else "Customer asked for a person" if u.wants_human
                  else "Customer is very frustrated" if very
                  else "Customer complaint")
        result = runner.invoke("escalate_case", ctx, reason=reason, order_id=u.order_id,
                               kind=kind)
        return Outcome(u.intent, u.confidence, result.order_id, "escalate_case", result)

    if u.intent in ACTION_INTENTS and u.order_id and (
            "asked as a question" in u.signals
            or "hedged" in u.signals and u.text.rstrip().endswith("?")):
        # "would I get a refund if I sent back order 2902?": answered with its facts.
        return _answer_question(u, ctx, runner)

    if u.intent in ACTION_INTENTS:
        verdict = guard.confidence_ok(u.confidence, ctx.settings)
        if not verdict.ok and u.order_id and asks_about(u):
            # "Can I cancel my headphones order?": unsure it is a request, but plainly a question
            # about this action for this order — answered with its facts at once (R10), rather
            # than "reply yes and I'll tell you".
            return _answer_question(u, ctx, runner)
        if not verdict.ok:
            return _unsure(u, ctx, shop)

    if u.intent in TOOL_FOR_INTENT:
        order_id = u.order_id
        if order_id is None and u.candidates:
            return _which_of(u, ctx, runner, shop)
        if order_id is None:
            found = runner.invoke("find_orders", ctx, purpose=u.intent)
            order_id = found.details.get("selected")
            if "refers to an order not named" in u.signals and order_id is not None:
                # "cancel them" with nothing to point at: R7's shortcut would be a guess.
                order_id = None
                found = _ask_which(found, shop)
            if order_id is None:
                return Outcome(u.intent, u.confidence, None, "none", found,
                               pending=_pending(u, "order"))
        tool = TOOL_FOR_INTENT[u.intent]
        args = {"order_id": order_id}
        if u.intent in ACTION_INTENTS:
            args["reason"] = u.reason if u.intent == "replacement" else (u.reason or None)
        result = runner.invoke(tool, ctx, **args)
        pending = None
        if (u.intent == "replacement" and result.status == "denied" and u.reason
                and u.reason not in ("damaged", "defective", "wrong_item")):
            # "…replacements are for damaged, defective or wrong items. A refund may be possible
            # instead.": a yes to that is a yes to checking the refund.
            pending = {**_pending(u, "confirm", result.order_id or order_id), "intent": "refund"}
        if result.status == "needs_info":
            if result.details.get("found") is False:
                pending = _pending(u, "order", None)
            elif u.intent == "replacement" and u.reason is None:
                pending = _pending(u, "reason", result.order_id)
        # R7: an order number the customer does not have means no action was taken.
        action = "none" if result.details.get("found") is False else tool
        return Outcome(u.intent, u.confidence, result.order_id or order_id, action, result,
                       pending=pending)

    # policy_question and other: nothing to do in the shop, so no tool call.
    return Outcome(u.intent, u.confidence, u.order_id, "none",
                   ToolResult("success", "No action needed."))


def continue_pending(u: Understanding, pending: dict | None, min_confidence: float) -> Understanding:
    """Complete a request we asked about last turn (R7 which order, R10 confirm, R4 reason)."""
    if not pending:
        return u
    awaiting, wanted = pending.get("awaiting"), pending.get("intent")
    if u.wants_human or u.intent == "escalate":
        return u
    # A different, confident request overrides what we asked about; a bare "it's order 1042"
    # often reads as a status question, so status only overrides with status words.
    # A different request overrides what we asked about only when its words say so: "the
    # black one" may read as anything to the classifier, but it only says which order.
    new_action = (u.intent != wanted and u.confidence >= min_confidence
                  and ((u.intent in ACTION_INTENTS and asks_for(ACTION_WORDS[u.intent], u.text))
                       or (u.intent == "status" and STATUS_WORDS.search(u.text))))
    if awaiting == "choice" and u.intent in pending.get("options", ()):
        # "ok replace it then" after "a refund or a free replacement?": that order, and what
        # was said to be wrong with it.
        u.order_id = u.order_id or pending.get("order_id")
        u.reason = u.reason or pending.get("reason")
        u.confidence = max(u.confidence, float(pending.get("confidence") or 0))
        u.signals.append("option chosen")
    if u.intent == wanted and awaiting in ("confirm", "reason", "order"):
        # The same request again in other words ("ok replace it then"): what was said before
        # (the order, what is wrong with it) still holds.
        u.order_id = u.order_id or pending.get("order_id")
        u.reason = u.reason or pending.get("reason")
    if awaiting == "confirm" and answer_to_offer(u.text) == "yes":
        u.intent, u.confidence = wanted, 1.0
        u.order_id = u.order_id or pending.get("order_id")
        u.reason = u.reason or pending.get("reason")
        u.signals.append("confirmed")
    elif awaiting == "order" and u.order_id and not new_action:
        u.intent, u.confidence = wanted, max(float(pending.get("confidence") or 0), u.confidence
                                             if u.intent == wanted else 0)
        u.reason = u.reason or pending.get("reason")
        u.signals.append("order given")
    elif awaiting == "reason" and u.reason and not new_action:
        u.intent, u.confidence = wanted, float(pending.get("confidence") or 0)
        u.order_id = u.order_id or pending.get("order_id")
        u.signals.append("reason given")
    return u
