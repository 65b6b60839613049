"""The hash chain under concurrency, and tampering found and named: in the database, in the
JSONL file, and by `python -m audit verify`."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor

import pytest
from sqlalchemy import delete, func, select, text, update

from audit.chain import chained, line_of, new_record, record_hash
from audit.trail import AuditTrail
from audit.verify import verify_database, verify_file
from config import ROOT
from db.engine import transaction
from db.models import AuditChainHead, AuditRecord, Refund
from tests.conftest import order, users
from tools.base import ToolContext
from tools.registry import ToolRunner


def stored(factory) -> list[dict]:
    with transaction(factory) as s:
        return [line_of(r) for r in s.scalars(select(AuditRecord).order_by(AuditRecord.seq))]


def file_lines(path) -> list[dict]:
    return [json.loads(line) for line in path.read_text().splitlines()]


def test_concurrent_refunds_are_each_recorded_once_in_one_valid_chain(seed_any):
    """30 refunds at once for 15 customers (two runners, like two workers, each with its own
    exporter), plus 10 look-ups: 40 records, one per call, the chain whole, the file identical."""
    n = 15
    factory, settings = seed_any({"users": users(*range(1, n + 1)), "orders": [
        order(f"{u}{k}", u, "delivered", 10, delivered_days_ago=2)
        for u in range(1, n + 1) for k in (1, 2)]})
    runners = [ToolRunner(factory, AuditTrail(factory, settings.audit_log_path))
               for _ in range(2)]
    calls = [("issue_refund", u, f"{u}{k}") for u in range(1, n + 1) for k in (1, 2)]
    calls += [("get_order_status", u, f"{u}1") for u in range(1, 11)]

    def one(i_call):
        i, (tool, user, oid) = i_call
        ctx = ToolContext(user_id=user, settings=settings, request_id=f"req-{i}")
        return runners[i % 2].invoke(tool, ctx, order_id=oid).status

    with ThreadPoolExecutor(max_workers=20) as pool:
        outcomes = list(pool.map(one, enumerate(calls)))
    assert outcomes.count("success") == 40
    records = stored(factory)
    assert len(records) == 40 and {r["request_id"] for r in records} == {
        f"req-{i}" for i in range(40)}
    with transaction(factory) as s:
        assert s.scalar(select(func.count()).select_from(Refund)) == 30
        assert verify_database(s).ok
    assert file_lines(settings.audit_log_path) == records  # same records, same order, once
    with transaction(factory) as s:
        assert verify_file(settings.audit_log_path, s).ok


@pytest.fixture
def trail10(seed_any):
    factory, settings = seed_any({"users": users(1), "orders": []})
    trail = AuditTrail(factory, settings.audit_log_path)
    for i in range(1, 11):
        trail.write(tool="issue_refund", outcome="success", user_id=1, ticket_id=1,
                    order_id=str(i), reason=f"R2 refund {i}", details={"amount": i})
    return factory, settings


def check(factory):
    with transaction(factory) as s:
        return verify_database(s).finding


def test_an_untouched_trail_verifies(trail10):
    factory, _ = trail10
    assert check(factory) is None


def test_a_changed_record_is_named(trail10):
    factory, _ = trail10
    with transaction(factory) as s:
        s.execute(update(AuditRecord).where(AuditRecord.seq == 5).values(
            reason="R2 refund 5000"))
    finding = check(factory)
    assert (finding.kind, finding.seq) == ("changed", 5)


def test_a_changed_and_rehashed_record_is_named(trail10):
    factory, _ = trail10
    with transaction(factory) as s:
        row = s.get(AuditRecord, 5)
        line = {**line_of(row), "reason": "R2 refund 5000"}
        row.reason, row.hash = line["reason"], record_hash(line)
    finding = check(factory)
    assert (finding.kind, finding.seq) == ("changed", 5)


def test_a_removed_record_is_named(trail10):
    factory, _ = trail10
    with transaction(factory) as s:
        s.execute(delete(AuditRecord).where(AuditRecord.seq == 4))
    finding = check(factory)
    assert (finding.kind, finding.seq) == ("removed", 4)


def test_removing_the_newest_records_is_seen_by_the_chain_head(trail10):
    factory, _ = trail10
    with transaction(factory) as s:
        s.execute(delete(AuditRecord).where(AuditRecord.seq >= 9))
    finding = check(factory)
    assert (finding.kind, finding.seq) == ("removed", 9) and "9–10" in finding.message


def test_a_record_inserted_in_the_middle_is_named(trail10):
    """The forger renumbers the later records to make room and chains the forged one
    correctly to its predecessor."""
    factory, _ = trail10
    with transaction(factory) as s:
        for seq in range(10, 5, -1):
            s.execute(update(AuditRecord).where(AuditRecord.seq == seq).values(seq=seq + 1))
        prev = s.get(AuditRecord, 5)
        forged = chained(new_record(tool="issue_refund", outcome="success", user_id=1,
                                    order_id="99", reason="R2 refund 99"), 6, prev.hash)
        s.add(AuditRecord(**forged))
        s.execute(update(AuditChainHead).values(last_seq=11))
    finding = check(factory)
    assert (finding.kind, finding.seq) == ("inserted", 6)


def test_a_record_appended_behind_the_heads_back_is_named(trail10):
    factory, _ = trail10
    with transaction(factory) as s:
        last = s.get(AuditRecord, 10)
        s.add(AuditRecord(**chained(new_record(tool="issue_refund", outcome="success"), 11,
                                    last.hash)))
    finding = check(factory)
    assert (finding.kind, finding.seq) == ("inserted", 11)


def _rewrite(path, change):
    lines = path.read_text().splitlines()
    change(lines)
    path.write_text("\n".join(lines) + "\n")


def test_tampered_jsonl_lines_are_named(trail10):
    factory, settings = trail10
    path = settings.audit_log_path
    original = path.read_text()

    def file_finding():
        with transaction(factory) as s:
            report = verify_file(path, s)
        path.write_text(original)
        return report.finding

    _rewrite(path, lambda lines: lines.__setitem__(2, lines[2].replace("refund 3", "refund 30")))
    finding = file_finding()
    assert (finding.kind, finding.seq, finding.line) == ("changed", 3, 3)
    _rewrite(path, lambda lines: lines.pop(2))
    finding = file_finding()
    assert (finding.kind, finding.seq) == ("removed", 3)
    second = json.loads(original.splitlines()[1])
    forged = chained(new_record(tool="issue_refund", outcome="success", order_id="77"), 3,
                     second["hash"])
    _rewrite(path, lambda lines: lines.insert(2, json.dumps(forged)))
    finding = file_finding()
    assert (finding.kind, finding.line) == ("inserted", 3)
    _rewrite(path, lambda lines: lines.insert(3, lines[2]))  # a record written twice
    finding = file_finding()
    assert (finding.kind, finding.line) == ("inserted", 4)
    # without the database, the file's own chain still shows the edit
    _rewrite(path, lambda lines: lines.__setitem__(6, lines[6].replace("refund 7", "refund 70")))
    finding = verify_file(path).finding
    assert (finding.kind, finding.seq) == ("changed", 7)


def run_verify(*args):
    return subprocess.run([sys.executable, "-m", "audit", "verify", *args], cwd=ROOT,
                          env={**os.environ}, capture_output=True, text=True, timeout=60)


def test_the_command_line_names_the_first_broken_record(trail10):
    factory, settings = trail10
    url, path = settings.database_url, str(settings.audit_log_path)
    good = run_verify("--database-url", url, "--jsonl", path)
    assert good.returncode == 0, good.stdout + good.stderr
    assert "database: OK — 10 record(s)" in good.stdout
    lines = settings.audit_log_path.read_text().splitlines()
    lines[3] = lines[3].replace("refund 4", "refund 400")
    settings.audit_log_path.write_text("\n".join(lines) + "\n")
    bad = run_verify("--database-url", url, "--jsonl", path)
    assert bad.returncode == 1 and "record 4 (line 4) was changed" in bad.stdout, bad.stdout
    assert run_verify("--no-database", "--jsonl", path).returncode == 1
    with transaction(factory) as s:
        s.execute(text("DELETE FROM audit_records WHERE seq = 2"))
    bad = run_verify("--database-url", url)
    assert bad.returncode == 1 and "record 2 was removed" in bad.stdout, bad.stdout
