"""Audit lines: one valid JSON object per tool call, every SPEC field, no raw PII."""

import json
import multiprocessing

import pytest

from audit.audit_log import FIELDS, AuditLog
from audit.redact import redact
from tests.conftest import order, users
from tests.core.helpers import run_tool

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


def test_every_tool_call_is_audited_with_all_fields_and_no_pii(seed, factory, settings):
    seed({"users": users(1), "orders": [order("1", 1, "delivered", 5, delivered_days_ago=1)]})
    run_tool(factory, settings, 1, "issue_refund", order_id="1", reason=PII)
    run_tool(factory, settings, 1, "issue_refund", order_id="nope")
    run_tool(factory, settings, 1, "escalate_case", reason=PII)
    lines = settings.audit_log_path.read_text().splitlines()
    assert len(lines) == 3
    records = [json.loads(line) for line in lines]
    assert all(tuple(r) == FIELDS for r in records)
    assert [r["outcome"] for r in records] == ["success", "needs_info", "escalated"]
    assert records[0]["order_id"] == "1" and records[0]["user_id"] == 1
    text = "\n".join(lines)
    for raw in ("ana.diaz@example.com", "4111 1111 1111 1111", "123-4567", "7946 0958"):
        assert raw not in text


def _writer(path, n):
    log = AuditLog(path)
    for i in range(n):
        log.write(tool="t", outcome="success", reason="x" * 3000, details={"i": i})


def test_concurrent_processes_never_interleave_lines(tmp_path):
    path = tmp_path / "audit.jsonl"
    procs = [multiprocessing.Process(target=_writer, args=(path, 200)) for _ in range(4)]
    for p in procs:
        p.start()
    for p in procs:
        p.join()
    lines = path.read_text().splitlines()
    assert len(lines) == 800
    assert all(json.loads(line)["tool"] == "t" for line in lines)


def test_unknown_audit_field_is_refused(tmp_path):
    with pytest.raises(ValueError):
        AuditLog(tmp_path / "a.jsonl").write(tool="t", password="x")
