"""Ticket status has one owner: this module. Everything else asks for a named transition.

    queued ──▶ open ──▶ awaiting_customer ──▶ resolved ──▶ closed
                 │              ▲                 ▲
                 ▼              │                 │
             escalated ──▶ with_agent ──(hand back)──▶ the assistant answers again

Why one module: a status written in ten places drifts (a "thanks!" re-opening a
resolved ticket, a repeat escalating twice, a hand-off that loops). Here each
transition says where it may start, so a wrong move raises instead of silently
happening. A new message on a resolved ticket re-opens it through the assistant's
answer, never straight into `escalated` (no hand-off loops): only an escalation
outcome or a person escalates.
"""

from __future__ import annotations

from db.models import TICKET_STATUSES, Ticket, utcnow

# The assistant's outcome for a turn -> the ticket status it leaves.
STATUS_AFTER_OUTCOME = {"success": "resolved", "denied": "resolved", "needs_info":
                        "awaiting_customer", "needs_confirmation": "awaiting_customer",
                        "error": "open", "escalated": "escalated", "with_agent": "with_agent"}
# Statuses a person is responsible for: the assistant's answers do not move a ticket out.
WITH_PEOPLE = frozenset({"escalated", "with_agent"})

TRANSITIONS: dict[str, frozenset[str]] = {
    "queue": frozenset({"queued"}),
    "unqueue": frozenset({"queued"}),
    "reject": frozenset({"queued"}),
    "answer": frozenset(TICKET_STATUSES) - {"closed"},
    "escalate": frozenset(TICKET_STATUSES) - {"with_agent"},
    "assign": frozenset({"escalated", "with_agent", "open", "awaiting_customer", "resolved"}),
    "hand_back": frozenset({"with_agent", "escalated"}),
    "resolve": frozenset(TICKET_STATUSES) - {"queued"},
    "close": frozenset(TICKET_STATUSES),
}


class TransitionError(ValueError):
    pass


def _move(ticket: Ticket, event: str, to: str) -> Ticket:
    if ticket.status is not None and ticket.status not in TRANSITIONS[event]:
        raise TransitionError(f"ticket #{ticket.id}: cannot {event} from {ticket.status}")
    ticket.status = to
    ticket.updated_at = utcnow()
    return ticket


def new_ticket(**fields) -> Ticket:
    """A ticket opened by a customer's first message."""
    return Ticket(status="open", **fields)


def queued_ticket(**fields) -> Ticket:
    """A ticket the portal keeps while the API cannot be reached (nothing typed is lost)."""
    return Ticket(status="queued", **fields)


def unqueue(ticket: Ticket) -> Ticket:
    """The API has taken a queued request; the assistant's answer sets the real status."""
    return _move(ticket, "unqueue", "open")


def reject(ticket: Ticket) -> Ticket:
    """The API refused a queued request for good."""
    return _move(ticket, "reject", "closed")


def after_answer(ticket: Ticket, outcome: str, escalated: bool) -> Ticket:
    """The assistant answered a message. A ticket waiting for or owned by a person stays so."""
    if ticket.status == "with_agent":
        return ticket
    if escalated or outcome == "escalated":
        return _move(ticket, "escalate", "escalated")
    if ticket.status == "escalated":
        return ticket
    return _move(ticket, "answer", STATUS_AFTER_OUTCOME.get(outcome, "open"))


def escalate(ticket: Ticket) -> Ticket:
    if ticket.status == "with_agent":  # already with a person: nothing to hand over
        return ticket
    return _move(ticket, "escalate", "escalated")


def assign(ticket: Ticket) -> Ticket:
    return _move(ticket, "assign", "with_agent")


def hand_back(ticket: Ticket) -> Ticket:
    """A person hands the conversation back to the assistant."""
    return _move(ticket, "hand_back", "open")


def resolve(ticket: Ticket) -> Ticket:
    return _move(ticket, "resolve", "resolved")


def close(ticket: Ticket) -> Ticket:
    return _move(ticket, "close", "closed")
