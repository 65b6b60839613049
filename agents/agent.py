"""The support agent: classify -> retrieve policy -> decide -> act -> reply, once per message.

Both brains end in the same tools (tools/registry.py), so the rules and the audit
trail are the same whichever answered. The acting user is the request's user id,
passed to the tools in the ToolContext; no brain can change it (R9).
"""

from __future__ import annotations

import logging
import re
from dataclasses import replace

from agents import entities, records
from agents.offline_brain import Outcome, continue_pending, decide
from agents.replies import compose, excerpt, handoff_summary, plain
from agents.understanding import ACTION_INTENTS, OfflineNLU, Understanding, courtesy_only
from audit.redact import redact
from config import Settings
from tools.base import ToolContext, ToolResult
from tools.registry import ToolRunner

log = logging.getLogger(__name__)

MAX_INPUT = 4000
TOPIC = {"refund": ("refund_policy.md", "refund"),
         "cancel": ("cancellation_policy.md", "cancel an order"),
         "replacement": ("replacement_policy.md", "replacement for a damaged, defective or wrong item"),
         "status": ("shipping_policy.md", "order status and tracking"),
         "escalate": ("escalation_policy.md", "speaking to a person"),
         }
MIN_ANSWER_SCORE = 0.3
# Out-of-scope messages ("how do I reset my password?") often have an FAQ answer; only a close
# match is offered (off-topic chatter scores below 0.4, real FAQ matches above 0.5).
OTHER_ANSWER_SCORE = 0.5
# "order 1042" in a question pulls retrieval towards the sections whose examples quote an order
# number ("How to request a refund"); the question reads the same about "it".
ORDER_REFERENCE = re.compile(r"(?i)(?:\b(?:my |the |this )?(?:order|purchase)\s*(?:no\.?|number|nr\.?|"
                             r"#)?\s*#?\s*\d{3,12}\b|#\s?\d{3,12}\b)")


def as_policy_query(text: str) -> str:
    return ORDER_REFERENCE.sub("it", text)


class SupportAgent:
    def __init__(self, settings: Settings, session_factory, runner: ToolRunner, index,
                 nlu: OfflineNLU, llm_brain=None):
        self.settings = settings
        self.session_factory = session_factory
        self.runner = runner
        self.index = index
        self.nlu = nlu
        self.llm_brain = llm_brain

    @property
    def mode(self) -> str:
        return "llm" if self.llm_brain is not None else "offline"

    def resolve(self, user_id: int, user_input: str, conversation_id: str | None = None,
                request_id: str | None = None, ticket_id: int | None = None) -> dict:
        text = (user_input or "").strip()
        if not 1 <= len(text) <= MAX_INPUT:
            raise ValueError(f"user_input must be 1 to {MAX_INPUT} characters after trimming")
        turn = records.start_turn(self.session_factory, user_id, text, conversation_id, ticket_id)
        history = turn.state.get("history", [])[-6:]
        pending = turn.state.get("pending")

        u = self.nlu.understand(text)
        declined = bool(pending) and u.negative
        if not declined:
            u = continue_pending(u, pending, self.settings.min_action_confidence)
        ctx = ToolContext(user_id=user_id, settings=self.settings, confidence=u.confidence,
                          request_id=request_id, conversation_id=turn.conversation_id,
                          ticket_id=turn.ticket_id)
        earlier = [h["user"] for h in history if h.get("user")]
        ctx.summary = handoff_summary(turn.user_name, user_id, u, u.order_id, "none", None,
                                      earlier)

        mode, outcome = "offline", None
        if declined:
            outcome = Outcome("other", u.confidence, None, "none",
                              ToolResult("success", "Customer declined; nothing changed."))
        elif self.llm_brain is not None:
            try:
                outcome = self.llm_brain.run(u, ctx, self.runner, history=history,
                                             policy=self.retrieve(u.intent, text))
                mode = "llm"
            except Exception as exc:  # any model failure or time-out: the offline brain answers
                log.warning("LLM brain failed (%s); falling back to offline", type(exc).__name__)
                outcome = getattr(exc, "partial_outcome", None)
        if outcome is None:
            outcome = decide(u, ctx, self.runner)

        response = self._respond(turn, u, outcome, mode)
        summary = None
        if response["escalated"]:
            summary = outcome.extra.get("summary") or handoff_summary(
                turn.user_name, user_id, u, outcome.order_id, outcome.action, outcome.result,
                earlier)
        state = {"pending": outcome.pending,
                 "history": (history + [{"user": redact(text)[:500], "intent": outcome.intent,
                                         "action": outcome.action,
                                         "outcome": outcome.result.status}])[-6:]}
        records.finish_turn(self.session_factory, turn, response, state, summary)
        return response

    def retrieve(self, intent: str, query: str, k: int = 3) -> list[dict]:
        preferred, topic = TOPIC.get(intent, (None, ""))
        hits = self.index.search(f"{topic}. {query}" if topic else query, k=k + 2)
        if preferred:
            hits.sort(key=lambda h: h["source"] != preferred)  # stable: keeps score order
        return hits[:k]

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
        others = [o for o in entities.extract_order_ids(u.text) if o != outcome.order_id]
        if outcome.order_id and others:  # one action per message: say what was left
            text += (f" You also mentioned order {', '.join('#' + o for o in others)}: send it "
                     "in a new message and I'll look at it too.")
        action_result = result.as_action_result()
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
        }
