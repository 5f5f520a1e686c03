"""Settings of the ``splade`` service: a SPLADE sparse encoder run in-process with numpy."""

from __future__ import annotations

from typing import Annotated

import msgspec

from inference_service.local_models.packages import SPLADE_TINY, ModelKind, names
from inference_service.providers.schema import PositiveInt, ServiceSettings

BUNDLED_SPLADE_MODEL = SPLADE_TINY.name


class SpladeServiceSettings(ServiceSettings, kw_only=True):
    """``model`` is the bundled model's name or a Hugging Face model directory of a SPLADE
    ``BertForMaskedLM`` (``config.json``, ``model.safetensors``, an uncased BERT
    ``tokenizer.json``).

    ``max_input_tokens``: longer inputs are truncated (``is_truncated``); default and maximum
    the model's positions (512). ``parallel_slots`` inputs are encoded at once.
    """

    model: str = BUNDLED_SPLADE_MODEL
    max_input_tokens: PositiveInt | None = None
    parallel_slots: Annotated[int, msgspec.Meta(ge=1, le=64)] = 2

    def __post_init__(self) -> None:
        if self.model not in names(ModelKind.SPLADE) and (not self.model or self.model.endswith(".gguf")):
            raise ValueError(f"[model] must be [{BUNDLED_SPLADE_MODEL}] or a model directory")
