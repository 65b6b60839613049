"""What staff do to a case (Staff API): take or assign it, reply, note, hand back, resolve,
close. Approve/deny lives in case_decisions.py because it runs a tool.

Each call is one transaction: the case (row-locked), its ticket (through
db/ticket_lifecycle), the customer's message and e-mail (staff_messages.py) and one audit
record with `staff_id` saying who did what commit together. Moves not allowed from the case's
state are 409s and change nothing.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field

from sqlalchemy.orm import Session

from api.errors import ApiError
from api.services import staff_messages
from api.services.case_views import case_detail, get_case, require_staff
from db import case_lifecycle, ticket_lifecycle
from db.engine import transaction
from db.models import CaseNote, EscalationCase, Ticket, User, utcnow


@dataclass
class Done:
    """What a staff action did, for its audit record."""

    what: str
    details: dict = field(default_factory=dict)
    outcome: str = "success"


@dataclass
class Acting:
    session: Session
    case: EscalationCase
    ticket: Ticket | None
    staff: User
    settings: object
    now: object


def run_staff_action(services, settings, case_id: int, staff_id: int, request_id: str | None,
                     tool: str, change: Callable[[Acting], Done]) -> dict:
    """Check the person, lock the case, apply `change`, audit it in the same transaction,
    commit, return the case."""
    started = time.perf_counter()
    try:
        with transaction(services.session_factory) as s:
            staff = require_staff(s, staff_id)
            case = get_case(s, case_id, lock=True)
            ticket = s.get(Ticket, case.ticket_id) if case.ticket_id is not None else None
            if ticket is not None and ticket.user_id != case.user_id:
                ticket = None
            done = change(Acting(s, case, ticket, staff, settings, utcnow()))
            services.runner.audit.record(  # same transaction: the change and its record
                s, request_id=request_id, tool=tool, outcome=done.outcome,
                reason=f"Case #{case_id}: {done.what}", details={"case_id": case_id, **done.details},
                duration_ms=round((time.perf_counter() - started) * 1000, 2), staff_id=staff_id,
                user_id=case.user_id, ticket_id=case.ticket_id, order_id=case.order_id,
                conversation_id=ticket.conversation_id if ticket else None)
    except case_lifecycle.CaseConflict as exc:
        raise ApiError(409, exc.message, exc.code) from exc
    except ticket_lifecycle.TransitionError as exc:
        raise ApiError(409, f"The case's ticket can't take that step ({exc}); nothing was "
                            "changed.", "ticket_conflict") from exc
    services.runner.audit.flush()
    return case_detail(services.session_factory, services.runner.audit, case_id)


def own_ticket(a: Acting) -> None:
    if a.ticket is not None and a.ticket.status != "with_agent":
        ticket_lifecycle.assign(a.ticket)


def assign(services, settings, case_id: int, staff_id: int, assignee_id: int | None,
           request_id: str | None) -> dict:
    """The person (or `assignee_id`, another member of staff) owns the case: case and ticket
    `with_agent`, and the assistant stops answering that conversation (R12)."""
    def change(a: Acting) -> Done:
        owner = a.staff
        if assignee_id is not None and assignee_id != a.staff.id:
            try:
                owner = require_staff(a.session, assignee_id)
            except ApiError as exc:
                raise ApiError(422, "assignee_id must name a member of staff.",
                               "validation_error") from exc
        case_lifecycle.assign(a.case, owner.id, a.now)
        own_ticket(a)
        return Done(f"assigned to {owner.name}", {"assigned_to": owner.id})
    return run_staff_action(services, settings, case_id, staff_id, request_id, "case_assign",
                            change)


def reply(services, settings, case_id: int, staff_id: int, message: str,
          request_id: str | None) -> dict:
    """A message from the person into the customer's conversation, and by e-mail."""
    def change(a: Acting) -> Done:
        if a.ticket is None or not a.ticket.conversation_id:
            raise case_lifecycle.CaseConflict("no_conversation", (
                f"Case #{a.case.id} has no conversation to reply in; nothing was sent."))
        case_lifecycle.take_if_unassigned(a.case, a.staff.id, a.now)
        own_ticket(a)
        text = staff_messages.clean(message)
        posted = staff_messages.tell(a.session, settings, kind="reply", case=a.case,
                                     ticket=a.ticket, staff=a.staff, text=text)
        case_lifecycle.responded(a.case, a.now)
        if posted is None:  # the customer deleted the conversation: the e-mail carries it
            return Done("staff replied to the customer by e-mail (conversation deleted)",
                        {"characters": len(text), "conversation_deleted": True})
        return Done("staff replied to the customer", {"characters": len(text)})
    return run_staff_action(services, settings, case_id, staff_id, request_id, "case_reply",
                            change)


def note(services, settings, case_id: int, staff_id: int, body: str,
         request_id: str | None) -> dict:
    """An internal note: on the case for the team, never shown to the customer."""
    def change(a: Acting) -> Done:
        a.session.add(CaseNote(case_id=a.case.id, author_id=a.staff.id, ticket_id=a.case.ticket_id,
                               body=staff_messages.clean(body), internal=True, created_at=a.now))
        a.case.updated_at = a.now
        return Done("internal note added")
    return run_staff_action(services, settings, case_id, staff_id, request_id, "case_note",
                            change)


def hand_back(services, settings, case_id: int, staff_id: int, request_id: str | None) -> dict:
    """The assistant answers the conversation again; the person's part of the case ends."""
    def change(a: Acting) -> Done:
        case_lifecycle.hand_back(a.case, a.staff.id, a.now)
        if a.ticket is not None and a.ticket.status in ("with_agent", "escalated"):
            ticket_lifecycle.hand_back(a.ticket)
        staff_messages.post(a.session, a.ticket, a.staff, (
            f"{staff_messages.first_name(a.staff)} from our team has handed this conversation "
            "back to our assistant, which will answer your next message. Ask for a person any "
            "time if you need one again."))
        return Done("handed back to the assistant")
    return run_staff_action(services, settings, case_id, staff_id, request_id, "case_handback",
                            change)


def resolve(services, settings, case_id: int, staff_id: int, note_text: str,
            request_id: str | None) -> dict:
    """The case and its ticket are resolved; the customer reads the note and gets an e-mail."""
    def change(a: Acting) -> Done:
        text = staff_messages.clean(note_text)
        case_lifecycle.resolve(a.case, a.staff.id, text, a.now)
        if a.ticket is not None:
            ticket_lifecycle.resolve(a.ticket)
        staff_messages.tell(a.session, settings, kind="resolved", case=a.case, ticket=a.ticket,
                            staff=a.staff, text=f"I've marked your case as resolved. {text}")
        case_lifecycle.responded(a.case, a.now)
        return Done("resolved", {"status": "resolved"})
    return run_staff_action(services, settings, case_id, staff_id, request_id, "case_resolve",
                            change)


def close(services, settings, case_id: int, staff_id: int, note_text: str,
          request_id: str | None) -> dict:
    """Nothing more to do (a duplicate, a withdrawn request): closed, the note on the ticket."""
    def change(a: Acting) -> Done:
        text = staff_messages.clean(note_text)
        case_lifecycle.close(a.case, a.staff.id, text, a.now)
        if a.ticket is not None:
            ticket_lifecycle.close(a.ticket)
        staff_messages.post(a.session, a.ticket, a.staff, f"I've closed this case. {text}")
        return Done("closed", {"status": "closed"})
    return run_staff_action(services, settings, case_id, staff_id, request_id, "case_close",
                            change)
