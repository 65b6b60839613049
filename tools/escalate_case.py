"""Hand a case to a human (R6): an escalation case with a priority; the ticket becomes escalated."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, Field
from sqlalchemy.orm import Session

from db.models import EscalationCase, Ticket
from tools import policy_guard as guard
from tools.base import ToolContext, ToolResult

NAME = "escalate_case"
DESCRIPTION = ("Hand the conversation to a human support agent. Use when the customer asks for a "
               "person or manager, is very upset, or the case needs human judgement.")

Kind = Literal["human_request", "frustration", "high_value", "fraud", "unsatisfied", "other"]


class Args(BaseModel):
    reason: str = Field(default="Customer asked for a human", max_length=500,
                        description="Why a human is needed, in a short sentence.")
    order_id: str | None = Field(default=None, description="The order concerned, if any.")
    kind: Kind = Field(default="human_request", description="What triggered the escalation.")


class ModelArgs(Args):
    """What a model may ask for: fraud and high-value cases are opened only by the refund tool's
    own checks, so a model cannot jump the queue by calling something fraud."""

    kind: Literal["human_request", "frustration", "other"] = Field(
        default="human_request", description="What triggered the escalation.")


def open_case(session: Session, ctx: ToolContext, kind: str, reason: str,
              order_id: str | None = None, frustrated: bool = False) -> EscalationCase:
    """Shared by this tool and by the refund tool's R2a/R2b escalations."""
    case = EscalationCase(
        user_id=ctx.user_id, ticket_id=ctx.ticket_id, order_id=order_id, kind=kind,
        reason=reason[:500], priority=guard.escalation_priority(kind, frustrated),
        summary=ctx.summary, created_at=ctx.now)
    session.add(case)
    if ctx.ticket_id is not None:
        ticket = session.get(Ticket, ctx.ticket_id)
        if ticket is not None and ticket.user_id == ctx.user_id:
            ticket.status = "escalated"
    session.flush()
    return case


def run(session: Session, ctx: ToolContext, args: Args) -> ToolResult:
    order_id = None
    if args.order_id:
        # R1: only link an order the customer owns; otherwise escalate without it.
        order = guard.own_order(session, ctx.user_id, args.order_id)
        order_id = order.id if order else None
    case = open_case(session, ctx, args.kind, args.reason, order_id,
                     frustrated=args.kind == "frustration")
    return ToolResult(
        "escalated",
        f"R6 escalate: a support specialist will take over ({case.priority} priority).",
        {"escalation_id": case.id, "priority": case.priority},
        order_id=order_id)
