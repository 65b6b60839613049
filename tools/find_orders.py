"""List the customer's orders and pick the one an action applies to, if only one fits (R7)."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, Field
from sqlalchemy import select
from sqlalchemy.orm import Session

from db.models import Order
from tools import policy_guard as guard
from tools.base import ToolContext, ToolResult
from tools.order_view import order_summary, short_label

NAME = "find_orders"
DESCRIPTION = ("List the customer's own orders. With a purpose, also says which orders qualify "
               "for that action and selects the order when exactly one does.")


class Args(BaseModel):
    purpose: Literal["refund", "cancel", "replacement", "status"] | None = Field(
        default=None, description="The action the order is needed for.")


def run(session: Session, ctx: ToolContext, args: Args) -> ToolResult:
    orders = list(session.scalars(
        select(Order).where(Order.user_id == ctx.user_id).order_by(Order.ordered_at.desc())))
    listing = [order_summary(o) for o in orders]
    if args.purpose is None:
        return ToolResult("success", f"You have {len(orders)} orders.", {"orders": listing})

    fits = [o for o in orders if guard.qualifies(session, o, args.purpose, ctx.now, ctx.settings)]
    details = {"orders": listing, "qualifying": [o.id for o in fits],
               "choices": [short_label(o) for o in (fits or orders)]}
    if len(fits) == 1:
        details["selected"] = fits[0].id
        return ToolResult("success", f"R7 which order: order #{fits[0].id} is the only one that "
                                     f"fits.", details, order_id=fits[0].id)
    if not orders:
        return ToolResult("needs_info", "R7 which order: there are no orders on your account.",
                          details)
    if not fits:
        return ToolResult("needs_info", (
            f"R7 which order: none of your orders currently qualifies for a {args.purpose}. "
            "Which order do you mean?"), details)
    return ToolResult("needs_info", (
        f"R7 which order: {len(fits)} of your orders could fit. Which order do you mean?"), details)
