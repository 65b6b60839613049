"""The offline language understanding: intent accuracy, determinism and entity extraction.

Real MiniLM embeddings and the real trained intent model (data/models; trained on first use).
tests/data/intent_eval.jsonl is written separately and never trained on, nor is
tests/data/intent_social.jsonl (short, noisy social-media messages); the held-out split is the
seeded 15% of the training data that training never sees. The thresholds sit just below what
the model achieves (see `.venv/bin/python bench/accuracy.py`), so a regression fails.
"""

from __future__ import annotations

import json
from collections import Counter

import pytest

from agents import entities, noisy_copies
from agents.intent_model import INTENTS, load_examples, load_or_train, read_jsonl, split_examples
from agents.text_normalise import normalise
from agents.understanding import OfflineNLU, refine
from config import ROOT
from rag.embeddings import load_embedder

DATA = ROOT / "tests" / "data"


@pytest.fixture(scope="module")
def nlu() -> OfflineNLU:
    embedder = load_embedder()
    return OfflineNLU(embedder, load_or_train(ROOT / "data" / "models", embedder))


def score(rows: list[dict], predicted: list[str]) -> tuple[float, dict[str, float]]:
    total, right = Counter(), Counter()
    for row, got in zip(rows, predicted, strict=True):
        total[row["intent"]] += 1
        right[row["intent"]] += got == row["intent"]
    per_intent = {i: right[i] / total[i] for i in INTENTS if total[i]}
    return sum(right.values()) / sum(total.values()), per_intent


@pytest.mark.parametrize("name", ["intent_eval.jsonl", "intent_social.jsonl"])
def test_evaluation_sets_are_never_trained_on(name):
    trained = {r["text"].lower() for r in load_examples()}
    leaked = [r["text"] for r in read_jsonl(DATA / name) if r["text"].lower() in trained]
    assert leaked == []


def refined(nlu: OfflineNLU, rows: list[dict]) -> list[str]:
    """Batched, but the same path as OfflineNLU.understand: classifier probabilities + refine()."""
    texts = [r["text"] for r in rows]
    probs = nlu.model.predict(texts, nlu.embedder.encode(texts))
    return [refine(t, p).intent for t, p in zip(texts, probs, strict=True)]


def test_accuracy_on_the_hand_written_eval_set(nlu):
    rows = read_jsonl(DATA / "intent_eval.jsonl")
    assert set(Counter(r["intent"] for r in rows)) == set(INTENTS)
    overall, per_intent = score(rows, [nlu.understand(r["text"]).intent for r in rows])
    # Achieved: 98.6% overall, every intent >= 96%.
    assert overall >= 0.97, f"overall {overall:.1%}, per intent {per_intent}"
    weak = {i: f"{a:.0%}" for i, a in per_intent.items() if a < 0.94}
    assert not weak, f"intents below 94%: {weak} (overall {overall:.1%})"


def test_accuracy_on_noisy_social_media_messages(nlu):
    rows = read_jsonl(DATA / "intent_social.jsonl")
    assert len(rows) >= 60 and set(Counter(r["intent"] for r in rows)) == set(INTENTS)
    overall, per_intent = score(rows, [nlu.understand(r["text"]).intent for r in rows])
    # Achieved: 99.0% overall (104/105), every intent >= 93% (15 messages each).
    assert overall >= 0.96, f"overall {overall:.1%}, per intent {per_intent}"
    weak = {i: f"{a:.0%}" for i, a in per_intent.items() if a < 0.86}
    assert not weak, f"intents below 86%: {weak} (overall {overall:.1%})"


def test_accuracy_on_the_held_out_split(nlu):
    _, held = split_examples(load_examples())
    overall, per_intent = score(held, refined(nlu, held))
    # Achieved: 98.7% overall, every intent >= 95%.
    assert overall >= 0.975, f"overall {overall:.1%}, per intent {per_intent}"
    weak = {i: f"{a:.0%}" for i, a in per_intent.items() if a < 0.93}
    assert not weak, f"intents below 93%: {weak} (overall {overall:.1%})"
    bitext = [r for r in held if not r["own"]]
    overall, per_intent = score(bitext, refined(nlu, bitext))
    # Achieved: 99.6% on the Bitext part of the split.
    assert overall >= 0.99, f"Bitext part {overall:.1%}, per intent {per_intent}"


def test_fast_prediction_equals_the_classifier(nlu):
    """IntentModel.predict computes the scores itself; they must be predict_proba's."""
    texts = ["@shop refund pls 🙄 #fail", "where is order #1042?", "hi", "", "🙂",
             "cancle my jersy ordr plz", "I want to speak to a manager"]
    vectors = nlu.embedder.encode(texts)
    model = nlu.model
    expected = model.classifier.predict_proba(model.features(texts, vectors))
    for got, row in zip(model.predict(texts, vectors), expected, strict=True):
        summed = Counter()
        for label, p in zip(model.classifier.classes_, row, strict=True):
            summed[label.split(":")[0]] += p
        assert set(got) == set(INTENTS)
        assert all(abs(got[i] - summed[i]) < 1e-9 for i in INTENTS), (got, summed)


@pytest.mark.parametrize("text,expected", [
    ("@ShopSupport refund pls #fail 🙄", "refund pls fail annoyed"),
    ("#1042 came smashed", "#1042 came smashed"),       # an order number stays
    ("# 1042 and #A-100", "# 1042 and #a-100"),
    ("#NeverAgain", "never again"),
    ("pleeease sooo goood, order 1000", "pleease soo good, order 1000"),  # digits untouched
    ("see https://example.com/x?y=1 now", "see now"),
    ("mail me at anna@example.com", "mail me at anna@example.com"),
    ("🙂", ""),
])
def test_text_normalisation_for_the_classifier(text, expected):
    assert normalise(text) == expected


def test_noisy_copies_are_deterministic_and_keep_order_numbers():
    text = "Please cancel order 5521, I ordered it by mistake."
    copies = {noisy_copies.noisy_copy(text, seed) for seed in range(20)}
    assert noisy_copies.noisy_copy(text, 3) == noisy_copies.noisy_copy(text, 3)
    assert len(copies) > 10 and all("5521" in c for c in copies)


def test_held_out_split_is_stratified_and_disjoint_from_training():
    train, held = split_examples(load_examples())
    assert not {r["text"] for r in train} & {r["text"] for r in held}
    assert {r["intent"] for r in held} == set(INTENTS)
    assert 0.13 <= len(held) / (len(train) + len(held)) <= 0.17


@pytest.mark.parametrize("text", [
    "I want a refund for order #1042, it arrived broken",
    "maybe I should cancel, not sure",
    "hello",
])
def test_understanding_is_deterministic(nlu, text):
    first = nlu.understand(text)
    for _ in range(3):
        again = nlu.understand(text)
        assert (again.intent, again.confidence, again.order_id, again.reason, again.probabilities,
                again.signals) == (first.intent, first.confidence, first.order_id, first.reason,
                                   first.probabilities, first.signals)


def test_confidence_is_a_probability_and_probabilities_cover_every_intent(nlu):
    u = nlu.understand("where is my parcel?")
    assert set(u.probabilities) == set(INTENTS)
    assert abs(sum(u.probabilities.values()) - 1.0) < 1e-3
    assert 0.0 <= u.confidence <= 1.0 and u.intent == "status"


@pytest.mark.parametrize("text,intent", [
    ("broken lamp, order 5512, I don't want a replacement, refund me", "refund"),
    ("no exchange thanks, I'd rather have the money back for order 7731", "refund"),
    ("I don't want a refund, just send me a new one, order 5512 arrived cracked", "replacement"),
    ("thanks a lot, that's all", "other"),
    ("alright cheers", "other"),
    ("put me through to customer service please", "escalate"),
    ("how long do I have to return something?", "policy_question"),
])
def test_explicit_signals_refine_the_classifier(nlu, text, intent):
    assert nlu.understand(text).intent == intent


def test_hedged_action_request_has_low_confidence(nlu):
    u = nlu.understand("maybe I should get a refund for order 1042, not sure")
    assert u.intent == "refund" and "hedged" in u.signals and u.confidence < 0.6


# --- entities -------------------------------------------------------------------------------

def entity_cases() -> list[dict]:
    return [json.loads(line) for line in (DATA / "entity_cases.jsonl").read_text().splitlines()
            if line.strip()]


def test_entity_accuracy_on_the_labelled_cases():
    cases = entity_cases()
    assert len(cases) >= 80
    hits = Counter()
    misses = []
    for c in cases:
        got = {"order_id": entities.extract_order_id(c["text"]),
               "reason": entities.extract_reason(c["text"]),
               "frustrated": entities.frustration(c["text"]).frustrated}
        for field, value in got.items():
            hits[field] += value == c[field]
            if value != c[field]:
                misses.append((field, c["text"], value, c[field]))
    rates = {f: hits[f] / len(cases) for f in ("order_id", "reason", "frustrated")}
    # Achieved: 100% on each field.
    assert all(rate >= 0.95 for rate in rates.values()), (rates, misses)


@pytest.mark.parametrize("text", [
    "#1042", "# 1042", "order #1042", "Order 1042", "order 1042 please", "order no. 1042",
    "order no 1042", "Order No.1042", "order nr. 1042", "order number 1042", "order number: 1042",
    "order num 1042", "order ID: 1042", "order-1042", "ORD-1042", "ord 1042", "order#1042",
    "my order number is 1042", "My order number was 1042.", "the order is 1042",
    "it's 1042", "its 1042", "it is 1042", "1042", "1042 please", "its order 1042",
    "refund 1042 pls", "(order 1042)", "purchase 1042", "the parcel 1042 never came",
    "I want a refund for order #1042, it arrived broken",
])
def test_every_order_number_form(text):
    assert entities.extract_order_id(text) == "1042"


@pytest.mark.parametrize("text", [
    # prices
    "I paid $1042 for it", "it cost 1042 dollars", "the price was 1042.50", "I paid 1042.50",
    "I was charged 1042", "300€ for a lamp", "£250 wasted", "it was 250 bucks",
    # phone numbers
    "call me on 5551234567", "phone: 555 123 4567", "my number is 07700 900123",
    "Call me on (415) 555-0199", "+44 7700 900123", "call 020 7946 0958 if needed",
    "my phone is 415.555.0199",
    # dates and years
    "delivered on 12/03/2024", "it came on 2024-03-12", "delivered March 15 2024",
    "bought it in 2023", "I've been a customer since 2019", "at 10:30 yesterday",
    # quantities and other numbers
    "I ordered 100 pens", "I ordered 250 of them", "qty 300", "I need 150 more",
    "waited 120 days", "a box of 144 screws", "999 pieces", "4 items", "20% off",
    "about 300 orders", "tracking 123456789", "card ending 4242", "sku 10422",
    "it weighs 500g",
])
def test_numbers_that_are_not_order_numbers(text):
    assert entities.extract_order_id(text) is None


@pytest.mark.parametrize("text,expected", [
    ("I paid $129.99 on 12/03/2024 for order 5521, call 555 123 4567", "5521"),
    ("I ordered 3 lamps in 2024 and order 7731 arrived with 2 broken", "7731"),
    ("Ordered 3/4/2026, arrived 3/20/2026, way too late. Refund order 20931.", "20931"),
    ("My phone is +1 415 555 0199, order 6612 stopped working.", "6612"),
])
def test_order_number_among_traps(text, expected):
    assert entities.extract_order_id(text) == expected


@pytest.mark.parametrize("text,reason", [
    ("it arrived cracked", "damaged"), ("the vase is smashed", "damaged"),
    ("it won't turn on", "defective"), ("stopped working after a day", "defective"),
    ("you sent the wrong size", "wrong_item"), ("this is not what I ordered", "wrong_item"),
    ("I ordered a size 8, got a size 10", "wrong_item"),
    ("it took forever to arrive", "late"), ("I changed my mind", "not_needed"),
    ("I ordered the wrong colour by mistake", "not_needed"), ("where is my order?", None),
])
def test_reasons(text, reason):
    assert entities.extract_reason(text) == reason


@pytest.mark.parametrize("text,frustrated,very", [
    ("where is my order?", False, False),
    ("it's still not here", False, False),
    ("Still not here after 3 weeks!!!", True, False),
    ("This is the THIRD TIME I'm writing. USELESS service, a total joke!!!", True, True),
    ("I want to speak to a manager about order 8812.", True, False),
])
def test_frustration_levels(text, frustrated, very):
    mood = entities.frustration(text)
    assert (mood.frustrated, mood.very_frustrated) == (frustrated, very), mood
