"""Request and response models for the HTTP contract, with the examples /docs shows."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

MAX_INPUT = 4000
INT64 = 2**63 - 1


def _nul_field(value: Any, path: str = "") -> str | None:
    """The first field (dotted path) whose text holds a NUL character, else None."""
    if isinstance(value, str):
        return (path or "body") if "\x00" in value else None
    if isinstance(value, dict):
        for key, item in value.items():
            found = _nul_field(item, f"{path}.{key}" if path else str(key))
            if found:
                return found
    if isinstance(value, list):
        for i, item in enumerate(value):
            found = _nul_field(item, f"{path}.{i}" if path else str(i))
            if found:
                return found
    return None


class ApiRequest(BaseModel):
    """Every request body: text with a NUL character is refused (422) on every backend, before
    it reaches a database (PostgreSQL cannot store it; SQLite would)."""

    @model_validator(mode="before")
    @classmethod
    def _no_nul(cls, data: Any) -> Any:
        field = _nul_field(data)
        if field:
            raise ValueError(f"{field}: must not contain NUL characters")
        return data


class ResolveRequest(ApiRequest):
    model_config = ConfigDict(extra="ignore", json_schema_extra={"examples": [
        {"user_input": "I want a refund for order #1042, it arrived broken", "user_id": 1,
         "conversation_id": None}]})

    user_input: str = Field(description="What the customer wrote: 1 to 4000 characters after "
                                        "trimming.", max_length=MAX_INPUT * 4)
    user_id: int = Field(ge=-INT64, le=INT64, strict=True,
                         description="The customer the request is for (an integer).")
    conversation_id: str | None = Field(default=None, max_length=64, description=(
        "Continue this conversation; leave it out or send null to start a new one (an empty "
        "string is refused, so a lost id never silently starts over)."))
    ticket_id: int | None = Field(default=None, ge=-INT64, le=INT64,
                                  description="Fill in this queued ticket (portal retries).")

    @field_validator("conversation_id")
    @classmethod
    def _not_blank(cls, value: str | None) -> str | None:
        if value is not None and not value.strip():
            raise ValueError("must not be empty; leave it out or send null to start a new "
                             "conversation")
        return value

    @field_validator("user_input")
    @classmethod
    def _trimmed_length(cls, value: str) -> str:
        value = value.strip()
        if not value:
            raise ValueError("must not be empty")
        if len(value) > MAX_INPUT:
            raise ValueError(f"must be at most {MAX_INPUT} characters after trimming")
        return value


class PolicySource(BaseModel):
    source: str
    section: str
    score: float


class ActionResult(BaseModel):
    model_config = ConfigDict(extra="allow")
    status: Literal["success", "denied", "needs_info", "needs_confirmation", "escalated", "error",
                    "with_agent"]
    reason: str


class ProposalItem(BaseModel):
    name: str
    qty: int


class Proposal(BaseModel):
    """An action waiting for the customer's yes (R11)."""

    id: str
    action: Literal["issue_refund", "cancel_order", "create_replacement"]
    order_id: str
    amount: float = Field(description="Dollars that will move (0 for a replacement).")
    items: list[ProposalItem] = []
    needs_approval: bool = Field(default=False, description="A person approves it after your "
                                                            "yes (R2a high value).")
    summary: str = Field(description="Exactly what will happen, in words.")
    expires_at: str


class ConfirmRequest(ApiRequest):
    model_config = ConfigDict(extra="ignore", json_schema_extra={"examples": [
        {"user_id": 1, "proposal_id": "p_8f2c0d5e3b7a4c19a2e6"}]})

    user_id: int = Field(ge=-INT64, le=INT64, strict=True)
    proposal_id: str = Field(min_length=1, max_length=64)


class ResolveResponse(BaseModel):
    model_config = ConfigDict(json_schema_extra={"examples": [{
        "conversation_id": "c5b0e0c1d2f34a5b8c9d0e1f2a3b4c5d", "ticket_id": 17,
        "intent": "refund", "confidence": 0.97, "order_id": "1042", "action": "issue_refund",
        "action_result": {"status": "success", "reason": "R2 refund: …", "refund_id": 9,
                          "amount": 59.99},
        "response": "Done — order #1042 was delivered within 30 days, so $59.99 is on its way "
                    "back to your original payment method.",
        "policy_sources": [{"source": "refund_policy.md", "section": "Refund window",
                            "score": 0.83}],
        "escalated": False, "mode": "offline", "proposal": None}]})

    conversation_id: str
    ticket_id: int
    intent: Literal["refund", "cancel", "replacement", "status", "escalate", "policy_question",
                    "other"]
    confidence: float = Field(ge=0, le=1)
    order_id: str | None
    action: Literal["issue_refund", "cancel_order", "create_replacement", "get_order_status",
                    "escalate_case", "none"]
    action_result: ActionResult
    response: str
    policy_sources: list[PolicySource]
    escalated: bool
    mode: Literal["offline", "llm"]
    proposal: Proposal | None = None


class FeedbackRequest(ApiRequest):
    model_config = ConfigDict(extra="ignore", json_schema_extra={"examples": [
        {"satisfied": False, "rating": 2, "comment": "The refund is not enough", "user_id": 1}]})

    satisfied: bool
    rating: int | None = Field(default=None, ge=1, le=5)
    comment: str | None = Field(default=None, max_length=2000)
    user_id: int | None = Field(default=None, ge=-INT64, le=INT64, description=(
        "The customer rating it (here or as the `user_id` query parameter; required in one of "
        "them): the ticket must be theirs."))


class Message(BaseModel):
    role: str = Field(description="`user`, `assistant`, or `agent` (a person on our team).")
    content: str
    author: str | None = Field(default=None, description="A person's first name (role agent).")
    created_at: str


class ConversationView(BaseModel):
    conversation_id: str
    user_id: int
    ticket_id: int | None
    state: dict[str, Any]
    created_at: str
    updated_at: str
    messages: list[Message]


class TicketView(BaseModel):
    ticket_id: int
    user_id: int
    conversation_id: str | None
    status: str
    user_input: str
    intent: str | None
    confidence: float | None
    order_id: str | None
    action: str | None
    action_result: dict[str, Any] | None
    response: str | None
    policy_sources: list[dict[str, Any]] | None
    escalated: bool
    mode: str | None
    satisfied: bool | None
    rating: int | None
    feedback_comment: str | None
    created_at: str
    updated_at: str
    actions: list[dict[str, Any]] = Field(default_factory=list, description=(
        "Every action of this ticket in order: the words that asked for it, the outcome and "
        "the reply (the headline fields above show the latest consequential one)."))


class TicketList(BaseModel):
    user_id: int
    tickets: list[TicketView]


class ErrorBody(BaseModel):
    code: str
    message: str


class ErrorResponse(BaseModel):
    error: ErrorBody


ERROR_RESPONSES: dict[int | str, dict[str, Any]] = {
    401: {"model": ErrorResponse, "description": "Missing or wrong X-API-Key"},
    404: {"model": ErrorResponse, "description": "Not found"},
    409: {"model": ErrorResponse, "description": "Idempotency-Key reused with another body"},
    413: {"model": ErrorResponse, "description": "Body too large"},
    422: {"model": ErrorResponse, "description": "Invalid input"},
    429: {"model": ErrorResponse, "description": "Rate limited (see Retry-After)"},
}
