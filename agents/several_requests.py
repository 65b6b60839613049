"""Several requests in one message, decided one by one (one action per message).

The first clear request that can go ahead becomes the answer (a proposal, under R11);
requests the rules refuse are explained before it; status questions and questions about
an action are answered after it; further actions wait, named, for "the other one".

In a long message (an e-mail that tells a story before it asks) the sentences that ask
decide which orders it is about: "…a pair of reading glasses, a crossword book and a radio.
The glasses are fine. The radio stopped working. I would like my money back for the radio.
When will the crossword book arrive?" is a refund of the radio and the book's status — the
glasses are only part of the story.
"""

from __future__ import annotations

import re
from dataclasses import replace

from agents.entities import extract_reason
from agents.offline_brain import Outcome, decide
from agents.order_linking import Link, link, without_fine_items
from agents.replies import plain, status_text
from agents.requests import Request, _cues, _is_question, split
from agents.shop_view import OrderFact
from agents.understanding import ACTION_INTENTS, WHERE_IS, Understanding
from tools.base import ToolContext
from tools.registry import ToolRunner

# Sentence ends ("no. 37 101" and "H. Bell" are no ends worth cutting at: nothing asks there).
SENTENCE = re.compile(r"(?<=[.!?])\s+|\n+")
# "when the crossword book will arrive", "when do you think the feeder will be delivered"
ARRIVAL = re.compile(r"(?i)\bwhen\b[^.?!]{0,60}?\b(?:will|would|is|are|does|do|should)\b"
                     r"[^.?!]{0,20}?\b(?:arriv\w*|ship\w*|come|get here|turn up|be (?:here|"
                     r"delivered|sent|dispatched))")
# "the crossword book still hasn't arrived", "it has not turned up yet"
NOT_ARRIVED = re.compile(r"(?i)\b(?:still (?:not|isn'?t|hasn'?t|haven'?t)|hasn'?t|haven'?t|has not|"
                         r"have not|not yet)\s+(?:\w+\s+)?(?:arrived|come|turned up|shown up|"
                         r"been delivered|shipped)\b")


def request_sentences(text: str, orders: list[OrderFact], listed: list[str] | None,
                      focus: str | None) -> list[Request] | None:
    """A long message whose words name several orders, read by the sentences that ask: one
    request per order asked about — or None when the message is to be read whole (one
    sentence, every sentence asks, at most one order named, or a request that names no
    order of its own: "Refund it.")."""
    sentences = [x.strip() for x in SENTENCE.split(text) if x and x.strip()]
    if len(sentences) < 2:
        return None
    whole = link(text, orders, listed, focus)
    if len(whole.order_ids) + len(whole.candidates) < 2:
        return None
    asking = []
    for sentence in sentences:
        cues = _cues(sentence)
        if cues:
            asking.append((sentence, cues[0][1]))
        elif (ARRIVAL.search(sentence) or NOT_ARRIVED.search(sentence)
              or (WHERE_IS.search(sentence) and sentence.endswith("?"))):
            asking.append((sentence, "status"))
    if not asking or len(asking) == len(sentences):
        return None
    requests: list[Request] = []
    for sentence, intent in asking:
        found = link(sentence, orders, listed, focus)
        if not (found.order_ids or found.candidates or found.unknown_id):
            # "The radio stopped working. I'd like my money back for it.": the nearest
            # sentence before it that names an order (one not said to be fine) says which.
            found = _told_before(sentences[:sentences.index(sentence)], orders, listed)
            if found is None:
                return None
        several = split(sentence, orders, listed, focus)
        if several:
            requests += several
            continue
        reason = extract_reason(sentence) or extract_reason(text)
        if len(found.order_ids) > 1:
            requests += [Request(intent, sentence, Link([oid], how=found.how),
                                 _is_question(sentence), reason) for oid in found.order_ids]
        else:
            requests.append(Request(intent, sentence, found, _is_question(sentence), reason))
    # One order asked about twice ("the radio broke. Please refund the radio.") is one request.
    seen, unique = set(), []
    for r in requests:
        if (r.intent, r.order_id) not in seen or r.order_id is None:
            seen.add((r.intent, r.order_id))
            unique.append(r)
    return unique


def _told_before(earlier: list[str], orders: list[OrderFact],
                 listed: list[str] | None) -> Link | None:
    for sentence in reversed(earlier):
        found = link(without_fine_items(sentence), orders, listed)
        if found.order_ids or found.candidates:
            return found if len(found.order_ids) == 1 and not found.candidates else None
    return None


ASKED = {"refund": "asked for a refund for", "cancel": "asked me to cancel",
         "replacement": "asked for a replacement for"}


def _understood(u: Understanding, r: Request) -> Understanding:
    signals = [s for s in u.signals if s not in ("asked as a question", "hedged")]
    if r.question:
        signals.append("asked as a question")
    return replace(u, intent=r.intent, order_id=r.order_id, candidates=list(r.link.candidates),
                   reason=r.reason or u.reason,
                   confidence=max(u.confidence, 0.8) if not r.question else u.confidence,
                   signals=signals)


def _status(r: Request, ctx: ToolContext, runner: ToolRunner) -> str:
    if not r.order_id:
        return ""
    result = runner.invoke("get_order_status", ctx, order_id=r.order_id)
    if result.status == "success":
        return status_text(result.details["order"])
    return plain(result.reason)


def _question(u: Understanding, r: Request, ctx: ToolContext, runner: ToolRunner) -> str:
    if not r.order_id:
        return ""
    result = runner.invoke("check_eligibility", ctx, order_id=r.order_id, purpose=r.intent)
    return plain(result.reason)


def _said(outcome: Outcome) -> str:
    """An outcome in one or two sentences, for the end of another answer."""
    if outcome.action == "get_order_status" and outcome.result.status == "success":
        return status_text(outcome.result.details["order"])
    return plain(outcome.result.reason)


def decide_many(u: Understanding, requests: list[Request], ctx: ToolContext,
                runner: ToolRunner, shop: dict) -> Outcome:
    refused: list[Outcome] = []
    after: list[str] = []
    todo: list[dict] = []
    unnamed: list[str] = []
    primary: Outcome | None = None
    status: Outcome | None = None
    if u.wants_human:
        # "…and I'd like to speak to a person": the person comes first; status questions are
        # still answered, and the rest is theirs to handle.
        for r in requests:
            if r.intent == "status" and r.order_id:
                after.append(_status(r, ctx, runner))
        main = decide(replace(u, intent="escalate"), ctx, runner, shop)
        main.extra["suffix"] = " ".join(t for t in after if t)
        main.extra["several"] = True
        return main
    for r in requests:
        if r.intent == "status":
            if not r.order_id:
                continue
            if status is None:
                status = decide(_understood(u, r), ctx, runner, shop)
            else:
                after.append(_status(r, ctx, runner))
        elif r.question:
            after.append(_question(u, r, ctx, runner))
        elif r.intent not in ACTION_INTENTS:
            continue
        elif primary is not None and not r.order_id:
            unnamed.append(r.intent)  # "…and refund them": which order is not known yet
        elif primary is not None:
            todo.append({"intent": r.intent, "order_id": r.order_id, "reason": r.reason})
        else:
            ur = _understood(u, r)
            outcome = decide(ur, replace(ctx, confidence=ur.confidence, intent=ur.intent),
                             runner, shop)
            if outcome.result.status == "denied" or outcome.result.details.get("found") is False:
                refused.append(outcome)
            else:
                primary = outcome
    main = primary or (refused.pop() if refused else None) or status
    if main is None:  # nothing we could tie to an order: the message as a whole
        return decide(u, ctx, runner, shop)
    if status is not None and main is not status:
        after.insert(0, _said(status))
    for intent in dict.fromkeys(unnamed):
        what = {"refund": "asked for a refund", "cancel": "asked me to cancel an order",
                "replacement": "asked for a replacement"}[intent]
        after.append(f"You also {what}: tell me which order, and I'll look at it next.")
    for intent in dict.fromkeys(step["intent"] for step in todo):
        ids = [f"#{step['order_id']}" for step in todo if step["intent"] == intent]
        which = (f"order {ids[0]}" if len(ids) == 1
                 else f"orders {', '.join(ids[:-1])} and {ids[-1]}")
        nxt = "“the other one”" if len(todo) == 1 else "“next”"
        after.append(f"You also {ASKED[intent]} {which}: I'll do one thing at a time, so say "
                     f"{nxt} when you're ready.")
    before = " ".join(_said(o) for o in refused)
    main.extra["prefix"] = before + (" " if before else "")
    main.extra["suffix"] = " ".join(t for t in after if t)
    main.extra["todo"] = todo
    main.extra["several"] = True
    return main
