"""Sending what a customer typed to the agent service, and keeping it when the service is down."""

from __future__ import annotations

import logging
import re
import uuid
from dataclasses import dataclass

from audit.redact import redact
from frontend.api_client import ApiError, ApiUnavailable
from frontend.services.tickets import create_queued
from frontend.state import PortalState

log = logging.getLogger(__name__)

MAX_INPUT_CHARS = 4000
_ORDER_REF = re.compile(r"#\s*[A-Za-z0-9][A-Za-z0-9\-_]*|\border\s*(?:no\.?|number|num\.?)?\s*"
                        r"[A-Za-z0-9\-_]*\d", re.IGNORECASE)


@dataclass
class Submitted:
    ticket_id: int
    queued: bool


class Refused(Exception):
    """The API understood the request and refused it (a 4xx); nothing was queued."""

    def __init__(self, message: str):
        super().__init__(message)
        self.message = message


def mentions_an_order(text: str, own_order_ids: list[str]) -> bool:
    if _ORDER_REF.search(text):
        return True
    return any(re.search(rf"(?<![A-Za-z0-9]){re.escape(oid)}(?![A-Za-z0-9])", text)
               for oid in own_order_ids)


def with_picked_order(text: str, picked: str | None, own_order_ids: list[str]) -> str:
    """A picked order is added to the text unless the customer already named an order."""
    text = text.strip()
    if picked and picked in own_order_ids and not mentions_an_order(text, own_order_ids):
        return f"{text} (order #{picked})"
    return text


def idempotency_key(user_id: int, request_key: str | None) -> str | None:
    return f"portal-u{user_id}-{request_key}" if request_key else None


def _resolve(state: PortalState, user_id: int, text: str, conversation_id: str | None,
             request_key: str | None) -> dict:
    return state.api.resolve(
        user_input=text, user_id=user_id, conversation_id=conversation_id,
        idempotency_key=idempotency_key(user_id, request_key))


def submit(state: PortalState, user_id: int, text: str, conversation_id: str | None = None,
           request_key: str | None = None) -> Submitted:
    """Ask the agent; if it cannot answer now, keep the request as a queued ticket.

    `request_key` comes from the form, so submitting one form twice runs it once (R8). A form
    sent again with different text (back button, edit, send) is a new request: new key.

    The text is PII-redacted first (audit/redact.py, SPEC: nothing holds it raw), and that one
    redacted text is both what is sent and what a queued ticket keeps: a retry that replays a
    timed-out request must send the very body the service may already hold under its key.
    """
    text = redact(text)
    try:
        try:
            answer = _resolve(state, user_id, text, conversation_id, request_key)
        except ApiError as exc:
            if exc.code != "idempotency_conflict":
                raise
            request_key = uuid.uuid4().hex
            answer = _resolve(state, user_id, text, conversation_id, request_key)
        ticket_id = answer.get("ticket_id")
        if not isinstance(ticket_id, int):
            raise ApiUnavailable("the support service answered without a ticket id")
        return Submitted(ticket_id=ticket_id, queued=False)
    except ApiUnavailable as exc:
        error = str(exc)
        # The service may have acted before the time-out: the retry must replay this request.
        replay_key = idempotency_key(user_id, request_key) if exc.maybe_delivered else None
    except ApiError as exc:
        if exc.code == "idempotency_in_progress":
            raise Refused("your previous message is still being processed. Please check My "
                          "tickets in a moment.") from exc
        if not exc.retryable:
            raise Refused(exc.message) from exc
        log.error("agent service refused the portal (%s); queueing the request", exc)
        error, replay_key = str(exc), None
    log.warning("queueing a request for user %s: %s", user_id, error)
    ticket_id = create_queued(state.factory, user_id, text, conversation_id, request_key, error,
                              state.retry_backoff_seconds, replay_key)
    return Submitted(ticket_id=ticket_id, queued=True)
