"""Queued tickets: requests kept while the agent service was down, processed when it is back.

A retry sends the ticket's own id to /support/resolve and the API fills in that same
ticket. Workers (page views, the background loop, other portal processes) take a
short lease on a ticket in the database before calling the API, so one ticket is
never sent twice at once; the lease and the retry bookkeeping live in the ticket's
own `queued_requests` row, never inside the ticket's result.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import timedelta
from typing import Literal

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from audit.redact import redact
from db import ticket_lifecycle
from db.engine import transaction
from db.models import QueuedRequest, Ticket, utcnow
from frontend.api_client import ApiError, ApiUnavailable
from frontend.state import PortalState

log = logging.getLogger(__name__)

Outcome = Literal["processed", "unavailable", "rejected", "skipped"]


def queued_ids(factory: sessionmaker[Session], user_id: int | None = None,
               limit: int = 50) -> list[int]:
    query = select(Ticket.id).where(Ticket.status == "queued")
    if user_id is not None:
        query = query.where(Ticket.user_id == user_id)
    with transaction(factory) as session:
        return list(session.scalars(query.order_by(Ticket.id).limit(limit)))


def _bookkeeping(session: Session, ticket: Ticket) -> QueuedRequest:
    row = session.get(QueuedRequest, ticket.id, with_for_update=True)
    if row is None:  # a ticket queued before this table existed
        row = QueuedRequest(ticket_id=ticket.id, attempts=0)
        session.add(row)
    return row


@dataclass
class Claimed:
    ticket_id: int
    user_id: int
    user_input: str
    conversation_id: str | None
    replay_key: str | None


def claim(factory: sessionmaker[Session], ticket_id: int, lease_seconds: float) -> Claimed | None:
    """Take the ticket for one attempt, or None if it is done, leased, or backing off."""
    now = utcnow()
    with transaction(factory) as session:
        ticket = session.get(Ticket, ticket_id, with_for_update=True)
        if ticket is None or ticket.status != "queued":
            return None
        row = _bookkeeping(session, ticket)
        for gate in (row.claimed_until, row.retry_after):
            if gate is not None and gate > now:
                return None
        row.claimed_until = now + timedelta(seconds=lease_seconds)
        row.attempts = (row.attempts or 0) + 1
        return Claimed(ticket.id, ticket.user_id, ticket.user_input, ticket.conversation_id,
                       row.replay_key)


def release(factory: sessionmaker[Session], ticket_id: int, error: str,
            backoff_seconds: float) -> None:
    now = utcnow()
    with transaction(factory) as session:
        ticket = session.get(Ticket, ticket_id, with_for_update=True)
        if ticket is None or ticket.status != "queued":
            return
        row = _bookkeeping(session, ticket)
        row.claimed_until = None
        row.last_error = redact(error)[:300]
        row.retry_after = now + timedelta(seconds=backoff_seconds)


def reject(factory: sessionmaker[Session], ticket_id: int, message: str) -> None:
    """The API refused this request for good: close it and say why, keeping the text."""
    message = redact(message)  # the service's words may quote the customer's
    with transaction(factory) as session:
        ticket = session.get(Ticket, ticket_id, with_for_update=True)
        if ticket is None or ticket.status != "queued":
            return
        ticket_lifecycle.reject(ticket)
        ticket.result_status = "error"
        ticket.result = {"status": "error", "reason": message[:300]}
        ticket.response = ("We couldn't process this request automatically "
                           f"({message[:300]}). Please send it again as a new request.")
        _forget(session, ticket_id)


def _forget(session: Session, ticket_id: int) -> None:
    row = session.get(QueuedRequest, ticket_id)
    if row is not None:
        session.delete(row)


def _settle(factory: sessionmaker[Session], ticket_id: int, answer: dict) -> None:
    """Normally the API has filled the ticket in; if it did not, record where the answer went."""
    with transaction(factory) as session:
        ticket = session.get(Ticket, ticket_id, with_for_update=True)
        if ticket is None:
            return
        if ticket.status != "queued":  # the API filled it in: the bookkeeping is done
            _forget(session, ticket_id)
            return
        if answer.get("ticket_id") not in (None, ticket_id):
            # A replayed request, or a reply answered in its conversation's own ticket: the
            # message and its answer are there; this copy is closed with a pointer to it.
            ticket_lifecycle.reject(ticket)
            _forget(session, ticket_id)
            ticket.response = redact(f"This request was answered in ticket "
                                     f"#{answer['ticket_id']}: " + (answer.get("response") or ""))
            ticket.result, ticket.result_status = {"answered_in": answer["ticket_id"]}, None
            return
        log.warning("queued ticket %s still queued after the API answered (ticket_id=%s)",
                    ticket_id, answer.get("ticket_id"))
        ticket_lifecycle.unqueue(ticket)
        if answer.get("escalated"):
            ticket_lifecycle.escalate(ticket)
        _forget(session, ticket_id)
        ticket.conversation_id = answer.get("conversation_id") or ticket.conversation_id
        for name in ("intent", "confidence", "order_id", "action", "response", "policy_sources",
                     "mode"):
            setattr(ticket, name, answer.get(name))
        ticket.response = redact(ticket.response) if ticket.response else ticket.response
        result = answer.get("action_result") or {}
        ticket.result = result
        ticket.result_status = result.get("status")


def _send(state: PortalState, ticket: Claimed, timeout: float | None) -> dict:
    """A request that may already have reached the service (it timed out) is replayed with its
    original Idempotency-Key and body, so the service answers from its record instead of
    acting twice; any other queued request is sent to fill in this ticket."""
    replay_key = ticket.replay_key
    if replay_key:
        try:
            return state.api.resolve(user_input=ticket.user_input, user_id=ticket.user_id,
                                     conversation_id=ticket.conversation_id,
                                     idempotency_key=replay_key, timeout=timeout)
        except ApiError as exc:
            if exc.code != "idempotency_conflict":
                raise
    # A reply kept while the service was down belongs to its conversation: the API answers it
    # in the conversation's own ticket (which keeps its number, status and any open case); only
    # a first message, which has no conversation yet, fills in the queued ticket itself.
    return state.api.resolve(
        user_input=ticket.user_input, user_id=ticket.user_id,
        conversation_id=ticket.conversation_id,
        ticket_id=None if ticket.conversation_id else ticket.ticket_id,
        idempotency_key=f"portal-u{ticket.user_id}-ticket-{ticket.ticket_id}", timeout=timeout)


def process(state: PortalState, ticket_id: int, timeout: float | None = None) -> Outcome:
    lease = (timeout or state.settings.api_timeout_seconds) + 5.0
    ticket = claim(state.factory, ticket_id, lease)
    if ticket is None:
        return "skipped"
    try:
        answer = _send(state, ticket, timeout)
    except ApiUnavailable as exc:
        release(state.factory, ticket_id, str(exc), state.retry_backoff_seconds)
        return "unavailable"
    except ApiError as exc:
        if exc.retryable:
            log.error("agent service refused a queued ticket (%s); check SUPPORT_API_KEY", exc)
            release(state.factory, ticket_id, str(exc), state.retry_backoff_seconds)
            return "unavailable"
        reject(state.factory, ticket_id, exc.message)
        return "rejected"
    except Exception as exc:  # never lose the ticket to an unexpected bug
        log.exception("retrying queued ticket %s failed", ticket_id)
        release(state.factory, ticket_id, type(exc).__name__, state.retry_backoff_seconds)
        return "unavailable"
    _settle(state.factory, ticket_id, answer)
    return "processed"


def retry_queued(state: PortalState, user_id: int | None = None, limit: int = 50,
                 timeout: float | None = None) -> dict[str, int]:
    """Oldest first; stop at the first sign the service is down rather than wait on each one."""
    counts = {"processed": 0, "unavailable": 0, "rejected": 0, "skipped": 0}
    for ticket_id in queued_ids(state.factory, user_id, limit):
        outcome = process(state, ticket_id, timeout)
        counts[outcome] += 1
        if outcome == "unavailable":
            break
    return counts
