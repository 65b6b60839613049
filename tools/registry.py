"""Runs tools: validates arguments, gives each call its own transaction, audits every call.

The audit record of a call is inserted in the call's own transaction (audit/trail.py), so an
action never commits without its record and a failed record rolls the action back. A call
that changed nothing (invalid arguments, or rolled back) is recorded in a transaction of its
own. After the commit the runner exports to the JSONL file, so the file is current on return.

Every path an action can take — the offline brain, the LLM brain, the API's
feedback endpoint, a confirmed proposal — goes through ToolRunner, so nothing
skips the guard or the audit trail.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass, replace
from types import ModuleType

from pydantic import ValidationError
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError, OperationalError
from sqlalchemy.orm import Session, sessionmaker

from audit.audit_log import AuditLog
from audit.trail import AuditTrail
from db.engine import reading, transaction
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


# Confirmations seen by the calls made inside watching_confirmations(): True for one that ran
# its action, False for a repeat that got the first one's result.
_CONFIRMATIONS: ContextVar[list[bool] | None] = ContextVar("confirmations", default=None)


@contextmanager
def watching_confirmations() -> Iterator[list[bool]]:
    """Collect, for the confirmations made inside (in this thread), whether each ran its action
    or replayed an earlier one's result, so a caller counting actions (/metrics) counts each
    once however often it is confirmed."""
    seen: list[bool] = []
    token = _CONFIRMATIONS.set(seen)
    try:
        yield seen
    finally:
        _CONFIRMATIONS.reset(token)


def _saw_confirmation(first: bool) -> None:
    seen = _CONFIRMATIONS.get()
    if seen is not None:
        seen.append(first)


class FollowUpFailed(Exception):
    """The caller's `then` step failed; the action it follows is rolled back with it."""


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
    """`audit` is the trail to record in (audit/trail.AuditTrail), or an AuditLog / path naming
    the JSONL file, in which case the runner keeps the trail of its own database there."""

    def __init__(self, session_factory: sessionmaker[Session], audit: AuditTrail | AuditLog):
        self.session_factory = session_factory
        self.audit = audit if isinstance(audit, AuditTrail) else AuditTrail(
            session_factory, audit.path if isinstance(audit, AuditLog) else audit)

    def invoke(self, name: str, ctx: ToolContext, *,
               then: Callable[[Session, ToolResult], None] | None = None,
               **arguments) -> ToolResult:
        """Run one tool in its own transaction, with its audit record in that same transaction;
        the JSONL file is current when this returns.

        `then(session, result)`, if given, runs in that same transaction once the tool has
        answered (any status but `error`): what the caller writes about the outcome (a staff
        decision's result, the customer's message and e-mail) commits with the action, or
        neither does and the answer is `error` with nothing changed."""
        started = time.perf_counter()
        result = self._run(name, ctx, arguments, started, then)
        self.audit.flush()
        return result

    def _details(self, arguments: dict, result: ToolResult) -> dict:
        details = {"arguments": arguments, **result.details}
        if "proposal" in result.details:
            details["proposal_id"] = result.details["proposal"]["id"]
        return details

    def _record(self, session: Session | None, ctx: ToolContext, tool: str, result: ToolResult,
                details: dict, started: float) -> None:
        """The call's audit record: in `session`'s transaction, or alone when `session` is None
        (nothing ran, or what ran was rolled back)."""
        if ctx.staff_id is not None:
            details = {**details, "staff_id": ctx.staff_id}
        fields = dict(
            request_id=ctx.request_id, user_id=ctx.user_id, conversation_id=ctx.conversation_id,
            ticket_id=ctx.ticket_id, tool=tool, order_id=result.order_id, outcome=result.status,
            reason=result.reason, details=details,
            duration_ms=round((time.perf_counter() - started) * 1000, 2), staff_id=ctx.staff_id)
        if session is not None:
            self.audit.record(session, **fields)
            return
        try:
            with transaction(self.session_factory) as own:
                self.audit.record(own, **fields)
        except Exception:
            # Nothing changed (the action never ran or was rolled back); the database that
            # would hold the record is what failed. Say so loudly rather than fail the answer.
            log.exception("could not record the audit record of a %s call that changed "
                          "nothing", tool)

    def _run(self, name: str, ctx: ToolContext, arguments: dict, started: float,
             then: Callable[[Session, ToolResult], None] | None = None) -> ToolResult:
        tool = TOOLS.get(name)
        if tool is None:
            result = ToolResult("error", f"Unknown tool '{name}'.")
            self._record(None, ctx, name, result, {"arguments": arguments}, started)
            return result
        try:
            args = tool.Args(**arguments)
        except ValidationError as exc:
            problems = "; ".join(f"{'.'.join(map(str, e['loc']))}: {e['msg']}" for e in exc.errors())
            result = ToolResult("error", f"Invalid arguments for {name}: {problems}",
                                order_id=arguments.get("order_id"))
            self._record(None, ctx, name, result, {"arguments": arguments}, started)
            return result
        try:
            with transaction(self.session_factory) as session:
                result = tool.run(session, ctx, args)
                # Same transaction: the action and its record commit together, or neither does.
                self._record(session, ctx, name, result, self._details(arguments, result),
                             started)
                if then is not None and result.status != "error":
                    try:
                        then(session, result)
                        session.flush()  # a constraint it breaks fails here, not as "R8"
                    except Exception as exc:
                        raise FollowUpFailed(name) from exc
                return result
        except FollowUpFailed:
            log.exception("the step after tool %s failed; the action was rolled back", name)
            result = ToolResult("error", "Something went wrong on our side; nothing was changed.",
                                order_id=getattr(args, "order_id", None))
        except IntegrityError:
            # The unique constraints are the last guard: a concurrent duplicate lost the race.
            result = ToolResult("denied", "R8 once only: this has already been done for this "
                                          "order.", order_id=getattr(args, "order_id", None))
        except OperationalError:
            log.exception("database error in tool %s", name)
            result = ToolResult("error", BUSY, order_id=getattr(args, "order_id", None))
        except Exception:
            log.exception("tool %s failed", name)
            result = ToolResult("error", "Something went wrong on our side; nothing was changed.",
                                order_id=getattr(args, "order_id", None))
        self._record(None, ctx, name, result, self._details(arguments, result), started)
        return result

    # --- proposals (R11) -------------------------------------------------------------------

    def confirm(self, proposal_id: str, ctx: ToolContext) -> Confirmed:
        """Run a proposal's action for `ctx.user_id`, at most once, with every rule checked
        again now. The proposal row is locked for the whole transaction and its result and
        audit record are written in it, so concurrent confirmations wait and then read that
        result."""
        started = time.perf_counter()
        now = utcnow()
        gone = None
        try:
            with transaction(self.session_factory) as session:
                p = self._locked(session, proposal_id, ctx.user_id)
                if p.state == "confirmed":
                    _saw_confirmation(False)
                    return Confirmed(_snapshot(p), result_from(p.result), first=False)
                if expired(p, now):
                    p.state, p.decided_at, gone = "expired", now, "expired"
                    snapshot = _snapshot(p)
                    self._record_event(session, ctx, snapshot, "expired",
                                       "the offer expired before it was confirmed", started)
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
                    result = self._record_confirmed(session, run_ctx, proposal_id, snapshot,
                                                    result, started)
        except IntegrityError:
            # A concurrent action on the same order (not this proposal) won the race.
            result = ToolResult("denied", "R8 once only: this has already been done for this "
                                          "order.")
            snapshot, result = self._settle(proposal_id, ctx, now, result, started)
        except OperationalError:
            log.exception("database error confirming proposal")
            raise
        self.audit.flush()
        if gone:
            raise ProposalGone(gone)
        _saw_confirmation(True)
        return Confirmed(snapshot, result, first=True)

    def _record_confirmed(self, session: Session, ctx: ToolContext, proposal_id: str,
                          snapshot: dict, result: ToolResult, started: float) -> ToolResult:
        result = replace(result, order_id=result.order_id or snapshot["order_id"])
        self._record(session, ctx, snapshot["action"], result,
                     {"arguments": {"order_id": snapshot["order_id"]}, **result.details,
                      "proposal_id": proposal_id, "proposal_event": "confirmed"}, started)
        return result

    def proposal(self, proposal_id: str, user_id: int) -> dict:
        """A proposal as the agent needs it (raises ProposalNotFound, R1)."""
        with reading(self.session_factory) as session:
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
            state = p.state
            self._record_event(session, ctx, _snapshot(p), state,
                               why if state == "dropped" else "the offer had expired", started)
        self.audit.flush()
        return state

    def expire_due(self, ctx: ToolContext) -> int:
        """Mark this customer's offers that ran out of time as expired, each audited (SPEC:
        every proposal created, confirmed, dropped or expired has its record). Runs at the
        start of each of their messages, so no offer stays 'proposed' past its time."""
        now = utcnow()
        with reading(self.session_factory) as session:
            due = list(session.scalars(select(Proposal.id).where(
                Proposal.user_id == ctx.user_id, Proposal.state == "proposed",
                Proposal.expires_at <= now)))
        for proposal_id in due:
            self.drop(proposal_id, ctx, "the offer had expired")
        return len(due)

    def _locked(self, session: Session, proposal_id: str, user_id: int) -> Proposal:
        p = session.get(Proposal, proposal_id, with_for_update=True) if proposal_id else None
        if p is None or p.user_id != user_id:
            raise ProposalNotFound(proposal_id)
        return p

    def _settle(self, proposal_id: str, ctx: ToolContext, now, result: ToolResult,
                started: float) -> tuple[dict, ToolResult]:
        with transaction(self.session_factory) as session:
            p = self._locked(session, proposal_id, ctx.user_id)
            if p.state == "proposed":
                p.state, p.decided_at, p.result = "confirmed", now, result_dict(result)
            snapshot = _snapshot(p)
            run_ctx = replace(ctx, conversation_id=snapshot["conversation_id"],
                              ticket_id=snapshot["ticket_id"])
            result = self._record_confirmed(session, run_ctx, proposal_id, snapshot, result,
                                            started)
        return snapshot, result

    def _record_event(self, session: Session, ctx: ToolContext, snapshot: dict, event: str,
                      why: str, started: float) -> None:
        """Dropped and expired proposals: `tool: "proposal"`, nothing ran."""
        what = {"issue_refund": "refund", "cancel_order": "cancel order",
                "create_replacement": "replace order"}.get(snapshot["action"], snapshot["action"])
        amount = f" ({fmt(round(snapshot['amount'] * 100))})" if snapshot["amount"] else ""
        ctx = replace(ctx, conversation_id=snapshot["conversation_id"],
                      ticket_id=snapshot["ticket_id"])
        self._record(session, ctx, "proposal", ToolResult(
            "success", f"R11 confirm: proposal to {what} #{snapshot['order_id']}{amount} {event}: "
                       f"{why}; nothing was changed.", order_id=snapshot["order_id"]),
            {"proposal_id": snapshot["id"], "proposal_event": event,
             "action": snapshot["action"]}, started)
