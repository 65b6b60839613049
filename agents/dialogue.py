"""What the conversation remembers between messages, and reading a message in its light.

Kept in the conversation row (any worker can continue it): the orders we last listed
(for "the second one", "the pending one"), the order we were last talking about (for
"cancel it", "that too"), the last thing asked for (for "and 31302 too", "same for the
beanie", "what about the blanket?") and requests named but not yet done ("cancel 31301
and 31302": the second waits for "the other one").
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from agents.order_linking import FOCUS_REF, Link, link
from agents.requests import CUES, Request, _cues, split
from agents.several_requests import request_sentences
from agents.shop_view import OrderFact
from agents.understanding import ACTION_INTENTS, HEDGE, INFO_QUESTION, WHERE_IS, Understanding

ORDER_INTENTS = (*ACTION_INTENTS, "status")
# "and 31302 too", "same for the beanie", "what about the blanket?", "and the lights?"
CARRY = re.compile(r"(?i)(?:\btoo\b|\bas well\b|\bsame (?:for|with|goes for)\b|"
                   r"\bwhat about\b|\bhow about\b|^\s*(?:and|also|plus)\b|\bthe same\b|"
                   r"\bmake it\b|\binstead\b|\bi meant?\b)")
NEXT = re.compile(r"(?i)\b(?:the other one|the other order|the other|next one|the next|"
                  r"the rest|the remaining|second one too)\b|^\s*(?:now )?next\b")
SWITCH = re.compile(r"(?i)\b(?:rather|instead|actually|then|prefer)\b")
BOTH = re.compile(r"(?i)\b(?:both|all of them|each of them|all (?:two|three|2|3)|the two of them)\b")
NO_LONGER = re.compile(r"(?i)\b(?:don'?t|do not|no longer) (?:want|need)\b|changed my mind")
SENT_REPLACEMENT = re.compile(r"(?i)\b(?:the|my|your|this|that|these|those) replacement\b")
OWN_CUE = re.compile(r"(?i)\b(?:refund|money back|cancel|replac|exchange|return|where|track|"
                     r"status|arriv|ship)\w*")


@dataclass
class Dialogue:
    listed: list[str] = field(default_factory=list)
    focus: str | None = None
    last_intent: str | None = None
    todo: list[dict] = field(default_factory=list)
    # The last answer was to a question about an action ("is 30201 refundable?"), so "what about
    # 30202?" asks the same question, not for the action (R10).
    asked: bool = False

    @classmethod
    def from_state(cls, state: dict) -> Dialogue:
        data = state.get("dialogue") or {}
        return cls(list(data.get("listed") or []), data.get("focus"), data.get("last_intent"),
                   list(data.get("todo") or []), bool(data.get("asked")))

    def as_state(self) -> dict:
        return {"listed": self.listed[:10], "focus": self.focus,
                "last_intent": self.last_intent, "todo": self.todo[:5], "asked": self.asked}


def read_in_context(u: Understanding, orders: list[OrderFact], dialogue: Dialogue,
                    pending: dict | None) -> list[Request]:
    """Tie the message to orders (u.order_id / u.candidates) and to what came before; return
    the separate requests when it holds several."""
    found = link(u.text, orders, dialogue.listed, dialogue.focus, hint=u.order_id)
    if u.intent == "replacement" and SENT_REPLACEMENT.search(u.text):
        # "the replacement headphones you sent are broken, refund them": "replacement" names
        # the order; the request is the action the words ask for.
        named = {intent for _, intent in _cues(u.text)} - {"status"}
        if len(named) == 1 and named != {"replacement"}:
            u.intent = named.pop()
            u.signals.append("the replacement order named")
    requests = [] if pending else split(u.text, orders, dialogue.listed, dialogue.focus)
    asked = None if pending else request_sentences(u.text, orders, dialogue.listed,
                                                   dialogue.focus)
    if (asked and len(asked) == 1 and asked[0].intent == "status" and u.intent != "status"
            and u.intent not in ("escalate",) and not _action_cue(u.text)):
        # "…The crossword book has not turned up yet. The glasses are fine.": no action is
        # named anywhere, and the one sentence that asks, asks where an order is.
        u.intent, u.confidence = "status", max(u.confidence, 0.8)
        u.signals.append("asks where it is")
    if asked and (len(asked) > 1 or asked[0].intent == u.intent):
        # A long message: the sentences that ask say which orders it is about, not every
        # item the story names ("the glasses are fine … refund the radio").
        found = asked[0].link
        requests = asked if len(asked) > 1 else []
    if (pending and pending.get("awaiting") == "order" and BOTH.search(u.text)
            and len(dialogue.listed) > 1 and len(found.order_ids) < 2):
        # "both of them please" after "which one?": one request per listed order.
        wanted = pending.get("intent")
        return [Request(wanted, u.text, Link([oid], how="list"), False, pending.get("reason"))
                for oid in dialogue.listed[:4]]
    if (pending and pending.get("awaiting") == "order" and len(found.order_ids) > 1
            and not _action_cue(u.text)):
        # "the first two", "the cable and the power bank" after "which one?": the request
        # for each of them, in the order named.
        wanted = pending.get("intent")
        return [Request(wanted, u.text, Link([oid], how=found.how), False,
                        pending.get("reason")) for oid in found.order_ids[:4]]
    _apply(u, found)
    if requests:
        return requests
    has_cue = bool(OWN_CUE.search(u.text))
    waiting = [t for t in dialogue.todo if t.get("order_id") in found.order_ids]
    if waiting and not has_cue:
        # "now the throw pillow": the request named earlier for it, not a new guess.
        u.intent, u.order_id = waiting[0]["intent"], waiting[0]["order_id"]
        u.confidence, u.reason = max(u.confidence, 0.9), waiting[0].get("reason") or u.reason
        u.signals.append("next request")
        return []
    if (not found.order_ids and not found.candidates and not found.unknown_id and not pending
            and (not dialogue.focus and FOCUS_REF.search(u.text) and len(orders) > 1
                 or found.how == "described")):
        # "cancel them", "the one I ordered 20 days ago" (none was): ask, don't guess — unless
        # the customer has only one order, which "it" can only mean
        u.signals.append("refers to an order not named")
    if (not found.order_ids and not found.candidates and not found.unknown_id and dialogue.focus
            and u.intent in ACTION_INTENTS and SWITCH.search(u.text)
            and any(o.id == dialogue.focus for o in orders)):
        # "actually I'd rather have a refund": the same order, another action.
        u.order_id = dialogue.focus
        u.linked_by = "focus"
    if (u.intent == "escalate" and not found.order_ids and not found.unknown_id
            and dialogue.focus and any(o.id == dialogue.focus for o in orders)):
        u.order_id = dialogue.focus  # "a person please" about the order we were discussing
    if dialogue.todo and NEXT.search(u.text) and not found.order_ids:
        step = dialogue.todo[0]
        u.intent, u.order_id, u.confidence = step["intent"], step["order_id"], max(
            u.confidence, 0.9)
        u.reason = step.get("reason") or u.reason
        u.signals.append("next request")
    elif ((not pending or dialogue.asked) and dialogue.last_intent in ORDER_INTENTS
          and (found.order_ids or found.unknown_id) and CARRY.search(u.text) and not has_cue
          and u.intent not in ("escalate",)):
        u.intent, u.confidence = dialogue.last_intent, max(u.confidence, 0.85)
        u.signals.append("same as before")
        if dialogue.asked and u.intent in ACTION_INTENTS:
            u.signals.append("asked as a question")  # "is 30201 refundable?" / "what about 30202?"
    elif (not pending and found.order_ids and u.intent in ("policy_question", "other")
          and _action_cue(u.text) and u.text.rstrip().endswith("?") or (
              not pending and found.order_ids and u.intent == "policy_question"
              and _action_cue(u.text) and (INFO_QUESTION.match(u.text) or HEDGE.search(u.text)))):
        # "is my bookshelf order 33801 still refundable?": a question about this order's refund,
        # answered with its facts rather than with the general rule.
        u.intent = _action_cue(u.text)
        u.signals.append("asked as a question")
    elif (not pending and found.order_ids and u.intent in ("policy_question", "other")
          and WHERE_IS.search(u.text)):
        # "have the trekking poles shipped yet?" is about that order, not about shipping rules.
        u.intent, u.confidence = "status", max(u.confidence, 0.8)
        u.signals.append("asks where it is")
    elif (not pending and not has_cue and u.reason == "not_needed" and found.order_ids
          and u.intent != "escalate" and not _action_cue(u.text) and NO_LONGER.search(u.text)):
        # "don't want the wall clock anymore": cancel it if it hasn't shipped, else refund it.
        status = next(o.status for o in orders if o.id == found.order_ids[0])
        wanted = {"pending": "cancel", "processing": "cancel", "delivered": "refund"}.get(status)
        if wanted:
            u.intent, u.confidence = wanted, max(u.confidence, 0.7)
            u.signals.append("no longer wanted")
    return []


YES_FIRST = re.compile(r"(?i)^\W*(?:(?:yes|yeah|yep|yup|sure|ok|okay|please|go ahead|do it|"
                       r"confirm(?:ed)?|that'?s right|correct)\b[\s,.!-]*)+")
ADDED = re.compile(r"(?i)\b(?:too|also|as well|and|plus|same for|same with|another)\b")
ASKED = {"refund": "asked for a refund for", "cancel": "asked me to cancel",
         "replacement": "asked for a replacement for"}


def also_asked(text: str, orders: list[OrderFact], offered_order: str | None,
               offered_intent: str) -> dict | None:
    """"yes, and the throw pillow too": the yes confirmed the offer; the rest of the message
    asks for something more — the same action (or the one it names) for another order. One
    action per message, so it is named and kept for the next yes (R11), never dropped."""
    rest = YES_FIRST.sub("", text, count=1)
    if rest == text or not rest.strip():
        return None
    named = _action_cue(rest)
    if not (named or ADDED.search(rest)) or (not named and WHERE_IS.search(rest)):
        return None  # nothing more asked, or only where something is (answered alongside)
    found = link(rest, orders)
    others = [oid for oid in found.order_ids if oid != offered_order]
    if not others or offered_intent not in ACTION_INTENTS and not named:
        return None
    return {"intent": named or offered_intent, "order_id": others[0], "reason": None}


def request_after_yes(text: str) -> str | None:
    """"yes cancel order 2001 too" when no offer is waiting: the words after the yes, when
    they ask for an action outright (so a bare "yes, thanks" is never read as a request)."""
    rest = PLAIN_YES_FIRST.sub("", text, count=1)
    if rest == text or len(re.findall(r"[a-z]+", rest.lower())) < 2:
        return None
    # _cues skips an action named in the negative ("yes, but don't cancel it").
    return rest if any(i in ACTION_INTENTS for _, i in _cues(rest)) else None


# A yes word itself ("please" is only politeness: "please don't cancel 1105" is no yes).
PLAIN_YES_FIRST = re.compile(r"(?i)^\W*(?:(?:yes|yeah|yep|yup|ye|sure|ok|okay|alright)\b"
                             r"[\s,.!-]*)+")


def also_asked_note(step: dict, orders: list[OrderFact]) -> str:
    label = next((f" ({o.label})" for o in orders if o.id == step["order_id"]), "")
    return (f"You also {ASKED[step['intent']]} order #{step['order_id']}{label}: reply “yes” when "
            "you're ready and I'll tell you exactly what will happen before anything changes.")


NEVER_MIND = re.compile(r"(?i)^\W*(?:(?:actually|oh|ok|okay|wait|hmm+|sorry|erm|um)[,.!\s]+)*"
                        r"(?:no+|nope|nah|never ?mind|forget (?:it|that))\b[^.?!;,]*[.?!;,]*\s*")


UNDO = re.compile(r"(?i)\b(?:revers\w*|undo\w*|undone|take (?:it |that )?back|put (?:it )?back)\b")


def asks_more(text: str) -> bool:
    """"actually never mind, I figured it out. where's my telescope?": after the no, a request
    or question of its own — answer that, rather than read the message as a bare no."""
    rest = NEVER_MIND.sub("", text, count=1)
    if rest == text or len(re.findall(r"[a-z]+", rest.lower())) < 2 or UNDO.search(rest):
        return False
    return bool(OWN_CUE.search(rest) or WHERE_IS.search(rest))


def _action_cue(text: str) -> str | None:
    """The first action the words name (refund / cancel / replacement), if any."""
    hits = [(m.start(), intent) for intent, pattern in CUES if intent in ACTION_INTENTS
            for m in [pattern.search(text)] if m]
    return min(hits)[1] if hits else None


def _apply(u: Understanding, found: Link) -> None:
    if found.unknown_id and found.how == "item" and len(found.order_ids) == 1:
        # "the bookmark is my wife's, order 30304, cancel it": the number they gave is not one
        # of theirs, so that is the answer (not found), never their own order with that item.
        found = Link([], how="number", unknown_id=found.unknown_id)
    if found.order_ids:
        u.order_id = found.order_ids[0]
    elif found.unknown_id:
        u.order_id = found.unknown_id
    else:
        u.order_id = None
    u.candidates = list(found.candidates)
    u.linked_by = found.how


def remember(dialogue: Dialogue, intent: str, order_id: str | None, listed: list[str] | None,
             todo: list[dict] | None = None, asked: bool = False) -> Dialogue:
    """The state after this turn's answer."""
    dialogue.asked = asked
    if listed is not None:
        dialogue.listed = list(listed)
    if order_id:
        dialogue.focus = order_id
    if intent in ORDER_INTENTS:
        dialogue.last_intent = intent
    if todo is not None:
        dialogue.todo = todo
    return dialogue
