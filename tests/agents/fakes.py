"""A scripted chat model that emits real tool calls, and a real agent stack to run it in.

The fake stands in for the model only: the LangChain agent loop, the tools, the
policy guard, the database and the audit log under it are all the real ones.
"""

from __future__ import annotations

import itertools
import json
import threading
import time
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from langchain_core.language_models.fake_chat_models import GenericFakeChatModel
from langchain_core.messages import AIMessage, BaseMessage
from langchain_core.outputs import ChatGeneration, ChatResult
from pydantic import Field
from sqlalchemy import select

from db.engine import transaction
from db.fixture_schema import parse_fixture
from db.models import EscalationCase, Order, Refund, Replacement
from db.seed import load_fixture
from tests.conftest import make_settings

_ids = itertools.count(1)


class ScriptedChatModel(GenericFakeChatModel):
    """Replays a script, one item per model call: an AIMessage (with tool_calls or text), a
    string (final text), an exception (raised), or a callable(messages) returning one of those
    (e.g. to sleep first). It records what it saw and which tools it was given."""

    messages: Any
    seen: list = Field(default_factory=list)
    bound_tools: list = Field(default_factory=list)
    disable_streaming: bool = True

    def bind_tools(self, tools, **kwargs):  # the real agent loop binds tools; keep the script
        self.bound_tools = [getattr(t, "name", None) for t in tools]
        return self

    def _generate(self, messages: list[BaseMessage], stop=None, run_manager=None, **kwargs):
        self.seen.append(list(messages))
        try:
            item = next(self.messages)
        except StopIteration:
            raise RuntimeError("the fake model's script is exhausted") from None
        while callable(item) and not isinstance(item, (BaseMessage, BaseException, str)):
            item = item(messages)
        if isinstance(item, BaseException):
            raise item
        message = AIMessage(content=item) if isinstance(item, str) else item
        return ChatResult(generations=[ChatGeneration(message=message)])


def script(*items) -> ScriptedChatModel:
    return ScriptedChatModel(messages=iter(items))


def calls(*tool_calls: tuple[str, dict]) -> AIMessage:
    """One model turn asking for these tool calls (several = parallel calls)."""
    return AIMessage(content="", tool_calls=[
        {"name": name, "args": args, "id": f"call_{next(_ids)}", "type": "tool_call"}
        for name, args in tool_calls])


def call(name: str, **args) -> AIMessage:
    return calls((name, args))


def after(seconds: float, item) -> Callable:
    """The model thinks for `seconds`, then answers `item`."""
    def _slow(_messages):
        time.sleep(seconds)
        return item
    return _slow


def tool_outputs(model: ScriptedChatModel) -> list[dict | list | str]:
    """Every tool result the model was shown, decoded."""
    out = []
    for m in (model.seen[-1] if model.seen else []):
        if getattr(m, "type", "") == "tool":
            try:
                out.append(json.loads(m.content))
            except (TypeError, ValueError):
                out.append(m.content)
    return out


# --- A real agent over a real SQLite file ----------------------------------------------------

def build_stack(tmp_path, fixture: dict, **overrides):
    """Settings, services (real NLU, index, tools, audit) and seeded data; no model yet."""
    from agents.factory import build_services

    settings = make_settings(tmp_path, **overrides)
    services = build_services(settings, llm_brain=None)
    load_fixture(services.session_factory, parse_fixture(fixture))
    return settings, services


def use_model(services, settings, model, **kwargs):
    """Put an LLMBrain around `model` into the agent (the brain under test is the real one)."""
    from agents.llm_brain import LLMBrain

    brain = LLMBrain(model, settings, index=services.index, **kwargs)
    services.agent.llm_brain = brain
    return brain


def refunds_of(services, order_id: str) -> list[tuple[int, int, str]]:
    with transaction(services.session_factory) as s:
        return [(r.user_id, r.amount_cents, r.kind) for r in s.scalars(
            select(Refund).where(Refund.order_id == order_id))]


def order_total_cents(services, order_id: str) -> int:
    with transaction(services.session_factory) as s:
        return s.get(Order, order_id).total_cents


def world(services) -> dict:
    """Everything an action can change, to compare before and after."""
    with transaction(services.session_factory) as s:
        return {
            "orders": {o.id: (o.user_id, o.status, o.total_cents) for o in s.scalars(select(Order))},
            "refunds": sorted((r.order_id, r.user_id, r.amount_cents, r.kind)
                              for r in s.scalars(select(Refund))),
            "replacements": sorted((r.original_order_id, r.user_id)
                                   for r in s.scalars(select(Replacement))),
            "escalations": sorted((c.user_id, c.order_id or "", c.kind)
                                  for c in s.scalars(select(EscalationCase))),
        }


def summaries(services, user_id: int) -> list[str | None]:
    with transaction(services.session_factory) as s:
        return [c.summary for c in s.scalars(
            select(EscalationCase).where(EscalationCase.user_id == user_id))]


class FakeTavily:
    """A loopback HTTP server answering like Tavily's /search, for TavilyClient(api_base_url=)."""

    def __init__(self, answer: dict):
        self.requests: list[dict] = []
        outer = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):  # noqa: N802 (http.server's naming)
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                outer.requests.append({"path": self.path, "headers": dict(self.headers),
                                       "json": json.loads(body or b"{}")})
                data = json.dumps(answer).encode()
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        self._thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def __enter__(self):
        self._thread.start()
        return self

    def __exit__(self, *exc):
        self.server.shutdown()
        self.server.server_close()
