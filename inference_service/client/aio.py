""":class:`AsyncInferenceClient`: the SDK over an ``httpx.AsyncClient``.

The same methods as :class:`~inference_service.client.sync.InferenceClient`, as coroutines;
streams are :class:`AsyncStream` (``async for``, ``async with``). Bodies and answers come from
:mod:`~inference_service.client.calls`, as for the blocking client; only the sending differs.
Waits between retries use ``anyio.sleep`` (httpx's own dependency), so asyncio and trio both work.
"""

from __future__ import annotations

import builtins
from collections.abc import Mapping, Sequence
from types import TracebackType
from typing import Any, Literal, TypeVar, overload

import anyio
import httpx

from inference_service.client import calls, endpoint_calls
from inference_service.client.stream import AsyncStream
from inference_service.client.transport import (
    Options,
    build,
    failure,
    idempotency_key,
    parse,
    resendable,
    status_failure,
)
from inference_service.client.types import (
    ChatCompletion,
    Completion,
    EmbeddingResponse,
    Endpoint,
    RerankResponse,
    SparseEmbeddingResponse,
)
from inference_service.retry_after import parse_retry_after

T = TypeVar("T")


class AsyncInferenceClient:
    """:class:`~inference_service.client.InferenceClient` for asyncio: the same arguments,
    defaults and methods; ``await client.aclose()`` (or ``async with``) releases it."""

    def __init__(
        self,
        base_url: str | None = None,
        api_key: str | None = None,
        *,
        timeout: float = 60.0,
        max_retries: int = 2,
    ) -> None:
        self._options = Options.resolve(base_url, api_key, timeout, max_retries)
        self._http = httpx.AsyncClient(base_url=self._options.base_url, headers=self._options.headers())
        self.endpoints = AsyncEndpoints(self)
        """Create, read, update and delete inference endpoints."""

    @property
    def base_url(self) -> str:
        return self._options.base_url

    @property
    def timeout(self) -> float:
        return self._options.timeout

    @property
    def max_retries(self) -> int:
        return self._options.max_retries

    async def aclose(self) -> None:
        await self._http.aclose()

    async def __aenter__(self) -> AsyncInferenceClient:
        return self

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        await self.aclose()

    # --- inference -----------------------------------------------------------------------

    @overload
    async def chat_completion(
        self,
        *,
        model: str | None = None,
        inference_id: str | None = None,
        messages: Sequence[calls.Message],
        stream: Literal[False] = False,
        max_tokens: int | None = None,
        temperature: float | None = None,
        top_p: float | None = None,
        stop: str | Sequence[str] | None = None,
        tools: Sequence[Mapping[str, Any]] | None = None,
        tool_choice: str | Mapping[str, Any] | None = None,
        response_format: Mapping[str, Any] | None = None,
        timeout: float | None = None,
        **extra: Any,
    ) -> ChatCompletion: ...

    @overload
    async def chat_completion(
        self,
        *,
        model: str | None = None,
        inference_id: str | None = None,
        messages: Sequence[calls.Message],
        stream: Literal[True],
        max_tokens: int | None = None,
        temperature: float | None = None,
        top_p: float | None = None,
        stop: str | Sequence[str] | None = None,
        tools: Sequence[Mapping[str, Any]] | None = None,
        tool_choice: str | Mapping[str, Any] | None = None,
        response_format: Mapping[str, Any] | None = None,
        timeout: float | None = None,
        **extra: Any,
    ) -> AsyncStream: ...

    @overload
    async def chat_completion(
        self,
        *,
        model: str | None = None,
        inference_id: str | None = None,
        messages: Sequence[calls.Message],
        stream: bool,
        max_tokens: int | None = None,
        temperature: float | None = None,
        top_p: float | None = None,
        stop: str | Sequence[str] | None = None,
        tools: Sequence[Mapping[str, Any]] | None = None,
        tool_choice: str | Mapping[str, Any] | None = None,
        response_format: Mapping[str, Any] | None = None,
        timeout: float | None = None,
        **extra: Any,
    ) -> ChatCompletion | AsyncStream: ...

    async def chat_completion(
        self,
        *,
        model: str | None = None,
        inference_id: str | None = None,
        messages: Sequence[calls.Message],
        stream: bool = False,
        max_tokens: int | None = None,
        temperature: float | None = None,
        top_p: float | None = None,
        stop: str | Sequence[str] | None = None,
        tools: Sequence[Mapping[str, Any]] | None = None,
        tool_choice: str | Mapping[str, Any] | None = None,
        response_format: Mapping[str, Any] | None = None,
        timeout: float | None = None,
        **extra: Any,
    ) -> ChatCompletion | AsyncStream:
        """A chat answer from endpoint ``model``; with ``stream=True`` an :class:`AsyncStream` of
        :class:`StreamChunk` (errors before the first chunk are raised here, later ones by
        the iterator)."""
        target = calls.endpoint_id(model, inference_id)
        body = calls.chat_body(
            messages,
            max_tokens=max_tokens,
            temperature=temperature,
            top_p=top_p,
            stop=stop,
            tools=tools,
            tool_choice=tool_choice,
            response_format=response_format,
            extra=extra,
        )
        if stream:
            return await self._stream(calls.chat_stream(target, body), timeout)
        return await self._call(calls.chat(target, body), timeout)

    @overload
    async def completion(
        self,
        *,
        model: str | None = None,
        inference_id: str | None = None,
        prompt: str,
        stream: Literal[False] = False,
        max_tokens: int | None = None,
        temperature: float | None = None,
        timeout: float | None = None,
    ) -> Completion: ...

    @overload
    async def completion(
        self,
        *,
        model: str | None = None,
        inference_id: str | None = None,
        prompt: str,
        stream: Literal[True],
        max_tokens: int | None = None,
        temperature: float | None = None,
        timeout: float | None = None,
    ) -> AsyncStream: ...

    @overload
    async def completion(
        self,
        *,
        model: str | None = None,
        inference_id: str | None = None,
        prompt: str,
        stream: bool,
        max_tokens: int | None = None,
        temperature: float | None = None,
        timeout: float | None = None,
    ) -> Completion | AsyncStream: ...

    async def completion(
        self,
        *,
        model: str | None = None,
        inference_id: str | None = None,
        prompt: str,
        stream: bool = False,
        max_tokens: int | None = None,
        temperature: float | None = None,
        timeout: float | None = None,
    ) -> Completion | AsyncStream:
        """A completion of ``prompt``; ``max_tokens``/``temperature`` go as task settings."""
        target = calls.endpoint_id(model, inference_id)
        body = calls.completion_body(prompt, max_tokens, temperature)
        if stream:
            return await self._stream(calls.completion_stream(target, body), timeout)
        return await self._call(calls.completion(target, body), timeout)

    async def embedding(
        self,
        *,
        model: str | None = None,
        inference_id: str | None = None,
        input: str | Sequence[str],
        input_type: str | None = None,
        timeout: float | None = None,
    ) -> EmbeddingResponse:
        """Dense vectors, one per input (``input_type``: ``search``, ``ingest``...)."""
        call = calls.embedding(calls.endpoint_id(model, inference_id), input, input_type)
        return await self._call(call, timeout)

    async def sparse_embedding(
        self,
        *,
        model: str | None = None,
        inference_id: str | None = None,
        input: str | Sequence[str],
        timeout: float | None = None,
    ) -> SparseEmbeddingResponse:
        """Token -> weight maps, one per input."""
        return await self._call(
            calls.sparse_embedding(calls.endpoint_id(model, inference_id), input), timeout
        )

    async def rerank(
        self,
        *,
        model: str | None = None,
        inference_id: str | None = None,
        query: str,
        documents: Sequence[str],
        top_n: int | None = None,
        return_documents: bool = False,
        timeout: float | None = None,
    ) -> RerankResponse:
        """``documents`` ranked against ``query``, best first."""
        call = calls.rerank(calls.endpoint_id(model, inference_id), query, documents, top_n, return_documents)
        return await self._call(call, timeout)

    # --- transport -----------------------------------------------------------------------

    async def _open(self, request: calls.Request, timeout: float | None, *, stream: bool) -> httpx.Response:
        """The response of the first attempt that got an answer worth keeping (a success, or
        an error that is not retried): its headers are read, its body is not."""
        attempts = self._options.attempts(timeout)
        key = idempotency_key(request)
        while True:
            try:
                response = await self._http.send(
                    build(self._http, request, attempts, key, stream=stream), stream=True
                )
            except httpx.HTTPError as exc:
                delay = attempts.next_delay(None) if resendable(request, exc) else None
                if delay is None:
                    raise failure(exc) from exc
                await anyio.sleep(delay)
                continue
            if response.is_success:
                return response
            try:
                content = await response.aread()
            except httpx.HTTPError as exc:
                raise failure(exc, answered=True) from exc
            finally:
                await response.aclose()
            error = status_failure(response, content)
            delay = attempts.next_delay(error.status, parse_retry_after(response.headers.get("retry-after")))
            if delay is None:
                raise error
            await anyio.sleep(delay)

    async def _call(self, call: calls.Call[T], timeout: float | None) -> T:
        response = await self._open(call, timeout, stream=False)
        try:
            content = await response.aread()
        except httpx.HTTPError as exc:
            raise failure(exc, answered=True) from exc
        finally:
            await response.aclose()
        return parse(call, content)

    async def _stream(self, call: calls.StreamCall, timeout: float | None) -> AsyncStream:
        return AsyncStream(await self._open(call, timeout, stream=True), call.kind)


class AsyncEndpoints:
    """``client.endpoints`` of :class:`AsyncInferenceClient` (see :class:`Endpoints`)."""

    def __init__(self, client: AsyncInferenceClient) -> None:
        self._client = client

    async def create(
        self,
        inference_id: str,
        *,
        task_type: str,
        service: str,
        service_settings: Mapping[str, Any],
        task_settings: Mapping[str, Any] | None = None,
        chunking_settings: Mapping[str, Any] | None = None,
        cache: Mapping[str, Any] | None = None,
    ) -> Endpoint:
        """A new endpoint (an existing id is a 400 ``resource_already_exists_exception``)."""
        call = endpoint_calls.create_endpoint(
            inference_id, task_type, service, service_settings, task_settings, chunking_settings, cache
        )
        return await self._client._call(call, None)

    async def get(self, inference_id: str) -> Endpoint:
        return await self._client._call(endpoint_calls.get_endpoint(inference_id), None)

    async def list(self, task_type: str | None = None) -> builtins.list[Endpoint]:
        """Every endpoint, or those of ``task_type``."""
        return await self._client._call(endpoint_calls.list_endpoints(task_type), None)

    async def update(
        self,
        inference_id: str,
        *,
        service_settings: Mapping[str, Any] | None = None,
        task_settings: Mapping[str, Any] | None = None,
    ) -> Endpoint:
        return await self._client._call(
            endpoint_calls.update_endpoint(inference_id, service_settings, task_settings), None
        )

    async def delete(self, inference_id: str) -> None:
        await self._client._call(endpoint_calls.delete_endpoint(inference_id), None)
