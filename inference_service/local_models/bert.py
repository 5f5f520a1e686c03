"""A BERT encoder and its masked-language-model head in numpy, from a safetensors file.

What SPLADE needs: llama.cpp's BERT drops the MLM head (``cls.predictions``), so the sparse
encoder runs here. The computation is Hugging Face's ``BertForMaskedLM`` in inference mode
(post-norm layers, exact GELU, absolute positions, token type 0, one sequence at a time so
there is no padding to mask) and the weights are read without torch: safetensors is a JSON
header and raw little-endian arrays (:func:`read_safetensors`).

numpy has no ``erf``; :func:`gelu` uses Abramowitz and Stegun's 7.1.26 (absolute error below
1.5e-7, under float32's resolution at the activations' scale).
"""

from __future__ import annotations

import json
import struct
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt

Array = npt.NDArray[Any]

_DTYPES = {"F32": "<f4", "F16": "<f2", "F64": "<f8", "I64": "<i8", "I32": "<i4"}


def read_safetensors(path: Path) -> dict[str, Array]:
    """Every tensor of a safetensors file, memory-mapped, read-only (bf16 and 8-bit types are
    refused)."""
    with path.open("rb") as f:
        (length,) = struct.unpack("<Q", f.read(8))
        header = json.loads(f.read(length))
    raw = np.memmap(path, dtype=np.uint8, mode="r", offset=8 + length)
    tensors: dict[str, Array] = {}
    for name, meta in header.items():
        if name == "__metadata__":
            continue
        dtype = _DTYPES.get(meta["dtype"])
        if dtype is None:
            raise ValueError(f"{path}: tensor {name!r} has unsupported dtype {meta['dtype']}")
        start, end = meta["data_offsets"]
        tensors[name] = raw[start:end].view(dtype).reshape(meta["shape"])
    return tensors


def gelu(x: Array) -> Array:
    """``x * Φ(x)`` with Φ through erf (A&S 7.1.26), in ``x``'s dtype."""
    z = np.abs(x) * np.asarray(0.7071067811865476, dtype=x.dtype)
    t = 1.0 / (1.0 + 0.3275911 * z)
    poly = t * (0.254829592 + t * (-0.284496736 + t * (1.421413741 + t * (-1.453152027 + t * 1.061405429))))
    erf = 1.0 - poly * np.exp(-z * z)
    out: Array = 0.5 * x * (1.0 + np.copysign(erf, x))
    return out


def layer_norm(x: Array, weight: Array, bias: Array, eps: float) -> Array:
    mean = x.mean(axis=-1, keepdims=True)
    centred = x - mean
    var = (centred * centred).mean(axis=-1, keepdims=True)
    out: Array = centred / np.sqrt(var + eps) * weight + bias
    return out


@dataclass(frozen=True, slots=True)
class _Layer:
    qkv: Array
    """(hidden, 3 * hidden): query, key and value projections side by side, transposed."""
    qkv_bias: Array
    out: Array
    out_bias: Array
    norm1: tuple[Array, Array]
    up: Array
    up_bias: Array
    down: Array
    down_bias: Array
    norm2: tuple[Array, Array]


class BertMaskedLm:
    """``BertForMaskedLM`` for inference: token ids in, hidden states or vocabulary logits out."""

    def __init__(self, config: dict[str, Any], tensors: dict[str, Array], dtype: type = np.float32) -> None:
        if config.get("model_type") != "bert":
            raise ValueError(f"not a BERT model (model_type {config.get('model_type')!r})")
        if config.get("hidden_act", "gelu") != "gelu":
            raise ValueError(f"unsupported activation {config.get('hidden_act')!r}")
        if config.get("position_embedding_type", "absolute") != "absolute":
            raise ValueError("only absolute position embeddings are supported")
        self.hidden = int(config["hidden_size"])
        self.heads = int(config["num_attention_heads"])
        self.max_positions = int(config["max_position_embeddings"])
        self.eps = float(config.get("layer_norm_eps", 1e-12))
        self.dtype = dtype

        def get(name: str) -> Array:
            for key in (name, name.replace(".weight", ".gamma"), name.replace(".bias", ".beta")):
                for prefix in ("", "bert."):
                    if prefix + key in tensors:
                        return np.ascontiguousarray(tensors[prefix + key], dtype=dtype)
            raise ValueError(f"tensor {name!r} is missing")

        def norm(name: str) -> tuple[Array, Array]:
            return get(f"{name}.weight"), get(f"{name}.bias")

        self.word = get("embeddings.word_embeddings.weight")
        self.positions = get("embeddings.position_embeddings.weight")
        self.token_type = get("embeddings.token_type_embeddings.weight")[0]
        self.embedding_norm = norm("embeddings.LayerNorm")
        self.layers: list[_Layer] = []
        for i in range(int(config["num_hidden_layers"])):
            p = f"encoder.layer.{i}."
            attention = [get(f"{p}attention.self.{w}.weight") for w in ("query", "key", "value")]
            self.layers.append(
                _Layer(
                    qkv=np.ascontiguousarray(np.concatenate(attention, axis=0).T),
                    qkv_bias=np.concatenate(
                        [get(f"{p}attention.self.{w}.bias") for w in ("query", "key", "value")]
                    ),
                    out=np.ascontiguousarray(get(f"{p}attention.output.dense.weight").T),
                    out_bias=get(f"{p}attention.output.dense.bias"),
                    norm1=norm(f"{p}attention.output.LayerNorm"),
                    up=np.ascontiguousarray(get(f"{p}intermediate.dense.weight").T),
                    up_bias=get(f"{p}intermediate.dense.bias"),
                    down=np.ascontiguousarray(get(f"{p}output.dense.weight").T),
                    down_bias=get(f"{p}output.dense.bias"),
                    norm2=norm(f"{p}output.LayerNorm"),
                )
            )
        self.has_head = any(k.startswith("cls.predictions.") for k in tensors)
        if self.has_head:
            self.transform = np.ascontiguousarray(get("cls.predictions.transform.dense.weight").T)
            self.transform_bias = get("cls.predictions.transform.dense.bias")
            self.transform_norm = norm("cls.predictions.transform.LayerNorm")
            decoder = tensors.get("cls.predictions.decoder.weight")
            # Tied to the word embeddings unless the file has its own. Kept as a contiguous
            # (hidden, vocabulary) copy: twice as fast as the transposed view for short inputs.
            self.decoder = np.ascontiguousarray(
                (self.word if decoder is None else np.asarray(decoder, dtype)).T
            )
            self.decoder_bias = get("cls.predictions.bias")

    @classmethod
    def from_directory(cls, path: Path, dtype: type = np.float32) -> BertMaskedLm:
        """From a Hugging Face model directory (``config.json`` and ``model.safetensors``)."""
        with (path / "config.json").open(encoding="utf-8") as f:
            config = json.load(f)
        return cls(config, read_safetensors(path / "model.safetensors"), dtype)

    def encode(self, ids: list[int]) -> Array:
        """The last layer's hidden states, one row per token."""
        n = len(ids)
        if not 0 < n <= self.max_positions:
            raise ValueError(f"{n} tokens; the model takes 1 to {self.max_positions}")
        x = self.word[ids] + self.positions[:n] + self.token_type
        x = layer_norm(x, *self.embedding_norm, self.eps)
        heads, size = self.heads, self.hidden // self.heads
        scale: Array = np.asarray(1.0 / np.sqrt(size), dtype=self.dtype)
        for layer in self.layers:
            qkv = (x @ layer.qkv + layer.qkv_bias).reshape(n, 3, heads, size).transpose(1, 2, 0, 3)
            q, k, v = qkv[0], qkv[1], qkv[2]
            scores = (q @ k.transpose(0, 2, 1)) * scale
            scores = np.exp(scores - scores.max(axis=-1, keepdims=True))
            scores /= scores.sum(axis=-1, keepdims=True)
            context = (scores @ v).transpose(1, 0, 2).reshape(n, self.hidden)
            x = layer_norm(x + context @ layer.out + layer.out_bias, *layer.norm1, self.eps)
            inner = gelu(x @ layer.up + layer.up_bias)
            x = layer_norm(x + inner @ layer.down + layer.down_bias, *layer.norm2, self.eps)
        return x

    def logits(self, hidden: Array) -> Array:
        """Vocabulary logits for each hidden state (the MLM head)."""
        if not self.has_head:
            raise ValueError("the model has no masked-language-model head (cls.predictions)")
        h = gelu(hidden @ self.transform + self.transform_bias)
        h = layer_norm(h, *self.transform_norm, self.eps)
        out: Array = h @ self.decoder + self.decoder_bias
        return out
