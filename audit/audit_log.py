"""Append-only JSONL audit writer.

Each record is serialised to one line and written with a single `os.write` on a
file opened with O_APPEND, so lines from several processes never interleave.
"""

from __future__ import annotations

import json
import os
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from audit.redact import redact_obj

FIELDS = ("ts", "request_id", "user_id", "conversation_id", "ticket_id", "tool", "order_id",
          "outcome", "reason", "details", "duration_ms")
# Written only when given: `staff_id` when a person acted (SPEC), so every other record keeps
# exactly FIELDS.
OPTIONAL_FIELDS = ("staff_id",)


class AuditLog:
    def __init__(self, path: str | Path):
        self.path = Path(path)

    def write(self, **record: Any) -> dict:
        unknown = set(record) - set(FIELDS) - set(OPTIONAL_FIELDS)
        if unknown:
            raise ValueError(f"unknown audit fields: {sorted(unknown)}")
        line = {name: record.get(name) for name in FIELDS}
        line.update({name: record[name] for name in OPTIONAL_FIELDS
                     if record.get(name) is not None})
        line["ts"] = line["ts"] or datetime.now(UTC).isoformat(timespec="milliseconds")
        line["reason"] = redact_obj(line["reason"])
        line["details"] = redact_obj(line["details"] or {})
        data = (json.dumps(line, default=str, ensure_ascii=False) + "\n").encode("utf-8")
        self.path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(self.path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o640)
        try:
            os.write(fd, data)
        finally:
            os.close(fd)
        return line

    def read(self, **match: Any) -> list[dict]:
        """Records whose fields equal every given value (for the staff views and tests)."""
        if not self.path.exists():
            return []
        out = []
        with self.path.open(encoding="utf-8") as fh:
            for raw in fh:
                try:
                    rec = json.loads(raw)
                except json.JSONDecodeError:
                    continue
                if all(rec.get(k) == v for k, v in match.items()):
                    out.append(rec)
        return out
