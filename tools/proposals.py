"""Proposals (SPEC R11): the dry run of an action the guard would allow, stored until the
customer says yes.

An action tool called with `ctx.propose` runs every check it would run for real and,
where it would change something, calls `offer` instead: nothing in the shop changes,
and the customer is told exactly what will happen. Only `ToolRunner.confirm` turns a
proposal into the real action, with every rule checked again at that moment, under a
lock on the proposal row so that it runs at most once however often it is confirmed.
"""

from __future__ import annotations

import secrets
from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from db.models import Order, Proposal
from db.money import to_dollars
from tools.base import ToolContext, ToolResult

OPEN = "proposed"


def new_id() -> str:
    return "p_" + secrets.token_urlsafe(18)


def iso(moment: datetime) -> str:
    return moment.isoformat(timespec="seconds") + "Z"


def items_of(order: Order) -> list[dict]:
    return [{"name": i.name, "qty": i.qty} for i in order.items]


def items_text(order: Order) -> str:
    """'Mechanical keyboard', '2 × Mug and Teapot', '… and 2 more items'."""
    names = [f"{i.qty} × {i.name}" if i.qty > 1 else i.name for i in order.items[:3]]
    if len(order.items) > 3:
        names.append(f"{len(order.items) - 3} more items")
    if not names:
        return "your items"
    return names[0] if len(names) == 1 else ", ".join(names[:-1]) + " and " + names[-1]


def public_view(p: Proposal) -> dict:
    """The `proposal` object of SPEC's response."""
    return {"id": p.id, "action": p.action, "order_id": p.order_id,
            "amount": to_dollars(p.amount_cents), "items": list(p.items or []),
            "needs_approval": p.needs_approval, "summary": p.summary,
            "expires_at": iso(p.expires_at)}


def offer(session: Session, ctx: ToolContext, action: str, order: Order, *, amount_cents: int,
          arguments: dict, summary: str, needs_approval: bool = False) -> ToolResult:
    """Store the proposal and answer `needs_confirmation` with what will happen."""
    proposal = Proposal(
        id=new_id(), user_id=ctx.user_id, conversation_id=ctx.conversation_id,
        ticket_id=ctx.ticket_id, action=action, order_id=order.id, amount_cents=amount_cents,
        items=items_of(order), arguments=arguments, intent=ctx.intent or action,
        confidence=ctx.confidence, needs_approval=needs_approval, summary=summary,
        state=OPEN, created_at=ctx.now,
        expires_at=ctx.now + timedelta(minutes=ctx.settings.proposal_ttl_minutes))
    session.add(proposal)
    session.flush()
    return ToolResult("needs_confirmation", f"R11 confirm: {summary} Shall I go ahead?",
                      {"proposal": public_view(proposal), "proposal_id": proposal.id,
                       "amount": to_dollars(amount_cents), "proposal_event": "created"},
                      order_id=order.id)


def open_for_conversation(session: Session, user_id: int, conversation_id: str) -> list[Proposal]:
    return list(session.scalars(select(Proposal).where(
        Proposal.user_id == user_id, Proposal.conversation_id == conversation_id,
        Proposal.state == OPEN).order_by(Proposal.created_at)))


def expired(p: Proposal, now: datetime) -> bool:
    return p.state == OPEN and now >= p.expires_at
