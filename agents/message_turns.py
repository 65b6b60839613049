"""Answering a message when no proposal is waiting: read it in the conversation's light
(pending questions, the last list, the order in focus), then decide with the brain.

Order of the steps, top to bottom: a decline or "no" after an action; a yes to what is
left to do; a person accepted; another language; the orders the words point at and
several requests; refund tracking; the pending question; amounts; the brain (LLM or
offline), one action at most.
"""

from __future__ import annotations

import logging
import re
from dataclasses import replace

from agents import records
from agents.amounts import (
    asked_cents,
    full_order_note,
    keeps_item,
    partial_request,
    whole_order_note,
)
from agents.confirmation import answer_to_offer
from agents.dialogue import Dialogue, asks_more, read_in_context
from agents.language import english_share, foreign_language, says_yes
from agents.offline_brain import Outcome, continue_pending, decide
from agents.options import OPTIONS, WORDS, options_outcome
from agents.order_linking import link
from agents.person_problems import OTHER_SIZE, other_size_outcome, person_problem, problem_outcome
from agents.refund_tracking import asks_about_refund, tracking_outcome
from agents.several_requests import decide_many
from agents.simple_answers import asks_why
from agents.turns import Step, last_action
from agents.understanding import (
    ACTION_INTENTS,
    Understanding,
    bare_item_question,
    names_only_an_item,
)
from db.money import fmt
from tools.base import ToolContext, ToolResult

log = logging.getLogger("agents.agent")

I_ORDERED = re.compile(r"(?i)\bi (?:had )?ordered\b|\bwhat i ordered\b")
MISSING_NOW = re.compile(r"(?i)never (?:came|arrived|got here|turned up)|missing|anywhere|"
                         r"not in the|delivered")

ACTION_CUE = re.compile(r"(?i)\b(?:refund|money back|cancel|replac|exchange|return|where|track)")
ON_ITS_WAY = ("pending", "processing", "shipped")
# "actually yes, do it" after a no: the customer changed their mind (a bare "yes" did not).
# "the one that shipped", "the pending one", "it's the one I ordered last week": which order.
THE_ONE = re.compile(r"(?i)^\W*(?:(?:it'?s|it is|i mean|oh|ok|okay)\W+)*the "
                     r"(?!other\b|next\b|same\b|second\b)(?:\w+ )?one\b"
                     r"[^?!]{0,40}$")
# "hello? anyone there?", "I asked for a person": after a case was opened, asking after it.
NUDGE = re.compile(r"(?i)\b(?:(?:is )?(?:any(?:one|body)|some(?:one|body)) (?:there|here|around|"
                   r"reading (?:this|these))|are (?:you|u) (?:still )?there|hello+ *\?|"
                   r"i (?:already )?(?:asked|was asking) (?:for|to (?:speak|talk) (?:to|with)) "
                   r"(?:a |an )?(?:real )?(?:person|human|agent|someone|somebody)|"
                   r"(?:nobody|no one|no-one)(?:'s| has| is)? (?:replied|answered|here|there|"
                   r"getting back))")
CHANGE_OF_MIND = re.compile(r"(?i)\b(?:actually|on second thought|changed my mind|after all|do it|"
                            r"go ahead|wait)\b")


class MessageTurns:
    """Mixed into SupportAgent (which provides settings, runner, nlu, llm_brain, ...)."""

    def _answer_message(self, turn: records.Turn, u: Understanding, ctx: ToolContext,
                        orders: list, offering: bool = False) -> Step:
        history = turn.state.get("history", [])[-6:]
        pending = turn.state.get("pending")
        dialogue = Dialogue.from_state(turn.state)
        shop = {o.id: o for o in orders}
        request_text = None
        if pending and u.negative:
            return self._nothing_to_undo(None, u)
        answer = answer_to_offer(u.text)
        if (answer == "yes" and turn.state.get("person_offered") and not offering
                and not (pending and pending.get("awaiting") == "confirm")):
            # "ok" right after "if you'd like a person …, just say “a person”": accepted.
            u.intent, u.confidence, u.wants_human = "escalate", 1.0, True
            u.order_id = u.order_id or (pending or {}).get("order_id") or dialogue.focus
            u.signals.append("accepted a person")
            ctx.intent, ctx.confidence = u.intent, u.confidence
            return Step(decide(u, ctx, self.runner, shop), understanding=u, dialogue=dialogue)
        nudge = NUDGE.search(u.text) and not ACTION_CUE.search(u.text) and not u.order_id
        case = None
        if nudge or (answer == "yes" and not pending and not dialogue.todo and not offering):
            case = records.open_case_of(self.session_factory, turn.user_id, turn.ticket_id)
            case = case if case is not None and case["ticket_id"] == turn.ticket_id else None
        if case is not None and not nudge:
            # A bare "yes" after a case was opened here: where that case stands (nothing else
            # is waiting for a yes), never "nothing has changed" or a second case.
            return self._case_status_step(case, u, dialogue)
        if case is not None:
            # R12: a case was opened in this conversation and the customer asks after it ("hello?
            # anyone there?"): the same request again — it joins that case, and the reply says
            # which case and by when, instead of offering a person or a new start.
            u.intent, u.confidence, u.wants_human = "escalate", 1.0, True
            u.order_id = case["order_id"]
            u.signals.append("asks after the case")
            ctx.intent, ctx.confidence = u.intent, u.confidence
            return Step(decide(u, ctx, self.runner, shop), understanding=u, dialogue=dialogue)
        small = self._small_talk(turn, u, shop, dialogue)
        if small is not None:
            return small
        refused = next((h for h in reversed(history[-2:]) if h.get("outcome") in (
            "denied", "needs_info", "escalated") and h.get("reason")), None)
        if asks_why(u.text) and refused:
            # "why?" right after a refusal, or after a bare "yes" that followed it
            return self._explain(refused, u, dialogue)
        if answer == "no" and last_action(history) and not asks_more(u.text):
            return self._nothing_to_undo(last_action(history), u)
        requests = []
        if offering:
            answer = "other"
        declined = turn.state.get("declined_offer")
        if answer == "yes" and not pending and declined and CHANGE_OF_MIND.search(u.text):
            return self._offer_again(declined, ctx, expired=False)  # "actually yes, do it"
        if answer == "yes" and not pending and dialogue.todo:
            step = dialogue.todo[0]  # "yes" after "say “the other one” when you're ready"
            u.intent, u.order_id, u.confidence = step["intent"], step["order_id"], 0.9
            u.reason = step.get("reason") or u.reason
            u.signals.append("next request")
        elif answer == "yes" and not pending and last_action(history):
            # "yes" after something was just done (the Confirm button, say): it is done; say
            # so rather than "nothing has changed".
            done = last_action(history)
            what = {"issue_refund": "refund", "cancel_order": "cancellation",
                    "create_replacement": "replacement"}.get(done["action"], "request")
            return Step(Outcome("other", u.confidence, done.get("order_id"), "none", ToolResult(
                "success", f"Order #{done.get('order_id')} is already taken care of: the {what} "
                           "went through just now, and nothing else is waiting for your "
                           "go-ahead. Is there anything else I can help with?",
                {"already_done": True}, order_id=done.get("order_id"))),
                understanding=u, dialogue=dialogue)
        elif answer == "yes" and not pending:
            return Step(Outcome("other", u.confidence, None, "none", ToolResult(
                "success", "There's nothing waiting for your go-ahead right now, so nothing has "
                           "changed. What would you like me to do? I can help with refunds, "
                           "cancellations, replacements and order status.",
                {"nothing_pending": True})))
        elif answer == "yes" and pending and pending.get("awaiting") == "choice":
            # "yes" to "a refund or a free replacement?": which of the two is still open.
            ask = " or ".join(WORDS[p] for p in pending.get("options", ()))
            return Step(Outcome(u.intent, u.confidence, pending.get("order_id"), "none",
                                ToolResult("success", f"Happy to — would you like {ask}?",
                                           {"explained": True},
                                           order_id=pending.get("order_id")),
                                pending=dict(pending)), understanding=u, dialogue=dialogue)
        elif pending and pending.get("awaiting") == "person":
            if u.wants_human or says_yes(u.text):
                u.intent, u.confidence, u.wants_human = "escalate", 1.0, True
                u.order_id = u.order_id or pending.get("order_id")
                u.signals.append("accepted a person")
                ctx.intent, ctx.confidence = u.intent, u.confidence
                return Step(decide(u, ctx, self.runner, shop), understanding=u,
                             dialogue=dialogue)
            pending = None
        language = (None if pending or u.wants_human or english_share(u.text) >= 0.5
                    else foreign_language(turn.text))
        if language:
            return self._foreign(u, language, dialogue)
        if not requests and "next request" not in u.signals:
            requests = read_in_context(u, orders, dialogue, pending)
            focus = shop.get(u.order_id or dialogue.focus)
            just_refunded = bool(focus and focus.refund and focus.status in ("delivered",
                                                                              "cancelled"))
            if asks_about_refund(u.text, just_refunded) and not u.wants_human:
                case = records.open_case_of(self.session_factory, turn.user_id, turn.ticket_id)
                return Step(tracking_outcome(u, orders, ctx.now, dialogue.focus,
                                             waiting=case if case and case["awaiting_decision"]
                                             else None),
                             understanding=u, dialogue=dialogue)
            if (not pending and not requests
                    and u.intent in ("other", "policy_question", *ACTION_INTENTS)
                    and u.linked_by == "item" and u.order_id in shop
                    and shop[u.order_id].status in ON_ITS_WAY and bare_item_question(u.text)):
                u.intent, u.confidence = "status", max(u.confidence, 0.8)  # "helmet??"
                u.signals.append("asks where it is")
            elif (not pending and not requests and u.order_id in shop
                    and THE_ONE.match(u.text) and not ACTION_CUE.search(u.text)
                    and "next request" not in u.signals
                    and u.intent in ACTION_INTENTS and not u.reason):
                # "the one that shipped": it says which order and nothing about what for — the
                # classifier's guess at an action is no request.
                u.intent, u.confidence = "status", max(u.confidence, 0.8)
                u.signals.append("names only an item")
            elif (not pending and not requests and u.intent in ("other", "policy_question")
                    and u.linked_by == "item"
                    and (u.order_id in shop or not u.order_id and u.candidates)
                    and names_only_an_item(u.text)):
                # "it's the jacket", "about my blender": which order, and nothing yet about
                # what for — its facts, and the question what they'd like.
                u.intent, u.confidence = "status", max(u.confidence, 0.8)
                u.signals.append("names only an item")
            elif not pending and not u.wants_human and (problem := self._person_problem(
                    u, turn.text, orders, shop)):
                # A double charge, a parcel that never came, a new address: a person's job.
                return Step(problem, understanding=u, dialogue=dialogue)
            elif (not pending and not u.wants_human and OTHER_SIZE.search(u.text)
                    and not (u.order_id and shop.get(u.order_id) is None)):
                return Step(other_size_outcome(u, ctx, self.runner, shop.get(u.order_id)),
                            understanding=u, dialogue=dialogue)
            elif (not pending and not requests and u.intent in ("other", "policy_question")
                    and u.order_id in shop and OPTIONS.search(u.text) and not u.wants_human):
                u.signals = [s for s in u.signals if s != "asks what we can do"]
                return Step(options_outcome(u, ctx, self.runner, shop[u.order_id]),
                            understanding=u, dialogue=dialogue)
        if pending and (requests or "asked as a question" in u.signals
                        and "same as before" in u.signals):
            # "both of them please": the requests say it all; "what about 30202?" after a
            # question: the same question about another order, not an answer to the last.
            pending = None
        if pending:
            before = u.signals[:]
            u = continue_pending(u, pending, self.settings.min_action_confidence)
            if u.signals != before and pending.get("text"):
                request_text = f"{pending['text']} / {u.text}"
            unresolved = self._still_which(u, pending, dialogue, shop)
            if unresolved is not None:
                return unresolved
        if (self.settings.confirm_actions == "when_unsure" and u.intent in ACTION_INTENTS
                and u.order_id and u.text.rstrip().endswith("?")
                and "asked as a question" not in u.signals):
            # Nothing is proposed in this mode, so a request put as a question is not a sure
            # one: answer it with the order's facts and let the customer say yes.
            u.signals.append("asked as a question")
        offer = turn.state.get("dropped_offer")
        if offer and u.intent in ACTION_INTENTS and u.order_id in (None, offer["order_id"]):
            # "ok replace it then", "actually a replacement instead": the same order, and what
            # was said to be wrong with it still holds.
            u.order_id, u.reason = offer["order_id"], u.reason or offer.get("reason")
        ctx.confidence, ctx.intent = u.confidence, u.intent
        part = self._partial_amount(u, shop, dialogue, ctx)
        if part is not None:
            return Step(part, request_text=request_text, understanding=u, dialogue=dialogue)
        mode, outcome = "offline", None
        if self.llm_brain is not None:
            try:
                outcome = self.llm_brain.run(u, ctx, self.runner, history=history,
                                             policy=self.retrieve(u.intent, u.text))
                mode = "llm"
            except Exception as exc:  # any model failure or time-out: the offline brain answers
                log.warning("LLM brain failed (%s); falling back to offline", type(exc).__name__)
                outcome = getattr(exc, "partial_outcome", None)
        if outcome is None:
            outcome = (decide_many(u, requests, ctx, self.runner, shop) if requests
                       else decide(u, ctx, self.runner, shop))
            if (not requests and outcome.result.status in ("needs_confirmation", "escalated")
                    and outcome.order_id in shop and "prefix" not in outcome.extra):
                # "I only want $10 back" and R7 found the one order: refunds are whole (R2).
                note = whole_order_note(u.text, shop[outcome.order_id].total_cents, u.intent)
                outcome.extra["prefix"] = note or ""
        return Step(outcome, mode=mode, request_text=request_text, understanding=u,
                     dialogue=dialogue)

    def _person_problem(self, u: Understanding, text: str, orders: list, shop: dict
                        ) -> Outcome | None:
        """`text`: the customer's own words (u.text may be trimmed to the sentence that asks)."""
        found = person_problem(text)
        if found is None:
            return None
        kind, why = found
        if kind == "not_ordered" and (u.reason == "wrong_item" or I_ORDERED.search(text)):
            return None  # "I didn't order the blue one, I ordered black": a wrong item
        order = shop.get(u.order_id)
        if kind == "missing":
            # The clause that says what never came names the order ("only got the boots,
            # the socks never came" is about the socks).
            for clause in re.split(r"[,.;!?]+|\bbut\b", text):
                if MISSING_NOW.search(clause):
                    named = link(clause, orders)
                    if named.order_ids:
                        order = shop.get(named.order_ids[0])
                    break
            if order is None or order.status != "delivered":
                return None  # on its way, or not said which: where it is comes first
        return problem_outcome(u, kind, why, order)

    def _partial_amount(self, u: Understanding, shop: dict, dialogue: Dialogue,
                        ctx: ToolContext) -> Outcome | None:
        """"Refund $5 only", "20% back", "a discount and I keep it": refunds are whole (R2).
        The full amount is proposed with a plain note — even when CONFIRM_ACTIONS lets sure
        requests run at once, since a partial request is not a sure one for the whole."""
        if (u.order_id in shop and keeps_item(u.text) and not u.wants_human
                and u.intent not in ("cancel", "replacement")):
            u.intent = "refund"  # "a $10 discount and I'll keep it", "refund the difference"
        if u.intent not in ("refund", "cancel") and asked_cents(u.text) and not u.order_id \
                and dialogue.focus in shop and dialogue.last_intent in ("refund", "cancel"):
            u.intent, u.order_id = dialogue.last_intent, dialogue.focus  # "yes but only $10"
            u.confidence = max(u.confidence, 0.8)
        if u.intent not in ("refund", "cancel") or u.order_id not in shop \
                or "asked as a question" in u.signals:
            return None
        total = shop[u.order_id].total_cents
        if not partial_request(u.text, total, u.intent):
            return None
        keep = keeps_item(u.text) and u.intent == "refund"
        note = full_order_note(total, keep)
        if u.intent == "cancel":
            note = ("An order can only be cancelled as a whole, so I can't cancel part of it; "
                    f"cancelling it refunds the full {fmt(total)}. ")
        if keep:
            return Outcome(u.intent, u.confidence, u.order_id, "none", ToolResult(
                "needs_info", f"R2 refund: {note}Would you like a full refund of order "
                              f"#{u.order_id} instead?", order_id=u.order_id),
                pending={"intent": u.intent, "confidence": u.confidence, "awaiting": "confirm",
                         "order_id": u.order_id, "reason": u.reason, "text": u.text[:500]})
        outcome = decide(u, replace(ctx, propose=True), self.runner, shop)
        if outcome.result.status in ("needs_confirmation", "escalated"):
            outcome.extra["prefix"] = note
        return outcome

    def _still_which(self, u: Understanding, pending: dict, dialogue: Dialogue,
                     shop: dict) -> Step | None:
        """We asked which order and the answer named none we could tie: try the meaning of the
        words against the listed items ("the woolly hat" = the wool beanie); failing that, ask
        again, keeping the request (a new request in its own words goes ahead instead)."""
        if pending.get("awaiting") != "order" or u.order_id or u.candidates:
            return None
        if u.intent == pending.get("intent") and "order given" in u.signals:
            return None
        if (u.wants_human or u.intent == "escalate" or
                (u.intent != pending.get("intent") and u.confidence >= 0.6
                 and ACTION_CUE.search(u.text)) or u.text.rstrip().endswith("?")):
            return None
        listed = [shop[oid] for oid in dialogue.listed if oid in shop]
        match = self._closest_item(u.text, listed)
        if match:
            u.intent, u.order_id = pending["intent"], match
            u.confidence = max(float(pending.get("confidence") or 0), 0.8)
            u.reason = u.reason or pending.get("reason")
            u.signals.append("order given")
            return None
        choices = [f"#{o.id} ({o.label}, {o.status}, {fmt(o.total_cents)})" for o in listed]
        outcome = Outcome(pending["intent"], float(pending.get("confidence") or 0), None, "none",
                          ToolResult("needs_info", "R7 which order: sorry, I couldn't tell which "
                                                   "order you mean.",
                                     {"choices": choices, "choice_ids": [o.id for o in listed],
                                      "asking": True}),
                          pending=dict(pending))
        return Step(outcome, understanding=u, dialogue=dialogue)

    def _closest_item(self, text: str, listed: list) -> str | None:
        """The listed order whose items are closest in meaning to the words, if clearly so."""
        if len(listed) < 2 or len(text) > 80:
            return None
        labels = [", ".join(o.items).lower() for o in listed]
        # Words every listed item shares ("wool" in a wool sweater and a wool beanie) can't tell
        # them apart: compare what is left ("the woolly hat" -> "hat" vs sweater / beanie).
        shared = set.intersection(*(set(re.findall(r"[a-z]+", x)) for x in labels))
        labels = [" ".join(w for w in re.findall(r"[a-z]+", x) if w not in shared) or x
                  for x in labels]
        text = " ".join(w for w in re.findall(r"[a-z0-9]+", text.lower())
                        if not any(w.startswith(c) for c in shared)) or text
        vectors = self.nlu.embedder.encode([text, *labels])
        scores = sorted(((float(v @ vectors[0]), o.id) for v, o in zip(vectors[1:], listed,
                                                                          strict=True)),
                        reverse=True)
        best, second = scores[0], scores[1]
        return best[1] if best[0] >= 0.45 and best[0] - second[0] >= 0.08 else None

