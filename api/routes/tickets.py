"""Tickets: list a user's, read one, and rate the outcome (unsatisfied escalates, R6)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Request
from fastapi.concurrency import run_in_threadpool

from api.deps import RequestIdDep, ServicesDep, SettingsDep
from api.schemas import ERROR_RESPONSES, INT64, FeedbackRequest, TicketList, TicketView
from api.services import tickets

router = APIRouter(tags=["tickets"])
IdQuery = Annotated[int, Query(ge=-INT64, le=INT64)]


@router.get("/tickets", response_model=TicketList, responses=ERROR_RESPONSES)
async def list_tickets(user_id: IdQuery, services: ServicesDep):
    """A user's tickets, newest first."""
    return await run_in_threadpool(tickets.list_tickets, services.session_factory, user_id)


@router.get("/tickets/{ticket_id}", response_model=TicketView, responses=ERROR_RESPONSES)
async def get_ticket(ticket_id: int, services: ServicesDep,
                     user_id: Annotated[int | None, Query(ge=-INT64, le=INT64)] = None):
    """One ticket; with `user_id`, only if it belongs to that user (another user's is a 404,
    like a missing one)."""
    return await run_in_threadpool(tickets.get_ticket, services.session_factory, ticket_id,
                                   user_id)


@router.post("/tickets/{ticket_id}/feedback", response_model=TicketView,
             responses=ERROR_RESPONSES)
async def feedback(ticket_id: int, body: FeedbackRequest, request: Request,
                   services: ServicesDep, settings: SettingsDep, request_id: RequestIdDep,
                   user_id: Annotated[int | None, Query(ge=-INT64, le=INT64)] = None):
    """Rate a resolution, once (a second answer is a 409; while an offer on the ticket waits
    for the customer's yes or no, 409 `offer_open`). `satisfied: false` hands the ticket to a
    person (escalated). `user_id` (query or body) scopes it: another user's ticket is a 404,
    like a missing one."""
    owner = tickets.scoped_user(user_id, body.user_id)
    view = await run_in_threadpool(
        tickets.give_feedback, services.session_factory, services.runner, settings, ticket_id,
        body.satisfied, body.rating, body.comment, owner, request_id)
    if view.get("escalation"):
        request.app.state.metrics.escalations.labels("feedback").inc()
    return view
