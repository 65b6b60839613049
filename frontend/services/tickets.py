"""Tickets as the customer sees them: their own only, with the conversation behind each."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from audit.redact import redact
from db import ticket_lifecycle
from db.engine import transaction
from db.models import Message, QueuedRequest, Ticket, TicketAction, utcnow


def list_for_user(factory: sessionmaker[Session], user_id: int) -> list[Ticket]:
    with transaction(factory) as session:
        return list(session.scalars(select(Ticket).where(Ticket.user_id == user_id)
                                    .order_by(Ticket.created_at.desc(), Ticket.id.desc())))


def get_for_user(factory: sessionmaker[Session], user_id: int, ticket_id: int) -> Ticket | None:
    """Another customer's ticket and a missing one look the same (the view turns both into 404)."""
    with transaction(factory) as session:
        ticket = session.get(Ticket, ticket_id)
        return ticket if ticket is not None and ticket.user_id == user_id else None


def transcript(factory: sessionmaker[Session], conversation_id: str | None) -> list[Message]:
    if not conversation_id:
        return []
    with transaction(factory) as session:
        return list(session.scalars(select(Message)
                                    .where(Message.conversation_id == conversation_id)
                                    .order_by(Message.id)))


def stands_in(ticket: Ticket) -> bool:
    """A reply kept while the service was down (queued), or one since answered in its
    conversation's own ticket: not the conversation's ticket, so never its page or its card."""
    return bool(ticket.conversation_id) and (
        ticket.status == "queued" or bool((ticket.result or {}).get("answered_in")))


def conversation_ticket(tickets: list[Ticket]) -> Ticket | None:
    """The ticket that stands for a conversation: its latest real one (number, status, case)."""
    real = [t for t in tickets if not stands_in(t)] or tickets
    return max(real, key=lambda t: t.id) if real else None


def conversation_tickets(factory: sessionmaker[Session], user_id: int,
                         conversation_id: str | None) -> list[Ticket]:
    if not conversation_id:
        return []
    with transaction(factory) as session:
        return list(session.scalars(select(Ticket).where(
            Ticket.user_id == user_id, Ticket.conversation_id == conversation_id)
            .order_by(Ticket.id)))


def actions(factory: sessionmaker[Session], ticket_id: int) -> list[TicketAction]:
    """Everything done on this ticket, oldest first (the page lists them all)."""
    with transaction(factory) as session:
        return list(session.scalars(select(TicketAction).where(TicketAction.ticket_id == ticket_id)
                                    .order_by(TicketAction.id)))


def create_queued(factory: sessionmaker[Session], user_id: int, text: str,
                  conversation_id: str | None, request_key: str | None, error: str,
                  backoff_seconds: float, replay_key: str | None = None) -> int:
    """Keep what the customer typed when the agent service cannot take it right now.

    The same form submitted twice (a double click while the API is down) keeps one ticket.
    What the customer typed and the error are stored PII-redacted (redacting twice changes
    nothing, so text support.submit already redacted is kept as it was sent).
    """
    text, error = redact(text), redact(error)
    now = utcnow()
    with transaction(factory) as session:
        if request_key:
            same = session.scalar(select(Ticket.id).join(
                QueuedRequest, QueuedRequest.ticket_id == Ticket.id).where(
                Ticket.user_id == user_id, Ticket.status == "queued",
                QueuedRequest.request_key == request_key))
            if same is not None:
                return same
        ticket = ticket_lifecycle.queued_ticket(
            user_id=user_id, conversation_id=conversation_id, user_input=text,
            created_at=now, updated_at=now)
        session.add(ticket)
        session.flush()
        session.add(QueuedRequest(
            ticket_id=ticket.id, request_key=request_key, replay_key=replay_key, attempts=1,
            last_error=error[:300], retry_after=now + timedelta(seconds=backoff_seconds)))
        return ticket.id


SOLVED = ("resolved", "closed")


@dataclass
class ConversationCard:
    """One row of My conversations: the latest ticket of a conversation and its last message."""

    ticket: Ticket
    last_role: str
    last_text: str
    last_at: datetime
    last_message_id: int

    @property
    def key(self) -> str:
        return f"c{self.ticket.conversation_id}" if self.ticket.conversation_id else \
            f"t{self.ticket.id}"

    @property
    def solved(self) -> bool:
        return self.ticket.status in SOLVED


def conversation_cards(factory: sessionmaker[Session], user_id: int) -> list[ConversationCard]:
    """A customer's conversations, most recent activity first (a ticket kept while the service
    was down has no conversation yet and is its own card)."""
    with transaction(factory) as session:
        tickets = list(session.scalars(select(Ticket).where(Ticket.user_id == user_id)
                                       .order_by(Ticket.id.desc())))
        grouped: dict[str, list[Ticket]] = {}
        for t in tickets:
            grouped.setdefault(t.conversation_id or f"#{t.id}", []).append(t)
        latest = {key: conversation_ticket(group) for key, group in grouped.items()}
        waiting = {key: max((t for t in group if t.status == "queued" and t.conversation_id),
                            key=lambda t: t.id, default=None) for key, group in grouped.items()}
        conversation_ids = [t.conversation_id for t in latest.values() if t.conversation_id]
        last_ids = dict(session.execute(
            select(Message.conversation_id, func.max(Message.id))
            .where(Message.conversation_id.in_(conversation_ids))
            .group_by(Message.conversation_id)).all()) if conversation_ids else {}
        last = {m.conversation_id: m for m in session.scalars(
            select(Message).where(Message.id.in_(list(last_ids.values()))))} if last_ids else {}
    cards = []
    for key, t in latest.items():
        m = last.get(t.conversation_id)
        kept = waiting.get(key)
        if kept is not None:  # the customer's newest words, not sent yet: they lead the card
            cards.append(ConversationCard(t, "user", kept.user_input, kept.created_at,
                                          m.id if m is not None else 0))
        elif m is not None:
            cards.append(ConversationCard(t, m.role, m.content, m.created_at, m.id))
        else:
            cards.append(ConversationCard(t, "user", t.user_input, t.updated_at or t.created_at,
                                          0))
    cards.sort(key=lambda c: (c.last_at, c.ticket.id), reverse=True)
    return cards


def last_messages(factory: sessionmaker[Session], ticket_ids: list[int]) -> dict[int, Message]:
    """The latest message of each ticket's conversation (the staff queue's cards show it)."""
    ids = [t for t in ticket_ids if t is not None]
    if not ids:
        return {}
    with transaction(factory) as session:
        conversations = dict(session.execute(
            select(Ticket.id, Ticket.conversation_id).where(Ticket.id.in_(ids))).all())
        wanted = [c for c in conversations.values() if c]
        if not wanted:
            return {}
        newest = dict(session.execute(
            select(Message.conversation_id, func.max(Message.id))
            .where(Message.conversation_id.in_(wanted))
            .group_by(Message.conversation_id)).all())
        messages = {m.conversation_id: m for m in session.scalars(
            select(Message).where(Message.id.in_(list(newest.values()))))}
    return {t: messages[c] for t, c in conversations.items() if c in messages}
