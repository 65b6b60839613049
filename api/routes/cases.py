"""Staff API: escalation cases and what a person does with them (SPEC "Staff API")."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query
from fastapi.concurrency import run_in_threadpool

from api.deps import RequestIdDep, ServicesDep, SettingsDep
from api.schemas import ERROR_RESPONSES, INT64
from api.services import case_decisions, case_views, cases
from api.staff_schemas import (
    AssignRequest,
    CaseDetail,
    CaseList,
    CaseStatus,
    DecisionRequest,
    NoteOnCloseRequest,
    NoteRequest,
    ReplyRequest,
    StaffRequest,
)

router = APIRouter(tags=["staff"])
RESPONSES = {**ERROR_RESPONSES,
             403: {"description": "staff_id is not a member of staff"},
             409: {"description": "Not allowed from the case's state (e.g. a second decision)"}}
# SPEC's table reads `GET /cases?status=` and `GET /cases/{id}`: reads work with the API key;
# a staff_id given must be a member of staff (403 otherwise). Every change names one (body).
StaffQuery = Annotated[int | None, Query(ge=-INT64, le=INT64, description=(
    "If given, must be a member of staff (403 otherwise)."))]


@router.get("/cases", response_model=CaseList, responses=RESPONSES)
async def list_cases(services: ServicesDep, status: CaseStatus | None = None,
                     staff_id: StaffQuery = None):
    """Escalation cases: waiting ones first, by the time their first answer is due."""
    return await run_in_threadpool(case_views.list_cases, services.session_factory, status,
                                   staff_id)


@router.get("/cases/{case_id}", response_model=CaseDetail, responses=RESPONSES)
async def get_case(case_id: int, services: ServicesDep, staff_id: StaffQuery = None):
    """One case with its ticket's transcript, internal notes and audit events."""
    return await run_in_threadpool(case_views.case_detail, services.session_factory,
                                   services.runner.audit, case_id, staff_id)


@router.post("/cases/{case_id}/assign", response_model=CaseDetail, responses=RESPONSES)
async def assign(case_id: int, body: AssignRequest, services: ServicesDep,
                 settings: SettingsDep, request_id: RequestIdDep):
    """Take the case (or give it to `assignee_id`): case and ticket `with_agent`, and the
    assistant stops answering that conversation (R12)."""
    return await run_in_threadpool(cases.assign, services, settings, case_id, body.staff_id,
                                   body.assignee_id, request_id)


@router.post("/cases/{case_id}/reply", response_model=CaseDetail, responses=RESPONSES)
async def reply(case_id: int, body: ReplyRequest, services: ServicesDep, settings: SettingsDep,
                request_id: RequestIdDep):
    """A message from the person into the conversation (role `agent`); the customer is
    e-mailed. Replying to an unassigned case takes it."""
    return await run_in_threadpool(cases.reply, services, settings, case_id, body.staff_id,
                                   body.message, request_id)


@router.post("/cases/{case_id}/note", response_model=CaseDetail, responses=RESPONSES)
async def note(case_id: int, body: NoteRequest, services: ServicesDep, settings: SettingsDep,
               request_id: RequestIdDep):
    """An internal note for the team; customers never see it."""
    return await run_in_threadpool(cases.note, services, settings, case_id, body.staff_id,
                                   body.body, request_id)


@router.post("/cases/{case_id}/decision", response_model=CaseDetail, responses=RESPONSES)
async def decision(case_id: int, body: DecisionRequest, services: ServicesDep,
                   settings: SettingsDep, request_id: RequestIdDep):
    """Approve or deny the refund waiting for a person (R2a high value, R2b fraud review).
    Approve runs it once with the staff member's authority (R1, R2, R8 still checked); deny
    tells the customer the reason. A second decision is a 409."""
    return await run_in_threadpool(case_decisions.decide, services, settings, case_id,
                                   body.staff_id, body.decision, body.reason, request_id)


@router.post("/cases/{case_id}/handback", response_model=CaseDetail, responses=RESPONSES)
async def handback(case_id: int, body: StaffRequest, services: ServicesDep,
                   settings: SettingsDep, request_id: RequestIdDep):
    """The assistant answers the conversation again."""
    return await run_in_threadpool(cases.hand_back, services, settings, case_id, body.staff_id,
                                   request_id)


@router.post("/cases/{case_id}/resolve", response_model=CaseDetail, responses=RESPONSES)
async def resolve(case_id: int, body: NoteOnCloseRequest, services: ServicesDep,
                  settings: SettingsDep, request_id: RequestIdDep):
    """The case and its ticket are resolved; the customer reads the note and is e-mailed."""
    return await run_in_threadpool(cases.resolve, services, settings, case_id, body.staff_id,
                                   body.note, request_id)


@router.post("/cases/{case_id}/close", response_model=CaseDetail, responses=RESPONSES)
async def close(case_id: int, body: NoteOnCloseRequest, services: ServicesDep,
                settings: SettingsDep, request_id: RequestIdDep):
    """Nothing more to do (a duplicate, a withdrawn request); the note shows on the ticket."""
    return await run_in_threadpool(cases.close, services, settings, case_id, body.staff_id,
                                   body.note, request_id)
