"""Helpers for tool-level tests: run a tool as a user and read the database back."""

from __future__ import annotations

from sqlalchemy import func, select

from audit.audit_log import AuditLog
from db.engine import transaction
from db.models import EscalationCase, Order, Refund, Replacement
from tools.base import ToolContext
from tools.registry import ToolRunner


def run_tool(factory, settings, user_id, name, confidence=1.0, ticket_id=None, **args):
    runner = ToolRunner(factory, AuditLog(settings.audit_log_path))
    ctx = ToolContext(user_id=user_id, settings=settings, confidence=confidence,
                      ticket_id=ticket_id)
    return runner.invoke(name, ctx, **args)


def count(factory, model, **where):
    with transaction(factory) as s:
        query = select(func.count()).select_from(model)
        for key, value in where.items():
            query = query.where(getattr(model, key) == value)
        return s.scalar(query)


def order_status(factory, oid):
    with transaction(factory) as s:
        return s.get(Order, oid).status


def refunds(factory, **where):
    return count(factory, Refund, **where)


def escalations(factory, **where):
    with transaction(factory) as s:
        query = select(EscalationCase)
        for key, value in where.items():
            query = query.where(getattr(EscalationCase, key) == value)
        return [(c.kind, c.priority, c.order_id, c.user_id) for c in s.scalars(query)]


def replacements(factory):
    return count(factory, Replacement)
