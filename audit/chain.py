"""What an audit record is, and how it is hashed into the chain.

A record is the SPEC's fields (`FIELDS`), `staff_id` when a person acted, and three chain
fields: `seq` (its place in the trail: 1, 2, 3 … without gaps), `prev_hash` (the hash of record
`seq - 1`, or `GENESIS` for the first) and `hash`, the sha256 of the canonical JSON of every
other field of the record (keys sorted, no spaces, UTF-8). Because each record's hash covers
the previous hash, changing, removing or inserting any record breaks the link at the next one.

The JSONL line is exactly this record, so a line can be checked on its own
(`record_hash(line) == line["hash"]`) and against the database.
"""

from __future__ import annotations

import hashlib
import json
import math
from datetime import UTC, datetime
from typing import Any

from audit.redact import redact, redact_obj

FIELDS = ("ts", "request_id", "user_id", "conversation_id", "ticket_id", "tool", "order_id",
          "outcome", "reason", "details", "duration_ms")
# Present only when given: `staff_id` when a person acted (SPEC).
OPTIONAL_FIELDS = ("staff_id",)
CHAIN_FIELDS = ("seq", "prev_hash", "hash")
GENESIS = "0" * 64


def canonical(record: dict) -> str:
    return json.dumps(record, sort_keys=True, separators=(",", ":"), ensure_ascii=False,
                      allow_nan=False)


def record_hash(record: dict) -> str:
    """The hash of a record: every field but `hash` itself."""
    body = {k: v for k, v in record.items() if k != "hash"}
    return hashlib.sha256(canonical(body).encode("utf-8")).hexdigest()


def plain(value: Any) -> Any:
    """JSON values only, and ones every database stores as given: no NUL characters (PostgreSQL
    refuses them in text), no NaN or infinity, string keys, anything else as its text. A value
    that could make the audit insert fail would roll back the action it describes."""
    if value is None or isinstance(value, (bool, int)):
        return value
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, str):
        return value.replace("\x00", "\ufffd")
    if isinstance(value, dict):
        return {plain(str(k)): plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple, set, frozenset)):
        return [plain(v) for v in value]
    return plain(str(value))


def _int_or_none(value: Any) -> int | None:
    if value is None or isinstance(value, bool):
        return None
    try:
        number = int(value)
    except (TypeError, ValueError):
        return None
    return number if -2**63 <= number < 2**63 else None


def new_record(**given: Any) -> dict:
    """The record's own fields (no chain fields yet), redacted and made plain. Refuses unknown
    field names, so a typo cannot drop information silently."""
    unknown = set(given) - set(FIELDS) - set(OPTIONAL_FIELDS)
    if unknown:
        raise ValueError(f"unknown audit fields: {sorted(unknown)}")
    record = {name: given.get(name) for name in FIELDS}
    record["ts"] = str(record["ts"] or datetime.now(UTC).isoformat(timespec="milliseconds"))
    for name in ("user_id", "ticket_id"):
        record[name] = _int_or_none(record[name])
    # Text that can carry what a person typed is redacted: the reason and the details, and the
    # request id (a client chooses its X-Request-ID).
    record["request_id"] = redact(str(record["request_id"])) if record["request_id"] else None
    record["reason"] = redact_obj(record["reason"])
    record["details"] = redact_obj(record["details"] or {})
    for name in ("conversation_id", "order_id", "tool", "outcome"):
        if record[name] is not None:
            record[name] = str(record[name])
    if isinstance(record["duration_ms"], (int, float)) and not isinstance(
            record["duration_ms"], bool):
        record["duration_ms"] = float(record["duration_ms"])
    else:
        record["duration_ms"] = None
    staff_id = _int_or_none(given.get("staff_id"))
    if staff_id is not None:
        record["staff_id"] = staff_id
    return plain(record)


def chained(record: dict, seq: int, prev_hash: str) -> dict:
    """The record with its chain fields, hash last."""
    line = {**record, "seq": seq, "prev_hash": prev_hash}
    line["hash"] = record_hash(line)
    return line


def line_of(row: Any) -> dict:
    """A stored record (db.models.AuditRecord) as its JSONL line: the dict its hash covers."""
    line = {name: getattr(row, name) for name in FIELDS}
    if row.staff_id is not None:
        line["staff_id"] = row.staff_id
    line.update(seq=row.seq, prev_hash=row.prev_hash, hash=row.hash)
    return line
