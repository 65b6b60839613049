"""Copies committed audit records from the database to the JSONL file at AUDIT_LOG_PATH.

The file is its own bookmark: the newest line that the database recognises (same `seq`, same
`hash`) says how far the export got, so there is no second place to keep in step with the file.
That gives the two promises:

- never twice: an export appends only records after that line, and exports are serialised by
  an exclusive `flock` on the file (across processes) and a lock per exporter (across threads);
- never a gap, even after a crash: a record committed but not yet written (the process died in
  between) is simply after the bookmark, so the next export — the next call, the API's
  background thread, or `python -m audit export` — writes it. A line torn by a crash mid-write
  (no final newline) is cut off and written again whole.

Records commit in `seq` order (the chain head is locked until commit), and an export takes only
a run of consecutive `seq`s, so the file is the trail in order. Lines the database does not
recognise (a file from another database, or an edited line) are skipped when looking for the
bookmark and left as they are; `python -m audit verify --jsonl` reports them.
"""

from __future__ import annotations

import fcntl
import json
import logging
import os
import threading
from collections.abc import Iterator
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from audit.chain import CHAIN_FIELDS, line_of
from db.engine import reading
from db.models import AuditRecord

log = logging.getLogger(__name__)

BATCH = 500
_BLOCK = 64 * 1024


def encode(line: dict) -> bytes:
    return (json.dumps(line, ensure_ascii=False) + "\n").encode("utf-8")


def reverse_lines(fd: int, size: int) -> Iterator[bytes]:
    """The file's complete lines, last first, read in blocks from the end."""
    end, tail = size, b""
    while end > 0:
        start = max(0, end - _BLOCK)
        block = os.pread(fd, end - start, start) + tail
        end = start
        parts = block.split(b"\n")
        tail = parts[0] if start > 0 else b""
        for part in reversed(parts[1:] if start > 0 else parts):
            if part.strip():
                yield part
    if tail.strip():
        yield tail


class JsonlExporter:
    def __init__(self, factory: sessionmaker[Session], path: str | Path):
        self.factory = factory
        self.path = Path(path)
        self._lock = threading.Lock()
        # (device, inode, size, last seq) after this exporter's last look: while the file is
        # unchanged the bookmark need not be read again.
        self._known: tuple[int, int, int, int] | None = None

    def flush(self) -> int:
        """Export every committed record not yet in the file; returns how many lines were
        written. Raises on a database or file error (callers that must not fail use `try_flush`)."""
        with self._lock:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            fd = os.open(self.path, os.O_RDWR | os.O_APPEND | os.O_CREAT, 0o640)
            try:
                fcntl.flock(fd, fcntl.LOCK_EX)
                return self._export(fd)
            finally:
                os.close(fd)  # releases the flock

    def try_flush(self) -> int:
        """`flush`, but a failure is logged, not raised: the records are safe in the database
        and the next export writes them."""
        try:
            return self.flush()
        except Exception:
            log.warning("audit export to %s failed; it will be retried", self.path,
                        exc_info=True)
            return 0

    def _export(self, fd: int) -> int:
        stat = os.fstat(fd)
        size = self._cut_torn_tail(fd, stat.st_size)
        known = self._known
        if known is not None and known[:3] == (stat.st_dev, stat.st_ino, size):
            last = known[3]
        else:
            last = self.bookmark(fd, size)
        written = 0
        while True:
            with reading(self.factory) as session:
                rows = list(session.scalars(select(AuditRecord).where(AuditRecord.seq > last)
                                            .order_by(AuditRecord.seq).limit(BATCH)))
                lines = []
                for row in rows:
                    if row.seq != last + 1 + len(lines):
                        break  # not yet committed in between: the next export takes it
                    lines.append(line_of(row))
            if not lines:
                break
            data = b"".join(encode(line) for line in lines)
            _write_all(fd, data)
            size += len(data)
            last = lines[-1]["seq"]
            written += len(lines)
            if len(lines) < BATCH:
                break
        self._known = (stat.st_dev, stat.st_ino, size, last)
        return written

    def bookmark(self, fd: int, size: int) -> int:
        """The `seq` of the newest line that the database holds exactly (same hash); 0 when
        there is none (a new file, or only lines from before the trail was in the database)."""
        batch: list[tuple[int, str]] = []
        for raw in reverse_lines(fd, size):
            try:
                line = json.loads(raw)
            except (json.JSONDecodeError, UnicodeDecodeError):
                continue
            if isinstance(line, dict) and all(k in line for k in CHAIN_FIELDS) and isinstance(
                    line["seq"], int):
                batch.append((line["seq"], line["hash"]))
            if len(batch) >= 200:
                found = self._match(batch)
                if found is not None:
                    return found
                batch = []
        found = self._match(batch) if batch else None
        return found or 0

    def _match(self, candidates: list[tuple[int, str]]) -> int | None:
        """The first candidate (newest first) that the database holds with that hash."""
        with reading(self.factory) as session:
            stored = dict(session.execute(
                select(AuditRecord.seq, AuditRecord.hash)
                .where(AuditRecord.seq.in_({seq for seq, _ in candidates}))).all())
        for seq, digest in candidates:
            if stored.get(seq) == digest:
                return seq
        return None

    def _cut_torn_tail(self, fd: int, size: int) -> int:
        """A crash in the middle of a write can leave a last line without its newline: cut it
        off (its record is still in the database and is written again whole)."""
        if size == 0 or os.pread(fd, 1, size - 1) == b"\n":
            return size
        keep = size
        while keep > 0:
            start = max(0, keep - _BLOCK)
            block = os.pread(fd, keep - start, start)
            at = block.rfind(b"\n")
            if at >= 0:
                keep = start + at + 1
                break
            keep = start
        log.warning("audit log %s ended in a torn line; cut %d bytes", self.path, size - keep)
        os.ftruncate(fd, keep)
        return keep


def _write_all(fd: int, data: bytes) -> None:
    while data:
        done = os.write(fd, data)
        data = data[done:]


class ExportThread:
    """Exports every `interval` seconds in the background, so records written by any process
    (or left behind by one that crashed after its commit) reach the file within a second."""

    def __init__(self, exporter: JsonlExporter, interval: float = 0.5):
        self.exporter = exporter
        self.interval = interval
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="audit-export", daemon=True)

    def start(self) -> ExportThread:
        self._thread.start()
        return self

    def _run(self) -> None:
        while not self._stop.is_set():
            self.exporter.try_flush()
            self._stop.wait(self.interval)

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(timeout=10)
        self.exporter.try_flush()
