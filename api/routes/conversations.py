"""Conversations: read the transcript and state, or delete it."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path, Query
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import Response

from agents.errors import NotFound
from agents.records import conversation_view
from api.deps import ServicesDep, SettingsDep
from api.schemas import ERROR_RESPONSES, INT64, ConversationView
from api.services import tickets

router = APIRouter(tags=["conversations"])
ConversationId = Annotated[str, Path(max_length=64)]
# SPEC: "Every endpoint that takes a user_id is scoped by it": with user_id, another user's
# conversation is a 404 exactly like a missing one (the portal always sends it).
UserQuery = Annotated[int | None, Query(ge=-INT64, le=INT64, description=(
    "The customer whose conversation it is: another user's is a 404, like a missing one."))]


@router.get("/conversation/{conversation_id}", response_model=ConversationView,
            responses=ERROR_RESPONSES)
async def get_conversation(conversation_id: ConversationId, services: ServicesDep,
                           user_id: UserQuery = None):
    """Messages and state; with `user_id`, only if the conversation is that user's."""
    view = await run_in_threadpool(conversation_view, services.session_factory, conversation_id)
    if view is None or (user_id is not None and view["user_id"] != user_id):
        raise NotFound("conversation", "No such conversation.")
    return view


@router.delete("/conversation/{conversation_id}", status_code=204, responses=ERROR_RESPONSES)
async def delete_conversation(conversation_id: ConversationId, services: ServicesDep,
                              settings: SettingsDep, user_id: UserQuery = None):
    """Delete the transcript and state (tickets keep their outcome; an open offer is
    withdrawn). 409 `conversation_has_open_case` while our team works on a case about it."""
    await run_in_threadpool(tickets.delete_conversation, services.session_factory,
                            services.runner, settings, conversation_id, user_id)
    return Response(status_code=204)
