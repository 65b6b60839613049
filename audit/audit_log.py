"""The JSONL copy of the audit trail at AUDIT_LOG_PATH: one JSON record per line.

Nothing writes here directly any more: records go into the database with the action they
describe (audit/trail.py) and are exported to this file from there (audit/export.py), each
exactly once, in chain order. This class reads the file (tests, tools that grep the log).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from audit.chain import CHAIN_FIELDS, FIELDS, OPTIONAL_FIELDS

__all__ = ["AuditLog", "CHAIN_FIELDS", "FIELDS", "OPTIONAL_FIELDS"]


class AuditLog:
    def __init__(self, path: str | Path):
        self.path = Path(path)

    def read(self, **match: Any) -> list[dict]:
        """Records whose fields equal every given value."""
        if not self.path.exists():
            return []
        out = []
        with self.path.open(encoding="utf-8") as fh:
            for raw in fh:
                try:
                    rec = json.loads(raw)
                except json.JSONDecodeError:
                    continue
                if isinstance(rec, dict) and all(rec.get(k) == v for k, v in match.items()):
                    out.append(rec)
        return out
