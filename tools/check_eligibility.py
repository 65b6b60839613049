"""Would an action be allowed for this order, and on what terms? A question, never an action.

"Is order 1042 refundable?", "how much would I get back?", "until when can I return my
jersey?" get the rule and this order's facts — the amount, the date it qualifies until —
from the same guard the action tools use, without changing anything and without opening
a case (a customer at the fraud limit who only asks is told so, not reported).
"""

from __future__ import annotations

from datetime import timedelta
from typing import Literal

from pydantic import BaseModel, Field
from sqlalchemy.orm import Session

from db.models import Order
from db.money import fmt, to_dollars
from tools import policy_guard as guard
from tools.base import ToolContext, ToolResult, not_found
from tools.proposals import items_text

NAME = "check_eligibility"
DESCRIPTION = ("Check, without changing anything, whether one of the customer's orders could be "
               "refunded, cancelled or replaced, with the amount and the deadline. Use it to "
               "answer questions about an action.")


class Args(BaseModel):
    order_id: str = Field(description="The order number, e.g. '1042'.", max_length=40)
    purpose: Literal["refund", "cancel", "replacement"] = Field(
        description="The action the customer is asking about.")


def _day(moment) -> str:
    return f"{moment:%-d %b %Y}"


NOT_YET_DELIVERED = ("pending", "processing", "shipped")


def _once_delivered(order: Order, details: dict, window_days: int) -> None:
    """Not yet, only because it hasn't arrived: once it is delivered the window opens. A
    question about later ("could I return it if it doesn't fit when it arrives?") is a yes."""
    if order.status in NOT_YET_DELIVERED and not order.replacement_for:
        details["once_delivered"] = True
        details["window_days"] = window_days


def _refund(session: Session, ctx: ToolContext, order: Order) -> ToolResult:
    verdict = guard.refund_eligibility(session, order, ctx.now, ctx.settings)
    details = {"eligible": verdict.ok, "purpose": "refund", "order_status": order.status,
               "amount": to_dollars(order.total_cents)}
    if not verdict.ok:
        _once_delivered(order, details, ctx.settings.refund_window_days)
        return ToolResult("success", verdict.reason, details, order_id=order.id)
    delivered = guard.delivered_on(order)
    deadline = delivered + timedelta(days=ctx.settings.refund_window_days)
    text = (f"R2 refund: yes — order #{order.id} ({items_text(order)}) was delivered on "
            f"{_day(delivered)}, so it can be refunded until {_day(deadline)}: "
            f"{fmt(order.total_cents)} back to your original payment method.")
    count = guard.refunds_in_window(session, ctx.user_id, ctx.now, ctx.settings)
    if count >= ctx.settings.max_refunds_per_window:
        details["fraud_review"] = True
        text += (f" You've already had {count} refunds in the last "
                 f"{ctx.settings.fraud_window_days} days, though, so a new one would go to our "
                 "review team instead of being paid automatically.")
    elif not guard.high_value(order, ctx.settings).ok:
        details["needs_approval"] = True
        text += (f" As it's over {fmt(ctx.settings.auto_refund_limit_cents)}, a person on our "
                 "team approves it first.")
    details.update(delivered_at=delivered.date().isoformat(), deadline=deadline.date().isoformat(),
                   window_days=ctx.settings.refund_window_days)
    return ToolResult("success", text, details, order_id=order.id)


def _cancel(order: Order, ctx: ToolContext) -> ToolResult:
    verdict = guard.cancel_eligibility(order, ctx.settings)
    details = {"eligible": verdict.ok, "purpose": "cancel", "order_status": order.status,
               "amount": to_dollars(order.total_cents)}
    if not verdict.ok:
        return ToolResult("success", verdict.reason, details, order_id=order.id)
    return ToolResult("success", (
        f"R3 cancel: yes — order #{order.id} ({items_text(order)}) hasn't shipped yet (it's "
        f"{order.status}), so it can still be cancelled and {fmt(order.total_cents)} refunded "
        "to your original payment method."), details, order_id=order.id)


def _replacement(session: Session, ctx: ToolContext, order: Order) -> ToolResult:
    verdict = guard.replacement_eligibility(session, order, None, ctx.now, ctx.settings)
    details = {"eligible": verdict.ok, "purpose": "replacement", "order_status": order.status}
    if not verdict.ok:
        _once_delivered(order, details, ctx.settings.replacement_window_days)
        return ToolResult("success", verdict.reason, details, order_id=order.id)
    delivered = guard.delivered_on(order)
    deadline = delivered + timedelta(days=ctx.settings.replacement_window_days)
    details.update(deadline=deadline.date().isoformat(),
                   window_days=ctx.settings.replacement_window_days)
    return ToolResult("success", (
        f"R4 replacement: yes — order #{order.id} ({items_text(order)}) was delivered on "
        f"{_day(delivered)}; if an item arrived damaged, defective or wrong, we can send a free "
        f"replacement until {_day(deadline)} (once per order)."), details, order_id=order.id)


def run(session: Session, ctx: ToolContext, args: Args) -> ToolResult:
    order = guard.own_order(session, ctx.user_id, args.order_id)
    if order is None:
        return not_found(guard.normalise_order_id(args.order_id))
    if args.purpose == "refund":
        return _refund(session, ctx, order)
    if args.purpose == "cancel":
        return _cancel(order, ctx)
    return _replacement(session, ctx, order)
