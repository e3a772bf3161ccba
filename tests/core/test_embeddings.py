"""The embedding backends: a real ONNX export of the installed MiniLM (once per session, cached by the
model's hash), its equivalence with sentence-transformers, and the Embedder's bulk and query paths."""

from __future__ import annotations

import os
import time
from pathlib import Path

import numpy as np
import pytest

from memento_core.embeddings import Embedder, resolve_model
from memento_core.errors import ConfigError
from memento_core.onnx_export import FP32, INT8, exported, model_hash

TEXTS = [
    "Glaciers carve fjords over thousands of years.",
    "The kitten slept on a warm rug by the fire.",
    "Who directed the 1994 film that won the Palme d'Or?",
    "Basalt lava flows cool into columnar joints. " * 30,  # long: several hundred tokens, truncated
    "x",
    "Mangroves protect coasts from storm surges and erosion, and they shelter young fish.",
]
MODEL_DIR = Path(resolve_model("all-MiniLM-L6-v2"))


@pytest.fixture(scope="session")
def export(models_dir) -> Path:
    return exported(MODEL_DIR, models_dir, "all-MiniLM-L6-v2")


@pytest.fixture(scope="session")
def torch_vectors() -> np.ndarray:
    return Embedder(backend="torch").embed(TEXTS)


def test_the_export_is_made_locally_once_and_keyed_by_the_model_hash(export, models_dir, tmp_path):
    assert export.parent == models_dir and export.name == f"all-MiniLM-L6-v2-{model_hash(MODEL_DIR)}"
    assert (export / FP32).stat().st_size > 50e6 and 0 < (export / INT8).stat().st_size < (export / FP32).stat().st_size / 2
    stamp = (export / FP32).stat().st_mtime_ns
    started = time.perf_counter()
    assert exported(MODEL_DIR, models_dir, "all-MiniLM-L6-v2") == export  # cached: no second export
    assert time.perf_counter() - started < 5 and (export / FP32).stat().st_mtime_ns == stamp

    changed = tmp_path / "changed-model"  # same files but one weight config: another hash, another folder
    changed.mkdir()
    for item in MODEL_DIR.iterdir():
        if item.name != "config.json":
            os.symlink(item, changed / item.name)
    (changed / "config.json").write_text((MODEL_DIR / "config.json").read_text().replace("}", ', "note": "changed"}', 1))
    assert model_hash(changed) != model_hash(MODEL_DIR)


def test_onnx_fp32_vectors_equal_torch_and_int8_stay_close(export, torch_vectors):
    fp32 = Embedder(backend="onnx").embed(TEXTS)
    int8 = Embedder(backend="onnx-int8").embed(TEXTS)
    assert fp32.shape == torch_vectors.shape == (len(TEXTS), 384) and fp32.dtype == np.float32
    assert np.allclose(np.linalg.norm(fp32, axis=1), 1, atol=1e-5)
    assert np.sum(fp32 * torch_vectors, axis=1).min() >= 0.9999
    assert np.sum(int8 * torch_vectors, axis=1).min() >= 0.97


@pytest.mark.parametrize(("backend", "agreement"), [("onnx", 0.9999), ("onnx-int8", 0.97)])
def test_bulk_batches_keep_each_text_in_its_place_and_queries_match_bulk(export, backend, agreement):
    embedder = Embedder(backend=backend, threads=2)
    bulk = embedder.embed(TEXTS)
    for text, row in zip(TEXTS, bulk):  # length-sorted, padded batches give each text its own vector
        query = embedder.embed_query(text)  # int8 quantises activations per batch: alone it differs a little
        assert float(query @ row) >= agreement and max(float(query @ other) for other in bulk) == float(query @ row)
    assert embedder.embed_query(TEXTS[0]) is embedder.embed_query(TEXTS[0])  # the LRU answers a repeat
    assert embedder.embed([]).shape == (0, 384)


def test_mixed_backends_share_a_vector_space_only_when_compatible():
    assert Embedder(backend="torch", query_backend="onnx").model_name == Embedder(backend="onnx").model_name
    assert Embedder(backend="static").model_name != Embedder(backend="onnx").model_name
    with pytest.raises(ConfigError, match="incompatible vectors"):
        Embedder(backend="onnx", query_backend="static")
    with pytest.raises(ConfigError, match="unknown embedding backend 'gpu'"):
        Embedder(backend="gpu")


def test_static_backend_distils_its_table_once_and_ranks_related_texts_first(export):
    from memento_core.static_model import TABLE

    embedder = Embedder(backend="static")
    vectors = embedder.embed(TEXTS)
    assert vectors.shape == (len(TEXTS), 384) and np.allclose(np.linalg.norm(vectors, axis=1), 1, atol=1e-5)
    table = export / TABLE
    assert table.exists()
    stamp = table.stat().st_mtime_ns
    again = Embedder(backend="static")  # a second process-like start reuses the cached table
    assert np.allclose(again.embed(TEXTS), vectors) and table.stat().st_mtime_ns == stamp

    for query, expected in (("glaciers carving fjords", 0), ("a sleeping kitten", 1), ("lava and basalt", 3)):
        assert int(np.argmax(vectors @ embedder.embed_query(query))) == expected, query
    assert embedder.model_name == "all-MiniLM-L6-v2+static"
    assert float(embedder.embed_query("").sum()) == 0.0  # no tokens: a zero vector, not NaN
