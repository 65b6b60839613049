"""Split policy markdown into one chunk per `##` section, so a citation names a real heading."""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass
from pathlib import Path

HEADING = re.compile(r"^(#{1,6})\s+(.*?)\s*#*\s*$")


@dataclass(frozen=True)
class Chunk:
    source: str
    title: str
    section: str
    text: str

    @property
    def embed_text(self) -> str:
        return f"{self.title}: {self.section}\n{self.text}"


def chunk_markdown(source: str, markdown: str) -> list[Chunk]:
    title, section, lines, chunks = source, None, [], []

    def flush():
        body = "\n".join(lines).strip()
        if body:
            chunks.append(Chunk(source, title, section or title, body))

    for line in markdown.splitlines():
        match = HEADING.match(line)
        if match and len(match.group(1)) == 1 and not chunks and section is None:
            title = match.group(2)
            continue
        if match and len(match.group(1)) == 2:
            flush()
            section, lines = match.group(2), []
            continue
        lines.append(line)
    flush()
    return chunks


def policy_files(policies_dir: Path) -> list[Path]:
    return sorted(p for p in Path(policies_dir).glob("*.md") if p.is_file())


def content_hash(policies_dir: Path) -> str:
    """Changes whenever any policy file is added, removed, renamed or edited."""
    digest = hashlib.sha256()
    for path in policy_files(policies_dir):
        digest.update(path.name.encode() + b"\0" + path.read_bytes() + b"\0")
    return digest.hexdigest()


def chunk_policies(policies_dir: Path) -> list[Chunk]:
    chunks: list[Chunk] = []
    for path in policy_files(policies_dir):
        chunks.extend(chunk_markdown(path.name, path.read_text(encoding="utf-8")))
    return chunks
