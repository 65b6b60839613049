"""Escalation case status has one owner: this module (as ticket status has db/ticket_lifecycle).

    open ──(assign)──▶ with_agent ──(resolve)──▶ resolved
      │                    │ ▲
      │                    │ └─(assign: another person takes it over)
      │                    ├──(hand back: the assistant answers again)──▶ resolved
      └────────────────────┴──(close: nothing more to do)──▶ closed

A case waiting on approval (R2a high value, R2b fraud review) must get its decision before it
leaves a person's hands: resolving, handing back or closing it without one would leave the
customer's refund neither done nor refused (the bug of "resolved with a note saying
approved", where no refund was ever recorded).
"""

from __future__ import annotations

from datetime import datetime

from db.models import EscalationCase

ACTIVE = frozenset({"open", "with_agent"})
# Case kinds that hold an action only a person may allow.
NEEDS_DECISION = frozenset({"high_value", "fraud"})


class CaseConflict(Exception):
    """The move is not allowed from the case's current state (the API answers 409)."""

    def __init__(self, code: str, message: str):
        super().__init__(message)
        self.code = code
        self.message = message


def awaiting_decision(case: EscalationCase) -> bool:
    return case.kind in NEEDS_DECISION and case.decision is None and case.status in ACTIVE


def _require_active(case: EscalationCase) -> None:
    if case.status not in ACTIVE:
        raise CaseConflict("case_closed", f"Case #{case.id} is already {case.status}; "
                                          "nothing was changed.")


def _require_decided(case: EscalationCase, doing: str) -> None:
    if awaiting_decision(case):
        raise CaseConflict("decision_pending", (
            f"Case #{case.id} is waiting for an approve or deny decision; decide it before "
            f"you {doing}, so the customer's request is either carried out or refused."))


def assign(case: EscalationCase, staff_id: int, now: datetime) -> None:
    _require_active(case)
    if case.assigned_to != staff_id or case.status != "with_agent":
        case.assigned_at = now
    case.status, case.assigned_to, case.updated_at = "with_agent", staff_id, now


def take_if_unassigned(case: EscalationCase, staff_id: int, now: datetime) -> None:
    """Replying to or deciding an unassigned case takes it: the person acting owns it."""
    _require_active(case)
    if case.status == "open" or case.assigned_to is None:
        assign(case, staff_id, now)


def decide(case: EscalationCase, decision: str, staff_id: int, reason: str | None,
           now: datetime) -> None:
    _require_active(case)
    if case.kind not in NEEDS_DECISION:
        raise CaseConflict("no_decision_needed", f"Case #{case.id} has nothing waiting for "
                                                 "approval; reply or resolve it instead.")
    if case.decision is not None:
        raise CaseConflict("decision_already_made", f"Case #{case.id} was already "
                                                    f"{case.decision}; a case gets one "
                                                    "decision.")
    take_if_unassigned(case, staff_id, now)
    case.decision, case.decided_by, case.decided_at = decision, staff_id, now
    case.decision_reason = reason
    case.updated_at = now


def undo_decision(case: EscalationCase) -> None:
    """The approved action could not run at all (the database was busy): the decision did not
    happen, so it can be made again."""
    case.decision = case.decided_by = case.decided_at = case.decision_reason = None


def responded(case: EscalationCase, now: datetime) -> None:
    """The customer heard from a person (a reply, a decision, a resolution)."""
    if case.first_response_at is None:
        case.first_response_at = now


def hand_back(case: EscalationCase, staff_id: int, now: datetime) -> None:
    _require_active(case)
    _require_decided(case, "hand it back")
    case.status, case.handed_back_at = "resolved", now
    case.resolved_at, case.resolved_by, case.updated_at = now, staff_id, now
    case.resolution_note = "Handed back to the assistant."


def resolve(case: EscalationCase, staff_id: int, note: str, now: datetime) -> None:
    _require_active(case)
    _require_decided(case, "resolve it")
    case.status, case.resolution_note = "resolved", note
    case.resolved_at, case.resolved_by, case.updated_at = now, staff_id, now


def close(case: EscalationCase, staff_id: int, note: str, now: datetime) -> None:
    _require_active(case)
    _require_decided(case, "close it")
    case.status, case.resolution_note = "closed", note
    case.resolved_at, case.resolved_by, case.updated_at = now, staff_id, now


def overdue(case: EscalationCase, now: datetime) -> bool:
    """Still waiting for a person's first answer past the promised time."""
    return (case.status in ACTIVE and case.first_response_at is None
            and case.due_at is not None and now > case.due_at)
