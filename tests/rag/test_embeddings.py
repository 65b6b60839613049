"""The int8 ONNX runtime of all-MiniLM-L6-v2 (rag/embeddings.py): the same model, close to the
torch vectors, unit length, and each text encoded once however often it is asked for."""

from __future__ import annotations

import numpy as np
import pytest

from rag.embeddings import OnnxEmbedder, load_embedder

TEXTS = ["I want a refund for order 1042, it arrived broken", "where is my parcel?",
         "how long do I have to return something?", "hi there", "cancel it please",
         "The lamp from order 31001 arrived cracked, send a new one"]


@pytest.fixture(scope="module")
def onnx():
    return load_embedder()


def test_the_default_runtime_is_onnx_int8_exported_from_the_packaged_model(onnx):
    assert isinstance(onnx, OnnxEmbedder)
    assert onnx.name.startswith("onnx-int8:")
    assert load_embedder() is onnx  # one per process: the vector cache is shared


def test_vectors_are_unit_length_and_close_to_torch(onnx):
    torch = load_embedder(runtime="torch")
    ours, theirs = onnx.encode(TEXTS), torch.encode(TEXTS)
    assert ours.shape == theirs.shape == (len(TEXTS), 384)
    assert np.allclose(np.linalg.norm(ours, axis=1), 1.0, atol=1e-3)
    cosine = (ours * theirs).sum(axis=1)
    assert cosine.min() > 0.97, cosine


def test_a_text_gets_the_same_vector_alone_or_in_a_list(onnx):
    """Dynamic int8 quantisation scales activations per run, so texts are run alone: a vector
    never depends on its neighbours in a call (nor, through the cache, on history)."""
    one_by_one = np.vstack([onnx._encode([t]) for t in TEXTS])
    assert np.array_equal(onnx._encode(TEXTS * 3)[:len(TEXTS)], one_by_one)


def test_each_text_is_encoded_once(onnx, monkeypatch):
    seen: list[str] = []
    real = onnx._encode

    def counting(texts):
        seen.extend(texts)
        return real(texts)

    monkeypatch.setattr(onnx, "_encode", counting)
    text = "a sentence nobody has asked about before, 7731"
    first = onnx.encode([text, text])
    again = onnx.encode([text, "and another new one, 7731"])
    assert seen == [text, "and another new one, 7731"]
    assert np.array_equal(first[0], again[0])
    again[0][0] = 5.0  # a caller's array is its own: the cached vector is unchanged
    assert onnx.encode([text])[0][0] != 5.0
