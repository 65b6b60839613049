"""Send a free replacement for a damaged, defective or wrong item as a new linked order (R4)."""

from __future__ import annotations

import uuid
from typing import Literal

from pydantic import BaseModel, Field
from sqlalchemy.orm import Session

from db.models import Order, OrderItem, Replacement
from tools import policy_guard as guard
from tools.action_start import start_action
from tools.base import ToolContext, ToolResult
from tools.proposals import items_text, offer

NAME = "create_replacement"
DESCRIPTION = ("Ship a free replacement for a delivered order whose item arrived damaged, "
               "defective or wrong. Creates a new linked order with the same items.")


class Args(BaseModel):
    order_id: str = Field(description="The order number, e.g. '1042'.", max_length=40)
    reason: Literal["damaged", "defective", "wrong_item", "late", "not_needed", "other"] | None = \
        Field(default=None, description="What is wrong with the item.")


def run(session: Session, ctx: ToolContext, args: Args) -> ToolResult:
    order = start_action(session, ctx, args.order_id)
    if isinstance(order, ToolResult):
        return order

    verdict = guard.replacement_eligibility(session, order, args.reason, ctx.now, ctx.settings)
    if not verdict.ok:
        return ToolResult("denied", verdict.reason, order_id=order.id)
    if args.reason is None:
        return ToolResult("needs_info", (
            "R4 replacement: replacements are for damaged, defective or wrong items. What is "
            f"wrong with the item from order #{order.id}?"), order_id=order.id)

    label = {"damaged": "damaged", "defective": "defective", "wrong_item": "wrong"}[args.reason]
    if ctx.propose:
        return offer(session, ctx, NAME, order, amount_cents=0,
                     arguments={"order_id": args.order_id, "reason": args.reason}, summary=(
                         f"I can send a free replacement for the {label} item from order "
                         f"#{order.id} ({items_text(order)}): a new order with the same items, "
                         "at no cost to you, shipped to the same address."))

    new_id = f"{order.id}-R" if len(order.id) <= 38 else f"R-{uuid.uuid4().hex[:20]}"
    new_order = Order(id=new_id, user_id=ctx.user_id, status="processing",
                      total_cents=0, ordered_at=ctx.now, replacement_for=order.id,
                      items=[OrderItem(sku=i.sku, name=i.name, qty=i.qty, price_cents=i.price_cents)
                             for i in order.items])
    session.add(new_order)
    session.flush()
    session.add(Replacement(original_order_id=order.id, new_order_id=new_order.id,
                            user_id=ctx.user_id, reason=args.reason, created_at=ctx.now))
    session.flush()
    return ToolResult(
        "success",
        f"R4 replacement: the {label} item from order #{order.id} qualifies for a free "
        f"replacement; it ships as new order #{new_order.id} at no cost.",
        {"replacement_order_id": new_order.id, "replacement_reason": args.reason},
        order_id=order.id)
