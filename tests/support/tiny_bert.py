"""A tiny random BERT in Hugging Face's layout, written on the fly (no download, no torch).

``config.json``, ``model.safetensors`` (optionally with the masked-LM head), ``tokenizer.json``
(an uncased WordPiece tokenizer over a small vocabulary), and the sentence-transformers
``modules.json`` + ``1_Pooling/config.json`` declaring mean pooling. Small enough to convert,
load and run in milliseconds; random weights of a realistic scale, so its outputs are neither
zero nor saturated.
"""

from __future__ import annotations

import json
import struct
from pathlib import Path
from typing import Any

import numpy as np

SPECIAL = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"]
WORDS = [
    "the", "sun", "is", "a", "star", "big", "how", "cat", "sleeps", "all", "day", "un", "##aff", "##able",
    "search", "engine", "fast", "dog", "red", "blue", "?", ".", ",", "!", "##s", "##ing", "run", "paris",
]  # fmt: skip
VOCAB = SPECIAL + WORDS
HIDDEN, LAYERS, HEADS, INTERMEDIATE, POSITIONS = 64, 2, 2, 128, 64


def _tensors(rng: np.random.Generator, with_head: bool) -> dict[str, np.ndarray[Any, Any]]:
    def w(*shape: int) -> np.ndarray[Any, Any]:
        return rng.normal(0.0, 0.2, shape).astype(np.float32)

    def norm() -> tuple[np.ndarray[Any, Any], np.ndarray[Any, Any]]:
        return (1.0 + w(HIDDEN) * 0.5).astype(np.float32), w(HIDDEN) * 0.5

    t: dict[str, np.ndarray[Any, Any]] = {
        "bert.embeddings.word_embeddings.weight": w(len(VOCAB), HIDDEN),
        "bert.embeddings.position_embeddings.weight": w(POSITIONS, HIDDEN),
        "bert.embeddings.token_type_embeddings.weight": w(2, HIDDEN),
        "bert.embeddings.position_ids": np.arange(POSITIONS, dtype=np.int64)[None, :],
    }
    t["bert.embeddings.LayerNorm.gamma"], t["bert.embeddings.LayerNorm.beta"] = norm()
    for i in range(LAYERS):
        p = f"bert.encoder.layer.{i}."
        for name in ("query", "key", "value"):
            t[f"{p}attention.self.{name}.weight"] = w(HIDDEN, HIDDEN)
            t[f"{p}attention.self.{name}.bias"] = w(HIDDEN)
        t[f"{p}attention.output.dense.weight"] = w(HIDDEN, HIDDEN)
        t[f"{p}attention.output.dense.bias"] = w(HIDDEN)
        t[f"{p}attention.output.LayerNorm.gamma"], t[f"{p}attention.output.LayerNorm.beta"] = norm()
        t[f"{p}intermediate.dense.weight"] = w(INTERMEDIATE, HIDDEN)
        t[f"{p}intermediate.dense.bias"] = w(INTERMEDIATE)
        t[f"{p}output.dense.weight"] = w(HIDDEN, INTERMEDIATE)
        t[f"{p}output.dense.bias"] = w(HIDDEN)
        t[f"{p}output.LayerNorm.gamma"], t[f"{p}output.LayerNorm.beta"] = norm()
    if with_head:
        t["cls.predictions.transform.dense.weight"] = w(HIDDEN, HIDDEN)
        t["cls.predictions.transform.dense.bias"] = w(HIDDEN)
        t["cls.predictions.transform.LayerNorm.gamma"], t["cls.predictions.transform.LayerNorm.beta"] = norm()
        t["cls.predictions.bias"] = w(len(VOCAB))
    return t


def write_safetensors(path: Path, tensors: dict[str, np.ndarray[Any, Any]]) -> None:
    names = {np.dtype(np.float32): "F32", np.dtype(np.float16): "F16", np.dtype(np.int64): "I64"}
    header: dict[str, Any] = {"__metadata__": {"format": "pt"}}
    blobs: list[bytes] = []
    offset = 0
    for name, array in tensors.items():
        data = np.ascontiguousarray(array).tobytes()
        header[name] = {
            "dtype": names[array.dtype],
            "shape": list(array.shape),
            "data_offsets": [offset, offset + len(data)],
        }
        blobs.append(data)
        offset += len(data)
    encoded = json.dumps(header).encode()
    encoded += b" " * (-len(encoded) % 8)
    path.write_bytes(struct.pack("<Q", len(encoded)) + encoded + b"".join(blobs))


def tokenizer_json(vocab: list[str]) -> dict[str, Any]:
    return {
        "version": "1.0",
        "truncation": None,
        "padding": None,
        "added_tokens": [
            {"id": vocab.index(t), "content": t, "single_word": False, "lstrip": False, "rstrip": False}
            | {"normalized": False, "special": True}
            for t in SPECIAL
        ],
        "normalizer": {
            "type": "BertNormalizer",
            "clean_text": True,
            "handle_chinese_chars": True,
            "strip_accents": None,
            "lowercase": True,
        },
        "pre_tokenizer": {"type": "BertPreTokenizer"},
        "post_processor": {
            "type": "TemplateProcessing",
            "single": [
                {"SpecialToken": {"id": "[CLS]", "type_id": 0}},
                {"Sequence": {"id": "A", "type_id": 0}},
                {"SpecialToken": {"id": "[SEP]", "type_id": 0}},
            ],
            "pair": [],
            "special_tokens": {
                "[CLS]": {"id": "[CLS]", "ids": [vocab.index("[CLS]")], "tokens": ["[CLS]"]},
                "[SEP]": {"id": "[SEP]", "ids": [vocab.index("[SEP]")], "tokens": ["[SEP]"]},
            },
        },
        "decoder": {"type": "WordPiece", "prefix": "##", "cleanup": True},
        "model": {
            "type": "WordPiece",
            "unk_token": "[UNK]",
            "continuing_subword_prefix": "##",
            "max_input_chars_per_word": 100,
            "vocab": {t: i for i, t in enumerate(vocab)},
        },
    }


def write_tiny_bert(directory: Path, *, seed: int = 0, with_head: bool = False) -> Path:
    """A random BERT (``BertForMaskedLM`` when ``with_head``) in ``directory``; returns it."""
    rng = np.random.default_rng(seed)
    directory.mkdir(parents=True, exist_ok=True)
    config = {
        "architectures": ["BertForMaskedLM" if with_head else "BertModel"],
        "model_type": "bert",
        "hidden_act": "gelu",
        "hidden_size": HIDDEN,
        "intermediate_size": INTERMEDIATE,
        "num_attention_heads": HEADS,
        "num_hidden_layers": LAYERS,
        "max_position_embeddings": POSITIONS,
        "type_vocab_size": 2,
        "vocab_size": len(VOCAB),
        "layer_norm_eps": 1e-12,
        "pad_token_id": 0,
        "position_embedding_type": "absolute",
    }
    (directory / "config.json").write_text(json.dumps(config))
    write_safetensors(directory / "model.safetensors", _tensors(rng, with_head))
    (directory / "tokenizer.json").write_text(json.dumps(tokenizer_json(VOCAB)))
    special = {"cls_token": "[CLS]", "sep_token": "[SEP]", "pad_token": "[PAD]", "unk_token": "[UNK]"}
    (directory / "tokenizer_config.json").write_text(json.dumps({**special, "mask_token": "[MASK]"}))
    (directory / "modules.json").write_text(
        json.dumps(
            [
                {"idx": 0, "name": "0", "path": "", "type": "sentence_transformers.models.Transformer"},
                {"idx": 1, "name": "1", "path": "1_Pooling", "type": "sentence_transformers.models.Pooling"},
            ]
        )
    )
    (directory / "1_Pooling").mkdir(exist_ok=True)
    (directory / "1_Pooling" / "config.json").write_text(
        json.dumps({"word_embedding_dimension": HIDDEN, "pooling_mode_mean_tokens": True})
    )
    return directory
