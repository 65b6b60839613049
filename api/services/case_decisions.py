"""Approve or deny what waits for a person: an R2a high-value refund or an R2b fraud-review
refund. One decision per case, under any concurrency.

Approve, in three steps:
1. record the decision on the row-locked case (a second or concurrent decision is a 409);
2. run the refund through ToolRunner.invoke — the same policy-guarded, audited tool — with
   `ctx.staff_id` set, which waives R2a/R2b only because step 1 recorded this person's
   approval on this order's case (tools/issue_refund._staff_approval); R1, R2 and R8 are
   checked again now, so an order refunded meanwhile comes back `denied`;
3. in the refund's own transaction (invoke's `then`): store what happened on the case, tell
   the customer in the conversation (when it still exists) and by e-mail, and put the outcome
   on the ticket. The money, the decision's result and the customer's message commit
   together or not at all: an approval never moves money and then reports a failure.
If step 2 or 3 fails (`error`: the database was busy, or the message could not be written),
nothing moved, step 1 is undone and the API answers 503, so the decision can be made again.
Deny is one step: the reason is recorded and the customer reads it in the conversation, on
the ticket and by e-mail.

Known gap: a process that dies between steps 1 and 2 leaves an approval with no
`decision_result` and no refund (steps 2 and 3 commit together, so the audit trail shows
none). A second decision is still a 409 there, so a person checks the audit trail.
"""

from __future__ import annotations

from sqlalchemy.orm import Session

from agents.replies import plain
from api.errors import ApiError
from api.services import staff_messages
from api.services.case_views import case_detail, get_case
from api.services.cases import Acting, Done, own_ticket, run_staff_action
from db import case_lifecycle
from db.engine import transaction
from db.models import EscalationCase, Ticket, TicketAction, User, utcnow
from db.money import fmt
from tools.base import ToolContext, ToolResult
from tools.registry import result_dict


def decide(services, settings, case_id: int, staff_id: int, decision: str,
           reason: str | None, request_id: str | None) -> dict:
    reason = staff_messages.clean(reason) if reason and reason.strip() else None
    verdict = "approved" if decision == "approve" else "denied"

    def record(a: Acting) -> Done:
        case_lifecycle.decide(a.case, verdict, a.staff.id, reason, a.now)
        own_ticket(a)
        if verdict == "denied":
            _tell_denied(a, reason or "")
            return Done(f"refund for order #{a.case.order_id} denied", {
                "decision": "denied", "decision_reason": reason}, outcome="denied")
        return Done(f"refund for order #{a.case.order_id} approved; running it",
                    {"decision": "approved", "decision_reason": reason})

    view = run_staff_action(services, settings, case_id, staff_id, request_id, "case_decision",
                            record)
    if verdict == "denied":
        return view
    result = _run_refund(services, settings, view, staff_id, request_id,
                         then=lambda s, done: _after_approval(s, settings, case_id, staff_id,
                                                              done))
    if result.status == "error":
        with transaction(services.session_factory) as s:
            case = get_case(s, case_id, lock=True)
            case_lifecycle.undo_decision(case)
            services.runner.audit.record(  # the approval's record said "running it": close it
                s, request_id=request_id, tool="case_decision_undo", outcome="error",
                reason=f"Case #{case_id}: approval undone; the refund could not be run",
                details={"case_id": case_id}, duration_ms=None, staff_id=staff_id,
                user_id=case.user_id, ticket_id=case.ticket_id, order_id=case.order_id,
                conversation_id=view["conversation_id"])
        services.runner.audit.flush()
        raise ApiError(503, "The refund could not be run right now and nothing was changed; "
                            "the approval was not recorded, so please approve again.",
                       "unavailable")
    return case_detail(services.session_factory, services.runner.audit, case_id)


def _run_refund(services, settings, view: dict, staff_id: int, request_id: str | None,
                then) -> ToolResult:
    ctx = ToolContext(user_id=view["user_id"], settings=settings, request_id=request_id,
                      conversation_id=view["conversation_id"], ticket_id=view["ticket_id"],
                      intent="refund", staff_id=staff_id)
    return services.runner.invoke("issue_refund", ctx, then=then, order_id=view["order_id"],
                                  reason="approved by staff")


def _approved_text(staff: User, case: EscalationCase, result: ToolResult) -> str:
    if result.status == "success":
        return (f"I've approved your refund of {fmt(round(result.details['amount'] * 100))} "
                f"for order #{case.order_id}: it is on its way back to your original payment "
                "method.")
    return (f"I approved your refund for order #{case.order_id}, but it couldn't be carried "
            f"out: {plain(result.reason)}")


def _after_approval(s: Session, settings, case_id: int, staff_id: int,
                    result: ToolResult) -> None:
    """Step 3, in the refund's transaction: the result on the case, the customer told."""
    now = utcnow()
    case = get_case(s, case_id, lock=True)
    staff = s.get(User, staff_id)
    ticket = s.get(Ticket, case.ticket_id) if case.ticket_id is not None else None
    if ticket is not None and ticket.user_id != case.user_id:
        ticket = None
    case.decision_result = result_dict(result)
    case.updated_at = now
    text = _approved_text(staff, case, result)
    staff_messages.tell(s, settings, kind="decision", case=case, ticket=ticket, staff=staff,
                        text=text)
    _on_ticket(s, ticket, case, result.status, result.as_action_result(), text, staff)
    case_lifecycle.responded(case, now)


def _tell_denied(a: Acting, reason: str) -> None:
    text = (f"I've reviewed your refund request for order #{a.case.order_id} and I'm sorry, "
            f"I can't approve it. {reason}").strip()
    staff_messages.tell(a.session, a.settings, kind="decision", case=a.case, ticket=a.ticket,
                        staff=a.staff, text=text)
    _on_ticket(a.session, a.ticket, a.case, "denied", {
        "status": "denied", "reason": f"Reviewed by our team and not approved: {reason}"},
        text, a.staff)
    case_lifecycle.responded(a.case, a.now)


def _on_ticket(session, ticket: Ticket | None, case: EscalationCase, status: str,
               result: dict, text: str, staff: User) -> None:
    """The decision is the ticket's latest consequential outcome: its headline and history."""
    if ticket is None:
        return
    session.add(TicketAction(ticket_id=ticket.id, request_text=(
        f"Decision by {staff_messages.first_name(staff)} (our team) on case #{case.id}"),
        intent="refund", action="issue_refund", order_id=case.order_id, status=status,
        result=result, response=text))
    ticket.intent, ticket.action, ticket.order_id = "refund", "issue_refund", case.order_id
    ticket.result_status, ticket.result, ticket.response = status, result, text
    ticket.updated_at = utcnow()
