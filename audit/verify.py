"""Checking the hash chain: the whole trail (`python -m audit verify`), one ticket's records for
the staff case page, and the JSONL file against the database.

A chain walk stops at the first record that is not what it should be and says which, and how:

- **changed**: the record's contents no longer give its hash; or its hash was recomputed, so
  the next record no longer points at it;
- **removed**: the numbering jumps, or the records after a gap were renumbered (their hashes
  fit their old numbers), or the newest records are gone (the chain head still names them);
- **inserted**: a record sits between two that point at each other, or the records after it
  were renumbered to make room.

What a hash chain cannot show by itself: someone able to write to the database can append a
well-formed record at the end, or rewrite every record from some point on. Compare with a copy
of the JSONL file kept elsewhere (`--jsonl`) to catch that.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

from sqlalchemy import select, text
from sqlalchemy.orm import Session

from audit.chain import GENESIS, line_of, record_hash
from db.models import AuditChainHead, AuditRecord


@dataclass
class Finding:
    kind: str        # changed | removed | inserted
    seq: int | None  # the record named (for a removal: the first one missing)
    message: str
    line: int | None = None  # the JSONL line number, when checking a file


@dataclass
class Report:
    checked: int = 0
    finding: Finding | None = None
    notes: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return self.finding is None


def _renumbered(line: dict, by: int) -> bool:
    """The record's hash fits it with `seq - by`: it was moved `by` places."""
    try:
        return record_hash({**line, "seq": line["seq"] - by}) == line.get("hash")
    except (TypeError, ValueError, KeyError):
        return False


def _where(line_no: int | None) -> str:
    return f" (line {line_no})" if line_no else ""


def walk(lines: Iterable[tuple[int | None, dict]], start: tuple[int, str] = (0, GENESIS)
         ) -> Report:
    """Check a chain given in order as (line number or None, record). `start` is the (seq,
    hash) the first record must follow: the beginning of the chain unless told otherwise."""
    report = Report()
    before: tuple[int | None, dict] | None = None       # the record before `prev`
    prev: tuple[int | None, dict] = (None, {"seq": start[0], "hash": start[1]})
    pending: tuple[int | None, dict] | None = None       # a link break waiting for lookahead
    for no, line in lines:
        if pending is not None:  # the record after a broken link decides what happened
            report.finding = _classify_break(before, prev, pending, (no, line))
            return report
        seq = line.get("seq")
        if record_hash(line) != line.get("hash"):
            report.finding = _own_hash_problem(prev, no, line)
            return report
        if line.get("prev_hash") != prev[1]["hash"]:
            pending = (no, line)
            continue
        if not isinstance(seq, int) or seq != prev[1]["seq"] + 1:
            report.finding = Finding("changed", seq, f"record {seq}{_where(no)} is numbered "
                                     f"out of turn after record {prev[1]['seq']}", no)
            return report
        report.checked += 1
        before, prev = prev, (no, line)
    if pending is not None:
        report.finding = _classify_break(before, prev, pending, None)
    return report


def _own_hash_problem(prev, no, line) -> Finding:
    seq = line.get("seq")
    if isinstance(seq, int) and _renumbered(line, 1):
        return Finding("inserted", prev[1]["seq"], (
            f"record {prev[1]['seq']}{_where(prev[0])} was inserted: the records after it were "
            f"renumbered (record {seq}{_where(no)} was number {seq - 1})"), prev[0])
    if isinstance(seq, int) and _renumbered(line, -1):
        return Finding("removed", seq, (
            f"record {seq} was removed: the records after it were renumbered (record "
            f"{seq}{_where(no)} was number {seq + 1})"), no)
    return Finding("changed", seq, f"record {seq}{_where(no)} was changed: its contents no "
                                   "longer match its hash", no)


def _classify_break(before, prev, current, after) -> Finding:
    """`current` does not point at `prev`."""
    no, line = current
    seq, prev_seq = line.get("seq"), prev[1]["seq"]
    if after is not None and after[1].get("prev_hash") == prev[1]["hash"]:
        return Finding("inserted", seq, (
            f"record {seq}{_where(no)} was inserted: the record after it points at record "
            f"{prev_seq}"), no)
    if before is not None and line.get("prev_hash") == before[1]["hash"]:
        return Finding("inserted", prev_seq, (
            f"record {prev_seq}{_where(prev[0])} was inserted: record {seq}{_where(no)} points "
            f"at the record before it"), prev[0])
    if isinstance(seq, int) and seq > prev_seq + 1:
        gap = f"{prev_seq + 1}" if seq == prev_seq + 2 else f"{prev_seq + 1}–{seq - 1}"
        return Finding("removed", prev_seq + 1, (
            f"record {gap} was removed: record {seq}{_where(no)} follows record {prev_seq}"), no)
    if prev_seq == 0:
        return Finding("changed", seq, f"record {seq}{_where(no)} was changed: the first "
                                       "record must point at the start of the chain", no)
    return Finding("changed", prev_seq, (
        f"record {prev_seq}{_where(prev[0])} was changed and its hash recomputed (or a record "
        f"after it removed and the rest renumbered): record {seq}{_where(no)} no longer points "
        "at it"), prev[0])


# --- the database -------------------------------------------------------------------------

def _stored(session: Session) -> Iterator[tuple[None, dict]]:
    rows = session.scalars(select(AuditRecord).order_by(AuditRecord.seq)
                           .execution_options(yield_per=1000))
    for row in rows:
        yield None, line_of(row)


def verify_database(session: Session) -> Report:
    """The whole trail in the database, and the chain head that anchors its end."""
    last: dict = {"seq": 0, "hash": GENESIS}

    def remember(rows):
        for item in rows:
            last.update(seq=item[1]["seq"], hash=item[1]["hash"])
            yield item

    report = walk(remember(_stored(session)))
    if report.finding is not None:
        return report
    head = session.get(AuditChainHead, 1)
    if head is None:
        report.finding = Finding("changed", None, "the chain head is missing")
    elif head.last_seq > last["seq"]:
        gap = (f"{last['seq'] + 1}" if head.last_seq == last["seq"] + 1
               else f"{last['seq'] + 1}–{head.last_seq}")
        report.finding = Finding("removed", last["seq"] + 1, (
            f"record {gap} was removed from the end: the chain head says the trail ends at "
            f"record {head.last_seq}"))
    elif head.last_seq < last["seq"]:
        report.finding = Finding("inserted", head.last_seq + 1, (
            f"record {head.last_seq + 1} was inserted after the end of the chain (the chain "
            f"head says the trail ends at record {head.last_seq})"))
    elif head.last_hash != last["hash"]:
        report.finding = Finding("changed", last["seq"], (
            f"record {last['seq']} was changed: the chain head holds another hash for it"))
    return report


_LINK_BREAK = text("""
    SELECT a.seq FROM audit_records a LEFT JOIN audit_records b ON b.seq = a.seq - 1
    WHERE (a.seq = 1 AND a.prev_hash <> :genesis)
       OR (a.seq <> 1 AND (b.seq IS NULL OR b.hash <> a.prev_hash))
    ORDER BY a.seq LIMIT 1""")


def first_link_break(session: Session) -> int | None:
    """The first record that does not point at the one before it, found by the database in one
    query (no hashing): cheap enough for every view of a case page."""
    return session.execute(_LINK_BREAK, {"genesis": GENESIS}).scalar()


@dataclass
class Events:
    """A ticket's audit records for a page, each marked `verified`, and what is wrong if not."""

    records: list[dict]
    problem: str | None = None


def ticket_events(session: Session, ticket_id: int) -> Events:
    """A ticket's records with the checks a page can afford: each record's own hash, every
    link of the whole chain (in SQL), and the chain head. A record is `verified` when its own
    hash holds and it comes before the first break."""
    rows = list(session.scalars(select(AuditRecord).where(AuditRecord.ticket_id == ticket_id)
                                .order_by(AuditRecord.seq)))
    problem, broken_from = None, None
    seq = first_link_break(session)
    if seq is not None:
        broken_from = seq - 1 if seq > 1 else seq
        problem = (f"The audit trail's chain is broken at record {seq}: it does not point at "
                   "the record before it (a record was changed, removed or inserted).")
    else:
        head = session.get(AuditChainHead, 1)
        newest = session.execute(select(AuditRecord.seq, AuditRecord.hash)
                                 .order_by(AuditRecord.seq.desc()).limit(1)).first()
        newest = tuple(newest) if newest else (0, GENESIS)
        if head is None or (head.last_seq, head.last_hash) != newest:
            broken_from = min(newest[0], head.last_seq if head else 0) or 1
            problem = ("The audit trail's chain head does not match its newest record (records "
                       "were removed from or added at the end).")
    records = []
    for row in rows:
        line = line_of(row)
        intact = record_hash(line) == line["hash"]
        if not intact and problem is None:
            problem = (f"Audit record {row.seq} was changed after it was written: its contents "
                       "no longer match its hash.")
        records.append({**line, "verified": intact and (broken_from is None
                                                        or row.seq < broken_from)})
    if problem:
        problem += " Run `python -m audit verify` for the whole trail."
    return Events(records, problem)


# --- the JSONL file ------------------------------------------------------------------------

def file_lines(path: Path) -> Iterator[tuple[int, dict | None]]:
    """(line number, record) for every line; None for a line that is not a JSON object."""
    with path.open(encoding="utf-8") as fh:
        for no, raw in enumerate(fh, 1):
            if not raw.strip():
                continue
            try:
                line = json.loads(raw)
            except json.JSONDecodeError:
                yield no, None
                continue
            yield no, line if isinstance(line, dict) else None


def verify_file(path: Path, session: Session | None = None) -> Report:
    """The file's own chain, and, given a session, that it holds exactly the database's records
    (the newest may not be exported yet). Lines from before the trail was chained (no `seq`)
    are counted and skipped."""
    legacy = 0
    chained: list[tuple[int, dict]] = []
    for no, line in file_lines(path):
        if line is None:
            report = Report()
            report.finding = Finding("changed", None, f"line {no} is not a JSON record", no)
            return report
        if "seq" not in line and "hash" not in line:
            if chained:
                report = Report()
                report.finding = Finding("inserted", None, (
                    f"line {no} was inserted: it has no place in the chain"), no)
                return report
            legacy += 1
            continue
        chained.append((no, line))
    start = (0, GENESIS)
    first = chained[0][1] if chained else None
    if session is None and first and isinstance(first.get("seq"), int) and first["seq"] > 1:
        start = (first["seq"] - 1, first.get("prev_hash"))  # a file that begins later (rotated)
    report = walk(chained, start)
    if start[0]:
        report.notes.append(f"the file begins at record {start[0] + 1}; earlier records were "
                            "not checked (give the database to check them)")
    if legacy:
        report.notes.append(f"{legacy} line(s) from before the chain began were not checked")
    if report.finding is not None or session is None:
        return report
    return _against_database(chained, session, report)


def _against_database(chained: list[tuple[int, dict]], session: Session,
                      report: Report) -> Report:
    stored = dict(session.execute(select(AuditRecord.seq, AuditRecord.hash)).all())
    seen = set()
    for no, line in chained:
        seq = line["seq"]
        if seq not in stored:
            report.finding = Finding("inserted", seq, (
                f"record {seq} (line {no}) was inserted: the database has no such record"), no)
            return report
        if stored[seq] != line["hash"]:
            report.finding = Finding("changed", seq, (
                f"record {seq} (line {no}) differs from the database's record {seq}"), no)
            return report
        seen.add(seq)
    last = max(seen, default=0)
    missing = [seq for seq in sorted(stored) if seq <= last and seq not in seen]
    if missing:
        report.finding = Finding("removed", missing[0], (
            f"record {missing[0]} is in the database but missing from the file"))
        return report
    waiting = sum(1 for seq in stored if seq > last)
    if waiting:
        report.notes.append(f"{waiting} newest record(s) not yet in the file (exported within "
                            "a second by a running API, or by `python -m audit export`)")
    return report
