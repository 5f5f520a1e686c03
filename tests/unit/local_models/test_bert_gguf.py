"""The safetensors -> GGUF conversion: what it writes, and that llama.cpp computes what the
numpy forward pass computes from the same weights."""

from __future__ import annotations

from pathlib import Path

import gguf
import numpy as np
import pytest

from inference_service.local_models.bert import BertMaskedLm
from inference_service.local_models.bert_gguf import convert_bert, converted_path, ensure_gguf
from inference_service.local_models.gguf_metadata import read_metadata
from tests.support.tiny_bert import HIDDEN, LAYERS, VOCAB, write_tiny_bert

Q = gguf.GGMLQuantizationType


@pytest.fixture
def model_dir(tmp_path: Path) -> Path:
    return write_tiny_bert(tmp_path / "tiny", seed=3)


def test_header_vocabulary_and_tensor_types(model_dir: Path, tmp_path: Path) -> None:
    out = tmp_path / "tiny.gguf"
    convert_bert(model_dir, out, "Q8_0", name="tiny")
    meta = read_metadata(out)
    assert meta["general.architecture"] == "bert" and meta["general.name"] == "tiny"
    assert meta["bert.embedding_length"] == HIDDEN and meta["bert.block_count"] == LAYERS
    assert meta["bert.attention.causal"] is False and meta["bert.pooling_type"] == int(gguf.PoolingType.MEAN)
    assert meta["tokenizer.ggml.model"] == "bert"
    assert meta["tokenizer.ggml.bos_token_id"] == VOCAB.index("[CLS]")
    assert meta["tokenizer.ggml.eos_token_id"] == VOCAB.index("[SEP]")
    reader = gguf.GGUFReader(out)
    tokens = [
        bytes(reader.fields["tokenizer.ggml.tokens"].parts[i]).decode()
        for i in reader.fields["tokenizer.ggml.tokens"].data
    ]
    assert tokens[:5] == ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"]
    assert tokens[VOCAB.index("sun")] == "\u2581sun" and tokens[VOCAB.index("##aff")] == "aff"
    types = {t.name: t.tensor_type for t in reader.tensors}
    assert types["token_embd.weight"] == Q.Q8_0 and types["blk.0.attn_q.weight"] == Q.Q8_0
    assert types["blk.1.ffn_down.weight"] == Q.Q8_0
    for f32 in ("position_embd.weight", "token_types.weight", "token_embd_norm.weight", "blk.0.attn_q.bias"):
        assert types[f32] == Q.F32
    assert len(types) == 5 + LAYERS * 16  # 3 embeddings and their norm pair; 16 per layer
    assert not any(name.startswith("cls") for name in types)


def test_a_non_bert_model_is_refused(model_dir: Path, tmp_path: Path) -> None:
    config = model_dir / "config.json"
    config.write_text(config.read_text().replace('"bert"', '"roberta"'))
    with pytest.raises(ValueError, match="not a BERT model"):
        convert_bert(model_dir, tmp_path / "x.gguf")


def test_the_cache_is_keyed_by_the_source_and_written_once(model_dir: Path, tmp_path: Path) -> None:
    cache = tmp_path / "cache"
    first = ensure_gguf(model_dir, cache, "tiny")
    assert first == converted_path(model_dir, cache, "tiny", "Q8_0") and first.is_file()
    stamp = first.stat().st_mtime_ns
    assert ensure_gguf(model_dir, cache, "tiny") == first and first.stat().st_mtime_ns == stamp
    assert [p.name for p in cache.iterdir()] == [first.name]  # no temporary file left behind
    (model_dir / "model.safetensors").write_bytes((model_dir / "model.safetensors").read_bytes())
    second = ensure_gguf(model_dir, cache, "tiny")
    assert second != first  # a changed source converts anew, and the stale file goes
    assert [p.name for p in cache.iterdir()] == [second.name]
    by_content = ensure_gguf(model_dir, cache, "tiny", content="sha256 of the files")
    assert by_content == converted_path(model_dir, cache, "tiny", "Q8_0", "sha256 of the files") != second


@pytest.mark.model
@pytest.mark.parametrize(("quantization", "floor"), [("F32", 0.99999), ("Q8_0", 0.999)])
def test_llama_cpp_embeds_as_the_numpy_forward_pass(
    model_dir: Path, tmp_path: Path, quantization: str, floor: float
) -> None:
    xllamacpp = pytest.importorskip("xllamacpp")
    out = tmp_path / f"tiny-{quantization}.gguf"
    convert_bert(model_dir, out, quantization)
    params = xllamacpp.CommonParams()
    params.model.path = str(out)
    params.embedding = True
    params.n_ctx = params.n_batch = params.n_ubatch = 64
    params.n_parallel = 1
    params.cpuparams.n_threads = params.cpuparams_batch.n_threads = 1
    params.fit_params = False
    params.hostnames = ["127.0.0.1"]
    params.port = 0
    params.ui = False
    params.verbosity = -1
    server = xllamacpp.Server(params)
    reference = BertMaskedLm.from_directory(model_dir, np.float64)
    inputs = [[2, 5, 6, 7, 8, 9, 3], [2, 11, 12, 3], [2, 3]]
    answer = server.handle_embeddings({"input": inputs})
    got = [row["embedding"] for row in sorted(answer["data"], key=lambda r: r["index"])]
    for ids, vector in zip(inputs, got, strict=True):
        expected = reference.encode(ids).mean(axis=0)
        expected /= np.linalg.norm(expected)
        assert float(np.dot(expected, vector)) > floor
