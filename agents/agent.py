"""The support agent: classify -> retrieve policy -> decide -> act -> reply, once per message.

Both brains end in the same tools (tools/registry.py), so the rules and the audit
trail are the same whichever answered. The acting user is the request's user id,
passed to the tools in the ToolContext; no brain can change it (R9).
"""

from __future__ import annotations

import logging
import re
import threading
from collections import OrderedDict
from dataclasses import dataclass, field, replace

from agents import entities, records
from agents.amounts import asked_cents, full_order_note, keeps_item, partial_request
from agents.confirmation import answer_to_offer
from agents.dialogue import Dialogue, read_in_context, remember
from agents.entities import THREAT
from agents.language import english_share, foreign_language, says_yes
from agents.offline_brain import Outcome, continue_pending, decide
from agents.order_linking import link
from agents.refund_tracking import asks_about_refund, tracking_outcome
from agents.replies import compose, excerpt, handoff_summary, plain
from agents.several_requests import decide_many
from agents.shop_view import customer_orders, item_words
from agents.spelling import normalise
from agents.understanding import (
    ACTION_INTENTS,
    QUESTION_START,
    OfflineNLU,
    Understanding,
    courtesy_only,
)
from audit.redact import redact
from config import Settings
from db.money import fmt
from tools.base import ToolContext, ToolResult
from tools.registry import MONEY_TOOLS, Confirmed, ProposalGone, ProposalNotFound, ToolRunner

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
# "order 1042" in a question pulls retrieval towards the sections whose examples quote an order
# number ("How to request a refund"); the question reads the same about "it".
ORDER_REFERENCE = re.compile(r"(?i)(?:\b(?:my |the |this )?(?:order|purchase)\s*(?:no\.?|number|nr\.?|"
                             r"#)?\s*#?\s*\d{3,12}\b|#\s?\d{3,12}\b)")


def as_policy_query(text: str) -> str:
    return ORDER_REFERENCE.sub("it", text)


# What a question about an action may ask beyond the order's facts (amount, deadline).
BEYOND_FACTS = re.compile(r"(?i)\b(?:fee|fees|cost|charge\w*|pay for|how long|take|takes|days|"
                          r"when (?:will|do|would)|where (?:does|will|would) the money|which card|"
                          r"card|label|postage|ship (?:it|them) back|restocking|warranty|"
                          r"original packaging|opened|used)\b")


@dataclass
class _Step:
    """What one message led to, and what the turn's records need to know about it."""

    outcome: Outcome
    mode: str = "offline"
    request_text: str | None = None  # the words that asked for the action, when not this message
    confirmed: str | None = None     # the proposal this message confirmed
    keep_offer: bool = False         # the proposal on the table stays there
    understanding: Understanding | None = None
    dialogue: Dialogue | None = None
    remember: dict = field(default_factory=dict)  # extra conversation state for next turn


WHY = re.compile(r"(?i)^\s*(?:but |and |so |ok |okay )?(?:why(?: not| is that| so)?|how come|"
                 r"what do you mean|on what (?:basis|grounds))\b[^a-z]{0,5}$")
# Anger plus a clear request: the request is handled, and a person is offered alongside.
ANGRY_OFFER = (" If you'd like a person on our team to look at this too, just say “a person” and "
               "I'll pass it on straight away.")
# Internal keys of a proposal outcome that the response carries elsewhere (`proposal`).
HIDDEN_RESULT_KEYS = ("proposal", "proposal_event")


def _last_action(history: list[dict]) -> dict | None:
    """The previous turn's action, if it changed something for the customer."""
    last = history[-1] if history else None
    if last and (last.get("action") in MONEY_TOOLS and last.get("outcome") == "success"
                 or last.get("action") == "escalate_case" and last.get("outcome") == "escalated"):
        return last
    return None


def _offer_intent(snapshot: dict) -> str:
    return {"issue_refund": "refund", "cancel_order": "cancel",
            "create_replacement": "replacement"}.get(snapshot["action"], "")


def _other_order(text: str, snapshot: dict, orders: list) -> str | None:
    """"No wait, the mouse": the same request for another of the customer's orders."""
    from agents.requests import CUES

    named = {intent for intent, pattern in CUES if pattern.search(text)}
    if named - {_offer_intent(snapshot)} or len(text) > 80:
        return None  # another action, or a status question ("where is my telescope?")
    found = link(text, orders)
    others = [oid for oid in found.order_ids if oid != snapshot["order_id"]]
    return others[0] if len(found.order_ids) == 1 and others else None


DEFER = re.compile(r"(?i)\b(?:let me (?:check|think|see|look|ask)|i'?ll (?:think|check|get back|"
                   r"let you know)|give me a (?:sec|second|minute|moment)|not sure yet|think "
                   r"about it|hold that thought)\b")
WHICH_ORDERS = re.compile(r"(?i)\bwhich (?:of my )?(?:orders?|items?|things?)\b[^?.!]{0,40}\b(?:refund|"
                          r"return|cancel|replace|exchange)\w*|\bwhat (?:can|could) i (?:still )?"
                          r"(?:return|refund|cancel|replace)\b")
HEAR_BACK = re.compile(r"(?i)\b(?:how long (?:until|till|before) (?:someone|somebody|a person|you|"
                       r"the team|i hear)|when (?:will|do|does|would) (?:someone|somebody|a person|"
                       r"you|the team|your team|i) (?:get back|reply|respond|contact|call|hear|"
                       r"answer)|hear back|get back to me|any news on my case|still waiting (?:for|"
                       r"on) (?:a|the|your) (?:reply|answer|person|team))\b")


def _purpose(text: str) -> str:
    low = text.lower()
    return ("cancel" if "cancel" in low else "replacement" if "replac" in low or "exchang" in low
            else "refund")


def eligible_orders(orders: list, purpose: str, settings, turn) -> str:
    """Which of the customer's orders an action could still apply to, with the last day."""
    from datetime import timedelta

    from db.models import utcnow

    now = utcnow()
    lines = []
    for o in orders:
        if purpose == "cancel" and o.status in ("pending", "processing") and not o.replacement_for:
            lines.append(f"#{o.id} ({o.label}, {fmt(o.total_cents)})")
        elif purpose in ("refund", "replacement") and o.status == "delivered" and not o.replaced \
                and o.refund is None and not o.replacement_for:
            delivered = o.delivered_at or o.shipped_at or o.ordered_at
            days = (settings.refund_window_days if purpose == "refund"
                    else settings.replacement_window_days)
            last = delivered + timedelta(days=days)
            if (now.date() - delivered.date()).days <= days:
                lines.append(f"#{o.id} ({o.label}, {fmt(o.total_cents)}) until {last:%-d %b}")
    verb = {"refund": "refunded", "cancel": "cancelled", "replacement": "replaced"}[purpose]
    if not lines:
        return f"None of your orders can be {verb} right now."
    return (f"These can still be {verb}: " + "; ".join(lines[:6]) + ". Tell me which one and "
            "I'll check it for you.")


ACTION_CUE = re.compile(r"(?i)\b(?:refund|money back|cancel|replac|exchange|return|where|track)")
# "actually yes, do it" after a no: the customer changed their mind (a bare "yes" did not).
CHANGE_OF_MIND = re.compile(r"(?i)\b(?:actually|on second thought|changed my mind|after all|do it|"
                            r"go ahead|wait)\b")
OTHER_ONE = re.compile(r"(?i)\bthe other (?:one|order)\b|\bnot (?:that|this) one\b")


def _the_other_fitting(snapshot: dict, orders: list) -> str | None:
    """The one other order the offered action could apply to, if there is exactly one."""
    fits = {"issue_refund": ("delivered",), "create_replacement": ("delivered",),
            "cancel_order": ("pending", "processing")}.get(snapshot["action"], ())
    others = [o.id for o in orders if o.status in fits and o.id != snapshot["order_id"]
              and o.refund is None and not o.replaced and not o.replacement_for]
    return others[0] if len(others) == 1 else None


def _same_order_named(text: str, snapshot: dict, orders: list) -> bool:
    """The message only says which order — the one already on offer."""
    from agents.requests import CUES

    if text.rstrip().endswith("?") or len(text.split()) > 10:
        return False
    if {i for i, p in CUES if p.search(text)} - {_offer_intent(snapshot), "status"}:
        return False
    found = link(text, orders)
    if found.order_ids:
        return found.order_ids == [snapshot["order_id"]]
    return bool(re.search(r"(?i)\bthe (?:one|order)\b", text)) and not found.unknown_id


def _side_question(u: Understanding, snapshot: dict, orders: list) -> bool:
    """A question about the offer itself, not a new request: "how long will it take?",
    "where does the money go?", "is there a fee?"."""
    from agents.requests import CUES

    if u.wants_human or not (u.text.rstrip().endswith("?") or QUESTION_START.match(u.text)):
        return False
    actions = {intent for intent, pattern in CUES if intent != "status" and pattern.search(u.text)}
    if actions - {_offer_intent(snapshot)}:
        return False
    found = link(u.text, orders)
    return not found.unknown_id and set(found.order_ids) <= {snapshot["order_id"]}


def _public(snapshot: dict) -> dict:
    return {k: snapshot[k] for k in ("id", "action", "order_id", "amount", "items",
                                     "needs_approval", "summary", "expires_at")}


class SupportAgent:
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
        orders = customer_orders(self.session_factory, user_id)
        u = self.nlu.understand(normalise(text, item_words(orders)))
        ctx = self._context(turn, u, request_id)
        step = (self._answer_offer(turn, u, ctx, orders)
                or self._answer_message(turn, u, ctx, orders))
        return self._finish(turn, u, step)

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
        step = _Step(self._confirmed_outcome(confirmed), request_text=turn.state.get(
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
        when = (f" You'll hear back by {due:%a %d %b, %H:%M} UTC at the latest." if due else
                " You'll hear back here, and by email.")
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

    def _answer_offer(self, turn: records.Turn, u: Understanding, ctx: ToolContext,
                      orders: list) -> _Step | None:
        """A proposal is waiting (R11): a yes runs it, an acknowledgement asks again, a no
        drops it, anything else drops it and is then handled as itself (None)."""
        proposal_id = turn.state.get("proposal_id")
        if not proposal_id:
            return None
        try:
            snapshot = self.runner.proposal(proposal_id, turn.user_id)
        except ProposalNotFound:
            return None
        if snapshot["state"] != "proposed":
            return None
        answer = answer_to_offer(u.text, snapshot["order_id"])
        other = _other_order(u.text, snapshot, orders)
        if answer in ("no", "other") and not other and OTHER_ONE.search(u.text):
            other = _the_other_fitting(snapshot, orders)  # "no, the other one"
        if answer in ("no", "other") and other:
            return self._switch_order(snapshot, other, ctx)  # "no wait, the mouse"
        if answer == "other" and _same_order_named(u.text, snapshot, orders):
            answer = "unclear"  # "the desk lamp", "the one that hasn't shipped": yes, that one
        if answer in ("other", "unclear") and DEFER.search(u.text):
            return _Step(Outcome(snapshot["intent"], 1.0, snapshot["order_id"],
                                 snapshot["action"], ToolResult(
                                     "needs_confirmation", "R11 confirm: Of course — take your "
                                     f"time. Nothing has changed. {snapshot['summary']} Just "
                                     "reply “yes” when you're ready, or “no” to leave it.",
                                     {"proposal": _public(snapshot),
                                      "proposal_id": snapshot["id"],
                                      "amount": snapshot["amount"]},
                                     order_id=snapshot["order_id"])),
                         request_text=turn.state.get("offer_text"), keep_offer=True)
        if answer == "other" and _side_question(u, snapshot, orders):
            return self._answer_then_offer_again(turn, u, ctx, orders, snapshot)
        if answer == "yes":
            try:
                confirmed = self.runner.confirm(proposal_id, ctx)
            except ProposalGone:
                return self._offer_again(snapshot, ctx, expired=True)
            return _Step(self._confirmed_outcome(confirmed),
                         request_text=turn.state.get("offer_text"), confirmed=proposal_id)
        if answer == "unclear" and not snapshot["expired"]:
            outcome = Outcome(snapshot["intent"], 1.0, snapshot["order_id"], snapshot["action"],
                              ToolResult("needs_confirmation", f"R11 confirm: Just to check: "
                                         f"{snapshot['summary']} Shall I go ahead?",
                                         {"proposal": _public(snapshot),
                                          "proposal_id": snapshot["id"],
                                          "amount": snapshot["amount"]},
                                         order_id=snapshot["order_id"]))
            return _Step(outcome, request_text=turn.state.get("offer_text"), keep_offer=True)
        why = "the customer said no" if answer == "no" else "the customer wrote something else"
        self.runner.drop(proposal_id, ctx, why)
        if answer == "no":
            return self._declined(snapshot)
        turn.state["dropped_offer"] = snapshot  # "ok replace it then": what it was about holds
        return None

    def _answer_then_offer_again(self, turn: records.Turn, u: Understanding, ctx: ToolContext,
                                 orders: list, snapshot: dict) -> _Step:
        """A question about the offer ("how long will the money take?") is answered, and the
        offer is checked and stated again, so the yes that follows completes the request."""
        self.runner.drop(snapshot["id"], ctx, "the customer asked a question first")
        sources = self.retrieve(_offer_intent(snapshot), as_policy_query(u.text), k=2)
        said = self._best_sentence(u.text, " ".join(s["text"] for s in sources), floor=0.35)
        if not said:
            side = self._answer_message(turn, u, ctx, orders, offering=True)
            said = self._respond(turn, side.understanding or u, side.outcome,
                                 side.mode)["response"]
        again = self._offer_again(snapshot, ctx, expired=False)
        if again.outcome.result.status == "needs_confirmation":
            again.outcome.extra["prefix"] = f"{said} Back to your request: "
        again.request_text = turn.state.get("offer_text")
        return again

    def _answer_message(self, turn: records.Turn, u: Understanding, ctx: ToolContext,
                        orders: list, offering: bool = False) -> _Step:
        history = turn.state.get("history", [])[-6:]
        pending = turn.state.get("pending")
        dialogue = Dialogue.from_state(turn.state)
        shop = {o.id: o for o in orders}
        request_text = None
        if pending and u.negative:
            return self._nothing_to_undo(None, u)
        answer = answer_to_offer(u.text)
        small = self._small_talk(turn, u, shop, dialogue)
        if small is not None:
            return small
        if WHY.match(u.text) and history and history[-1].get("outcome") in (
                "denied", "needs_info", "escalated") and history[-1].get("reason"):
            return self._explain(history[-1], u, dialogue)
        if answer == "no" and _last_action(history):
            return self._nothing_to_undo(_last_action(history), u)
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
        elif answer == "yes" and not pending:
            return _Step(Outcome("other", u.confidence, None, "none", ToolResult(
                "success", "There's nothing waiting for your go-ahead right now, so nothing has "
                           "changed. What would you like me to do? I can help with refunds, "
                           "cancellations, replacements and order status.",
                {"nothing_pending": True})))
        elif pending and pending.get("awaiting") == "person":
            if u.wants_human or says_yes(u.text):
                u.intent, u.confidence, u.wants_human = "escalate", 1.0, True
                u.signals.append("accepted a person")
                ctx.intent, ctx.confidence = u.intent, u.confidence
                return _Step(decide(u, ctx, self.runner, shop), understanding=u,
                             dialogue=dialogue)
            pending = None
        language = (None if pending or u.wants_human or english_share(u.text) >= 0.5
                    else foreign_language(turn.text))
        if language:
            return self._foreign(u, language, dialogue)
        if not requests and "next request" not in u.signals:
            requests = read_in_context(u, orders, dialogue, pending)
            if asks_about_refund(u.text) and not u.wants_human:
                return _Step(tracking_outcome(u, orders, ctx.now), understanding=u,
                             dialogue=dialogue)
        if pending and requests:
            pending = None  # "both of them please": the requests say it all
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
            return _Step(part, request_text=request_text, understanding=u, dialogue=dialogue)
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
        return _Step(outcome, mode=mode, request_text=request_text, understanding=u,
                     dialogue=dialogue)

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
        if not partial_request(u.text, total):
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
                     shop: dict) -> _Step | None:
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
        return _Step(outcome, understanding=u, dialogue=dialogue)

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

    def _small_talk(self, turn: records.Turn, u: Understanding, shop: dict,
                    dialogue: Dialogue) -> _Step | None:
        """Messages with a simple, factual answer: "hmm let me check", "?", "which of my orders
        can I still return?", "how long until someone gets back to me?"."""
        def answer(text: str, intent: str = "other", **details) -> _Step:
            return _Step(Outcome(intent, u.confidence, None, "none", ToolResult(
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
            return answer(eligible_orders(list(shop.values()), purpose, self.settings, turn),
                          purpose)
        if HEAR_BACK.search(u.text) and not u.wants_human:
            case = records.open_case_of(self.session_factory, turn.user_id, turn.ticket_id)
            if case is None:
                return answer("There's no open case with our team for you right now. If you'd "
                              "like a person to look at something, just say “a person”.")
            when = (f" A person will reply by {case['due_at']:%a %d %b, %H:%M} UTC at the "
                    "latest," if case["due_at"] else " A person will reply")
            about = f" about order #{case['order_id']}" if case["order_id"] else ""
            return answer(f"Your case #{case['id']}{about} is with our team (opened "
                          f"{case['created_at']:%d %b}).{when} here and by email.", "escalate")
        return None

    def _explain(self, last: dict, u: Understanding, dialogue: Dialogue) -> _Step:
        """"Why not?" after a refusal: the reason again, in words, and a person offered (unless
        a person already has it)."""
        if last.get("outcome") == "escalated" or "review" in last["reason"]:
            return _Step(Outcome(last.get("intent") or "other", u.confidence,
                                 last.get("order_id"), "none", ToolResult(
                                     "success", f"{last['reason']} A person on our team is "
                                                "already looking at it and will reply to you.",
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
        return _Step(outcome, understanding=u, dialogue=dialogue)

    def _foreign(self, u: Understanding, language: str, dialogue: Dialogue) -> _Step:
        """Never act on a message the brain cannot read: say so, and offer a person."""
        outcome = Outcome("other", u.confidence, None, "none", ToolResult(
            "success", f"Sorry — I can only read English, and your message looks like "
                       f"{language}, so I haven't done anything with it. You can write to me in "
                       "English, or reply “yes” and I'll pass your message to a person on our "
                       "team.", {"foreign": language}),
            pending={"intent": "escalate", "awaiting": "person", "confidence": 1.0,
                     "order_id": None, "reason": None, "text": u.text[:500]})
        return _Step(outcome, understanding=u, dialogue=dialogue)

    def _switch_order(self, snapshot: dict, order_id: str, ctx: ToolContext) -> _Step:
        self.runner.drop(snapshot["id"], ctx, "the customer meant another order")
        again = self._offer_again({**snapshot, "order_id": order_id}, ctx, expired=False)
        if again.outcome.result.status == "needs_confirmation":
            again.outcome.extra["prefix"] = (f"OK — not order #{snapshot['order_id']}; nothing "
                                             "has changed there. ")
        return again

    def _offer_again(self, snapshot: dict, ctx: ToolContext, expired: bool) -> _Step:
        """The yes came after the offer expired: check again now and make a fresh offer."""
        args = {"order_id": snapshot["order_id"]}
        if snapshot["action"] == "create_replacement":
            args["reason"] = snapshot.get("reason")
        result = self.runner.invoke(snapshot["action"], replace(
            ctx, confidence=1.0, intent=snapshot["intent"], propose=True), **args)
        outcome = Outcome(snapshot["intent"], 1.0, result.order_id or snapshot["order_id"],
                          snapshot["action"], result)
        if expired:
            outcome.extra["prefix"] = ("That offer had expired, so I checked your order again. "
                                       if result.status == "needs_confirmation" else
                                       "That offer had expired and things have changed since. ")
        return _Step(outcome)

    def _confirmed_outcome(self, confirmed: Confirmed) -> Outcome:
        p = confirmed.proposal
        return Outcome(p["intent"], 1.0, confirmed.result.order_id or p["order_id"], p["action"],
                       confirmed.result)

    def _declined(self, snapshot: dict) -> _Step:
        step = self._declined_step(snapshot)
        step.remember = {"declined_offer": {k: snapshot.get(k) for k in (
            "action", "order_id", "intent", "reason", "summary")}}
        return step

    def _declined_step(self, snapshot: dict) -> _Step:
        what = {"issue_refund": "refunded", "cancel_order": "cancelled",
                "create_replacement": "replaced"}.get(snapshot["action"], "changed")
        return _Step(Outcome(snapshot["intent"], 1.0, snapshot["order_id"], "none", ToolResult(
            "success", f"R11 confirm: no problem — I haven't {what} order "
                       f"#{snapshot['order_id']}; nothing has changed.", {"declined": True},
            order_id=snapshot["order_id"])))

    def _nothing_to_undo(self, last: dict | None, u: Understanding) -> _Step:
        """"Never mind": if an action already ran, say so (no false comfort) and how a person
        can help; otherwise confirm that nothing changed."""
        if last is None:
            return _Step(Outcome("other", u.confidence, None, "none",
                                 ToolResult("success", "Customer declined; nothing changed.",
                                            {"declined": True})))
        done = {"issue_refund": "refunded", "cancel_order": "cancelled",
                "create_replacement": "arranged a replacement for",
                "escalate_case": "passed to our team"}[last["action"]]
        return _Step(Outcome("other", u.confidence, last.get("order_id"), "none", ToolResult(
            "success", f"That's already done: I {done} order #{last.get('order_id')} earlier in "
                       "this conversation, so I can't simply take it back here. If you'd like it "
                       "reversed, ask for a person and our team will help.",
            {"already_done": True}, order_id=last.get("order_id"))))

    def _replay(self, confirmed: Confirmed) -> dict:
        """A repeat confirmation that raced the first one's reply: the same answer, rebuilt."""
        p = confirmed.proposal
        outcome = self._confirmed_outcome(confirmed)
        u = self.nlu.understand("yes")
        turn = records.Turn(p["user_id"], "", p["conversation_id"], p["ticket_id"])
        return self._respond(turn, u, outcome, "offline")

    def _finish(self, turn: records.Turn, u: Understanding, step: _Step) -> dict:
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
        remember(dialogue, outcome.intent, outcome.order_id,
                 outcome.result.details.get("choice_ids"), todo)
        state = {**step.remember, "pending": pending, "dialogue": dialogue.as_state(),
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

    def _respond(self, turn, u: Understanding, outcome: Outcome, mode: str) -> dict:
        answer = None
        result = outcome.result
        if outcome.intent == "policy_question" and outcome.action == "none":
            sources = self.retrieve("policy_question", as_policy_query(u.text))
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
        elif (outcome.intent == "other" and outcome.action == "none" and result.status == "success"
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
        escalated_now = result.status == "escalated" or bool(result.details.get("escalated"))
        if (u.frustration.frustrated or THREAT.search(u.text)) and not escalated_now \
                and outcome.intent != "escalate" and result.status != "with_agent":
            text += ANGRY_OFFER
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
