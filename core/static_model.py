"""A static embedding table distilled here from the transformer, for machines too small for it.

Each vocabulary token is run once through the exported ONNX graph (as `[CLS] token [SEP]`); a
text's vector is then the normalised mean of its tokens' rows: one table lookup per token, no
transformer at query time (model2vec's idea; its distiller needs an older transformers than
the project's, so the few lines are here). The table is cached beside the ONNX export, under
the same model hash. Its vectors are a space of their own: a corpus or bank built with them
must be reindexed to change backend.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

TABLE = "static-vectors.npy"
DISTIL_BATCH = 512


def distil(folder: Path) -> np.ndarray:
    """One unit row per token id of the export in `folder`, computed with its fp32 graph."""
    import onnxruntime as ort
    from tokenizers import Tokenizer

    from memento_core.embeddings import all_cores
    from memento_core.onnx_export import FP32

    tokenizer = Tokenizer.from_file(str(folder / "tokenizer.json"))
    cls, sep = tokenizer.token_to_id("[CLS]"), tokenizer.token_to_id("[SEP]")
    options = ort.SessionOptions()
    options.intra_op_num_threads = all_cores()
    session = ort.InferenceSession(str(folder / FP32), options, providers=["CPUExecutionProvider"])
    vocab = tokenizer.get_vocab_size()
    rows = []
    for start in range(0, vocab, DISTIL_BATCH):
        ids = np.arange(start, min(start + DISTIL_BATCH, vocab), dtype=np.int64)
        batch = np.stack([np.full_like(ids, cls), ids, np.full_like(ids, sep)], axis=1)
        feeds = {"input_ids": batch, "attention_mask": np.ones_like(batch), "token_type_ids": np.zeros_like(batch)}
        rows.append(session.run(None, feeds)[0])
    table = np.concatenate(rows).astype(np.float32)
    return table - table.mean(axis=0)  # the component every token shares says nothing about a text


class StaticEncoder:
    """Mean of distilled token rows, normalised; distils (about a minute) on first use."""

    def __init__(self, model: str, cache_root: Path):
        from tokenizers import Tokenizer

        from memento_core.embeddings import resolve_model
        from memento_core.onnx_export import exported

        folder = exported(Path(resolve_model(model)), cache_root, Path(model).name)
        path = folder / TABLE
        if not path.exists():
            staging = folder / f".{TABLE}.{id(self)}.npy"
            np.save(staging, distil(folder))
            staging.replace(path)
        self.table = np.load(path)
        self.dim = self.table.shape[1]
        self.tokenizer = Tokenizer.from_file(str(folder / "tokenizer.json"))
        self.tokenizer.no_padding()
        self.tokenizer.no_truncation()

    def encode(self, texts: list[str], threads: int) -> np.ndarray:
        out = np.zeros((len(texts), self.dim), dtype=np.float32)
        for row, encoding in enumerate(self.tokenizer.encode_batch(texts, add_special_tokens=False)):
            if encoding.ids:
                out[row] = self.table[encoding.ids].mean(axis=0)
        norms = np.linalg.norm(out, axis=1, keepdims=True)
        return out / np.maximum(norms, 1e-12)
