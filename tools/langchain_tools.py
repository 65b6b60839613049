"""The shop's tools as LangChain StructuredTools, bound to one request (the LLM brain's hands).

Each tool's schema is the tool module's own `Args`: there is no user id and no
amount to fill in (R9), so the acting user is always the request's user (ctx)
and money always comes from the database. Every call goes through
ToolRunner.invoke, which is where the policy guard and the audit happen; the
model only proposes. The recorder keeps every call in order so the brain can
report what really happened rather than what the model says happened.
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, replace
from types import ModuleType
from typing import Any

from langchain_core.tools import StructuredTool
from pydantic import BaseModel, Field

from tools.base import ToolContext, ToolResult
from tools.registry import CHANGING_TOOLS, TOOLS, ToolRunner

# Tools that change something (a refund, an order, a case). The others only read.
# Results after which the request's one action is spent (something may have changed).
COMMITTED = frozenset({"success", "denied", "escalated", "needs_confirmation"})
MAX_JSON_CHARS = 4000


@dataclass
class ToolCall:
    name: str
    arguments: dict[str, Any]
    result: ToolResult
    executed: bool = True  # False when the recorder refused the call before any tool ran

    @property
    def mutating(self) -> bool:
        return self.name in CHANGING_TOOLS


class ToolRecorder:
    """Every tool call of one request, in order, plus the two limits the brain enforces:

    - one action per request (R8): after an action that may have changed something
      (success, denied, escalated), further action calls are refused;
    - the time limit: once closed (the brain gave up on the model), every call is refused,
      and close() waits for a call already running so the brain reports it truthfully.

    Action tools run one at a time, so two parallel tool calls cannot both act.
    """

    def __init__(self) -> None:
        self.calls: list[ToolCall] = []
        self.closed = False
        self._lock = threading.Lock()
        self._idle = threading.Condition(self._lock)
        self._in_flight = 0
        self._action_lock = threading.Lock()

    def snapshot(self) -> list[ToolCall]:
        with self._lock:
            return list(self.calls)

    @property
    def action_taken(self) -> bool:
        """Has any tool that can change something run (whatever its outcome)?"""
        return any(c.mutating and c.executed for c in self.snapshot())

    def close(self, wait_seconds: float = 10.0) -> None:
        deadline = time.monotonic() + wait_seconds
        with self._idle:
            self.closed = True
            while self._in_flight and time.monotonic() < deadline:
                self._idle.wait(timeout=max(0.0, deadline - time.monotonic()))

    def run(self, name: str, arguments: dict, call: Callable[[], ToolResult]) -> ToolCall:
        mutating = name in CHANGING_TOOLS
        if mutating:
            self._action_lock.acquire()
        try:
            with self._lock:
                refusal = self._refusal(name, mutating)
                if refusal is None:
                    self._in_flight += 1
            if refusal is not None:
                record = ToolCall(name, arguments, refusal, executed=False)
            else:
                try:
                    record = ToolCall(name, arguments, call())
                finally:
                    with self._idle:
                        self._in_flight -= 1
                        self._idle.notify_all()
            with self._lock:
                self.calls.append(record)
            return record
        finally:
            if mutating:
                self._action_lock.release()

    def _refusal(self, name: str, mutating: bool) -> ToolResult | None:
        if self.closed:
            return ToolResult("error", "Time limit reached: this request is closed; nothing was "
                                       "done.")
        if mutating and any(c.mutating and c.executed and c.result.status in COMMITTED
                            for c in self.calls):
            return ToolResult("denied", "R8 once only: one action per request has already been "
                                        "taken; nothing more was done.")
        return None


def result_json(result: ToolResult) -> str:
    """A compact JSON view of a ToolResult for the model."""
    data = {"status": result.status, "reason": result.reason, "order_id": result.order_id,
            "details": result.details}
    text = json.dumps(data, default=str, ensure_ascii=False, separators=(",", ":"))
    if len(text) > MAX_JSON_CHARS:
        data["details"] = {"note": "details truncated"}
        text = json.dumps(data, default=str, ensure_ascii=False, separators=(",", ":"))
    return text


def _shop_tool(module: ModuleType, runner: ToolRunner, ctx: ToolContext,
               recorder: ToolRecorder, confidence: float) -> StructuredTool:
    name = module.NAME
    schema = getattr(module, "ModelArgs", module.Args)  # what a model may ask for
    allowed = set(schema.model_fields)
    tool_ctx = replace(ctx, confidence=min(ctx.confidence, confidence))  # never raised (R10)

    def call(**kwargs: Any) -> str:
        # LangChain has already validated against Args and dropped unknown keys; filter again
        # so nothing the model adds (user_id, amount, confidence...) can ever reach a tool.
        arguments = {k: v for k, v in kwargs.items() if k in allowed}
        record = recorder.run(name, arguments, lambda: runner.invoke(name, tool_ctx, **arguments))
        if not record.executed:
            _audit_refusal(runner, tool_ctx, name, arguments, record.result)
        return result_json(record.result)

    return StructuredTool.from_function(func=call, name=name, description=module.DESCRIPTION,
                                        args_schema=schema)


def _audit_refusal(runner: ToolRunner, ctx: ToolContext, name: str, arguments: dict,
                   result: ToolResult) -> None:
    """A refused call never reached a tool, but the attempt belongs in the audit trail too."""
    runner.audit.write(
        request_id=ctx.request_id, user_id=ctx.user_id, conversation_id=ctx.conversation_id,
        ticket_id=ctx.ticket_id, tool=name, order_id=arguments.get("order_id"),
        outcome=result.status, reason=result.reason,
        details={"arguments": arguments, "source": "llm", "refused": True}, duration_ms=0.0)


class PolicySearchArgs(BaseModel):
    query: str = Field(description="What to look up in the shop's policies.", max_length=500)


def policy_search_tool(index, k: int = 3) -> StructuredTool:
    def search_policy(query: str) -> str:
        hits = index.search(query, k=k)
        return json.dumps([{"source": h["source"], "section": h["section"],
                            "score": h["score"], "text": h["text"][:1500]} for h in hits],
                          ensure_ascii=False)

    return StructuredTool.from_function(
        func=search_policy, name="search_policy", args_schema=PolicySearchArgs,
        description="Search the shop's policy documents (refunds, cancellations, replacements, "
                    "shipping, escalation, FAQs). Returns the best sections with their source.")


def build_tools(runner: ToolRunner, ctx: ToolContext, recorder: ToolRecorder, *,
                index=None, web_search: StructuredTool | None = None,
                confidence_for: dict[str, float] | None = None) -> list[StructuredTool]:
    """The tools for one request: the shop's six actions bound to ctx's user, policy search over
    `index` (if given) and web search (only when the caller built one, i.e. a Tavily key is set).

    `confidence_for` may lower the R10 confidence per tool (never raise it above ctx's).
    """
    confidence_for = confidence_for or {}
    tools = [_shop_tool(module, runner, ctx, recorder, confidence_for.get(name, ctx.confidence))
             for name, module in TOOLS.items()]
    if index is not None:
        tools.append(policy_search_tool(index))
    if web_search is not None:
        tools.append(web_search)
    return tools
