"""Escalation cases as the Staff API shows them, and the checks every staff call starts with.

`staff_id` names the person acting; it must be a user whose role is `staff` (SPEC: else 403).
The API key is the service's, so this is what stops a customer's id from acting on a case.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import case as sql_case
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from api.errors import ApiError
from audit.trail import AuditTrail
from db import case_lifecycle
from db.engine import transaction
from db.models import CaseNote, EscalationCase, Message, Ticket, User, utcnow

MAX_ID = 2**31


def iso(moment: datetime | None) -> str | None:
    return moment.isoformat(timespec="seconds") + "Z" if moment else None


def require_staff(session: Session, staff_id: int | None) -> User:
    staff = session.get(User, staff_id) if staff_id is not None and 0 < staff_id < MAX_ID else None
    if staff is None or staff.role != "staff":
        raise ApiError(403, "staff_id must name a member of staff; nothing was changed.",
                       "not_staff")
    return staff


def get_case(session: Session, case_id: int, lock: bool = False) -> EscalationCase:
    case = (session.get(EscalationCase, case_id, with_for_update=lock)
            if 0 < case_id < MAX_ID else None)
    if case is None:
        raise ApiError(404, f"No case with id {case_id}.", "case_not_found")
    return case


def _people(session: Session, *ids: int | None) -> dict[int, User]:
    wanted = {i for i in ids if i is not None}
    if not wanted:
        return {}
    return {u.id: u for u in session.scalars(select(User).where(User.id.in_(wanted)))}


def _person(people: dict[int, User], user_id: int | None) -> dict | None:
    user = people.get(user_id) if user_id is not None else None
    return {"id": user.id, "name": user.name} if user else None


def case_summary(session: Session, case: EscalationCase, now: datetime,
                 people: dict[int, User] | None = None) -> dict:
    people = people if people is not None else _people(
        session, case.user_id, case.assigned_to, case.decided_by)
    ticket = session.get(Ticket, case.ticket_id) if case.ticket_id is not None else None
    customer = people.get(case.user_id)
    return {
        "id": case.id, "ticket_id": case.ticket_id,
        "conversation_id": ticket.conversation_id if ticket else None,
        "ticket_status": ticket.status if ticket else None,
        "user_id": case.user_id, "customer_name": customer.name if customer else None,
        "order_id": case.order_id, "kind": case.kind, "reason": case.reason,
        "priority": case.priority, "status": case.status,
        "due_at": iso(case.due_at), "overdue": case_lifecycle.overdue(case, now),
        "first_response_at": iso(case.first_response_at),
        "assigned_to": _person(people, case.assigned_to), "assigned_at": iso(case.assigned_at),
        "awaiting_decision": case_lifecycle.awaiting_decision(case),
        "decision": case.decision, "decision_reason": case.decision_reason,
        "decided_by": _person(people, case.decided_by), "decided_at": iso(case.decided_at),
        "decision_result": case.decision_result,
        "resolution_note": case.resolution_note, "resolved_at": iso(case.resolved_at),
        "handed_back_at": iso(case.handed_back_at),
        "created_at": iso(case.created_at), "updated_at": iso(case.updated_at),
    }


def queue_order():
    """Waiting cases first, by the time their first answer is due; then the rest, newest
    first."""
    active = sql_case((EscalationCase.status.in_(case_lifecycle.ACTIVE), 0), else_=1)
    no_due = sql_case((EscalationCase.due_at.is_(None), 1), else_=0)
    return (active, no_due, EscalationCase.due_at, EscalationCase.created_at.desc(),
            EscalationCase.id)


def list_cases(factory: sessionmaker[Session], status: str | None,
               staff_id: int | None = None) -> dict:
    now = utcnow()
    with transaction(factory) as s:
        if staff_id is not None:  # reads work with the API key; a name given must be staff
            require_staff(s, staff_id)
        query = select(EscalationCase).order_by(*queue_order())
        if status:
            query = query.where(EscalationCase.status == status)
        cases = list(s.scalars(query))
        people = _people(s, *[i for c in cases for i in (c.user_id, c.assigned_to,
                                                          c.decided_by)])
        return {"cases": [case_summary(s, c, now, people) for c in cases]}


def case_detail(factory: sessionmaker[Session], audit: AuditTrail, case_id: int,
                staff_id: int | None = None) -> dict:
    """One case with its ticket's transcript, its notes (internal ones included: this is the
    staff's view) and the audit events of its ticket, read from the database and checked
    against the hash chain: each event says whether it is `verified`, and `audit_chain` says
    what is wrong when the chain is broken. `staff_id` is checked when given; None only for
    the view a staff action returns, whose person was checked already."""
    with transaction(factory) as s:
        if staff_id is not None:
            require_staff(s, staff_id)
        case = get_case(s, case_id)
        view = case_summary(s, case, utcnow())
        view["summary"] = case.summary
        conversation_id = view["conversation_id"]
        view["transcript"] = [] if not conversation_id else [
            {"role": m.role, "content": m.content, "author": m.author_name,
             "created_at": iso(m.created_at)}
            for m in s.scalars(select(Message).where(Message.conversation_id == conversation_id)
                               .order_by(Message.id))]
        notes = list(s.scalars(select(CaseNote).where(CaseNote.case_id == case.id)
                               .order_by(CaseNote.id)))
        people = _people(s, *[n.author_id for n in notes])
        view["notes"] = [{"id": n.id, "body": n.body, "internal": n.internal,
                          "author": _person(people, n.author_id), "created_at": iso(n.created_at)}
                         for n in notes]
    view["audit"], view["audit_chain"] = [], {"intact": True, "problem": None}
    if view["ticket_id"]:
        events = audit.ticket_events(view["ticket_id"])
        view["audit"] = events.records
        view["audit_chain"] = {"intact": events.problem is None, "problem": events.problem}
    return view
