"""POST /support/resolve: one customer message in, the agent's decision and reply out."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Header, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import JSONResponse

from api.deps import RequestIdDep, ServicesDep, limit_user
from api.schemas import ERROR_RESPONSES, ConfirmRequest, ResolveRequest, ResolveResponse
from api.services import idempotency
from tools.registry import watching_confirmations

router = APIRouter(tags=["support"])


@router.post("/support/resolve", response_model=ResolveResponse, responses=ERROR_RESPONSES,
             summary="Resolve a customer's issue")
async def resolve(body: ResolveRequest, request: Request, services: ServicesDep,
                  request_id: RequestIdDep,
                  idempotency_key: Annotated[str | None, Header(alias="Idempotency-Key")] = None):
    """Classify, retrieve policy, decide and act (at most one action), and reply.

    Send an `Idempotency-Key` header to make retries safe: a repeat returns the first result
    (`Idempotent-Replayed: true`); a repeat while the first is still running waits for it, and
    after IDEMPOTENCY_WAIT_SECONDS gets 409 `idempotency_in_progress` with Retry-After.
    """
    await limit_user(request, body.user_id)
    factory = services.session_factory

    repeats = []

    def work() -> dict:
        with watching_confirmations() as confirmations:
            response = services.agent.resolve(body.user_id, body.user_input,
                                              body.conversation_id, request_id=request_id,
                                              ticket_id=body.ticket_id)
        # a "yes" that got an earlier confirmation's result ran nothing: not counted again
        repeats.append(bool(confirmations) and not any(confirmations))
        # exactly what the client receives, so a replay of the stored copy is the same answer
        return ResolveResponse.model_validate(response).model_dump(mode="json")

    if idempotency_key is None:
        response = await run_in_threadpool(work)
    else:
        response = await idempotency.run_once(factory, request.app.state.settings,
                                              idempotency_key, "resolve", body.model_dump(),
                                              request_id, work, request.app.state.metrics)
        if isinstance(response, JSONResponse):  # a replay: counted when it first ran
            return response
    if not any(repeats):
        request.app.state.metrics.record_resolve(response)
    return response


@router.post("/support/confirm", response_model=ResolveResponse, responses=ERROR_RESPONSES,
             summary="Confirm a proposed action")
async def confirm(body: ConfirmRequest, request: Request, services: ServicesDep,
                  request_id: RequestIdDep):
    """Run the proposed refund, cancellation or replacement (the customer's yes, R11), with
    every rule checked again now. At most once: a repeat returns the first result. Unknown or
    another user's proposal: 404; dropped or expired: 409."""
    await limit_user(request, body.user_id)

    def work() -> tuple[dict, bool]:
        with watching_confirmations() as confirmations:
            response = services.agent.confirm(body.user_id, body.proposal_id, request_id)
        return response, any(confirmations)

    response, ran = await run_in_threadpool(work)
    if ran:  # a repeat returns the first result and is not counted again (R8)
        request.app.state.metrics.record_resolve(response)
    return response


@router.post("/support/decline", response_model=ResolveResponse, responses=ERROR_RESPONSES,
             summary="Decline a proposed action")
async def decline(body: ConfirmRequest, request: Request, services: ServicesDep,
                  request_id: RequestIdDep):
    """The customer's "not now": the proposal is dropped and nothing changes. A confirmed
    proposal cannot be declined (409)."""
    await limit_user(request, body.user_id)
    return await run_in_threadpool(services.agent.decline, body.user_id, body.proposal_id,
                                   request_id)
