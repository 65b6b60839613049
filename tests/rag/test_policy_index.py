"""The FAISS policy index: chunking by heading, retrieval quality, persistence and rebuilds.

Uses the real all-MiniLM-L6-v2 embedder and the real policies/ folder; every index is
written to a temporary directory, never to data/.
"""

from __future__ import annotations

import json
import re
import shutil

import pytest

from config import ROOT
from rag import policy_index
from rag.chunking import chunk_markdown, chunk_policies, content_hash, policy_files
from rag.embeddings import load_embedder
from rag.policy_index import HASH_FILE, PolicyIndex

POLICIES = ROOT / "policies"
QUESTIONS = [json.loads(line) for line in
             (ROOT / "tests" / "data" / "policy_questions.jsonl").read_text().splitlines()
             if line.strip()]


@pytest.fixture(scope="module")
def embedder():
    return load_embedder()


@pytest.fixture(scope="module")
def index_dir(tmp_path_factory):
    return tmp_path_factory.mktemp("policy_index") / "index"


@pytest.fixture(scope="module")
def index(embedder, index_dir):
    return PolicyIndex.load_or_build(POLICIES, index_dir, embedder)


# --- chunking -------------------------------------------------------------------------------

def test_chunk_markdown_splits_on_level_two_headings_and_keeps_metadata():
    text = ("# Returns Policy\n\nIntro line that belongs to no section.\n\n"
            "## Refund window\nYou have 30 days.\n\n### A sub-heading stays inside\nMore.\n\n"
            "## Empty section\n\n## How to ask\nWrite to us.\n")
    chunks = chunk_markdown("returns.md", text)
    # The text before the first `##` is its own chunk, named after the document title.
    assert [(c.source, c.title, c.section) for c in chunks] == [
        ("returns.md", "Returns Policy", "Returns Policy"),
        ("returns.md", "Returns Policy", "Refund window"),
        ("returns.md", "Returns Policy", "How to ask"),
    ]
    assert chunks[1].text.startswith("You have 30 days.")
    assert "### A sub-heading stays inside" in chunks[1].text and "More." in chunks[1].text
    assert "Write to us." not in chunks[1].text
    assert chunks[2].embed_text == "Returns Policy: How to ask\nWrite to us."


def test_every_policy_section_becomes_one_chunk_named_by_its_real_heading():
    chunks = chunk_policies(POLICIES)
    sources = {p.name for p in policy_files(POLICIES)}
    assert sources == {"refund_policy.md", "cancellation_policy.md", "replacement_policy.md",
                       "shipping_policy.md", "escalation_policy.md", "faqs.md"}
    for path in policy_files(POLICIES):
        headings = re.findall(r"(?m)^## (.+?)\s*$", path.read_text(encoding="utf-8"))
        mine = [c for c in chunks if c.source == path.name]
        assert [c.section for c in mine] == headings, path.name
        assert all(c.text.strip() and not c.text.lstrip().startswith("#") for c in mine)
    assert len([c for c in chunks if c.source == "faqs.md"]) >= 20


# --- retrieval quality ----------------------------------------------------------------------

def test_search_returns_source_section_score_and_text_best_first(index):
    hits = index.search("How long do I have to ask for a refund?", k=3)
    assert len(hits) == 3
    for hit in hits:
        assert {"source", "section", "score", "text"} <= set(hit)
        assert hit["source"].endswith(".md") and hit["section"] and hit["text"]
        assert isinstance(hit["score"], float) and -1.0 <= hit["score"] <= 1.0
    assert [h["score"] for h in hits] == sorted((h["score"] for h in hits), reverse=True)
    assert (hits[0]["source"], hits[0]["section"]) == ("refund_policy.md", "Refund window")


def test_every_policy_question_finds_its_document_in_the_top_three(index):
    assert len(QUESTIONS) >= 30
    at1 = at3 = 0
    misses = []
    for q in QUESTIONS:
        sources = [h["source"] for h in index.search(q["question"], k=3)]
        at1 += sources[0] == q["source"]
        at3 += q["source"] in sources
        if q["source"] not in sources:
            misses.append((q["question"], q["source"], sources))
    assert not misses, misses
    assert at3 / len(QUESTIONS) == 1.0
    assert at1 / len(QUESTIONS) >= 0.85, f"recall@1 = {at1 / len(QUESTIONS):.1%}"


def test_every_document_has_at_least_five_questions():
    per_doc = {}
    for q in QUESTIONS:
        per_doc[q["source"]] = per_doc.get(q["source"], 0) + 1
    assert set(per_doc) == {p.name for p in policy_files(POLICIES)}
    assert min(per_doc.values()) >= 5


# --- persistence ------------------------------------------------------------------------------

def test_index_is_persisted_with_the_policy_hash_and_reused(index, index_dir, embedder,
                                                            monkeypatch):
    assert (index_dir / HASH_FILE).read_text().strip() == content_hash(POLICIES)
    assert index.digest == content_hash(POLICIES)
    assert index.chunk_count == len(chunk_policies(POLICIES))

    def no_rebuild(*args, **kwargs):
        raise AssertionError("the saved index should have been loaded, not rebuilt")

    monkeypatch.setattr(PolicyIndex, "_build", staticmethod(no_rebuild))
    again = PolicyIndex.load_or_build(POLICIES, index_dir, embedder)
    assert again.chunk_count == index.chunk_count
    assert again.search("can I cancel an order that already shipped?", k=1)[0]["source"] == \
        "cancellation_policy.md"


def test_a_changed_policy_file_is_picked_up_by_a_running_index_and_at_start_up(
        embedder, tmp_path, monkeypatch):
    policies = tmp_path / "policies"
    policies.mkdir()
    for name in ("shipping_policy.md", "refund_policy.md"):  # two documents keep it quick
        shutil.copy(POLICIES / name, policies / name)
    index_dir = tmp_path / "index"
    live = PolicyIndex.load_or_build(policies, index_dir, embedder)
    old_digest = live.digest
    query = "Can my parcel be delivered by carrier pigeon to a lighthouse?"
    assert not any("pigeon" in h["text"] for h in live.search(query, k=3))

    path = policies / "shipping_policy.md"
    path.write_text(path.read_text(encoding="utf-8") + (
        "\n## Carrier pigeon delivery\n\nFor lighthouses and remote islands we deliver small "
        "parcels by carrier pigeon, free of charge, within 9 days.\n"), encoding="utf-8")

    # A running index notices the edit on its next search (the re-check interval set to 0).
    monkeypatch.setattr(policy_index, "RECHECK_SECONDS", 0.0)
    hits = live.search(query, k=3)
    assert (hits[0]["source"], hits[0]["section"]) == ("shipping_policy.md",
                                                      "Carrier pigeon delivery")
    assert "carrier pigeon" in hits[0]["text"]
    assert live.digest != old_digest
    assert (index_dir / HASH_FILE).read_text().strip() == live.digest == content_hash(policies)

    # A fresh start over the edited folder loads the rebuilt index and finds the new text too.
    path.write_text(path.read_text(encoding="utf-8").replace("within 9 days", "within 11 days"),
                    encoding="utf-8")
    fresh = PolicyIndex.load_or_build(policies, index_dir, embedder)
    assert fresh.digest == content_hash(policies) != live.digest
    top = fresh.search(query, k=1)[0]
    assert top["section"] == "Carrier pigeon delivery" and "within 11 days" in top["text"]


def test_a_worker_loads_the_index_another_worker_rebuilt(embedder, tmp_path, monkeypatch):
    policies = tmp_path / "policies"
    policies.mkdir()
    shutil.copy(POLICIES / "faqs.md", policies / "faqs.md")
    index_dir = tmp_path / "index"
    worker_a = PolicyIndex.load_or_build(policies, index_dir, embedder)
    worker_b = PolicyIndex.load_or_build(policies, index_dir, embedder)
    with (policies / "faqs.md").open("a", encoding="utf-8") as fh:
        fh.write("\n## Do you sell telescopes?\n\nYes, refractors and reflectors since 2020.\n")
    monkeypatch.setattr(policy_index, "RECHECK_SECONDS", 0.0)
    assert worker_a.search("do you sell telescopes", k=1)[0]["section"] == "Do you sell telescopes?"

    def no_rebuild(*args, **kwargs):
        raise AssertionError("worker B should load worker A's rebuilt index")

    monkeypatch.setattr(PolicyIndex, "_build", staticmethod(no_rebuild))
    assert worker_b.search("do you sell telescopes", k=1)[0]["section"] == "Do you sell telescopes?"
    assert worker_b.digest == worker_a.digest == content_hash(policies)


def test_unchanged_policies_are_not_rebuilt_by_search(index, monkeypatch):
    monkeypatch.setattr(policy_index, "RECHECK_SECONDS", 0.0)
    calls = []
    monkeypatch.setattr(PolicyIndex, "_build", staticmethod(lambda *a, **k: calls.append(a)))
    index.search("refund window", k=1)
    assert calls == []

