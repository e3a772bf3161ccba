"""A sentence-transformers BERT model exported to ONNX on this machine, once, and cached.

    folder = exported(model_dir, cache_root)        # model-fp32.onnx, model-int8.onnx, tokenizer.json

The graph takes `input_ids`, `attention_mask` and `token_type_ids` and returns the unit-length
mean-pooled sentence embedding, so it needs no Python pooling; ONNX Runtime's transformer optimiser
then fuses each layer's attention, GELU and layer norms into single kernels (about 15% faster
here, same vectors). It is exported from the local
weights (never downloaded) into `<cache_root>/<model name>-<hash>`, keyed by a hash of the
source model's files: a changed model gets a new export, an unchanged one is reused. The int8
variant is ONNX Runtime's dynamic quantisation (per-channel weights) of the fp32 graph.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import tempfile
import threading
from pathlib import Path

FP32 = "model-fp32.onnx"
INT8 = "model-int8.onnx"
EXPORT_FORMAT = 2  # bump when the exported graph changes, so old caches are not reused
HASHED_FILES = ("config.json", "model.safetensors", "pytorch_model.bin", "tokenizer.json", "sentence_bert_config.json")
_lock = threading.Lock()


def model_hash(model_dir: Path) -> str:
    """A short sha256 of the files that determine the model's vectors."""
    digest = hashlib.sha256(f"export-format-{EXPORT_FORMAT}".encode())
    for name in HASHED_FILES:
        path = model_dir / name
        if path.exists():
            digest.update(name.encode())
            with path.open("rb") as handle:
                for block in iter(lambda: handle.read(1 << 20), b""):
                    digest.update(block)
    return digest.hexdigest()[:16]


def max_length(model_dir: Path) -> int:
    """The model's longest input in tokens (sentence-transformers' max_seq_length)."""
    config = model_dir / "sentence_bert_config.json"
    if config.exists():
        return int(json.loads(config.read_text()).get("max_seq_length", 512))
    return 512


def _export_fp32(model_dir: Path, target: Path) -> None:
    import torch
    from transformers import AutoModel

    class SentenceEncoder(torch.nn.Module):
        """BERT + attention-masked mean pooling + L2 normalisation; inputs by keyword (positional ones clash
        with newer transformers' extra arguments such as use_cache)."""

        def __init__(self, bert):
            super().__init__()
            self.bert = bert

        def forward(self, input_ids, attention_mask, token_type_ids):
            hidden = self.bert(
                input_ids=input_ids, attention_mask=attention_mask, token_type_ids=token_type_ids
            ).last_hidden_state
            mask = attention_mask.unsqueeze(-1).to(hidden.dtype)
            pooled = (hidden * mask).sum(1) / mask.sum(1).clamp(min=1e-9)
            return torch.nn.functional.normalize(pooled, p=2, dim=1)

    # eager attention exports the matmul-softmax pattern the optimiser recognises (SDPA's does not fuse)
    model = SentenceEncoder(AutoModel.from_pretrained(str(model_dir), attn_implementation="eager")).eval()
    sample = torch.ones((2, 8), dtype=torch.int64)
    axes = {0: "batch", 1: "tokens"}
    with torch.no_grad():
        torch.onnx.export(
            model,
            (),
            str(target),
            kwargs={"input_ids": sample, "attention_mask": sample, "token_type_ids": torch.zeros_like(sample)},
            input_names=["input_ids", "attention_mask", "token_type_ids"],
            output_names=["sentence_embedding"],
            dynamic_axes={"input_ids": axes, "attention_mask": axes, "token_type_ids": axes, "sentence_embedding": {0: "batch"}},
            opset_version=17,
            dynamo=False,
        )


def _fuse(source: Path, target: Path, model_dir: Path) -> None:
    """`source` with each BERT layer's attention, GELU and layer norms fused (ONNX Runtime's optimiser)."""
    from onnxruntime.transformers.optimizer import optimize_model
    from transformers import AutoConfig

    config = AutoConfig.from_pretrained(str(model_dir))
    fused = optimize_model(str(source), model_type="bert", num_heads=config.num_attention_heads, hidden_size=config.hidden_size)
    fused.save_model_to_file(str(target))


def _quantise_int8(source: Path, target: Path) -> None:
    from onnxruntime.quantization import QuantType, quantize_dynamic

    quantize_dynamic(str(source), str(target), per_channel=True, weight_type=QuantType.QInt8)


def exported(model_dir: Path, cache_root: Path, name: str = "model") -> Path:
    """The folder holding the fp32 and int8 exports of `model_dir` (made now when missing)."""
    model_dir = Path(model_dir)
    folder = Path(cache_root) / f"{name}-{model_hash(model_dir)}"
    with _lock:
        if (folder / FP32).exists() and (folder / INT8).exists():
            return folder
        folder.parent.mkdir(parents=True, exist_ok=True)
        staging = Path(tempfile.mkdtemp(prefix=".export-", dir=folder.parent))  # another process may export too
        try:
            _export_fp32(model_dir, staging / "unfused.onnx")
            _fuse(staging / "unfused.onnx", staging / FP32, model_dir)
            _quantise_int8(staging / "unfused.onnx", staging / INT8)  # the quantiser does not know the fused ops
            (staging / "unfused.onnx").unlink()
            shutil.copy(model_dir / "tokenizer.json", staging / "tokenizer.json")
            (staging / "source.json").write_text(
                json.dumps({"source": str(model_dir), "max_length": max_length(model_dir)})
            )
            shutil.rmtree(folder, ignore_errors=True)  # an incomplete earlier attempt
            try:
                os.replace(staging, folder)
            except OSError:  # another process finished first: its export is the same
                if not (folder / INT8).exists():
                    raise
        finally:
            shutil.rmtree(staging, ignore_errors=True)
    return folder
