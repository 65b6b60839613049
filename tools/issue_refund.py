"""Refund a delivered order in full to the original payment (R2, R2a, R2b, R8).

R2a (high value) and R2b (fraud limit) send the refund to a person. When that person approves
it (POST /cases/{id}/decision), the API runs this same tool with `ctx.staff_id` set, and the
two limits are waived — but only if that staff member really recorded the approval on the
open case waiting for exactly this order (`_staff_approval`). R1, R2, R8 are checked as ever.
`staff_id` comes from the API's decision path alone: no tool argument, customer text or model
output can set it.
"""

from __future__ import annotations

from pydantic import BaseModel, Field
from sqlalchemy import select
from sqlalchemy.orm import Session

from db.case_lifecycle import ACTIVE, NEEDS_DECISION
from db.models import EscalationCase, Refund, User
from db.money import fmt, to_dollars
from tools import policy_guard as guard
from tools.action_start import start_action
from tools.base import ToolContext, ToolResult
from tools.escalate_case import case_result, open_case, open_case_for, repeat_reason
from tools.first_response import promise_text
from tools.proposals import items_text, offer

NAME = "issue_refund"
DESCRIPTION = ("Refund a delivered order in full to the customer's original payment method. "
               "The amount is always the order total; the policy decides eligibility.")


class Args(BaseModel):
    order_id: str = Field(description="The order number, e.g. '1042'.", max_length=40)
    reason: str | None = Field(default=None, max_length=300,
                               description="Why the customer wants a refund.")


def _arguments(args: Args) -> dict:
    return {"order_id": args.order_id, "reason": args.reason}


def _staff_approval(session: Session, ctx: ToolContext, order) -> EscalationCase | None:
    """The open R2a/R2b case for this order that this staff member approved and whose refund
    has not run yet; None (no waiver) in every other situation."""
    if ctx.staff_id is None or ctx.propose:
        return None
    staff = session.get(User, ctx.staff_id)
    if staff is None or staff.role != "staff":
        return None
    return session.scalars(select(EscalationCase).where(
        EscalationCase.user_id == ctx.user_id, EscalationCase.order_id == order.id,
        EscalationCase.status.in_(ACTIVE), EscalationCase.kind.in_(NEEDS_DECISION),
        EscalationCase.decision == "approved", EscalationCase.decided_by == ctx.staff_id,
        EscalationCase.decision_result.is_(None)).limit(1)).first()


def _refund(session: Session, ctx: ToolContext, args: Args, order, reason: str,
            extra: dict | None = None) -> ToolResult:
    refund = Refund(order_id=order.id, user_id=ctx.user_id, kind="refund",
                    amount_cents=order.total_cents, reason=(args.reason or "")[:300] or None,
                    created_at=ctx.now)
    session.add(refund)
    session.flush()
    return ToolResult("success", reason, {"refund_id": refund.id,
                                          "amount": to_dollars(order.total_cents),
                                          **(extra or {})}, order_id=order.id)


def run(session: Session, ctx: ToolContext, args: Args) -> ToolResult:
    order = start_action(session, ctx, args.order_id)
    if isinstance(order, ToolResult):
        return order

    verdict = guard.refund_eligibility(session, order, ctx.now, ctx.settings)
    if not verdict.ok:
        return ToolResult("denied", verdict.reason, order_id=order.id)

    approval = _staff_approval(session, ctx, order)
    if approval is not None:  # a person's recorded decision waives R2a and R2b, nothing else
        return _refund(session, ctx, args, order, (
            f"R2 refund: approved by our team, so {fmt(order.total_cents)} for order "
            f"#{order.id} is on its way back to your original payment method."),
            {"approved_by": ctx.staff_id, "escalation_id": approval.id})

    verdict = guard.fraud_limit(session, ctx.user_id, ctx.now, ctx.settings)
    if not verdict.ok:
        case, new = open_case(session, ctx, "fraud", verdict.reason, order.id)
        # R12: asked again, the request joins the open fraud-review case, and the reply says so.
        return ToolResult("denied", verdict.reason + (promise_text(case.due_at) if new else
                                                      " " + repeat_reason(case, rule=False)),
                          case_result(case, new), order_id=order.id)

    verdict = guard.high_value(order, ctx.settings)
    if not verdict.ok:
        waiting = open_case_for(session, ctx.user_id, order.id, None)
        if ctx.propose and waiting is None:
            return offer(session, ctx, NAME, order, amount_cents=order.total_cents,
                         arguments=_arguments(args), needs_approval=True, summary=(
                             f"Refunds above {fmt(ctx.settings.auto_refund_limit_cents)} need a "
                             f"person's approval. I can send your refund of "
                             f"{fmt(order.total_cents)} for order #{order.id} "
                             f"({items_text(order)}) to our team for approval; once approved, "
                             "the money goes back to your original payment method."))
        case, new = open_case(session, ctx, "high_value", verdict.reason, order.id)
        return ToolResult("escalated", verdict.reason + promise_text(case.due_at) if new
                          else repeat_reason(case),
                          {**case_result(case, new), "amount": to_dollars(order.total_cents)},
                          order_id=order.id)

    if ctx.propose:
        return offer(session, ctx, NAME, order, amount_cents=order.total_cents,
                     arguments=_arguments(args), summary=(
                         f"I can refund {fmt(order.total_cents)} for order #{order.id} "
                         f"({items_text(order)}) to your original payment method."))

    return _refund(session, ctx, args, order, (
        f"R2 refund: order #{order.id} was delivered within {ctx.settings.refund_window_days} "
        f"days, so {fmt(order.total_cents)} is on its way back to your original payment method."))
