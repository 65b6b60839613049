"""The audit trail: records inserted in the database in the same transaction as the action they
describe, hash-chained, and exported to the JSONL file at AUDIT_LOG_PATH.

    with transaction(factory) as session:
        ...the action...
        trail.record(session, tool="issue_refund", outcome="success", ...)
    trail.flush()          # the JSONL file is current when the call returns

Because the record is part of the action's transaction, they commit together or not at all:
a failed insert rolls the action back, and a crash after the commit loses nothing (the export
catches up; audit/export.py). A record that belongs to no transaction (a refused model call,
a tool call rejected before it ran) goes through `write`, in a transaction of its own.

Chaining is serialised by the single chain-head row: a writer flushes its action's changes,
then locks the head (`SELECT … FOR UPDATE` on PostgreSQL; on SQLite every transaction began with
`BEGIN IMMEDIATE` and already holds the write lock), takes the next `seq` and the previous hash,
and holds the lock until it commits. Taking the head last keeps the lock short and the lock
order the same everywhere (the action's rows, then the head), so it cannot deadlock.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from audit.audit_log import AuditLog
from audit.chain import chained, new_record
from audit.export import ExportThread, JsonlExporter
from audit.verify import Events, ticket_events
from db.engine import transaction
from db.models import AuditChainHead, AuditRecord


class ChainMissing(RuntimeError):
    """The database has no chain head: its schema is older than the audit trail."""


def append(session: Session, **fields: Any) -> dict:
    """Insert one record into the chain inside `session`'s transaction; returns its line.
    Redaction happens here (audit/chain.new_record), so no caller can skip it."""
    record = new_record(**fields)
    session.flush()  # the action's own writes first (and any constraint error they raise)
    head = session.execute(
        select(AuditChainHead).where(AuditChainHead.id == 1).with_for_update()
        .execution_options(populate_existing=True)).scalar_one_or_none()
    if head is None:
        raise ChainMissing("audit_chain_head has no row: run `python init_db.py` to migrate")
    line = chained(record, head.last_seq + 1, head.last_hash)
    session.add(AuditRecord(**line))
    head.last_seq, head.last_hash = line["seq"], line["hash"]
    session.flush()
    return line


class AuditTrail:
    """The trail of one database, and the JSONL file it is exported to."""

    def __init__(self, factory: sessionmaker[Session], path: str | Path):
        self.factory = factory
        self.file = AuditLog(path)
        self.exporter = JsonlExporter(factory, path)

    @property
    def path(self) -> Path:
        return self.file.path

    def record(self, session: Session, **fields: Any) -> dict:
        """A record in the caller's transaction (commits or rolls back with it). Call `flush`
        after the commit to have it in the file at once."""
        return append(session, **fields)

    def write(self, **fields: Any) -> dict:
        """A record on its own, in its own transaction, exported before returning."""
        with transaction(self.factory) as session:
            line = append(session, **fields)
        self.flush()
        return line

    def flush(self) -> int:
        """Export what is committed and not yet in the file (never raises: what is not
        exported now is exported by the next flush)."""
        return self.exporter.try_flush()

    def read(self, **match: Any) -> list[dict]:
        """Records in the JSONL file whose fields equal every given value."""
        return self.file.read(**match)

    def ticket_events(self, ticket_id: int) -> Events:
        """A ticket's records from the database, each checked (audit/verify.ticket_events)."""
        with transaction(self.factory) as session:
            return ticket_events(session, ticket_id)

    def start_export_thread(self, interval: float = 0.5) -> ExportThread:
        return ExportThread(self.exporter, interval).start()
