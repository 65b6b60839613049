"""The uniform tool interface: every tool module exposes NAME, DESCRIPTION, Args and run().

`run(session, ctx, args)` does the work inside a transaction it is given and
returns a ToolResult; it never commits. The acting user comes from ctx (the
request), never from the arguments a model produced (R9).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Literal

from config import Settings
from db.models import utcnow

Outcome = Literal["success", "denied", "needs_info", "needs_confirmation", "escalated", "error",
                  "with_agent"]


@dataclass
class ToolContext:
    user_id: int
    settings: Settings
    now: datetime = field(default_factory=utcnow)
    # How sure the agent is of the intent behind an action (R10); direct calls are deliberate.
    confidence: float = 1.0
    request_id: str | None = None
    conversation_id: str | None = None
    ticket_id: int | None = None
    summary: str | None = None
    # R11: an action tool that would change something stores a proposal instead (tools/proposals).
    propose: bool = False
    intent: str | None = None
    # Set when a person acts (staff approval): recorded in the audit with their id.
    staff_id: int | None = None


@dataclass
class ToolResult:
    status: Outcome
    reason: str
    details: dict[str, Any] = field(default_factory=dict)
    order_id: str | None = None

    def as_action_result(self) -> dict[str, Any]:
        """The SPEC's `action_result`: status and reason (which no detail may overwrite), then
        the details flattened in."""
        extra = {k: v for k, v in self.details.items() if k not in ("status", "reason")}
        return {"status": self.status, "reason": self.reason, **extra}


def not_found(order_id: str | None) -> ToolResult:
    """R1: another user's order and a missing order get exactly this same answer. Only a clean
    order number is echoed back, never raw text."""
    shown = order_id if order_id and re.fullmatch(r"[A-Za-z0-9\-_]{1,40}", order_id) else None
    return ToolResult(
        "needs_info",
        f"R1 ownership: I couldn't find order #{shown} on your account. "
        "Please check the order number." if shown else
        "R1 ownership: I couldn't find that order on your account. Please check the order number.",
        {"found": False},
        order_id=shown,
    )
