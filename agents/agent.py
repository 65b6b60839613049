"""The support agent: read -> tie to the customer's orders -> decide -> act -> reply.

One message in, one response out. The steps live in small modules, mixed in here:
agents/offer_turns.py (a proposal is waiting), agents/message_turns.py (any other message),
agents/simple_answers.py (messages with a simple answer of their own); this module holds
the turn itself (start, finish, the response) and policy retrieval.

Both brains end in the same tools (tools/registry.py), so the rules and the audit trail are
the same whichever answered. The acting user is the request's user id, passed to the tools
in the ToolContext; no brain can change it (R9).
"""

from __future__ import annotations

import logging
import re
import threading
from collections import OrderedDict
from dataclasses import replace
from functools import lru_cache

from agents import entities, records
from agents.dialogue import (
    BOTH,
    Dialogue,
    also_asked,
    also_asked_note,
    remember,
    request_after_yes,
)
from agents.entities import THREAT
from agents.message_turns import MessageTurns
from agents.offer_turns import OfferTurns
from agents.offline_brain import Outcome
from agents.replies import PERSON_OFFER, PERSON_QUESTION, compose, excerpt, handoff_summary, plain
from agents.requests import CUES
from agents.shop_view import customer_orders, item_words
from agents.simple_answers import SimpleAnswers
from agents.spelling import normalise
from agents.turns import Step, as_policy_query
from agents.understanding import (
    ACTION_INTENTS,
    QUESTION_START,
    OfflineNLU,
    Understanding,
    courtesy_only,
)
from audit.redact import redact
from config import Settings
from rag.chunking import chunk_policies
from tools.base import ToolContext, ToolResult
from tools.registry import Confirmed, ProposalGone, ToolRunner

log = logging.getLogger(__name__)

MAX_INPUT = 4000
TOPIC = {"refund": ("refund_policy.md", "refund"),
         "cancel": ("cancellation_policy.md", "cancel an order"),
         "replacement": ("replacement_policy.md", "replacement for a damaged, defective or wrong item"),
         "status": ("shipping_policy.md", "order status and tracking"),
         "escalate": ("escalation_policy.md", "speaking to a person"),
         }
MIN_ANSWER_SCORE = 0.3
RETRIEVAL_CACHE = 4096  # distinct (intent, query) searches kept
# Out-of-scope messages ("how do I reset my password?") often have an FAQ answer; only a close
# match is offered (off-topic chatter scores below 0.4, real FAQ matches above 0.5).
OTHER_ANSWER_SCORE = 0.5


# What a question about an action may ask beyond the order's facts (amount, deadline).
BEYOND_FACTS = re.compile(r"(?i)\b(?:fee|fees|cost|charge\w*|pay for|how long|take|takes|days|"
                          r"when (?:will|do|would)|where (?:does|will|would) the money|which card|"
                          r"card|label|postage|ship (?:it|them) back|restocking|warranty|"
                          r"original packaging|opened|used)\b")
# Anger plus a clear request: the request is handled, and a person is offered alongside.
ANGRY_OFFER = (" If you'd like a person on our team to look at this too, just say “a person” and "
               "I'll pass it on straight away.")
# "What's your refund policy?", "tell me about your returns policy": the whole policy asked for.
WHOLE_POLICY = re.compile(
    r"(?i)^\W*(?:(?:so|ok|okay|hi|hello|hey)\W+)?(?:what(?:'s| is|s| are)|whats|tell me (?:more )?"
    r"about|explain|can you (?:explain|tell me)|(?:i'?d like to|i want to|can i) (?:know|see|read))"
    r"\s+(?:(?:your|ur|the|you'?re|yr)\s+)?(refunds?|returns?|cancell?ations?|replacements?|"
    r"exchanges?|shipping|delivery)\s+polic(?:y|ies)\W*$")
# "your return policy for opened items": the question names the policy it is about, so the
# answer comes from that policy (not from another's nearest sentence about sending items back).
NAMED_POLICY = re.compile(r"(?i)\b(refunds?|returns?|money.back|cancell?ations?|replacements?|"
                          r"exchanges?|shipping|delivery)\s+polic(?:y|ies)\b")
NAMED_INTENT = ((r"refund|return|money", "refund"), (r"cancel", "cancel"),
                (r"replace|exchange", "replacement"), (r"shipping|delivery", "status"))
POLICY_FILES = ((r"refund|return", "refund_policy.md"), (r"cancel", "cancellation_policy.md"),
                (r"replace|exchange", "replacement_policy.md"), (r"shipping|delivery",
                                                                  "shipping_policy.md"))
PAID_QUESTION = re.compile(r"(?i)\bhow much (?:did|do|have) (?:i|we) (?:pay|paid|spend|spent)|"
                           r"\bhow much (?:was|is|did) (?:it|that|this|the \w+|my \w+)(?: cost)?\b|"
                           r"\bwhat did (?:i|we) pay\b")
# Internal keys of a proposal outcome that the response carries elsewhere (`proposal`).
HIDDEN_RESULT_KEYS = ("proposal", "proposal_event")


class SupportAgent(OfferTurns, MessageTurns, SimpleAnswers):
    def __init__(self, settings: Settings, session_factory, runner: ToolRunner, index,
                 nlu: OfflineNLU, llm_brain=None):
        self.settings = settings
        self.session_factory = session_factory
        self.runner = runner
        self.index = index
        self.nlu = nlu
        self.llm_brain = llm_brain
        self._cache: OrderedDict = OrderedDict()
        self._cache_lock = threading.Lock()

    @property
    def mode(self) -> str:
        return "llm" if self.llm_brain is not None else "offline"

    def resolve(self, user_id: int, user_input: str, conversation_id: str | None = None,
                request_id: str | None = None, ticket_id: int | None = None) -> dict:
        text = (user_input or "").strip()
        if not 1 <= len(text) <= MAX_INPUT:
            raise ValueError(f"user_input must be 1 to {MAX_INPUT} characters after trimming")
        turn = records.start_turn(self.session_factory, user_id, text, conversation_id, ticket_id)
        if turn.ticket_status == "with_agent":
            return self._to_the_person(turn)
        self.runner.expire_due(ToolContext(user_id=user_id, settings=self.settings,
                                           request_id=request_id))
        orders = customer_orders(self.session_factory, user_id)
        u = self.nlu.understand(normalise(text, item_words(orders)))
        ctx = self._context(turn, u, request_id)
        step = self._answer_offer(turn, u, ctx, orders)
        if step is not None and step.confirmed:
            more = also_asked(u.text, orders, step.outcome.order_id, step.outcome.intent)
            waiting = Dialogue.from_state(turn.state).todo
            if more:  # "yes, and the throw pillow too": named, and kept for the next yes
                step.outcome.extra["suffix"] = also_asked_note(more, orders)
                step.outcome.extra["todo"] = [more]
            elif waiting and BOTH.search(u.text):
                # "yes both" to one offer while the other request waits: one action per yes
                # (R11), so the other is named and kept for the next yes, never dropped.
                step.outcome.extra["suffix"] = also_asked_note(waiting[0], orders)
                step.outcome.extra["todo"] = waiting
        if step is None and turn.state.get("read_instead"):
            # The offer was refused with a new request after the no: read only that request.
            u = self._read_instead(turn.state.pop("read_instead"), orders)
            ctx = self._context(turn, u, request_id)
        elif step is None and (rest := request_after_yes(u.text)):
            # "yes cancel the pillow too", "ok refund the mouse" with no offer it could answer:
            # the yes confirms nothing, and what follows it is the request.
            u = self._read_instead(rest, orders)
            ctx = self._context(turn, u, request_id)
        step = step or self._answer_message(turn, u, ctx, orders)
        return self._finish(turn, u, step)

    def _read_instead(self, text: str, orders: list) -> Understanding:
        """What followed a no to an offer ("the socks - cancel those instead") or a yes that had
        nothing to confirm ("yes cancel the pillow too"). The customer names one action verb
        outright: that verb is the request, even where the classifier alone is unsure of the
        fragment."""
        u = self.nlu.understand(normalise(text, item_words(orders)))
        named = {intent for intent, pattern in CUES if pattern.search(text)} - {"status"}
        if (u.intent not in ACTION_INTENTS and len(named) == 1 and not text.rstrip().endswith("?")
                and not QUESTION_START.match(text)):
            intent = named.pop()
            u = replace(u, intent=intent, requested_intent=intent,
                        confidence=max(u.confidence, self.settings.min_action_confidence),
                        signals=[*u.signals, "request after a no"])
        return u

    def confirm(self, user_id: int, proposal_id: str, request_id: str | None = None) -> dict:
        """The portal's Confirm button (POST /support/confirm): run the proposal once.

        Raises ProposalNotFound (404) or ProposalGone (409); a repeat returns the first
        result. The confirmation is recorded in the proposal's conversation like a "yes"."""
        ctx = ToolContext(user_id=user_id, settings=self.settings, request_id=request_id)
        confirmed = self.runner.confirm(proposal_id, ctx)
        if not confirmed.first:
            return (records.stored_response(self.session_factory, proposal_id)
                    or self._replay(confirmed))
        p = confirmed.proposal
        turn = records.start_turn(self.session_factory, user_id,
                                  "Yes, go ahead (confirmed with the button).",
                                  p["conversation_id"])
        u = self.nlu.understand("yes")
        step = Step(self._confirmed_outcome(confirmed), request_text=turn.state.get(
            "offer_text"), confirmed=proposal_id)
        return self._finish(turn, u, step)

    def decline(self, user_id: int, proposal_id: str, request_id: str | None = None) -> dict:
        """The portal's Not now button: drop the proposal (nothing changes) and say so."""
        ctx = ToolContext(user_id=user_id, settings=self.settings, request_id=request_id)
        snapshot = self.runner.proposal(proposal_id, user_id)
        if snapshot["state"] == "confirmed":
            raise ProposalGone("confirmed")
        turn = records.start_turn(self.session_factory, user_id, "Not now, thanks.",
                                  snapshot["conversation_id"])
        ctx = self._context(turn, self.nlu.understand("no"), request_id)
        self.runner.drop(proposal_id, ctx, "the customer chose Not now")
        return self._finish(turn, self.nlu.understand("no"), self._declined(snapshot))

    def _to_the_person(self, turn: records.Turn) -> dict:
        """R12: a person owns this ticket. The assistant does not answer; the message is theirs
        (it is already in the conversation they read) and the customer is told so."""
        person = records.person_on_ticket(self.session_factory, turn.ticket_id) or {}
        who = person.get("first_name") or "A member of our support team"
        due = person.get("due_at")
        when = (" They'll answer here, and you'll get an email when they do."
                if person.get("answered_at") or not due else
                f" You'll hear back by {due:%a %-d %b, %H:%M} UTC at the latest.")
        outcome = Outcome("other", 1.0, person.get("order_id"), "none", ToolResult(
            "with_agent", f"R12 with a person: {who} is handling this case, so your message has "
                          f"gone to them rather than to the assistant.",
            {"escalation_id": person.get("case_id")}, order_id=person.get("order_id")))
        response = self._respond(turn, self.nlu.understand("ok"), outcome, "offline")
        response["response"] = (f"Thanks — {who} is handling your case and has your message; "
                                f"the assistant won't reply here while they do.{when}")
        records.finish_turn(self.session_factory, turn, response, dict(turn.state))
        return response

    # --- the steps of one message ---------------------------------------------------------

    def _context(self, turn: records.Turn, u: Understanding, request_id: str | None
                 ) -> ToolContext:
        history = turn.state.get("history", [])
        earlier = [h["user"] for h in history if h.get("user")]
        return ToolContext(
            user_id=turn.user_id, settings=self.settings, confidence=u.confidence,
            request_id=request_id, conversation_id=turn.conversation_id,
            ticket_id=turn.ticket_id, intent=u.intent,
            propose=self.settings.confirm_actions == "always",
            summary=handoff_summary(turn.user_name, turn.user_id, u, u.order_id, "none", None,
                                    earlier))

    def _replay(self, confirmed: Confirmed) -> dict:
        """A repeat confirmation that raced the first one's reply: the same answer, rebuilt."""
        p = confirmed.proposal
        outcome = self._confirmed_outcome(confirmed)
        u = self.nlu.understand("yes")
        turn = records.Turn(p["user_id"], "", p["conversation_id"], p["ticket_id"])
        return self._respond(turn, u, outcome, "offline")

    def _finish(self, turn: records.Turn, u: Understanding, step: Step) -> dict:
        u = step.understanding or u
        outcome = step.outcome
        response = self._respond(turn, u, outcome, step.mode)
        history = turn.state.get("history", [])[-6:]
        summary = None
        if response["escalated"]:
            earlier = [h["user"] for h in history if h.get("user")]
            summary = outcome.extra.get("summary") or handoff_summary(
                turn.user_name, turn.user_id, u, outcome.order_id, outcome.action,
                outcome.result, earlier)
        pending = dict(outcome.pending) if outcome.pending else None
        if pending and pending.get("text"):
            pending["text"] = redact(pending["text"])[:500]
        offer = response["proposal"]
        dialogue = step.dialogue or Dialogue.from_state(turn.state)
        todo = outcome.extra.get("todo") if "todo" in outcome.extra else (
            dialogue.todo[1:] if "next request" in u.signals and outcome.result.status in (
                "needs_confirmation", "success", "denied") else None)
        # After a replacement is made, "where is it?" means the new order.
        focus = (outcome.result.details.get("replacement_order_id")
                 if outcome.action == "create_replacement" and outcome.result.status == "success"
                 else None) or outcome.order_id
        remember(dialogue, outcome.intent, focus, outcome.result.details.get("choice_ids"), todo,
                 asked=bool(outcome.result.details.get("answer")))
        state = {**step.remember, "pending": pending, "dialogue": dialogue.as_state(),
                 "person_offered": bool(outcome.extra.get("person_offered")),
                 "proposal_id": offer["id"] if offer else None,
                 "offer_text": (turn.state.get("offer_text") if step.keep_offer
                                else redact(step.request_text or turn.text)[:500]
                                if offer else None),
                 "history": (history + [{"user": redact(turn.text)[:500],
                                         "intent": outcome.intent, "action": outcome.action,
                                         "order_id": outcome.order_id,
                                         "outcome": outcome.result.status,
                                         "reason": redact(plain(outcome.result.reason))[:400]}
                                        ])[-6:]}
        records.finish_turn(self.session_factory, turn, response, state, summary,
                            request_text=step.request_text, confirmed_proposal=step.confirmed)
        return response

    def retrieve(self, intent: str, query: str, k: int = 3) -> list[dict]:
        """Policy sections for a query, cached: the reasons cited are templates that differ
        only in numbers ("order #1042 was delivered within 30 days"), so one search (one
        sentence embedding) serves them all until a policy file changes."""
        refresh = getattr(self.index, "refresh_if_changed", None)
        if refresh is not None:
            refresh()
        key = (getattr(self.index, "digest", ""), intent, k,
               re.sub(r"\s+", " ", re.sub(r"[#$]?\d[\d,.]*", "#", query.lower())).strip())
        with self._cache_lock:
            cached = self._cache.get(key)
            if cached is not None:
                self._cache.move_to_end(key)
                return [dict(h) for h in cached]
        preferred, topic = TOPIC.get(intent, (None, ""))
        hits = self.index.search(f"{topic}. {query}" if topic else query, k=k + 2)
        if preferred:
            hits.sort(key=lambda h: h["source"] != preferred)  # stable: keeps score order
        hits = hits[:k]
        with self._cache_lock:
            self._cache[key] = [dict(h) for h in hits]
            while len(self._cache) > RETRIEVAL_CACHE:
                self._cache.popitem(last=False)
        return hits

    def _best_sentence(self, question: str, text: str, floor: float = 0.45) -> str | None:
        """The sentence of a policy section closest in meaning to the question, if close."""
        sentences = [x.strip() for x in re.split(r"(?<=[.!?])\s+", " ".join(text.split()))
                     if 25 <= len(x.strip()) <= 400 and not x.strip().startswith("#")]
        if not sentences:
            return None
        vectors = self.nlu.embedder.encode([as_policy_query(question), *sentences])
        scores = vectors[1:] @ vectors[0]
        best = int(scores.argmax())
        return sentences[best] if scores[best] >= floor else None

    def _overview(self, text: str) -> list[dict]:
        """"What's your refund policy?": the policy's own opening section (its overview), not
        whichever rule's wording happens to sit closest to the words "refund policy"."""
        asked = WHOLE_POLICY.match(text)
        if not asked:
            return []
        source = next(f for words, f in POLICY_FILES if re.match(words, asked.group(1), re.I))
        policies_dir = getattr(self.index, "policies_dir", None)
        if policies_dir is None:
            return []
        refresh = getattr(self.index, "refresh_if_changed", None)
        if refresh is not None:
            refresh()  # a policy a member of staff just uploaded
        first = self._first_sections(policies_dir, getattr(self.index, "digest", "")).get(source)
        return ([{"source": first.source, "section": first.section, "score": 1.0,
                  "text": first.text}] if first else [])

    @staticmethod
    @lru_cache(maxsize=4)
    def _first_sections(policies_dir, digest: str) -> dict:
        """Each policy file's opening section, read once per version of the policies (the
        index's digest changes when a file does)."""
        first: dict = {}
        for chunk in chunk_policies(policies_dir):
            first.setdefault(chunk.source, chunk)
        return first

    def _respond(self, turn, u: Understanding, outcome: Outcome, mode: str) -> dict:
        answer = None
        result = outcome.result
        if outcome.intent == "policy_question" and outcome.action == "none":
            named = NAMED_POLICY.search(u.text)
            about = next((i for words, i in NAMED_INTENT if named and re.match(
                words, named.group(1), re.I)), "policy_question")
            # The words from the policy's name on are what is asked about it ("Hi! what's
            # your…" would only pull towards whichever section sounds most like a question).
            asked = u.text[named.start():] if named else u.text
            sources = (self._overview(u.text)
                       or self.retrieve(about, as_policy_query(asked)))
            if sources and sources[0]["score"] >= MIN_ANSWER_SCORE:
                answer = outcome.extra.get("answer") or excerpt(sources[0]["text"])
                result = replace(result, reason=f"Answered from {sources[0]['source']} — "
                                                f"{sources[0]['section']}.")
            else:
                answer = outcome.extra.get("answer") or (
                    "I couldn't find that in our policies. I can connect you with a person "
                    "if you'd like — just say so.")
                sources = []
        elif result.details.get("answer"):
            # A question about an action for a known order: its facts (the reply), plus the one
            # policy sentence that answers what else was asked ("is there a fee?", "how long?").
            sources = self.retrieve("policy_question", as_policy_query(u.text), k=2)
            sentence = (self._best_sentence(u.text, sources[0]["text"])
                        if sources and BEYOND_FACTS.search(u.text) else None)
            if sentence:
                outcome.extra["suffix"] = " ".join(
                    x for x in (outcome.extra.get("suffix"), sentence) if x)
            else:  # cite the rule the facts come from
                sources = self.retrieve(outcome.intent, plain(result.reason), k=2)
        elif (outcome.intent in ACTION_INTENTS and outcome.action == "none"
              and result.status == "needs_info" and "asked as a question" in u.signals):
            # A question about an action: answer it from the policy and offer to act (R10).
            sources = self.retrieve("policy_question", as_policy_query(u.text), k=2)
            if sources and sources[0]["score"] >= MIN_ANSWER_SCORE:
                verb = {"refund": "refund", "cancel": "cancel",
                        "replacement": "send a replacement for"}[outcome.intent]
                which = f"order #{outcome.order_id}" if outcome.order_id else "your order"
                answer = (f"{excerpt(sources[0]['text'])} If you'd like me to {verb} {which} "
                          "now, just reply “yes”.")
            else:
                sources = []
        elif result.details.get("problem"):
            # A person's job (a new address, a double charge): the policy that says so is cited
            # alongside the offer of a person, never instead of it.
            sources = [h for h in self.retrieve("policy_question", as_policy_query(u.text), k=2)
                       if h["score"] >= OTHER_ANSWER_SCORE]
        elif (outcome.intent == "other" and outcome.action == "none" and result.status == "success"
              and not result.details.get("explained")
              and not (u.is_greeting or u.is_thanks or u.negative or courtesy_only(u.text))):
            sources = self.retrieve("policy_question", as_policy_query(u.text), k=2)
            if sources and sources[0]["score"] >= OTHER_ANSWER_SCORE:
                answer = excerpt(sources[0]["text"])
            else:
                sources = []
        elif outcome.intent in (*ACTION_INTENTS, "status"):
            # Cite the rule that decided, found by its explanation alone: the customer's own
            # words pull every refund answer towards "How to request a refund".
            sources = self.retrieve(outcome.intent, plain(result.reason), k=2)
        elif outcome.intent == "escalate":
            # Cite why it was escalated; the customer's own words (say, about a refund) would
            # pull in unrelated sections such as "Refunds that need approval".
            why = ("I want to talk to a real person." if u.wants_human else
                   "very frustrated or upset customer, escalated automatically with high "
                   "priority" if u.frustration.very_frustrated else u.text)
            sources = self.retrieve(outcome.intent, why, k=2)
        else:
            sources = []
        text = outcome.extra.get("reply") if mode == "llm" else None
        if not text:
            text = compose(turn.user_name, u, outcome.action, result, sources, answer=answer)
        text = outcome.extra.get("prefix", "") + text
        if outcome.extra.get("suffix"):
            text += " " + outcome.extra["suffix"]
        if (outcome.action == "get_order_status" and result.status == "success"
                and PAID_QUESTION.search(u.text) and result.details.get("order")):
            # "how much did I pay for the smartphone and when did it arrive?"
            text += f" You paid {result.details['order']['total_display']} for it."
        if "names only an item" in u.signals and outcome.action == "get_order_status" \
                and result.status == "success":
            text += " " + _what_next(result.details.get("order", {}).get("status"))
        if PERSON_OFFER in text or PERSON_QUESTION in text:
            outcome.extra["person_offered"] = True
        escalated_now = result.status == "escalated" or bool(result.details.get("escalated"))
        if (u.frustration.frustrated or THREAT.search(u.text)) and not escalated_now \
                and outcome.intent != "escalate" and result.status != "with_agent":
            text += ANGRY_OFFER
            outcome.extra["person_offered"] = True
        others = [o for o in entities.extract_order_ids(u.text) if o != outcome.order_id]
        if outcome.order_id and others and not outcome.extra.get("several"):
            text += (f" You also mentioned order {', '.join('#' + o for o in others)}: send it "
                     "in a new message and I'll look at it too.")
        action_result = {k: v for k, v in result.as_action_result().items()
                         if k not in HIDDEN_RESULT_KEYS}
        escalated = result.status == "escalated" or bool(result.details.get("escalated"))
        return {
            "conversation_id": turn.conversation_id,
            "ticket_id": turn.ticket_id,
            "intent": outcome.intent,
            "confidence": round(float(outcome.confidence), 4),
            "order_id": outcome.order_id,
            "action": outcome.action,
            "action_result": action_result,
            "response": text,
            "policy_sources": [{"source": s["source"], "section": s["section"],
                                "score": s["score"]} for s in sources],
            "escalated": escalated,
            "mode": mode,
            "proposal": outcome.proposal,
        }


def _what_next(status: str | None) -> str:
    """After an item named on its own: what can be done with that order as it stands."""
    options = {"pending": "cancel it before it ships",
               "processing": "cancel it before it ships",
               "delivered": "arrange a refund or a replacement if something is wrong with it",
               "shipped": "keep an eye on it with the tracking number above; once it has "
                          "arrived I can arrange a refund or a replacement if needed"}
    if status in options:
        return f"Is there anything you'd like me to do about it? I can {options[status]}."
    return "Is there anything else you'd like me to do about it?"
