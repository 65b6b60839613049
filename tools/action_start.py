"""The first steps every action tool takes, in the same order: R10 confidence, the per-user
lock (so limits hold under concurrency), then R1 ownership."""

from __future__ import annotations

from sqlalchemy.orm import Session

from db.models import Order
from tools import policy_guard as guard
from tools.base import ToolContext, ToolResult, not_found


def start_action(session: Session, ctx: ToolContext, order_id: str) -> Order | ToolResult:
    """The locked order the action may work on, or the result that ends the call here."""
    verdict = guard.confidence_ok(ctx.confidence, ctx.settings)
    if not verdict.ok:
        return ToolResult("needs_info", verdict.reason,
                          order_id=guard.normalise_order_id(order_id))
    guard.lock_user(session, ctx.user_id)
    order = guard.own_order(session, ctx.user_id, order_id, lock=True)
    return order if order is not None else not_found(guard.normalise_order_id(order_id))
