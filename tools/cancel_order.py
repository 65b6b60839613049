"""Cancel an order that has not shipped, recording a cancellation refund of its total (R3)."""

from __future__ import annotations

from pydantic import BaseModel, Field
from sqlalchemy.orm import Session

from db.models import Refund
from db.money import fmt, to_dollars
from tools import policy_guard as guard
from tools.action_start import start_action
from tools.base import ToolContext, ToolResult
from tools.proposals import items_text, offer

NAME = "cancel_order"
DESCRIPTION = ("Cancel an order that has not shipped yet (pending or processing); the total is "
               "refunded to the original payment method.")


class Args(BaseModel):
    order_id: str = Field(description="The order number, e.g. '1042'.", max_length=40)
    reason: str | None = Field(default=None, max_length=300)


def run(session: Session, ctx: ToolContext, args: Args) -> ToolResult:
    order = start_action(session, ctx, args.order_id)
    if isinstance(order, ToolResult):
        return order

    verdict = guard.cancel_eligibility(order, ctx.settings)
    if not verdict.ok:
        return ToolResult("denied", verdict.reason, {"order_status": order.status},
                          order_id=order.id)

    if ctx.propose:
        return offer(session, ctx, NAME, order, amount_cents=order.total_cents,
                     arguments={"order_id": args.order_id, "reason": args.reason}, summary=(
                         f"I can cancel order #{order.id} ({items_text(order)}) — it hasn't "
                         f"shipped yet — and refund {fmt(order.total_cents)} to your original "
                         "payment method."))

    order.status = "cancelled"
    refund = Refund(order_id=order.id, user_id=ctx.user_id, kind="cancellation",
                    amount_cents=order.total_cents, reason=(args.reason or "")[:300] or None,
                    created_at=ctx.now)
    session.add(refund)
    session.flush()
    return ToolResult(
        "success",
        f"R3 cancel: order #{order.id} hadn't shipped yet, so it is cancelled and "
        f"{fmt(order.total_cents)} will be refunded to your original payment method.",
        {"refund_id": refund.id, "amount": to_dollars(order.total_cents),
         "order_status": "cancelled"},
        order_id=order.id)
