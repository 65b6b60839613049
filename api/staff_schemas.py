"""Request and response models of the Staff API (SPEC "Staff API"), with /docs examples."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from api.schemas import INT64, ApiRequest

MAX_MESSAGE = 4000
CaseStatus = Literal["open", "with_agent", "resolved", "closed"]


def _trimmed(value: str | None, limit: int) -> str | None:
    if value is None:
        return None
    value = value.strip()
    if len(value) > limit:
        raise ValueError(f"must be at most {limit} characters after trimming")
    return value


class StaffRequest(ApiRequest):
    model_config = ConfigDict(extra="ignore", json_schema_extra={"examples": [{"staff_id": 9}]})

    staff_id: int = Field(ge=-INT64, le=INT64, strict=True,
                          description="The member of staff acting (role `staff`, else 403).")


class AssignRequest(StaffRequest):
    assignee_id: int | None = Field(default=None, ge=-INT64, le=INT64, description=(
        "Give the case to this member of staff instead of `staff_id` (optional)."))


class ReplyRequest(StaffRequest):
    model_config = ConfigDict(extra="ignore", json_schema_extra={"examples": [
        {"staff_id": 9, "message": "Hi Ana, I've looked at your order and ..."}]})

    message: str = Field(max_length=MAX_MESSAGE * 4, description="1 to 4000 characters.")

    @field_validator("message")
    @classmethod
    def _text(cls, value: str) -> str:
        value = _trimmed(value, MAX_MESSAGE)
        if not value:
            raise ValueError("must not be empty")
        return value


class NoteRequest(StaffRequest):
    body: str = Field(max_length=MAX_MESSAGE * 4, description="Internal: customers never see it.")

    @field_validator("body")
    @classmethod
    def _text(cls, value: str) -> str:
        value = _trimmed(value, MAX_MESSAGE)
        if not value:
            raise ValueError("must not be empty")
        return value


class DecisionRequest(StaffRequest):
    model_config = ConfigDict(extra="ignore", json_schema_extra={"examples": [
        {"staff_id": 9, "decision": "approve", "reason": "Order history checks out"},
        {"staff_id": 9, "decision": "deny", "reason": "The item was returned used."}]})

    decision: Literal["approve", "deny"]
    reason: str | None = Field(default=None, max_length=2000 * 4, description=(
        "Why. Required to deny: the customer reads it."))

    @field_validator("reason")
    @classmethod
    def _text(cls, value: str | None) -> str | None:
        return _trimmed(value, 2000) or None

    @model_validator(mode="after")
    def _deny_needs_reason(self):
        if self.decision == "deny" and not self.reason:
            raise ValueError("reason: a denial needs a reason the customer can read")
        return self


class NoteOnCloseRequest(StaffRequest):
    model_config = ConfigDict(extra="ignore", json_schema_extra={"examples": [
        {"staff_id": 9, "note": "Refund approved and sent; confirmed with the customer."}]})

    note: str = Field(max_length=2000 * 4, description="The customer reads it on the ticket.")

    @field_validator("note")
    @classmethod
    def _text(cls, value: str) -> str:
        value = _trimmed(value, 2000)
        if not value:
            raise ValueError("must not be empty")
        return value


class Person(BaseModel):
    id: int
    name: str


class CaseSummary(BaseModel):
    id: int
    ticket_id: int | None
    conversation_id: str | None
    ticket_status: str | None
    user_id: int
    customer_name: str | None
    order_id: str | None
    kind: str
    reason: str
    priority: Literal["high", "normal"]
    status: CaseStatus
    due_at: str | None = Field(description="When the first answer from a person is due (UTC).")
    overdue: bool
    first_response_at: str | None
    assigned_to: Person | None
    assigned_at: str | None
    awaiting_decision: bool = Field(description="An R2a/R2b refund waits for approve or deny.")
    decision: Literal["approved", "denied"] | None
    decision_reason: str | None
    decided_by: Person | None
    decided_at: str | None
    decision_result: dict[str, Any] | None = Field(description=(
        "What the approved refund did: status success, or denied if something changed."))
    resolution_note: str | None
    resolved_at: str | None
    handed_back_at: str | None
    created_at: str | None
    updated_at: str | None


class CaseList(BaseModel):
    cases: list[CaseSummary]


class TranscriptMessage(BaseModel):
    role: str = Field(description="`user`, `assistant`, or `agent` (a person on our team).")
    content: str
    author: str | None = Field(description="The person's first name, for role `agent`.")
    created_at: str | None


class CaseNoteView(BaseModel):
    id: int
    body: str
    internal: bool
    author: Person | None
    created_at: str | None


class CaseDetail(CaseSummary):
    summary: str | None
    transcript: list[TranscriptMessage]
    notes: list[CaseNoteView] = Field(description="Staff only; never shown to customers.")
    audit: list[dict[str, Any]] = Field(description=(
        "The ticket's audit records, each with `verified`: its hash and the chain hold."))
    audit_chain: dict[str, Any] = Field(default_factory=lambda: {"intact": True, "problem": None},
                                        description="`intact`, and `problem` when it is not.")
