"""One loaded SPLADE model, shared by every endpoint that names the same configuration.

SPLADE's term weights for a text: the masked-language model's vocabulary logits at every
token position, ``log(1 + ReLU(logit))``, max-pooled over the positions (Formal et al.,
SPLADE v2); the tokens with a positive weight are the sparse vector. Since ``log1p`` and ReLU
are monotonic, the max is taken over the logits first. The forward pass is numpy
(:mod:`inference_service.local_models.bert`); encodings run on a pool of ``parallel_slots``
threads (numpy releases the GIL inside its matrix products), so the event loop never waits
and at most that many run at once. Loading runs off the event loop too.
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

from inference_service.errors import UnsupportedError
from inference_service.local_models import packages
from inference_service.local_models.packages import ModelKind
from inference_service.model.embedding import SparseEmbedding


@dataclass(frozen=True, slots=True)
class SpladeConfig:
    model: str
    max_input_tokens: int | None
    parallel_slots: int


class _Loaded:
    def __init__(self, directory: Path, max_input_tokens: int | None) -> None:
        try:
            import numpy as np
        except ImportError:
            raise UnsupportedError(
                "the splade service needs numpy: pip install 'inference-service[local]'"
            ) from None
        from inference_service.local_models.bert import BertMaskedLm
        from inference_service.local_models.wordpiece import WordPieceTokenizer

        self.np = np
        self.model = BertMaskedLm.from_directory(directory, np.float32)
        if not self.model.has_head:
            raise UnsupportedError(
                f"model [{directory}] has no masked-language-model head: it is not a SPLADE model"
            )
        self.tokenizer = WordPieceTokenizer.from_file(directory / "tokenizer.json")
        self.max_tokens = min(max_input_tokens or self.model.max_positions, self.model.max_positions)
        size = self.model.decoder.shape[1]
        tokens = [f"[{i}]" for i in range(size)]
        for token, i in self.tokenizer.vocab.items():
            if i < size:
                tokens[i] = token
        self.tokens = tokens

    def encode(self, text: str) -> SparseEmbedding:
        np = self.np
        encoding = self.tokenizer.encode(text, self.max_tokens)
        logits = self.model.logits(self.model.encode(encoding.ids))
        weights = np.log1p(np.maximum(logits.max(axis=0), 0.0))
        ids = np.flatnonzero(weights > 0)
        order = ids[np.argsort(-weights[ids], kind="stable")]
        return SparseEmbedding(
            embedding={self.tokens[i]: float(weights[i]) for i in order.tolist()},
            is_truncated=encoding.truncated,
        )


def model_directory(model: str) -> Path:
    bundled = packages.bundled(model, ModelKind.SPLADE)
    if bundled is not None:
        return packages.model_files(bundled)
    directory = Path(model)
    for name in ("config.json", "model.safetensors", "tokenizer.json"):
        if not (directory / name).is_file():
            raise UnsupportedError(f"model directory [{model}] has no {name}")
    return directory


class SpladeEngine:
    def __init__(self, config: SpladeConfig) -> None:
        self.config = config
        self._loaded: _Loaded | None = None
        self._load_lock = asyncio.Lock()
        self._pool = ThreadPoolExecutor(max_workers=config.parallel_slots, thread_name_prefix="splade")

    @property
    def loaded(self) -> bool:
        return self._loaded is not None

    def _load(self) -> _Loaded:
        return _Loaded(model_directory(self.config.model), self.config.max_input_tokens)

    async def load(self) -> _Loaded:
        async with self._load_lock:
            if self._loaded is None:
                self._loaded = await asyncio.to_thread(self._load)
            return self._loaded

    async def encode(self, texts: Sequence[str]) -> list[SparseEmbedding]:
        """One sparse vector per text, in order."""
        loaded = await self.load()
        loop = asyncio.get_running_loop()
        return list(
            await asyncio.gather(*(loop.run_in_executor(self._pool, loaded.encode, t) for t in texts))
        )

    def close(self) -> None:
        self._pool.shutdown(wait=False, cancel_futures=True)
        self._loaded = None
