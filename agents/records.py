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
from db.engine import transaction
from db.models import Conversation, EscalationCase, Message, Ticket, User, utcnow
from tools.registry import CHANGING_TOOLS

STATUS_FOR_OUTCOME = {"success": "resolved", "denied": "resolved", "needs_info": "open",
                      "error": "open", "escalated": "escalated"}


@dataclass
class Turn:
    user_id: int
    user_name: str
    conversation_id: str
    ticket_id: int
    state: dict = field(default_factory=dict)


def user_exists(factory: sessionmaker[Session], user_id: int) -> bool:
    if not 0 < user_id < 2**31:  # outside the id column's range: cannot exist
        return False
    with transaction(factory) as s:
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
            ticket = Ticket(user_id=user_id, conversation_id=conversation.id, status="open",
                            user_input=text)
            s.add(ticket)
            s.flush()
        else:
            ticket.conversation_id = conversation.id
            if ticket.status == "queued":
                ticket.status = "open"
        s.add(Message(conversation_id=conversation.id, role="user", content=text,
                      ticket_id=ticket.id))
        state["ticket_id"] = ticket.id
        conversation.state = state
        return Turn(user_id, user.name, conversation.id, ticket.id, state)


def finish_turn(factory: sessionmaker[Session], turn: Turn, response: dict, state: dict,
                summary: str | None = None) -> None:
    """Store the outcome on the ticket and the reply in the conversation."""
    result = response["action_result"]
    with transaction(factory) as s:
        ticket = s.get(Ticket, turn.ticket_id)
        no_action = response["action"] == "none" and result["status"] == "success"
        # A follow-up that only informs ("where is it now?", "how long will it take?") must not
        # replace the ticket's headline when that is an action already taken or refused.
        informational = response["action"] not in CHANGING_TOOLS
        keeps_headline = (informational and ticket.action in CHANGING_TOOLS
                          and ticket.result_status in ("success", "escalated", "denied"))
        if not keeps_headline and not (no_action and ticket.action not in (None, "none")):
            ticket.intent = response["intent"]
            ticket.confidence = response["confidence"]
            ticket.order_id = response["order_id"]
            ticket.action = response["action"]
            ticket.result_status = result["status"]
            ticket.result = result
        ticket.response = response["response"]
        ticket.policy_sources = response["policy_sources"]
        ticket.mode = response["mode"]
        if response["escalated"] or ticket.status == "escalated":
            ticket.status = "escalated"
        elif not (no_action and ticket.status == "resolved"):
            ticket.status = STATUS_FOR_OUTCOME[result["status"]]
        s.add(Message(conversation_id=turn.conversation_id, role="assistant",
                      content=response["response"], ticket_id=ticket.id))
        conversation = s.get(Conversation, turn.conversation_id)
        conversation.state = {**state, "ticket_id": ticket.id}
        conversation.updated_at = utcnow()
        if summary and result.get("escalation_id"):
            case = s.get(EscalationCase, result["escalation_id"])
            if case is not None and case.user_id == turn.user_id:
                case.summary = summary


def conversation_view(factory: sessionmaker[Session], conversation_id: str) -> dict | None:
    with transaction(factory) as s:
        conversation = s.get(Conversation, conversation_id)
        if conversation is None:
            return None
        return {
            "conversation_id": conversation.id, "user_id": conversation.user_id,
            "ticket_id": (conversation.state or {}).get("ticket_id"),
            "state": conversation.state or {},
            "created_at": conversation.created_at.isoformat() + "Z",
            "updated_at": conversation.updated_at.isoformat() + "Z",
            "messages": [{"role": m.role, "content": m.content,
                          "created_at": m.created_at.isoformat() + "Z"}
                         for m in s.scalars(select(Message).where(
                             Message.conversation_id == conversation.id).order_by(Message.id))],
        }
