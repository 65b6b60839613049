"""The LLM brain: a LangChain agent (create_agent + any chat model) that proposes tool calls.

The model chooses which of the shop's tools to call; the tools, bound to this
request's user, decide what is allowed (R1-R10) and audit every call. What the
customer is told about the outcome comes from what the tools really returned:
the Outcome is built from the recorder, never from the model's words, and a reply
that claims an action or an amount the tools did not produce is dropped.

Any failure (error, time-out, unusable answer) raises, and agents/agent.py lets
the offline brain answer instead. If an action tool already ran, the exception
carries `partial_outcome`, so the fallback reports it rather than acting twice.
"""

from __future__ import annotations

import logging
import re
import threading
import time
from dataclasses import dataclass

from langchain.agents import create_agent
from langchain_core.messages import AIMessage, BaseMessage, HumanMessage, SystemMessage, ToolMessage

from agents.llm_prompts import CONFIRM_RULE, SUMMARY_PROMPT, SYSTEM
from agents.offline_brain import Outcome
from agents.reply_check import states_proposal, ungrounded
from agents.understanding import ACTION_INTENTS, Understanding
from audit.redact import redact
from config import Settings
from tools.base import ToolContext, ToolResult
from tools.langchain_tools import ToolCall, ToolRecorder, build_tools
from tools.registry import ToolRunner
from tools.web_search import build_web_search_tool

log = logging.getLogger(__name__)

INTENT_FOR_TOOL = {"issue_refund": "refund", "cancel_order": "cancel",
                   "create_replacement": "replacement", "get_order_status": "status",
                   "escalate_case": "escalate"}
MAX_STEPS = 12  # graph steps: a few tool rounds, never an endless loop
MAX_REPLY = 4000
THINK = re.compile(r"(?is)<think>.*?</think>")


class LLMBrainError(RuntimeError):
    """The model could not give a usable answer; `partial_outcome` is set if an action ran."""

    def __init__(self, message: str, partial_outcome: Outcome | None = None):
        super().__init__(message)
        self.partial_outcome = partial_outcome


class LLMTimeout(LLMBrainError, TimeoutError):
    pass


@dataclass
class _Run:
    messages: list[BaseMessage]
    reply: str


class LLMBrain:
    def __init__(self, model, settings: Settings, *, index=None, timeout: float | None = None,
                 web_search=None, tavily_base_url: str | None = None):
        self.model = model
        self.settings = settings
        self.index = index
        self.timeout = timeout or settings.llm_timeout_seconds
        # Only with a Tavily key; `tavily_base_url` points the client elsewhere (tests).
        self.web_search = web_search if web_search is not None else build_web_search_tool(
            settings, base_url=tavily_base_url, timeout=self.timeout)
        self._index_lock = threading.Lock()

    @classmethod
    def from_settings(cls, settings: Settings, **kwargs) -> LLMBrain:
        from langchain_openai import ChatOpenAI

        model = ChatOpenAI(model=settings.openai_model, base_url=settings.openai_base_url,
                           api_key=settings.openai_api_key, timeout=settings.llm_timeout_seconds,
                           max_retries=1)
        return cls(model, settings, **kwargs)

    def use_index(self, index) -> None:
        self.index = index

    def run(self, u: Understanding, ctx: ToolContext, runner: ToolRunner,
            history: list[dict] | None = None, policy: list[dict] | None = None) -> Outcome:
        recorder = ToolRecorder()
        confidence_for = _confidences(u, ctx)
        tools = build_tools(runner, ctx, recorder, index=self._policy_index(),
                            web_search=self.web_search, confidence_for=confidence_for)
        system = self._system_prompt(u, ctx, policy or [])
        agent = create_agent(self.model, tools, system_prompt=system)
        messages = _conversation(history or [], u.text)

        box: dict = {}
        answered, summarised = threading.Event(), threading.Event()

        def work() -> None:
            try:
                box["run"] = self._converse(agent, messages)
            except BaseException as exc:  # reported to the caller's thread below
                box["error"] = exc
            finally:
                answered.set()
            try:
                if "run" in box and _escalated(recorder.snapshot()):
                    box["summary"] = self._summary(u, recorder.snapshot(), box["run"].reply)
            finally:
                summarised.set()

        started = time.monotonic()
        threading.Thread(target=work, name="llm-brain", daemon=True).start()
        if not answered.wait(self.timeout):
            recorder.close()  # refuse every later call; wait for one already running
            raise LLMTimeout(f"model gave no answer within {self.timeout:g}s",
                             self._partial(u, recorder, confidence_for))
        recorder.close()
        # The hand-off note is optional: past the deadline the templated one is used.
        summarised.wait(max(0.0, self.timeout - (time.monotonic() - started)))
        if "error" in box:
            raise LLMBrainError(f"model run failed: {type(box['error']).__name__}: "
                                f"{box['error']}", self._partial(u, recorder, confidence_for)
                                ) from box["error"]
        run: _Run = box["run"]

        outcome = self._outcome(u, recorder, confidence_for)
        must_escalate = u.wants_human or u.frustration.very_frustrated  # R6 triggers
        if u.intent == "escalate" and must_escalate and not _escalated(recorder.snapshot()):
            raise LLMBrainError("R6: the case needed a person but nothing was escalated",
                                self._partial(u, recorder, confidence_for))
        reply = run.reply
        problem = ungrounded(reply, recorder.snapshot(), [system, *_tool_texts(run.messages)])
        if not problem and outcome.proposal and not states_proposal(reply, outcome.proposal):
            problem = "does not state the proposal (order and amount) it asks the customer about"
        if problem:
            if not recorder.action_taken and outcome.action == "none":
                raise LLMBrainError(f"unusable reply: {problem}")
            log.warning("dropping the model's reply (%s); the templated reply is used", problem)
            reply = None
        outcome.extra = {"reply": reply, "summary": box.get("summary"),
                         "answer": reply if outcome.intent == "policy_question"
                         and outcome.action == "none" else None}
        return outcome

    def _converse(self, agent, messages: list[BaseMessage]) -> _Run:
        # max_concurrency=1: the tool calls of one model turn run in the order the model wrote
        # them, so when it asks for two actions at once the first one is the action (R8), not
        # whichever thread happened to win the race.
        state = agent.invoke({"messages": messages},
                             config={"recursion_limit": MAX_STEPS, "max_concurrency": 1})
        out = state.get("messages") or []
        last = out[-1] if out else None
        if not isinstance(last, AIMessage) or last.tool_calls:
            raise ValueError("the run did not end in a final answer")
        reply = THINK.sub("", last.text or "").strip()
        if not reply or len(reply) > MAX_REPLY:
            raise ValueError("empty or oversized final answer")
        return _Run(out, reply)

    def _summary(self, u: Understanding, calls: list[ToolCall], reply: str) -> str | None:
        """A second, short call: the hand-off note for the human (facts first, then the model)."""
        facts = "; ".join(f"{c.name}({c.arguments}) -> {c.result.status}: {c.result.reason}"
                          for c in calls if c.executed and c.name != "find_orders")
        try:
            answer = self.model.invoke([
                SystemMessage(SUMMARY_PROMPT),
                HumanMessage(f"Customer's message: {redact(u.text)[:1500]}\n"
                             f"Tool calls: {facts}\nReply sent: {reply[:1000]}")])
            text = THINK.sub("", answer.text or "").strip()
        except Exception:
            log.warning("hand-off summary call failed; the templated summary is used")
            return None
        if not text:
            return None
        return redact(f"Tool record: {facts or 'none'}\n{text}")[:2000]

    def _outcome(self, u: Understanding, recorder: ToolRecorder,
                 confidence_for: dict[str, float]) -> Outcome:
        return _outcome(u, recorder.snapshot(), confidence_for,
                        self.settings.min_action_confidence)

    def _partial(self, u: Understanding, recorder: ToolRecorder,
                 confidence_for: dict[str, float]) -> Outcome | None:
        return self._outcome(u, recorder, confidence_for) if recorder.action_taken else None

    def _policy_index(self):
        """The agent's PolicyIndex; loaded from settings on first use if none was given."""
        if self.index is None:
            with self._index_lock:
                if self.index is None:
                    try:
                        from rag.embeddings import load_embedder
                        from rag.policy_index import PolicyIndex

                        self.index = PolicyIndex.load_or_build(
                            self.settings.policies_dir, self.settings.index_dir, load_embedder())
                    except Exception:
                        log.warning("policy index unavailable; no search_policy tool",
                                    exc_info=True)
        return self.index

    def _system_prompt(self, u: Understanding, ctx: ToolContext, policy: list[dict]) -> str:
        sections = "\n\n".join(f"[{p['source']} — {p['section']}]\n{p['text'][:1500]}"
                               for p in policy) or "(none found)"
        web = (" For general questions the policies do not cover, you may use web_search."
               if self.web_search is not None else "")
        mood = ("very frustrated" if u.frustration.very_frustrated else
                "frustrated" if u.frustration.frustrated else "calm")
        if u.wants_human:
            mood += ", asked for a person"
        return SYSTEM.format(web=web, confirm=CONFIRM_RULE if ctx.propose else "",
                             today=ctx.now.date().isoformat(), intent=u.intent,
                             confidence=u.confidence, order=u.order_id or "none",
                             reason=u.reason or "none", mood=mood, policy=sections)


def _conversation(history: list[dict], text: str) -> list[BaseMessage]:
    """Prior turns (the customer's words and what was done), then this message."""
    messages: list[BaseMessage] = []
    for turn in history:
        if turn.get("user"):
            messages.append(HumanMessage(str(turn["user"])[:500]))
            messages.append(AIMessage(f"(Earlier turn: understood '{turn.get('intent')}'; "
                                      f"action {turn.get('action')} -> {turn.get('outcome')}.)"))
    messages.append(HumanMessage(text))
    return messages


def _confidences(u: Understanding, ctx: ToolContext) -> dict[str, float]:
    """R10 per tool: the classifier's confidence in the intent that tool carries out.

    A tool for the understood intent gets ctx.confidence; any other action gets the
    classifier's probability for its intent, capped at ctx.confidence, so the model
    can steer towards a different action only when the classifier also saw it. A message
    read as a question about an action ("is order 30101 refundable?") gives every action 0:
    R10 says it is answered, never carried out, whatever the model calls.
    """
    if "asked as a question" in u.signals or "hedged" in u.signals:
        return {tool: 0.0 if intent in ACTION_INTENTS else ctx.confidence
                for tool, intent in INTENT_FOR_TOOL.items()}
    return {tool: ctx.confidence if intent == u.intent
            else min(ctx.confidence, float(u.probabilities.get(intent, 0.0)))
            for tool, intent in INTENT_FOR_TOOL.items()}


def _escalated(calls: list[ToolCall]) -> bool:
    return any(c.executed and (c.result.status == "escalated" or c.result.details.get("escalated"))
               for c in calls)


def _pending(u: Understanding, intent: str, awaiting: str, order_id: str | None,
             confidence: float | None = None) -> dict:
    """What to complete next turn (agents.offline_brain.continue_pending reads it)."""
    return {"intent": intent, "confidence": u.confidence if confidence is None else confidence,
            "awaiting": awaiting,
            "order_id": order_id, "reason": u.reason}


def _outcome(u: Understanding, calls: list[ToolCall], confidence_for: dict[str, float],
             min_confidence: float) -> Outcome:
    """What really happened, from the recorder: the last action that ran decides.

    The confidence is the one R10 used for that action: the classifier's, for the intent the
    action carries out (not for a different intent it may have read)."""
    ran = [c for c in calls if c.executed]
    main = ([c for c in ran if c.mutating] or [c for c in ran if c.name == "get_order_status"]
            or [None])[-1]
    if main is None:
        found = [c for c in ran if c.name == "find_orders"]
        if found and found[-1].result.status == "needs_info":
            pending = (_pending(u, u.intent, "order", None)
                       if u.intent in (*ACTION_INTENTS, "status") else None)
            return Outcome(u.intent, u.confidence, None, "none", found[-1].result, pending)
        pending = None
        if u.intent in ACTION_INTENTS and u.confidence < min_confidence:
            pending = _pending(u, u.intent, "confirm", u.order_id)
        return Outcome(u.intent, u.confidence, u.order_id, "none",
                       ToolResult("success", "No action needed."), pending)

    intent, result = INTENT_FOR_TOOL[main.name], main.result
    confidence = u.confidence if intent == u.intent else confidence_for[main.name]
    order_id = result.order_id or main.arguments.get("order_id")
    pending = None
    if result.status == "needs_info" and intent != "escalate":
        if result.details.get("found") is False:
            pending = _pending(u, intent, "order", None, confidence)
        elif result.reason.startswith("R10"):
            pending = _pending(u, intent, "confirm", order_id, confidence)
        elif intent == "replacement":
            pending = _pending(u, intent, "reason", order_id, confidence)
    return Outcome(intent, confidence, order_id, main.name, result, pending)


def _tool_texts(messages: list[BaseMessage]) -> list[str]:
    return [m.text for m in messages if isinstance(m, ToolMessage)]


