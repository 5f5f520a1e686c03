"""The numpy BERT: GELU's erf, the safetensors reader, and the forward pass's consistency."""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from inference_service.local_models.bert import BertMaskedLm, gelu, read_safetensors
from tests.support.tiny_bert import HIDDEN, POSITIONS, VOCAB, write_safetensors, write_tiny_bert


def test_gelu_matches_the_exact_erf_form() -> None:
    x = np.linspace(-12, 12, 20001)
    exact = np.array([0.5 * v * (1 + math.erf(v / math.sqrt(2))) for v in x])
    assert np.abs(gelu(x) - exact).max() < 1.5e-6  # A&S 7.1.26: |erf error| < 1.5e-7, times |x|/2
    assert gelu(x.astype(np.float32)).dtype == np.float32


def test_safetensors_round_trip(tmp_path: Path) -> None:
    tensors: dict[str, np.ndarray[Any, Any]] = {
        "a": np.arange(6, dtype=np.float32).reshape(2, 3),
        "b": np.array([1.5, -2.0], dtype=np.float16),
        "c": np.arange(3, dtype=np.int64),
    }
    write_safetensors(tmp_path / "t.safetensors", tensors)
    read = read_safetensors(tmp_path / "t.safetensors")
    assert sorted(read) == ["a", "b", "c"]
    for name, array in tensors.items():
        assert read[name].dtype == array.dtype and np.array_equal(read[name], array)


def test_forward_pass_shapes_and_precision(tmp_path: Path) -> None:
    directory = write_tiny_bert(tmp_path / "m", with_head=True)
    m32 = BertMaskedLm.from_directory(directory, np.float32)
    m64 = BertMaskedLm.from_directory(directory, np.float64)
    ids = [2, 6, 7, 8, 9, 3]
    hidden = m32.encode(ids)
    assert hidden.shape == (len(ids), HIDDEN) and hidden.dtype == np.float32
    logits = m32.logits(hidden)
    assert logits.shape == (len(ids), len(VOCAB))
    assert np.abs(logits - m64.logits(m64.encode(ids))).max() < 1e-4
    # No padding, no state: a token's state depends on the whole sequence, not on other calls.
    assert np.array_equal(m32.encode(ids), hidden)
    assert not np.allclose(m32.encode(ids[:-1])[0], hidden[0])


def test_limits(tmp_path: Path) -> None:
    model = BertMaskedLm.from_directory(write_tiny_bert(tmp_path / "m", with_head=False))
    with pytest.raises(ValueError, match="no masked-language-model head"):
        model.logits(model.encode([2, 3]))
    with pytest.raises(ValueError, match=f"1 to {POSITIONS}"):
        model.encode([2] * (POSITIONS + 1))
