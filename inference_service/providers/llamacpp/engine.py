"""One loaded llama.cpp model, shared by every endpoint that names the same configuration.

xllamacpp's ``Server`` runs llama.cpp's native server loop (continuous batching over
``parallel_slots`` slots). Its ``handle_chat_completions(request, callback)`` blocks the
calling thread and calls ``callback`` on that thread with each OpenAI-style chunk; returning
True from the callback cancels the generation and frees the slot. ``handle_embeddings``
blocks until every input of the request is embedded (the inputs spread over the slots).

The bridge to asyncio: each request runs the blocking handler on a thread of a pool with one
thread per slot, so requests beyond the slots wait in the pool's FIFO queue (fair, first come
first served) without holding a slot. Chunks cross to the event loop with
``call_soon_threadsafe``. Closing the async generator (client gone, deadline passed) sets a
flag the callback checks, so the slot is released at the next token; a request still waiting
in the queue is dropped before it starts. Loading the model (and, for the bundled embedding
model, converting it to GGUF on first use) also runs off the event loop.

Chat templates: llama.cpp formats a chat with the template the GGUF file carries
(``tokenizer.chat_template``). The bundled Gemma base model's file has none, so Gemma's turn
format (:data:`CHAT_TEMPLATE`) is applied to it, and to any other Gemma file without one;
any other file without a template gets llama.cpp's own fallback (ChatML).
"""

from __future__ import annotations

import asyncio
import logging
import threading
from collections.abc import AsyncGenerator, Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from inference_service.errors import InvalidRequestError, UnsupportedError, UpstreamError
from inference_service.local_models import packages
from inference_service.local_models.gguf_metadata import GgufError, GgufInfo, read_info
from inference_service.local_models.packages import ModelKind
from inference_service.local_models.wordpiece import WordPieceTokenizer
from inference_service.providers.llamacpp.settings import BUNDLED_EMBEDDING_TOKENS

log = logging.getLogger("inference_service.llamacpp")

_END = object()

CHAT_TEMPLATE = (
    "{{ bos_token }}"
    "{%- set system = namespace(text='') -%}"
    "{%- for m in messages -%}"
    "{%- if m['role'] == 'system' -%}{%- set system.text = system.text + m['content'] + '\\n\\n' -%}"
    "{%- else -%}"
    "{{ '<start_of_turn>' + ('model' if m['role'] == 'assistant' else 'user') + '\\n' }}"
    "{{ system.text }}{%- set system.text = '' -%}"
    "{{ m['content'] | trim }}{{ '<end_of_turn>\\n' }}"
    "{%- endif -%}"
    "{%- endfor -%}"
    "{%- if add_generation_prompt -%}{{ '<start_of_turn>model\\n' }}{%- endif -%}"
)
"""Gemma's turn format (``<start_of_turn>user … <end_of_turn>``, the assistant is ``model``).
The bundled base model's file carries no template; system text is prepended to the next user
turn, as Gemma has no system role."""

MAX_FILE_TOKENS = 8192
"""The most tokens per input of a ``.gguf`` embedding model when its endpoint does not say."""

RANK_POOLING = 4


def chat_template_for(info: GgufInfo) -> str | None:
    """The template to impose on a chat model's file: None when the file has its own (or is
    not a Gemma model: llama.cpp then falls back to ChatML), Gemma's for a Gemma file without."""
    if info.chat_template is None and info.architecture.startswith("gemma"):
        return CHAT_TEMPLATE
    return None


def resolve_model_path(model: str, kind: ModelKind) -> Path:
    """A bundled model's GGUF file or a ``.gguf`` path; raises when there is none."""
    bundled = packages.bundled(model, kind)
    if bundled is not None:
        return packages.chat_model_file(bundled)
    path = Path(model)
    if not path.is_file():
        raise UnsupportedError(f"model file [{model}] does not exist")
    return path


def read_model_info(path: Path) -> GgufInfo:
    try:
        return read_info(path)
    except (GgufError, OSError) as exc:
        raise UnsupportedError(f"model file [{path}] cannot be read: {exc}") from None


def _import_xllamacpp() -> Any:
    try:
        import xllamacpp
    except ImportError:
        raise UnsupportedError(
            "the llamacpp service needs xllamacpp: pip install 'inference-service[local]'"
        ) from None
    return xllamacpp


def _base_params(xllamacpp: Any, path: Path, threads: int, slots: int) -> Any:
    params = xllamacpp.CommonParams()
    params.model.path = str(path)
    params.n_parallel = slots
    params.cpuparams.n_threads = threads
    params.cpuparams_batch.n_threads = threads
    params.fit_params = False
    params.warmup = True
    params.hostnames = ["127.0.0.1"]  # its HTTP side only ever listens on loopback
    params.port = 0
    params.ui = False
    params.verbosity = -1  # llama.cpp's own logging is per token; failures reach us as errors
    return params


class _Engine:
    """A model loaded once (off the event loop) and a pool of one thread per slot."""

    def __init__(self, slots: int) -> None:
        self._server: Any = None
        self._load_lock = asyncio.Lock()
        self._pool = ThreadPoolExecutor(max_workers=slots, thread_name_prefix="llamacpp")

    @property
    def loaded(self) -> bool:
        return self._server is not None

    async def load(self) -> None:
        """Load the model once, on a worker thread (it takes seconds and must not block the loop)."""
        async with self._load_lock:
            if self._server is None:
                self._server = await asyncio.to_thread(self._create_server)

    def _create_server(self) -> Any:
        raise NotImplementedError

    def close(self) -> None:
        self._pool.shutdown(wait=False, cancel_futures=True)
        self._server = None


@dataclass(frozen=True, slots=True)
class EngineConfig:
    model: str
    """A bundled chat model's name or a ``.gguf`` path."""
    context_size: int
    threads: int
    parallel_slots: int


class LlamaCppEngine(_Engine):
    """A chat model."""

    def __init__(self, config: EngineConfig) -> None:
        super().__init__(config.parallel_slots)
        self.config = config

    def _create_server(self) -> Any:
        xllamacpp = _import_xllamacpp()
        path = resolve_model_path(self.config.model, ModelKind.CHAT)
        params = _base_params(xllamacpp, path, self.config.threads, self.config.parallel_slots)
        params.n_ctx = self.config.context_size
        params.use_jinja = True
        template = chat_template_for(read_model_info(path))
        if template is not None:
            params.chat_template = template
        return xllamacpp.Server(params)

    async def stream_chat(self, request: dict[str, Any]) -> AsyncGenerator[list[dict[str, Any]], None]:
        """llama.cpp's OpenAI-style chunks for ``request``, in lists of what is ready; closing
        the generator cancels the generation."""
        await self.load()
        loop = asyncio.get_running_loop()
        queue: asyncio.Queue[Any] = asyncio.Queue()
        cancelled = threading.Event()
        put: Callable[[Any], None] = queue.put_nowait

        def on_chunk(chunk: dict[str, Any]) -> bool:
            if cancelled.is_set():
                return True
            loop.call_soon_threadsafe(put, chunk)
            return False

        def run() -> None:
            try:
                if not cancelled.is_set():
                    self._server.handle_chat_completions(request, on_chunk)
            finally:
                loop.call_soon_threadsafe(put, _END)

        done = loop.run_in_executor(self._pool, run)
        try:
            ended = False
            while not ended:
                batch = [await queue.get()]
                while not queue.empty():
                    batch.append(queue.get_nowait())
                ended = batch[-1] is _END
                if ended:
                    batch.pop()
                if batch:
                    yield batch
            await done
        finally:
            cancelled.set()


@dataclass(frozen=True, slots=True)
class EmbeddingEngineConfig:
    model: str
    """The bundled embedding model's name or a ``.gguf`` path."""
    max_input_tokens: int | None
    threads: int
    parallel_slots: int


@dataclass(frozen=True, slots=True)
class Embeddings:
    vectors: list[list[float]]
    """One unit-length vector per input, in input order."""


class LlamaCppEmbeddingEngine(_Engine):
    """An embedding model (llama.cpp's embedding mode, the model's pooling, L2-normalised).

    For the bundled model the service tokenizes (WordPiece,
    :mod:`~inference_service.local_models.wordpiece`) and truncates to ``max_input_tokens``,
    and llama.cpp gets token ids. For a ``.gguf`` file llama.cpp tokenizes, and an input longer
    than ``max_input_tokens`` is refused: llama.cpp cannot truncate.
    """

    def __init__(self, config: EmbeddingEngineConfig) -> None:
        super().__init__(config.parallel_slots)
        self.config = config
        self.tokenizer: WordPieceTokenizer | None = None
        self.max_tokens = config.max_input_tokens or BUNDLED_EMBEDDING_TOKENS

    def _create_server(self) -> Any:
        xllamacpp = _import_xllamacpp()
        bundled = packages.bundled(self.config.model, ModelKind.SENTENCE_EMBEDDING)
        if bundled is not None:
            from inference_service.local_models.bert_gguf import ensure_gguf

            source = packages.model_files(bundled)
            self.tokenizer = WordPieceTokenizer.from_file(source / "tokenizer.json")
            try:
                content = packages.content_digest(bundled)
                path = ensure_gguf(source, packages.cache_dir(), bundled.name, content=content)
            except ImportError as exc:
                raise UnsupportedError(
                    f"converting [{bundled.name}] needs {exc.name}: pip install 'inference-service[local]'"
                ) from None
        else:
            path = resolve_model_path(self.config.model, ModelKind.SENTENCE_EMBEDDING)
        info = read_model_info(path)
        if self.tokenizer is None and self.config.max_input_tokens is None:
            self.max_tokens = min(info.context_length or 512, MAX_FILE_TOKENS)
        params = _base_params(xllamacpp, path, self.config.threads, self.config.parallel_slots)
        params.embedding = True
        if info.pooling_type in (None, 0):
            params.pooling_type = xllamacpp.llama_pooling_type.LLAMA_POOLING_TYPE_MEAN
        elif info.pooling_type == RANK_POOLING:
            raise UnsupportedError(
                f"model file [{path}] is a reranker (rank pooling), not an embedding model"
            )
        params.n_ctx = self.max_tokens * self.config.parallel_slots
        # A sequence is embedded in one micro-batch, so the micro-batch is the length limit:
        # exact for a file (longer is refused); for the bundled model, whose inputs are cut to
        # max_tokens here, room for every slot's sequence at once.
        params.n_batch = params.n_ubatch = params.n_ctx if self.tokenizer is not None else self.max_tokens
        return xllamacpp.Server(params)

    def _inputs(self, texts: Sequence[str]) -> list[Any]:
        """Token ids cut to ``max_tokens`` (the bundled model), else the texts for llama.cpp."""
        if self.tokenizer is None:
            return list(texts)
        return [self.tokenizer.encode(text, self.max_tokens).ids for text in texts]

    def _embed(self, texts: Sequence[str], inference_id: str) -> Embeddings:
        inputs = self._inputs(texts)
        answer = self._server.handle_embeddings({"input": inputs})
        error = answer.get("error") if isinstance(answer, dict) else None
        if error is not None:
            message = str(error.get("message", error))
            if "too large" in message or "context size" in message:
                raise InvalidRequestError(
                    f"An input is longer than the [{self.max_tokens}] tokens of the model of inference "
                    f"entity id [{inference_id}] (max_input_tokens): {message}"
                )
            raise UpstreamError(f"The local model failed for inference entity id [{inference_id}]: {message}")
        try:
            rows = sorted(answer["data"], key=lambda row: row["index"])
            vectors = [row["embedding"] for row in rows]
        except (KeyError, TypeError):
            raise UpstreamError(
                f"The local model answered without embeddings for inference entity id [{inference_id}]"
            ) from None
        if len(vectors) != len(inputs):
            raise UpstreamError(
                f"The local model returned [{len(vectors)}] embeddings for [{len(inputs)}] inputs for "
                f"inference entity id [{inference_id}]"
            )
        if vectors and vectors[0] and isinstance(vectors[0][0], list):
            raise UpstreamError(f"The model of inference entity id [{inference_id}] gave no pooled embedding")
        return Embeddings(vectors)

    async def embed(self, texts: Sequence[str], inference_id: str) -> Embeddings:
        await self.load()
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(self._pool, self._embed, texts, inference_id)
