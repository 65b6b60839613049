"""Runs tools: validates arguments, gives each call its own transaction, audits every call.

Every path an action can take — the offline brain, the LLM brain, the API's
feedback endpoint — goes through ToolRunner.invoke, so nothing skips the guard
or the audit trail.
"""

from __future__ import annotations

import logging
import time
from types import ModuleType

from pydantic import ValidationError
from sqlalchemy.exc import IntegrityError, OperationalError
from sqlalchemy.orm import Session, sessionmaker

from audit.audit_log import AuditLog
from db.engine import transaction
from tools import (
    cancel_order,
    create_replacement,
    escalate_case,
    find_orders,
    get_order_status,
    issue_refund,
)
from tools.base import ToolContext, ToolResult

log = logging.getLogger(__name__)

TOOLS: dict[str, ModuleType] = {m.NAME: m for m in (
    find_orders, get_order_status, issue_refund, cancel_order, create_replacement, escalate_case)}
# Tools that change something for the customer (the rest only look things up).
CHANGING_TOOLS = frozenset({"issue_refund", "cancel_order", "create_replacement", "escalate_case"})


class ToolRunner:
    def __init__(self, session_factory: sessionmaker[Session], audit: AuditLog):
        self.session_factory = session_factory
        self.audit = audit

    def invoke(self, name: str, ctx: ToolContext, **arguments) -> ToolResult:
        started = time.perf_counter()
        result = self._run(name, ctx, arguments)
        self.audit.write(
            request_id=ctx.request_id, user_id=ctx.user_id, conversation_id=ctx.conversation_id,
            ticket_id=ctx.ticket_id, tool=name, order_id=result.order_id, outcome=result.status,
            reason=result.reason, details={"arguments": arguments, **result.details},
            duration_ms=round((time.perf_counter() - started) * 1000, 2))
        return result

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
            return ToolResult("error", "The order system is busy right now; nothing was changed. "
                                       "Please try again in a moment.",
                              order_id=getattr(args, "order_id", None))
        except Exception:
            log.exception("tool %s failed", name)
            return ToolResult("error", "Something went wrong on our side; nothing was changed.",
                              order_id=getattr(args, "order_id", None))
