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
DONE = {"refund": "refunded", "cancel": "cancelled", "replacement": "replaced",
        "status": "looked up"}


class Args(BaseModel):
    purpose: Literal["refund", "cancel", "replacement", "status"] | None = Field(
        default=None, description="The action the order is needed for.")


def _why_not(session: Session, ctx: ToolContext, order: Order, purpose: str) -> str:
    if purpose == "refund":
        verdict = guard.refund_eligibility(session, order, ctx.now, ctx.settings)
    elif purpose == "cancel":
        verdict = guard.cancel_eligibility(order, ctx.settings)
    else:
        verdict = guard.replacement_eligibility(session, order, None, ctx.now, ctx.settings)
    reason = verdict.reason.split(": ", 1)[-1]
    return reason[:1].upper() + reason[1:]


def run(session: Session, ctx: ToolContext, args: Args) -> ToolResult:
    orders = list(session.scalars(
        select(Order).where(Order.user_id == ctx.user_id).order_by(Order.ordered_at.desc())))
    listing = [order_summary(o) for o in orders]
    if args.purpose is None:
        return ToolResult("success", f"You have {len(orders)} orders.", {"orders": listing})

    fits = [o for o in orders if guard.qualifies(session, o, args.purpose, ctx.now, ctx.settings)]
    shown = fits or orders
    details = {"orders": listing, "qualifying": [o.id for o in fits],
               "choices": [short_label(o) for o in shown], "choice_ids": [o.id for o in shown]}
    if len(fits) == 1:
        details["selected"] = fits[0].id
        return ToolResult("success", f"R7 which order: order #{fits[0].id} is the only one that "
                                     f"fits.", details, order_id=fits[0].id)
    if not orders:
        details.update(choices=[], choice_ids=[])
        return ToolResult("needs_info", (
            f"R7 which order: I can't see any orders on your account, so there's nothing to "
            f"{args.purpose if args.purpose != 'status' else 'look up'} yet. If you ordered "
            "with a different email address, sign in with that one, or ask for a person."),
            details)
    if not fits:
        # Nothing to choose from: say why, and don't ask "which order?" (no contradiction).
        reasons = " ".join(_why_not(session, ctx, o, args.purpose) for o in orders[:4])
        details.update(choices=[], choice_ids=[o.id for o in orders[:4]], none_fit=True)
        return ToolResult("needs_info", (
            f"R7 which order: none of your orders can be {DONE[args.purpose]} right now. "
            f"{reasons}"), details)
    details["asking"] = True
    return ToolResult("needs_info", (
        f"R7 which order: {len(fits)} of your orders could fit. Which one do you mean?"), details)
