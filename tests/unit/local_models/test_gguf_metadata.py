"""The GGUF header reader, on files written by the ``gguf`` package."""

from __future__ import annotations

from pathlib import Path

import pytest

from inference_service.local_models.gguf_metadata import GgufError, read_info, read_metadata
from tests.support.gguf_files import write_gguf as write


def test_scalars_and_strings_are_read_and_arrays_skipped(tmp_path: Path) -> None:
    values = read_metadata(write(tmp_path / "m.gguf", template="{{ messages }}"))
    assert values["general.architecture"] == "llama"
    assert values["llama.context_length"] == 2048
    assert values["tokenizer.chat_template"] == "{{ messages }}"
    assert "tokenizer.ggml.tokens" not in values and "llama.feed_forward_length" not in values


def test_info(tmp_path: Path) -> None:
    own = read_info(write(tmp_path / "a.gguf", template="{{ x }}"))
    assert (own.architecture, own.chat_template, own.context_length, own.pooling_type) == (
        "llama",
        "{{ x }}",
        2048,
        None,
    )
    bare = read_info(write(tmp_path / "b.gguf", arch="bert", pooling=True))
    assert (bare.architecture, bare.chat_template, bare.pooling_type) == ("bert", None, 1)


def test_not_gguf_or_truncated_is_refused(tmp_path: Path) -> None:
    other = tmp_path / "x.gguf"
    other.write_bytes(b"PK\x03\x04 not a model")
    with pytest.raises(GgufError, match="not a GGUF file"):
        read_metadata(other)
    whole = write(tmp_path / "whole.gguf", template="t").read_bytes()
    cut = tmp_path / "cut.gguf"
    cut.write_bytes(whole[:60])
    with pytest.raises(GgufError, match="truncated"):
        read_metadata(cut)
