"""Hand a case to a human (R6), one open case per problem (R12).

An escalation case has a priority and puts its ticket in `escalated`. When the same order
(or, without an order, the same ticket) already has an open case, the repeat is added to
that case as a dated note and the customer is told the team already has it: a second
high-priority case for one problem only splits the team's attention.
"""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, Field
from sqlalchemy import select
from sqlalchemy.orm import Session

from db import ticket_lifecycle
from db.models import CaseNote, EscalationCase, Ticket
from tools import policy_guard as guard
from tools.base import ToolContext, ToolResult
from tools.first_response import first_response_due, promise_text

NAME = "escalate_case"
DESCRIPTION = ("Hand the conversation to a human support agent. Use when the customer asks for a "
               "person or manager, is very upset, or the case needs human judgement.")

Kind = Literal["human_request", "frustration", "high_value", "fraud", "unsatisfied", "other"]
OPEN_STATUSES = ("open", "with_agent")


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


def open_case_for(session: Session, user_id: int, order_id: str | None,
                  ticket_id: int | None) -> EscalationCase | None:
    """R12: the open case for this order, or (without an order) for this ticket."""
    query = select(EscalationCase).where(EscalationCase.user_id == user_id,
                                         EscalationCase.status.in_(OPEN_STATUSES))
    if order_id is not None:
        query = query.where(EscalationCase.order_id == order_id)
    elif ticket_id is not None:
        query = query.where(EscalationCase.ticket_id == ticket_id)
    else:
        return None
    return session.scalars(query.order_by(EscalationCase.id).limit(1)).first()


def _escalate_ticket(session: Session, ctx: ToolContext) -> None:
    if ctx.ticket_id is not None:
        ticket = session.get(Ticket, ctx.ticket_id)
        if ticket is not None and ticket.user_id == ctx.user_id:
            ticket_lifecycle.escalate(ticket)


def open_case(session: Session, ctx: ToolContext, kind: str, reason: str,
              order_id: str | None = None, frustrated: bool = False
              ) -> tuple[EscalationCase, bool]:
    """The case for this problem and whether it is new. Shared by this tool, the refund tool's
    R2a/R2b escalations and the feedback endpoint (all through the runner, user locked)."""
    priority = guard.escalation_priority(kind, frustrated)
    existing = open_case_for(session, ctx.user_id, order_id, ctx.ticket_id)
    if existing is not None:
        session.add(CaseNote(
            case_id=existing.id, ticket_id=ctx.ticket_id, created_at=ctx.now, internal=True,
            body=f"{ctx.now:%Y-%m-%d %H:%M} UTC — raised again ({kind.replace('_', ' ')}"
                 f"{', ticket #' + str(ctx.ticket_id) if ctx.ticket_id else ''}): {reason[:400]}"
                 + (f"\n{ctx.summary[:1500]}" if ctx.summary else "")))
        if priority == "high" and existing.priority != "high":
            existing.priority = "high"
            if existing.first_response_at is None:  # the sooner promise holds from now on
                due = first_response_due(ctx.now, "high", ctx.settings)
                existing.due_at = min(existing.due_at or due, due)
        existing.updated_at = ctx.now
        if existing.ticket_id == ctx.ticket_id:
            _escalate_ticket(session, ctx)
        session.flush()
        return existing, False
    case = EscalationCase(
        user_id=ctx.user_id, ticket_id=ctx.ticket_id, order_id=order_id, kind=kind,
        reason=reason[:500], priority=priority, summary=ctx.summary, created_at=ctx.now,
        updated_at=ctx.now, due_at=first_response_due(ctx.now, priority, ctx.settings))
    session.add(case)
    _escalate_ticket(session, ctx)
    session.flush()
    return case, True


def case_result(case: EscalationCase, new: bool) -> dict:
    details = {"escalated": True, "escalation_id": case.id, "priority": case.priority}
    if not new:
        details["existing_case"] = True
    return details


def repeat_reason(case: EscalationCase, rule: bool = True) -> str:
    """The customer is told which case has it and, while no person has answered yet, by when
    one will (the promise made when it opened)."""
    about = f" about order #{case.order_id}" if case.order_id else ""
    return (("R12 one case per problem: our" if rule else "Our")
            + f" team already has your case #{case.id}{about} "
            f"(opened {case.created_at:%-d %b}); I've added this to it, so you don't need to "
            "ask again." + ("" if case.first_response_at else promise_text(case.due_at)))


def run(session: Session, ctx: ToolContext, args: Args) -> ToolResult:
    guard.lock_user(session, ctx.user_id)  # R12 holds under concurrent requests too
    order_id = None
    if args.order_id:
        # R1: only link an order the customer owns; otherwise escalate without it.
        order = guard.own_order(session, ctx.user_id, args.order_id)
        order_id = order.id if order else None
    case, new = open_case(session, ctx, args.kind, args.reason, order_id,
                          frustrated=args.kind == "frustration")
    reason = ("R6 escalate: a support specialist will take over"
              + (", as a priority." if case.priority == "high" else ".")
              + promise_text(case.due_at) if new else repeat_reason(case))
    return ToolResult("escalated", reason, case_result(case, new), order_id=order_id)
