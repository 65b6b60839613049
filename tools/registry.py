"""Runs tools: validates arguments, gives each call its own transaction, audits every call.

Every path an action can take — the offline brain, the LLM brain, the API's
feedback endpoint, a confirmed proposal — goes through ToolRunner, so nothing
skips the guard or the audit trail.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass, replace
from types import ModuleType

from pydantic import ValidationError
from sqlalchemy.exc import IntegrityError, OperationalError
from sqlalchemy.orm import Session, sessionmaker

from audit.audit_log import AuditLog
from db.engine import transaction
from db.models import Proposal, utcnow
from db.money import fmt
from tools import (
    cancel_order,
    check_eligibility,
    create_replacement,
    escalate_case,
    find_orders,
    get_order_status,
    issue_refund,
)
from tools.base import ToolContext, ToolResult
from tools.proposals import expired, public_view

log = logging.getLogger(__name__)

TOOLS: dict[str, ModuleType] = {m.NAME: m for m in (
    find_orders, get_order_status, check_eligibility, issue_refund, cancel_order,
    create_replacement, escalate_case)}
# Tools that change something for the customer (the rest only look things up).
CHANGING_TOOLS = frozenset({"issue_refund", "cancel_order", "create_replacement", "escalate_case"})
# Tools that move money or goods: proposed first and run only on the customer's yes (R11).
MONEY_TOOLS = frozenset({"issue_refund", "cancel_order", "create_replacement"})
BUSY = "The order system is busy right now; nothing was changed. Please try again in a moment."


class ProposalNotFound(LookupError):
    """Unknown, or another user's: the same answer for both (R1)."""


class ProposalGone(Exception):
    """The proposal was dropped or has expired: nothing runs."""

    def __init__(self, state: str):
        super().__init__(state)
        self.state = state


@dataclass
class Confirmed:
    proposal: dict          # public view, plus user/conversation/ticket/intent
    result: ToolResult
    first: bool             # False: an earlier confirmation already ran it; this is its result


def result_dict(result: ToolResult) -> dict:
    return {"status": result.status, "reason": result.reason, "details": result.details,
            "order_id": result.order_id}


def result_from(data: dict) -> ToolResult:
    return ToolResult(data["status"], data["reason"], dict(data.get("details") or {}),
                      data.get("order_id"))


def _snapshot(p: Proposal) -> dict:
    return {**public_view(p), "user_id": p.user_id, "conversation_id": p.conversation_id,
            "ticket_id": p.ticket_id, "intent": p.intent, "confidence": p.confidence,
            "state": p.state}


class ToolRunner:
    def __init__(self, session_factory: sessionmaker[Session], audit: AuditLog):
        self.session_factory = session_factory
        self.audit = audit

    def invoke(self, name: str, ctx: ToolContext, **arguments) -> ToolResult:
        started = time.perf_counter()
        result = self._run(name, ctx, arguments)
        details = {"arguments": arguments, **result.details}
        if "proposal" in result.details:
            details["proposal_id"] = result.details["proposal"]["id"]
        self._audit(ctx, name, result, details, started)
        return result

    def _audit(self, ctx: ToolContext, tool: str, result: ToolResult, details: dict,
               started: float) -> None:
        if ctx.staff_id is not None:
            details = {**details, "staff_id": ctx.staff_id}
        self.audit.write(
            request_id=ctx.request_id, user_id=ctx.user_id, conversation_id=ctx.conversation_id,
            ticket_id=ctx.ticket_id, tool=tool, order_id=result.order_id, outcome=result.status,
            reason=result.reason, details=details,
            duration_ms=round((time.perf_counter() - started) * 1000, 2), staff_id=ctx.staff_id)

    def _run(self, name: str, ctx: ToolContext, arguments: dict) -> ToolResult:
        tool = TOOLS.get(name)
        if tool is None:
            return ToolResult("error", f"Unknown tool '{name}'.")
        try:
            args = tool.Args(**arguments)
        except ValidationError as exc:
            problems = "; ".join(f"{'.'.join(map(str, e['loc']))}: {e['msg']}" for e in exc.errors())
            return ToolResult("error", f"Invalid arguments for {name}: {problems}",
                              order_id=arguments.get("order_id"))
        try:
            with transaction(self.session_factory) as session:
                return tool.run(session, ctx, args)
        except IntegrityError:
            # The unique constraints are the last guard: a concurrent duplicate lost the race.
            return ToolResult("denied", "R8 once only: this has already been done for this order.",
                              order_id=getattr(args, "order_id", None))
        except OperationalError:
            log.exception("database error in tool %s", name)
            return ToolResult("error", BUSY, order_id=getattr(args, "order_id", None))
        except Exception:
            log.exception("tool %s failed", name)
            return ToolResult("error", "Something went wrong on our side; nothing was changed.",
                              order_id=getattr(args, "order_id", None))

    # --- proposals (R11) -------------------------------------------------------------------

    def confirm(self, proposal_id: str, ctx: ToolContext) -> Confirmed:
        """Run a proposal's action for `ctx.user_id`, at most once, with every rule checked
        again now. The proposal row is locked for the whole transaction and its result is
        written in it, so concurrent confirmations wait and then read that result."""
        started = time.perf_counter()
        now = utcnow()
        gone = None
        try:
            with transaction(self.session_factory) as session:
                p = self._locked(session, proposal_id, ctx.user_id)
                if p.state == "confirmed":
                    return Confirmed(_snapshot(p), result_from(p.result), first=False)
                if expired(p, now):
                    p.state, p.decided_at, gone = "expired", now, "expired"
                    snapshot = _snapshot(p)
                elif p.state != "proposed":
                    raise ProposalGone(p.state)
                else:
                    tool = TOOLS[p.action]
                    run_ctx = replace(ctx, now=now, confidence=1.0, propose=False,
                                      conversation_id=p.conversation_id, ticket_id=p.ticket_id,
                                      intent=p.intent)
                    result = tool.run(session, run_ctx, tool.Args(**p.arguments))
                    p.state, p.decided_at, p.result = "confirmed", now, result_dict(result)
                    snapshot = _snapshot(p)
        except IntegrityError:
            # A concurrent action on the same order (not this proposal) won the race.
            result = ToolResult("denied", "R8 once only: this has already been done for this "
                                          "order.")
            snapshot = self._settle(proposal_id, ctx.user_id, now, result)
            run_ctx = replace(ctx, conversation_id=snapshot["conversation_id"],
                              ticket_id=snapshot["ticket_id"])
        except OperationalError:
            log.exception("database error confirming proposal")
            raise
        if gone:
            self._audit_event(ctx, snapshot, "expired",
                              "the offer expired before it was confirmed", started)
            raise ProposalGone(gone)
        result = replace(result, order_id=result.order_id or snapshot["order_id"])
        self._audit(run_ctx, snapshot["action"], result,
                    {"arguments": {"order_id": snapshot["order_id"]}, **result.details,
                     "proposal_id": proposal_id, "proposal_event": "confirmed"}, started)
        return Confirmed(snapshot, result, first=True)

    def proposal(self, proposal_id: str, user_id: int) -> dict:
        """A proposal as the agent needs it (raises ProposalNotFound, R1)."""
        with transaction(self.session_factory) as session:
            p = session.get(Proposal, proposal_id) if proposal_id else None
            if p is None or p.user_id != user_id:
                raise ProposalNotFound(proposal_id)
            return {**_snapshot(p), "expired": expired(p, utcnow()),
                    "reason": (p.arguments or {}).get("reason")}

    def drop(self, proposal_id: str, ctx: ToolContext, why: str) -> str:
        """Withdraw an open proposal (the customer said no, or wrote something else). Returns
        the state it ends in; a proposal no longer open is left as it is."""
        started = time.perf_counter()
        now = utcnow()
        with transaction(self.session_factory) as session:
            p = self._locked(session, proposal_id, ctx.user_id)
            if p.state != "proposed":
                return p.state
            p.state = "expired" if expired(p, now) else "dropped"
            p.decided_at = now
            state, snapshot = p.state, _snapshot(p)
        self._audit_event(ctx, snapshot, state,
                          why if state == "dropped" else "the offer had expired", started)
        return state

    def _locked(self, session: Session, proposal_id: str, user_id: int) -> Proposal:
        p = session.get(Proposal, proposal_id, with_for_update=True) if proposal_id else None
        if p is None or p.user_id != user_id:
            raise ProposalNotFound(proposal_id)
        return p

    def _settle(self, proposal_id: str, user_id: int, now, result: ToolResult) -> dict:
        with transaction(self.session_factory) as session:
            p = self._locked(session, proposal_id, user_id)
            if p.state == "proposed":
                p.state, p.decided_at, p.result = "confirmed", now, result_dict(result)
            return _snapshot(p)

    def _audit_event(self, ctx: ToolContext, snapshot: dict, event: str, why: str,
                     started: float) -> None:
        """Dropped and expired proposals: `tool: "proposal"`, nothing ran."""
        what = {"issue_refund": "refund", "cancel_order": "cancel order",
                "create_replacement": "replace order"}.get(snapshot["action"], snapshot["action"])
        amount = f" ({fmt(round(snapshot['amount'] * 100))})" if snapshot["amount"] else ""
        ctx = replace(ctx, conversation_id=snapshot["conversation_id"],
                      ticket_id=snapshot["ticket_id"])
        self._audit(ctx, "proposal", ToolResult(
            "success", f"R11 confirm: proposal to {what} #{snapshot['order_id']}{amount} {event}: "
                       f"{why}; nothing was changed.", order_id=snapshot["order_id"]),
            {"proposal_id": snapshot["id"], "proposal_event": event,
             "action": snapshot["action"]}, started)

