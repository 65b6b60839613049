"""Tickets and conversations as the API shows them, and customer feedback (R6 on unsatisfied)."""

from __future__ import annotations

from sqlalchemy import delete, select

from agents.errors import NotFound
from agents.records import ticket_actions, user_exists
from api.errors import ApiError
from audit.redact import redact
from db import case_lifecycle
from db.engine import transaction
from db.models import Conversation, EscalationCase, Message, Proposal, Ticket, utcnow
from tools.base import ToolContext
from tools.proposals import OPEN, open_for_conversation


def _iso(value) -> str:
    return value.isoformat(timespec="seconds") + "Z"


def ticket_view(t: Ticket) -> dict:
    return {
        "ticket_id": t.id, "user_id": t.user_id, "conversation_id": t.conversation_id,
        "status": t.status, "user_input": t.user_input, "intent": t.intent,
        "confidence": t.confidence, "order_id": t.order_id, "action": t.action,
        "action_result": t.result, "response": t.response, "policy_sources": t.policy_sources,
        "escalated": t.status == "escalated", "mode": t.mode, "satisfied": t.satisfied,
        "rating": t.rating, "feedback_comment": t.feedback_comment,
        "created_at": _iso(t.created_at), "updated_at": _iso(t.updated_at),
    }


def _valid_id(value: int) -> bool:
    return 0 < value < 2**31


def list_tickets(factory, user_id: int) -> dict:
    if not user_exists(factory, user_id):
        raise NotFound("user", f"No user with id {user_id}.")
    with transaction(factory) as s:
        tickets = s.scalars(select(Ticket).where(Ticket.user_id == user_id)
                            .order_by(Ticket.created_at.desc(), Ticket.id.desc()))
        return {"user_id": user_id, "tickets": [ticket_view(t) for t in tickets]}


def get_ticket(factory, ticket_id: int, user_id: int | None = None) -> dict:
    with transaction(factory) as s:
        ticket = s.get(Ticket, ticket_id) if _valid_id(ticket_id) else None
        if ticket is None or (user_id is not None and ticket.user_id != user_id):
            raise NotFound("ticket", f"No ticket with id {ticket_id}.")
        view = ticket_view(ticket)
    view["actions"] = ticket_actions(factory, ticket_id)
    return view


def scoped_user(*candidates: int | None) -> int | None:
    """The user a request is scoped to, from the query or the body. Two different ones can't
    both own the object: -1 matches no one, so the answer is a 404 like any other."""
    given = {c for c in candidates if c is not None}
    return None if not given else given.pop() if len(given) == 1 else -1


def give_feedback(factory, runner, settings, ticket_id: int, satisfied: bool, rating: int | None,
                  comment: str | None, user_id: int | None, request_id: str) -> dict:
    """Store the rating, once per ticket (a second answer is a 409 and the first is kept); an
    unsatisfied customer gets a person (R6), on the ticket's one open case (R12)."""
    with transaction(factory) as s:
        ticket = s.get(Ticket, ticket_id, with_for_update=True) if _valid_id(ticket_id) else None
        if ticket is None or (user_id is not None and ticket.user_id != user_id):
            raise NotFound("ticket", f"No ticket with id {ticket_id}.")
        if ticket.satisfied is not None:
            raise ApiError(409, "Feedback for this ticket was already given; the first answer "
                                "is kept.", "feedback_already_given")
        if ticket.status == "queued":
            raise ApiError(409, "This request hasn't been processed yet, so it can't be rated.",
                           "ticket_not_processed")
        if _offer_waiting(s, ticket_id):
            raise ApiError(409, "An offer on this ticket is still waiting for the customer's "
                                "answer: confirm or decline it first, then rate the outcome. "
                                "Nothing was changed.", "offer_open")
        comment = redact((comment or "").strip()) or None  # customer text: redacted before storing
        ticket.satisfied, ticket.rating = satisfied, rating
        ticket.feedback_comment = comment
        owner, order_id, conversation_id = ticket.user_id, ticket.order_id, ticket.conversation_id
        already_open = s.scalar(select(EscalationCase.id).where(
            EscalationCase.ticket_id == ticket_id, EscalationCase.status == "open"))
    escalation = None
    if not satisfied and not already_open:
        ctx = ToolContext(user_id=owner, settings=settings, request_id=request_id,
                          conversation_id=conversation_id, ticket_id=ticket_id,
                          summary=f"Customer rated ticket #{ticket_id} unsatisfied"
                                  + (f" ({rating}/5)" if rating else "")
                                  + (f": \"{comment[:500]}\"" if comment else "."))
        result = runner.invoke("escalate_case", ctx, kind="unsatisfied", order_id=order_id,
                               reason="Customer rated the resolution unsatisfied")
        escalation = result.as_action_result()
    view = get_ticket(factory, ticket_id)
    view["escalation"] = escalation
    return view


def _open_case_in(session, conversation_id: str) -> int | None:
    """The id of a case a person still works on (open or with_agent) about this conversation."""
    return session.scalar(
        select(EscalationCase.id).join(Ticket, Ticket.id == EscalationCase.ticket_id)
        .where(Ticket.conversation_id == conversation_id,
               EscalationCase.status.in_(case_lifecycle.ACTIVE))
        .order_by(EscalationCase.id).limit(1))


def _refuse_while_a_case_is_open(session, conversation_id: str) -> None:
    case_id = _open_case_in(session, conversation_id)
    if case_id is not None:
        raise ApiError(409, (
            f"This conversation can't be deleted while our team is working on case #{case_id} "
            "about it: they need it to answer you. It can be deleted once the case is resolved "
            "or closed; nothing was deleted."), "conversation_has_open_case")


def _offer_waiting(session, ticket_id: int) -> bool:
    """An offer (R11) on the ticket that can still be confirmed: rating the ticket now would
    judge, and maybe escalate, a request that may yet go ahead."""
    return session.scalar(select(Proposal.id).where(
        Proposal.ticket_id == ticket_id, Proposal.state == OPEN,
        Proposal.expires_at > utcnow()).limit(1)) is not None


def delete_conversation(factory, runner, settings, conversation_id: str,
                        user_id: int | None) -> None:
    """Delete the transcript and state; an offer still open in it is withdrawn first (R11).

    Refused (409) while an escalation case about it is open: the person on the case replies
    into this conversation and reads it as the case's transcript, so deleting it would take
    the case's history away mid-way. Checked again in the deleting transaction, so a case
    opened meanwhile still stops it."""
    with transaction(factory) as s:
        conversation = s.get(Conversation, conversation_id)
        if conversation is None or (user_id is not None and conversation.user_id != user_id):
            raise NotFound("conversation", "No such conversation.")
        _refuse_while_a_case_is_open(s, conversation_id)
        user_id = conversation.user_id
        offers = [p.id for p in open_for_conversation(s, user_id, conversation_id)]
    ctx = ToolContext(user_id=user_id, settings=settings, conversation_id=conversation_id)
    for proposal_id in offers:
        runner.drop(proposal_id, ctx, "the conversation was deleted")
    with transaction(factory) as s:
        conversation = s.get(Conversation, conversation_id, with_for_update=True)
        if conversation is None:
            return
        _refuse_while_a_case_is_open(s, conversation_id)
        s.execute(delete(Message).where(Message.conversation_id == conversation_id))
        s.delete(conversation)
