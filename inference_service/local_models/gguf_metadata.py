"""The key-value header of a GGUF file, read without loading the model.

What the service needs to know about a user's GGUF file before llama.cpp loads it: its
architecture, whether it carries its own chat template (``tokenizer.chat_template``), its
training context and its pooling. GGUF starts with a header of typed key-value pairs (the
tensor index and data follow); arrays (the vocabulary) are skipped without being decoded.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass
from pathlib import Path
from typing import Any, BinaryIO

_SCALARS = {
    0: "<B",
    1: "<b",
    2: "<H",
    3: "<h",
    4: "<I",
    5: "<i",
    6: "<f",
    7: "<?",
    10: "<Q",
    11: "<q",
    12: "<d",
}
_STRING = 8
_ARRAY = 9


class GgufError(ValueError):
    """The file is not a GGUF file this reader understands."""


def _read(f: BinaryIO, size: int) -> bytes:
    data = f.read(size)
    if len(data) != size:
        raise GgufError("truncated GGUF header")
    return data


def _string(f: BinaryIO) -> str:
    (length,) = struct.unpack("<Q", _read(f, 8))
    return _read(f, length).decode("utf-8", errors="replace")


def _value(f: BinaryIO, kind: int) -> Any:
    if kind == _STRING:
        return _string(f)
    if kind == _ARRAY:
        item_kind, count = struct.unpack("<IQ", _read(f, 12))
        if item_kind in _SCALARS:
            f.seek(struct.calcsize(_SCALARS[item_kind]) * count, 1)
        elif item_kind == _STRING:
            for _ in range(count):
                (length,) = struct.unpack("<Q", _read(f, 8))
                f.seek(length, 1)
        else:
            for _ in range(count):
                _value(f, item_kind)
        return None  # arrays are not kept
    fmt = _SCALARS.get(kind)
    if fmt is None:
        raise GgufError(f"unknown GGUF value type {kind}")
    return struct.unpack(fmt, _read(f, struct.calcsize(fmt)))[0]


def read_metadata(path: Path) -> dict[str, Any]:
    """The header's scalar and string values by key (arrays are left out)."""
    with path.open("rb") as f:
        if _read(f, 4) != b"GGUF":
            raise GgufError(f"{path} is not a GGUF file")
        (version,) = struct.unpack("<I", _read(f, 4))
        if version < 2:
            raise GgufError(f"{path}: GGUF version {version} is not supported")
        _tensors, count = struct.unpack("<QQ", _read(f, 16))
        values: dict[str, Any] = {}
        for _ in range(count):
            key = _string(f)
            (kind,) = struct.unpack("<I", _read(f, 4))
            value = _value(f, kind)
            if value is not None:
                values[key] = value
        return values


@dataclass(frozen=True, slots=True)
class GgufInfo:
    architecture: str
    chat_template: str | None
    context_length: int | None
    pooling_type: int | None
    """llama.cpp's pooling: 1 mean, 2 CLS, 3 last, 4 rank (a reranker); None when not declared."""


def read_info(path: Path) -> GgufInfo:
    values = read_metadata(path)
    arch = str(values.get("general.architecture", ""))
    template = values.get("tokenizer.chat_template")
    context = values.get(f"{arch}.context_length")
    pooling = values.get(f"{arch}.pooling_type")
    return GgufInfo(
        architecture=arch,
        chat_template=template if isinstance(template, str) and template.strip() else None,
        context_length=int(context) if isinstance(context, int) else None,
        pooling_type=int(pooling) if isinstance(pooling, int) else None,
    )
