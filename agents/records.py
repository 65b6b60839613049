"""Tickets, conversations and messages: what the agent remembers, kept in the database.

State lives in the conversation row (not in process memory), so a follow-up can
be served by any worker. One conversation is one ticket: follow-ups update it.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from agents.errors import NotFound
from audit.redact import redact
from db import case_lifecycle, ticket_lifecycle
from db.engine import reading, transaction
from db.models import (
    Conversation,
    EscalationCase,
    Message,
    Proposal,
    Ticket,
    TicketAction,
    User,
    utcnow,
)
from tools.registry import CHANGING_TOOLS

# Outcomes that stand for something that happened (or was refused): a later informational
# answer ("where is it now?", "thanks!") does not replace them as the ticket's headline.
CONSEQUENTIAL = ("success", "denied", "escalated")


@dataclass
class Turn:
    user_id: int
    user_name: str
    conversation_id: str
    ticket_id: int
    state: dict = field(default_factory=dict)
    ticket_status: str = "open"
    text: str = ""


def user_exists(factory: sessionmaker[Session], user_id: int) -> bool:
    if not 0 < user_id < 2**31:  # outside the id column's range: cannot exist
        return False
    with reading(factory) as s:
        return s.get(User, user_id) is not None


def start_turn(factory: sessionmaker[Session], user_id: int, text: str,
               conversation_id: str | None = None, ticket_id: int | None = None) -> Turn:
    """Record the customer's message; raise NotFound for an unknown user, conversation or ticket.

    The stored text is PII-redacted (SPEC: customer text is redacted before it is written
    anywhere); the agent itself works on the raw text in memory."""
    text = redact(text)
    with transaction(factory) as s:
        user = s.get(User, user_id) if 0 < user_id < 2**31 else None
        if user is None:
            raise NotFound("user", f"No user with id {user_id}.")
        conversation = None
        if conversation_id:
            conversation = s.get(Conversation, conversation_id)
            if conversation is None or conversation.user_id != user_id:
                raise NotFound("conversation", "No such conversation for this user.")
        ticket = None
        if ticket_id is not None:
            ticket = s.get(Ticket, ticket_id)
            if ticket is None or ticket.user_id != user_id or ticket.status != "queued":
                raise NotFound("ticket", "No queued ticket with that id for this user.")
            if conversation is None and ticket.conversation_id:
                conversation = s.get(Conversation, ticket.conversation_id)
        if conversation is None:
            conversation = Conversation(id=uuid.uuid4().hex, user_id=user_id, state={})
            s.add(conversation)
            s.flush()
        state = dict(conversation.state or {})
        if ticket is None and state.get("ticket_id"):
            ticket = s.get(Ticket, state["ticket_id"])
        if ticket is None:
            ticket = ticket_lifecycle.new_ticket(user_id=user_id, conversation_id=conversation.id,
                                                 user_input=text)
            s.add(ticket)
            s.flush()
        else:
            ticket.conversation_id = conversation.id
            if ticket.status == "queued":
                ticket_lifecycle.unqueue(ticket)
        s.add(Message(conversation_id=conversation.id, role="user", content=text,
                      ticket_id=ticket.id))
        state["ticket_id"] = ticket.id
        conversation.state = state
        return Turn(user_id, user.name, conversation.id, ticket.id, state, ticket.status, text)


def _headline_changes(ticket: Ticket, action: str, status: str) -> bool:
    """Does this turn's outcome become what the ticket shows? A pending question or proposal
    always gives way; something that happened gives way only to another consequential action."""
    if ticket.action in (None, "none") or ticket.result_status not in CONSEQUENTIAL:
        return True
    return action in CHANGING_TOOLS and status in (*CONSEQUENTIAL, "needs_confirmation")


def finish_turn(factory: sessionmaker[Session], turn: Turn, response: dict, state: dict,
                summary: str | None = None, request_text: str | None = None,
                confirmed_proposal: str | None = None) -> None:
    """Store the reply in the conversation, the action in the ticket's history, and the
    ticket's headline and status (through the lifecycle)."""
    result = response["action_result"]
    action, status = response["action"], result["status"]
    request_text = redact(request_text or turn.text)
    with transaction(factory) as s:
        ticket = s.get(Ticket, turn.ticket_id)
        proposal = response.get("proposal") or {}
        if action != "none":
            s.add(TicketAction(ticket_id=ticket.id, request_text=request_text,
                               intent=response["intent"], action=action,
                               order_id=response["order_id"], status=status, result=result,
                               response=response["response"],
                               proposal_id=proposal.get("id") or confirmed_proposal))
        if _headline_changes(ticket, action, status):
            ticket.intent = response["intent"]
            ticket.confidence = response["confidence"]
            ticket.order_id = response["order_id"]
            ticket.action = action
            ticket.result_status = status
            ticket.result = result
            ticket.response = response["response"]
            ticket.policy_sources = response["policy_sources"]
            if action != "none":
                ticket.user_input = request_text
        ticket.mode = response["mode"]
        ticket_lifecycle.after_answer(ticket, status, response["escalated"])
        s.add(Message(conversation_id=turn.conversation_id, role="assistant",
                      content=response["response"], ticket_id=ticket.id))
        conversation = s.get(Conversation, turn.conversation_id)
        conversation.state = {**state, "ticket_id": ticket.id}
        conversation.updated_at = utcnow()
        if summary and result.get("escalation_id"):
            case = s.get(EscalationCase, result["escalation_id"])
            if case is not None and case.user_id == turn.user_id and result.get(
                    "existing_case") is not True:
                case.summary = summary
        if confirmed_proposal:
            stored = s.get(Proposal, confirmed_proposal)
            if stored is not None and stored.response is None:
                stored.response = response


def person_on_ticket(factory: sessionmaker[Session], ticket_id: int) -> dict | None:
    """The staff member who owns this ticket's case (R12: the assistant stays silent), if any:
    their first name and when the customer was promised a first answer."""
    with reading(factory) as s:
        case = s.scalars(select(EscalationCase).where(
            EscalationCase.ticket_id == ticket_id, EscalationCase.status == "with_agent")
            .order_by(EscalationCase.id.desc()).limit(1)).first()
        if case is None:
            return None
        person = s.get(User, case.assigned_to) if case.assigned_to else None
        return {"case_id": case.id, "order_id": case.order_id,
                "first_name": (person.name.split() or ["Our team"])[0] if person else None,
                "due_at": getattr(case, "due_at", None),
                "answered_at": getattr(case, "first_response_at", None)}


def open_case_of(factory: sessionmaker[Session], user_id: int, ticket_id: int | None
                 ) -> dict | None:
    """The customer's open case (this ticket's first, else the latest)."""
    with reading(factory) as s:
        cases = list(s.scalars(select(EscalationCase).where(
            EscalationCase.user_id == user_id,
            EscalationCase.status.in_(("open", "with_agent"))).order_by(EscalationCase.id.desc())))
        if not cases:
            return None
        case = next((c for c in cases if c.ticket_id == ticket_id), cases[0])
        return {"id": case.id, "order_id": case.order_id, "created_at": case.created_at,
                "ticket_id": case.ticket_id,
                "due_at": getattr(case, "due_at", None), "priority": case.priority,
                "answered_at": getattr(case, "first_response_at", None),
                "awaiting_decision": case_lifecycle.awaiting_decision(case)}


def stored_response(factory: sessionmaker[Session], proposal_id: str) -> dict | None:
    """The reply sent when a proposal was confirmed (a repeat confirmation returns it)."""
    with reading(factory) as s:
        p = s.get(Proposal, proposal_id)
        return dict(p.response) if p is not None and p.response else None


def ticket_actions(factory: sessionmaker[Session], ticket_id: int) -> list[dict]:
    with reading(factory) as s:
        return [{"intent": a.intent, "action": a.action, "order_id": a.order_id,
                 "status": a.status, "request": a.request_text, "result": a.result,
                 "response": a.response, "proposal_id": a.proposal_id,
                 "created_at": a.created_at.isoformat(timespec="seconds") + "Z"}
                for a in s.scalars(select(TicketAction).where(TicketAction.ticket_id == ticket_id)
                                   .order_by(TicketAction.id))]


def conversation_view(factory: sessionmaker[Session], conversation_id: str) -> dict | None:
    with reading(factory) as s:
        conversation = s.get(Conversation, conversation_id)
        if conversation is None:
            return None
        return {
            "conversation_id": conversation.id, "user_id": conversation.user_id,
            "ticket_id": (conversation.state or {}).get("ticket_id"),
            "state": conversation.state or {},
            "created_at": conversation.created_at.isoformat() + "Z",
            "updated_at": conversation.updated_at.isoformat() + "Z",
            "messages": [{"role": m.role, "content": m.content, "author": m.author_name,
                          "created_at": m.created_at.isoformat() + "Z"}
                         for m in s.scalars(select(Message).where(
                             Message.conversation_id == conversation.id).order_by(Message.id))],
        }
