"""Audit records: one per tool call in the database, in the same transaction as the action,
exported to the JSONL file exactly once, every SPEC field, no raw PII."""

import json
import multiprocessing

import pytest
from sqlalchemy import delete, func, select, text, update

from audit.audit_log import CHAIN_FIELDS, FIELDS, AuditLog
from audit.redact import redact
from audit.trail import AuditTrail, append
from audit.verify import verify_database, verify_file
from db.engine import create_schema, make_engine, make_session_factory, transaction
from db.models import AuditChainHead, AuditRecord, Refund
from tests.conftest import order, users
from tests.core.helpers import refunds, run_tool

PII = "ana.diaz@example.com 4111 1111 1111 1111 (555) 123-4567 +44 20 7946 0958"


@pytest.mark.parametrize("text,raw", [
    ("mail me at ana.diaz@example.com", "ana.diaz@example.com"),
    ("card 4111 1111 1111 1111 please", "4111 1111 1111 1111"),
    ("card 4111-1111-1111-1111", "4111-1111-1111-1111"),
    ("card 5500005555555559", "5500005555555559"),
    ("call (555) 123-4567", "(555) 123-4567"),
    ("call 555-123-4567", "555-123-4567"),
    ("my mobile is 5551234567", "5551234567"),
    ("ring +44 20 7946 0958", "+44 20 7946 0958"),
    ("ssn 123-45-6789", "123-45-6789"),
])
def test_redact_removes_pii(text, raw):
    assert raw not in redact(text)


@pytest.mark.parametrize("text", [
    "refund order 1042 please", "order #3707955617 is late", "it cost $59.99 on 2026-11-01",
    "tracking 1Z999AA10123456784"])
def test_redact_keeps_order_numbers_prices_and_dates(text):
    assert redact(text) == text


def stored_lines(factory) -> list[dict]:
    from audit.chain import line_of

    with transaction(factory) as s:
        return [line_of(r) for r in s.scalars(select(AuditRecord).order_by(AuditRecord.seq))]


def file_lines(path) -> list[dict]:
    return [json.loads(line) for line in path.read_text().splitlines()]


def test_every_tool_call_is_audited_with_all_fields_and_no_pii(seed, factory, settings):
    seed({"users": users(1), "orders": [order("1", 1, "delivered", 5, delivered_days_ago=1)]})
    run_tool(factory, settings, 1, "issue_refund", order_id="1", reason=PII)
    run_tool(factory, settings, 1, "issue_refund", order_id="nope")
    run_tool(factory, settings, 1, "escalate_case", reason=PII)
    lines = settings.audit_log_path.read_text().splitlines()
    assert len(lines) == 3
    records = [json.loads(line) for line in lines]
    assert all(tuple(r) == FIELDS + CHAIN_FIELDS for r in records)
    assert [r["outcome"] for r in records] == ["success", "needs_info", "escalated"]
    assert records[0]["order_id"] == "1" and records[0]["user_id"] == 1
    assert [r["seq"] for r in records] == [1, 2, 3]
    text_ = "\n".join(lines)
    for raw in ("ana.diaz@example.com", "4111 1111 1111 1111", "123-4567", "7946 0958"):
        assert raw not in text_
    # the database holds exactly what the file holds, and the chain is whole
    assert stored_lines(factory) == records
    with transaction(factory) as s:
        assert verify_database(s).ok
    assert verify_file(settings.audit_log_path).ok


def test_the_request_id_and_staff_text_are_redacted_and_odd_values_cannot_fail(
        factory, settings):
    """A client chooses its X-Request-ID; a NUL or NaN must not make the insert (and with it
    the action) fail on any backend."""
    trail = AuditTrail(factory, settings.audit_log_path)
    line = trail.write(request_id="call me on +44 20 7946 0958", tool="t", outcome="success",
                       reason="nul \x00 here", details={"x": float("nan"), 3: {"s"}},
                       duration_ms=1.5, ticket_id=2**40)
    assert "7946" not in line["request_id"] and "\x00" not in line["reason"]
    assert line["details"] == {"x": None, "3": ["s"]} and line["ticket_id"] == 2**40
    assert file_lines(settings.audit_log_path) == [line]


def test_unknown_audit_field_is_refused(factory, settings):
    with pytest.raises(ValueError):
        AuditTrail(factory, settings.audit_log_path).write(tool="t", password="x")


def test_a_failed_audit_insert_rolls_the_action_back(any_backend, seed_any):
    """Never an action without its record: if the record cannot be written, the refund is not
    made either (here the database refuses audit rows, as a full disk would)."""
    factory, settings = seed_any({"users": users(1), "orders": [
        order("1", 1, "delivered", 5, delivered_days_ago=1)]})
    with transaction(factory) as s:
        if s.get_bind().dialect.name == "sqlite":
            s.execute(text("CREATE TRIGGER no_audit BEFORE INSERT ON audit_records "
                           "BEGIN SELECT RAISE(ABORT, 'audit storage unavailable'); END"))
        else:
            s.execute(text("CREATE FUNCTION no_audit() RETURNS trigger LANGUAGE plpgsql AS "
                           "$$ BEGIN RAISE EXCEPTION 'audit storage unavailable'; END $$"))
            s.execute(text("CREATE TRIGGER no_audit BEFORE INSERT ON audit_records "
                           "FOR EACH ROW EXECUTE FUNCTION no_audit()"))
    result = run_tool(factory, settings, 1, "issue_refund", order_id="1", reason="broken")
    assert result.status != "success"
    assert refunds(factory) == 0
    with transaction(factory) as s:
        assert s.scalar(select(func.count()).select_from(AuditRecord)) == 0
        assert s.get(AuditChainHead, 1).last_seq == 0


def test_a_record_committed_but_not_exported_reaches_the_file_once(factory, settings):
    """A crash between the commit and the JSONL write loses nothing and duplicates nothing:
    the next export (the next call, the API's thread, or `python -m audit export`) writes
    exactly what is missing."""
    trail = AuditTrail(factory, settings.audit_log_path)
    trail.write(tool="first", outcome="success")
    with transaction(factory) as s:  # committed, then the process "dies" before exporting
        append(s, tool="orphan", outcome="success")
    assert [r["tool"] for r in file_lines(settings.audit_log_path)] == ["first"]
    restarted = AuditTrail(factory, settings.audit_log_path)  # a new process: nothing cached
    assert restarted.flush() == 1
    assert restarted.flush() == 0 and trail.flush() == 0
    assert [r["tool"] for r in file_lines(settings.audit_log_path)] == ["first", "orphan"]


def test_a_line_torn_by_a_crash_is_written_again_whole(factory, settings):
    trail = AuditTrail(factory, settings.audit_log_path)
    trail.write(tool="first", outcome="success")
    second = trail.write(tool="second", outcome="success")
    data = settings.audit_log_path.read_bytes()
    settings.audit_log_path.write_bytes(data[:-25])  # the write of "second" was cut short
    assert AuditTrail(factory, settings.audit_log_path).flush() == 1
    assert file_lines(settings.audit_log_path)[-1] == second
    assert verify_file(settings.audit_log_path).ok


def test_lines_from_before_the_chain_are_kept_and_the_export_follows_them(factory, settings):
    """An upgraded install keeps its old JSONL lines; the chained records come after them."""
    old = {name: None for name in FIELDS} | {"tool": "issue_refund", "outcome": "success"}
    settings.audit_log_path.write_text(json.dumps(old) + "\n")
    AuditTrail(factory, settings.audit_log_path).write(tool="new", outcome="success")
    lines = file_lines(settings.audit_log_path)
    assert lines[0] == old and lines[1]["seq"] == 1
    report = verify_file(settings.audit_log_path)
    assert report.ok and "1 line(s) from before the chain" in report.notes[0]


def _writer(url, path, n):
    engine = make_engine(url)
    trail = AuditTrail(make_session_factory(engine), path)
    for i in range(n):
        trail.write(tool="t", outcome="success", reason="x" * 3000, details={"i": i})
    engine.dispose()


def test_concurrent_processes_write_one_chain_and_each_line_once(any_backend):
    engine = make_engine(any_backend.database_url)
    create_schema(engine)
    engine.dispose()  # no connection of ours crosses the fork
    path = any_backend.audit_log_path
    ctx = multiprocessing.get_context("fork")
    procs = [ctx.Process(target=_writer, args=(any_backend.database_url, path, 50))
             for _ in range(4)]
    for p in procs:
        p.start()
    for p in procs:
        p.join(timeout=120)
    assert all(p.exitcode == 0 for p in procs)
    engine = make_engine(any_backend.database_url)
    factory = make_session_factory(engine)
    lines = file_lines(path)
    assert [r["seq"] for r in lines] == list(range(1, 201))
    assert lines == stored_lines(factory)
    with transaction(factory) as s:
        assert verify_database(s).ok
    assert verify_file(path).ok
    engine.dispose()


def test_reading_the_file_matches_fields(factory, settings):
    trail = AuditTrail(factory, settings.audit_log_path)
    trail.write(tool="a", outcome="success", ticket_id=4)
    trail.write(tool="b", outcome="denied", ticket_id=5)
    assert [r["tool"] for r in AuditLog(settings.audit_log_path).read(ticket_id=5)] == ["b"]
    assert [r["tool"] for r in trail.read(outcome="success")] == ["a"]


def test_deleting_and_editing_in_the_database_is_seen_by_the_case_view(factory, settings):
    trail = AuditTrail(factory, settings.audit_log_path)
    for i in range(4):
        trail.write(tool="t", outcome="success", ticket_id=7, reason=f"r{i}")
    events = trail.ticket_events(7)
    assert events.problem is None and all(e["verified"] for e in events.records)
    with transaction(factory) as s:
        s.execute(update(AuditRecord).where(AuditRecord.seq == 3).values(reason="rewritten"))
    events = trail.ticket_events(7)
    assert "record 3 was changed" in events.problem
    assert [e["verified"] for e in events.records] == [True, True, False, True]
    with transaction(factory) as s:
        s.execute(update(AuditRecord).where(AuditRecord.seq == 3).values(reason="r2"))
        s.execute(delete(AuditRecord).where(AuditRecord.seq == 2))
    events = trail.ticket_events(7)
    assert "broken at record 3" in events.problem
    assert [e["verified"] for e in events.records] == [True, False, False]


def test_refunds_and_records_stay_one_to_one(seed, factory, settings):
    seed({"users": users(1), "orders": [order("1", 1, "delivered", 5, delivered_days_ago=1)]})
    run_tool(factory, settings, 1, "issue_refund", order_id="1")
    run_tool(factory, settings, 1, "issue_refund", order_id="1")
    with transaction(factory) as s:
        assert s.scalar(select(func.count()).select_from(Refund)) == 1
        outcomes = s.scalars(select(AuditRecord.outcome).order_by(AuditRecord.seq)).all()
    assert outcomes == ["success", "denied"]
