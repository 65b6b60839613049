"""Report the offline brain's quality figures (printed, reproducible, deterministic).

    .venv/bin/python bench/accuracy.py

- intent accuracy, overall and per intent, on the stratified held-out split of the
  training data (never trained on; also its Bitext and hand-written parts apart), on
  tests/data/intent_eval.jsonl (written separately, never trained on) and on
  tests/data/intent_social.jsonl (short, noisy social-media messages: @-mentions, hashtags,
  emoji, typos, sarcasm; never trained on), with the intent as the full pipeline refines
  it; the social set also as the agent reads it, after agents.spelling;
- how long understanding one message takes (p50/p95 over the evaluation messages, one at a
  time, as the agent does), and the classifier's own share of it;
- entity extraction accuracy on tests/data/entity_cases.jsonl;
- policy retrieval recall@1 and recall@3 on tests/data/policy_questions.jsonl.
"""

from __future__ import annotations

import json
import os
import sys
import tempfile
import time
from collections import Counter, defaultdict
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("HF_HUB_OFFLINE", "1")

import numpy as np  # noqa: E402

from agents import entities  # noqa: E402
from agents.intent_model import (  # noqa: E402
    INTENTS,
    MODEL_FILE,
    load_examples,
    load_or_train,
    read_jsonl,
    split_examples,
)
from agents.spelling import normalise as repair_spelling  # noqa: E402
from agents.understanding import OfflineNLU  # noqa: E402
from config import get_settings  # noqa: E402
from rag.embeddings import load_embedder  # noqa: E402
from rag.policy_index import PolicyIndex  # noqa: E402

DATA = ROOT / "tests" / "data"


def intent_report(nlu: OfflineNLU, rows: list[dict], title: str, read=lambda text: text) -> float:
    correct, total, confusion = Counter(), Counter(), defaultdict(Counter)
    for row in rows:
        got = nlu.understand(read(row["text"])).intent
        total[row["intent"]] += 1
        correct[row["intent"]] += got == row["intent"]
        if got != row["intent"]:
            confusion[row["intent"]][got] += 1
    overall = sum(correct.values()) / sum(total.values())
    print(f"\n{title}: {sum(correct.values())}/{sum(total.values())} = {overall:.1%}")
    for intent in INTENTS:
        if total[intent]:
            misses = ", ".join(f"{k} {v}" for k, v in confusion[intent].most_common(3))
            print(f"  {intent:<16} {correct[intent] / total[intent]:6.1%}  (n={total[intent]})"
                  + (f"  confused with: {misses}" if misses else ""))
    return overall


def entity_report() -> None:
    cases = read_cases(DATA / "entity_cases.jsonl")
    scores = Counter()
    for c in cases:
        scores["order_id"] += entities.extract_order_id(c["text"]) == c["order_id"]
        scores["reason"] += entities.extract_reason(c["text"]) == c["reason"]
        scores["frustrated"] += entities.frustration(c["text"]).frustrated == c["frustrated"]
    print(f"\nEntities on {len(cases)} cases: " + ", ".join(
        f"{k} {v / len(cases):.1%}" for k, v in scores.items()))


def read_cases(path: Path) -> list[dict]:
    return [json.loads(line) for line in path.read_text().splitlines() if line.strip()]


def retrieval_report(embedder) -> None:
    questions = read_cases(DATA / "policy_questions.jsonl")
    with tempfile.TemporaryDirectory() as tmp:
        index = PolicyIndex.load_or_build(get_settings().policies_dir, Path(tmp), embedder)
        at1 = at3 = 0
        for q in questions:
            sources = [h["source"] for h in index.search(q["question"], k=3)]
            at1 += sources[0] == q["source"]
            at3 += q["source"] in sources
    print(f"\nRetrieval on {len(questions)} questions: recall@1 {at1 / len(questions):.1%}, "
          f"recall@3 {at3 / len(questions):.1%}")


def latency_report(nlu: OfflineNLU, texts: list[str]) -> None:
    """One message at a time, as the agent does; the first few warm the model up. Each message
    is new to the embedder and the classifier (their caches are emptied first), so this is the
    cost of a message never seen before."""
    for text in texts[:10]:
        nlu.understand(text)
    nlu = OfflineNLU(nlu.embedder, nlu.model)
    clear = getattr(nlu.embedder, "clear_cache", None)
    if clear is not None:
        clear()
    whole, model_only = [], []
    for text in texts:
        started = time.perf_counter()
        nlu.understand(text)
        whole.append(time.perf_counter() - started)
        vector = nlu.embedder.encode([text])
        started = time.perf_counter()
        nlu.model.predict([text], vector)
        model_only.append(time.perf_counter() - started)
    ms = lambda xs, q: 1000 * float(np.percentile(xs, q))  # noqa: E731
    print(f"\nUnderstanding one message ({len(texts)} messages, {os.cpu_count()} CPUs, load "
          f"{os.getloadavg()[0]:.1f}): p50 {ms(whole, 50):.1f} ms, p95 {ms(whole, 95):.1f} ms; "
          f"the classifier alone p50 {ms(model_only, 50):.2f} ms, p95 {ms(model_only, 95):.2f} ms")


def main() -> None:
    embedder = load_embedder()
    cached = get_settings().model_dir / MODEL_FILE
    before = cached.stat().st_mtime_ns if cached.exists() else None
    started = time.perf_counter()
    model = load_or_train(get_settings().model_dir, embedder)
    ready = time.perf_counter() - started
    trained = before != cached.stat().st_mtime_ns
    nlu = OfflineNLU(embedder, model)
    _, held = split_examples(load_examples())
    print(f"Embeddings: {getattr(embedder, 'name', 'torch')}.")
    print(f"Intent model trained on {model.trained_on} examples (+ a noisy copy of each "
          f"hand-written one); held-out {len(held)}; ready in {ready:.1f} s "
          f"({'trained now' if trained else 'loaded from data/models'}).")
    intent_report(nlu, held, "Held-out split (15%, stratified)")
    intent_report(nlu, [r for r in held if not r["own"]], "Held-out split, Bitext part")
    intent_report(nlu, [r for r in held if r["own"]], "Held-out split, hand-written part")
    hand = read_jsonl(DATA / "intent_eval.jsonl")
    social = read_jsonl(DATA / "intent_social.jsonl")
    intent_report(nlu, hand, "Hand-written eval set")
    intent_report(nlu, social, "Social-media set")
    intent_report(nlu, social, "Social-media set, as the agent reads it (agents.spelling first)",
                  read=repair_spelling)
    latency_report(nlu, [r["text"] for r in hand + social])
    entity_report()
    retrieval_report(embedder)


if __name__ == "__main__":
    main()
