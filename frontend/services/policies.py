"""Policy documents (the markdown files the agent's index is built from).

Uploads replace a file atomically (temp file in the same folder, then os.replace),
so the API never reads half a document; its index notices the change by content hash.
"""

from __future__ import annotations

import os
import re
import tempfile
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

NAME = re.compile(r"^[a-z0-9_\-]+\.md$")
MAX_BYTES = 200 * 1024


class PolicyRejected(ValueError):
    pass


@dataclass
class PolicyFile:
    name: str
    size: int
    modified: datetime
    title: str


def _title(text: str, fallback: str) -> str:
    for line in text.splitlines():
        if line.startswith("# "):
            return line[2:].strip()
    return fallback


def _path(policies_dir: Path, name: str) -> Path:
    if not NAME.match(name or ""):
        raise PolicyRejected("File names may only use a-z, 0-9, '-' and '_' and end in .md.")
    return Path(policies_dir) / name


def list_policies(policies_dir: Path) -> list[PolicyFile]:
    folder = Path(policies_dir)
    if not folder.is_dir():
        return []
    files = []
    for path in sorted(folder.glob("*.md")):
        if not NAME.match(path.name) or not path.is_file():
            continue
        stat = path.stat()
        text = path.read_text(encoding="utf-8", errors="replace")
        files.append(PolicyFile(path.name, stat.st_size,
                                datetime.fromtimestamp(stat.st_mtime, UTC),
                                _title(text, path.stem.replace("_", " ").title())))
    return files


def read_policy(policies_dir: Path, name: str) -> str | None:
    try:
        path = _path(policies_dir, name)
    except PolicyRejected:
        return None
    if not path.is_file():
        return None
    return path.read_text(encoding="utf-8", errors="replace")


def validate_upload(name: str, data: bytes) -> str:
    """The text to store, or PolicyRejected with a message a person can act on."""
    _path(Path("."), name)
    if len(data) > MAX_BYTES:
        raise PolicyRejected(f"The file is {len(data) // 1024} KB; the limit is "
                             f"{MAX_BYTES // 1024} KB.")
    if not data.strip():
        raise PolicyRejected("The file is empty.")
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise PolicyRejected("The file is not UTF-8 text.") from exc
    if "\x00" in text:
        raise PolicyRejected("The file is not a text file.")
    return text.removeprefix("\ufeff")


def save_policy(policies_dir: Path, name: str, data: bytes) -> bool:
    """Write (or replace) a policy; True if it replaced an existing file."""
    text = validate_upload(name, data)
    path = _path(policies_dir, name)
    path.parent.mkdir(parents=True, exist_ok=True)
    existed = path.exists()
    # Not *.md, so a concurrent index build never picks up the half-written temp file.
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".upload-", suffix=".tmp")
    try:
        with os.fdopen(fd, "w", encoding="utf-8", newline="") as fh:
            fh.write(text)
            fh.flush()
            os.fsync(fh.fileno())
        os.chmod(tmp, 0o644)
        os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise
    return existed
