"""Where an order is: status, dates, carrier and tracking (R5)."""

from __future__ import annotations

from pydantic import BaseModel, Field
from sqlalchemy.orm import Session

from tools import policy_guard as guard
from tools.base import ToolContext, ToolResult, not_found
from tools.order_view import order_summary

NAME = "get_order_status"
DESCRIPTION = "Look up one of the customer's orders: status, dates, carrier and tracking number."


class Args(BaseModel):
    order_id: str = Field(description="The order number, e.g. '1042'.", max_length=40)


def run(session: Session, ctx: ToolContext, args: Args) -> ToolResult:
    order = guard.own_order(session, ctx.user_id, args.order_id)
    if order is None:
        return not_found(guard.normalise_order_id(args.order_id))
    summary = order_summary(order)
    return ToolResult("success", f"R5 status: order #{order.id} is {order.status}.",
                      {"order": summary}, order_id=order.id)
