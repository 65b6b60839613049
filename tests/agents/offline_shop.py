"""Shared set-up for the offline-agent tests: one real agent per module over a seeded SQLite shop.

Each scenario has its own customer (and orders), so tests in a module never see each
other's refunds or escalations, while the expensive parts (MiniLM, the FAISS index, the
intent model) are built once per module through agents.factory.build_services.
"""

from __future__ import annotations

import json

from sqlalchemy import func, select

from agents.factory import build_services
from db.engine import transaction
from db.fixture_schema import parse_fixture
from db.models import EscalationCase, Order, Refund, Replacement, Ticket
from db.seed import load_fixture
from tests.conftest import make_settings


def build_shop(tmp_path_factory, name: str, fixture: dict):
    settings = make_settings(tmp_path_factory.mktemp(name))
    services = build_services(settings)
    load_fixture(services.session_factory, parse_fixture(fixture))
    return services


def build_eval_shop(tmp_path_factory, name: str, replacements: bool = False):
    """The evaluation shop (bench/eval/fixture.py), dated from now; `replacements` applies its
    replacement rows after loading, as run_eval does (they are not part of the seed format)."""
    from datetime import UTC, datetime
    from pathlib import Path

    from bench.eval.fixture import build_fixture
    from bench.eval.run_eval import apply_replacements

    fixture = build_fixture(datetime.now(UTC))
    rows = fixture.pop("replacements", [])
    services = build_shop(tmp_path_factory, name, fixture)
    if replacements:
        apply_replacements(Path(services.agent.settings.database_url.removeprefix("sqlite:///")),
                           rows)
    return services


def chat(services, user_id: int, *messages: str) -> list[dict]:
    """One conversation: each message answered in turn, the conversation id carried along."""
    replies, conversation = [], None
    for text in messages:
        reply = services.agent.resolve(user_id, text, conversation)
        conversation = reply["conversation_id"]
        replies.append(reply)
    return replies


def refund_rows(services, **where) -> list[tuple[str, int, str]]:
    """(order_id, amount_cents, kind) of the refunds matching `where`."""
    with transaction(services.session_factory) as s:
        query = select(Refund)
        for key, value in where.items():
            query = query.where(getattr(Refund, key) == value)
        return [(r.order_id, r.amount_cents, r.kind) for r in s.scalars(query.order_by(Refund.id))]


def order_row(services, order_id: str) -> dict | None:
    with transaction(services.session_factory) as s:
        o = s.get(Order, order_id)
        return None if o is None else {"status": o.status, "total_cents": o.total_cents,
                                       "user_id": o.user_id, "replacement_for": o.replacement_for,
                                       "items": [(i.sku, i.qty) for i in o.items]}


def replacement_rows(services, user_id: int) -> list[tuple[str, str, str]]:
    with transaction(services.session_factory) as s:
        return [(r.original_order_id, r.new_order_id, r.reason) for r in s.scalars(
            select(Replacement).where(Replacement.user_id == user_id))]


def cases(services, user_id: int) -> list[dict]:
    with transaction(services.session_factory) as s:
        return [{"kind": c.kind, "priority": c.priority, "order_id": c.order_id,
                 "ticket_id": c.ticket_id, "summary": c.summary}
                for c in s.scalars(select(EscalationCase).where(EscalationCase.user_id == user_id)
                                   .order_by(EscalationCase.id))]


def ticket(services, ticket_id: int) -> dict:
    with transaction(services.session_factory) as s:
        t = s.get(Ticket, ticket_id)
        return {"status": t.status, "action": t.action, "intent": t.intent,
                "result_status": t.result_status, "user_id": t.user_id}


def count_orders(services) -> int:
    with transaction(services.session_factory) as s:
        return s.scalar(select(func.count()).select_from(Order))


def audit_lines(services, **match) -> list[dict]:
    path = services.runner.audit.path
    if not path.exists():
        return []
    lines = [json.loads(raw) for raw in path.read_text(encoding="utf-8").splitlines() if raw]
    return [line for line in lines if all(line.get(k) == v for k, v in match.items())]


def says_yes(agent, user_id: int, offer: dict, text: str = "yes", **kwargs) -> dict:
    """R11: `offer` must be a proposal that changed nothing yet; the customer's yes runs it."""
    assert offer["action_result"]["status"] == "needs_confirmation", offer
    assert offer["proposal"] and offer["proposal"]["order_id"] == offer["order_id"], offer
    reply = agent.resolve(user_id, text, offer["conversation_id"], **kwargs)
    assert reply["proposal"] is None and reply["conversation_id"] == offer["conversation_id"]
    return reply
