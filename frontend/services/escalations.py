"""The staff escalation queue: cases, their context, and resolving or closing them."""

from __future__ import annotations

from dataclasses import dataclass, field

from sqlalchemy import case as sql_case
from sqlalchemy import func, select
from sqlalchemy.orm import Session, selectinload, sessionmaker

from audit.audit_log import AuditLog
from db.engine import transaction
from db.models import EscalationCase, Message, Order, Ticket, User, utcnow

CASE_STATUSES = ("open", "resolved", "closed")
# What a case's outcome does to its ticket.
TICKET_STATUS_FOR = {"resolved": "resolved", "closed": "closed"}


@dataclass
class CaseView:
    case: EscalationCase
    customer: User
    ticket: Ticket | None = None
    order: Order | None = None
    transcript: list[Message] = field(default_factory=list)
    audit: list[dict] = field(default_factory=list)


def list_cases(factory: sessionmaker[Session], status: str = "open") -> list[tuple]:
    """(case, customer name, customer email), high priority and oldest first for open cases."""
    priority_rank = sql_case((EscalationCase.priority == "high", 0), else_=1)
    query = select(EscalationCase, User.name, User.email).join(
        User, User.id == EscalationCase.user_id)
    if status in CASE_STATUSES:
        query = query.where(EscalationCase.status == status)
    if status == "open":
        query = query.order_by(priority_rank, EscalationCase.created_at, EscalationCase.id)
    else:
        query = query.order_by(EscalationCase.created_at.desc(), EscalationCase.id.desc())
    with transaction(factory) as session:
        return [tuple(row) for row in session.execute(query)]


def count_open(factory: sessionmaker[Session]) -> int:
    with transaction(factory) as session:
        return session.scalar(select(func.count()).select_from(EscalationCase)
                              .where(EscalationCase.status == "open"))


def case_view(factory: sessionmaker[Session], audit: AuditLog, case_id: int) -> CaseView | None:
    with transaction(factory) as session:
        case = session.get(EscalationCase, case_id)
        if case is None:
            return None
        view = CaseView(case=case, customer=session.get(User, case.user_id))
        if case.order_id:
            view.order = session.scalar(select(Order).where(Order.id == case.order_id)
                                        .options(selectinload(Order.items)))
        if case.ticket_id is not None:
            view.ticket = session.get(Ticket, case.ticket_id)
        if view.ticket is not None and view.ticket.conversation_id:
            view.transcript = list(session.scalars(
                select(Message).where(Message.conversation_id == view.ticket.conversation_id)
                .order_by(Message.id)))
    if case.ticket_id is not None:
        view.audit = audit.read(ticket_id=case.ticket_id)
    return view


class CaseAlreadyHandled(Exception):
    pass


def settle_case(factory: sessionmaker[Session], audit: AuditLog, case_id: int, outcome: str,
                note: str, staff_id: int) -> EscalationCase | None:
    """Resolve or close an open case with a note; its ticket follows. None if no such case."""
    if outcome not in TICKET_STATUS_FOR:
        raise ValueError(f"unknown outcome {outcome!r}")
    with transaction(factory) as session:
        case = session.get(EscalationCase, case_id, with_for_update=True)
        if case is None:
            return None
        if case.status != "open":
            raise CaseAlreadyHandled(case.status)
        case.status = outcome
        case.resolution_note = note.strip()
        case.resolved_at = utcnow()
        case.resolved_by = staff_id
        if case.ticket_id is not None:
            ticket = session.get(Ticket, case.ticket_id)
            if ticket is not None:
                ticket.status = TICKET_STATUS_FOR[outcome]
    # A person acted on the customer's case: that belongs in the audit trail too.
    audit.write(user_id=case.user_id, ticket_id=case.ticket_id, tool="staff_settle_case",
                order_id=case.order_id, outcome="success",
                reason=f"Case #{case.id} {outcome} by staff",
                details={"case_id": case.id, "staff_user_id": staff_id, "status": outcome,
                         "note": case.resolution_note})
    return case
