"""The staff queue and case pages: what they read, straight from the database.

Reads only. Every change to a case — take, reply, note, approve/deny, hand back, resolve,
close — goes through the API's Staff API (frontend/api_client.py), which alone runs tools:
the portal never moves money itself.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import case as sql_case
from sqlalchemy import func, select
from sqlalchemy.orm import Session, selectinload, sessionmaker

from audit.audit_log import AuditLog
from audit.verify import ticket_events
from db import case_lifecycle
from db.engine import transaction
from db.models import CaseNote, EscalationCase, Message, Order, Ticket, User, utcnow

# Queue filters: `waiting` (open or with a person) is what a team works through.
FILTERS = ("waiting", "mine", "open", "with_agent", "resolved", "closed", "all")
CASE_STATUSES = FILTERS  # the names the queue accepts (kept for older callers)


@dataclass
class QueueRow:
    case: EscalationCase
    customer_name: str
    customer_email: str
    assignee: str | None
    overdue: bool
    awaiting_decision: bool


@dataclass
class CaseView:
    case: EscalationCase
    customer: User
    ticket: Ticket | None = None
    order: Order | None = None
    transcript: list[Message] = field(default_factory=list)
    notes: list[tuple[CaseNote, str | None]] = field(default_factory=list)
    audit: list[dict] = field(default_factory=list)
    # Set when the audit trail's hash chain does not hold: the page says so instead of showing
    # the records as genuine (each record also carries `verified`).
    audit_problem: str | None = None
    assignee: User | None = None
    decided_by: User | None = None
    staff: list[User] = field(default_factory=list)
    now: datetime = field(default_factory=utcnow)

    @property
    def overdue(self) -> bool:
        return case_lifecycle.overdue(self.case, self.now)

    @property
    def awaiting_decision(self) -> bool:
        return case_lifecycle.awaiting_decision(self.case)

    @property
    def active(self) -> bool:
        return self.case.status in case_lifecycle.ACTIVE


def list_cases(factory: sessionmaker[Session], status: str = "waiting",
               staff_id: int | None = None) -> list[QueueRow]:
    """Waiting cases by the time their first answer is due (overdue first, then soonest);
    finished ones newest first."""
    now = utcnow()
    active = sql_case((EscalationCase.status.in_(case_lifecycle.ACTIVE), 0), else_=1)
    no_due = sql_case((EscalationCase.due_at.is_(None), 1), else_=0)
    query = select(EscalationCase).order_by(active, no_due, EscalationCase.due_at,
                                            EscalationCase.created_at.desc(), EscalationCase.id)
    if status in ("waiting", "mine"):
        query = query.where(EscalationCase.status.in_(case_lifecycle.ACTIVE))
    if status == "mine":
        query = query.where(EscalationCase.assigned_to == staff_id)
    elif status in ("open", "with_agent", "resolved", "closed"):
        query = query.where(EscalationCase.status == status)
    with transaction(factory) as session:
        cases = list(session.scalars(query))
        ids = {c.user_id for c in cases} | {c.assigned_to for c in cases if c.assigned_to}
        people = {u.id: u for u in session.scalars(select(User).where(User.id.in_(ids)))}
    return [QueueRow(c, people[c.user_id].name, people[c.user_id].email,
                     people[c.assigned_to].name if c.assigned_to in people else None,
                     case_lifecycle.overdue(c, now), case_lifecycle.awaiting_decision(c))
            for c in cases]


def exists(factory: sessionmaker[Session], case_id: int) -> bool:
    with transaction(factory) as session:
        return 0 < case_id < 2**31 and session.get(EscalationCase, case_id) is not None


def count_open(factory: sessionmaker[Session]) -> int:
    with transaction(factory) as session:
        return session.scalar(select(func.count()).select_from(EscalationCase)
                              .where(EscalationCase.status.in_(case_lifecycle.ACTIVE)))


def case_view(factory: sessionmaker[Session], audit: AuditLog, case_id: int) -> CaseView | None:
    """The case page. Its audit events come from the database (the source of truth; `audit`,
    the JSONL copy, is not read) and are checked against the hash chain."""
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
        people = {u.id: u for u in session.scalars(select(User).where(User.role == "staff")
                                                   .order_by(User.name))}
        view.staff = list(people.values())
        view.assignee = people.get(case.assigned_to)
        view.decided_by = people.get(case.decided_by)
        view.notes = [(n, people[n.author_id].name if n.author_id in people else None)
                      for n in session.scalars(select(CaseNote).where(CaseNote.case_id == case.id)
                                               .order_by(CaseNote.id))]
        if case.ticket_id is not None:
            events = ticket_events(session, case.ticket_id)
            view.audit, view.audit_problem = events.records, events.problem
    return view


@dataclass(frozen=True)
class CustomerNotice:
    """What the customer's ticket page says about the person handling it (never the notes)."""

    status: str
    priority: str
    due_at: datetime | None
    person: str | None
    resolution_note: str | None
    handed_back: bool


def customer_notice(factory: sessionmaker[Session], ticket_id: int) -> CustomerNotice | None:
    with transaction(factory) as session:
        case = session.scalar(select(EscalationCase).where(EscalationCase.ticket_id == ticket_id)
                              .order_by(EscalationCase.id.desc()).limit(1))
        if case is None:
            return None
        person = session.get(User, case.assigned_to) if case.assigned_to else None
        first = person.name.split()[0] if person and person.name.split() else None
        due = case.due_at if case.first_response_at is None else None  # promise kept
        return CustomerNotice(case.status, case.priority, due, first,
                              case.resolution_note, case.handed_back_at is not None)
