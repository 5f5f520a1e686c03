""":class:`InferenceClient`: the SDK over a blocking ``httpx.Client``.

Request bodies and answers are built and read in :mod:`~inference_service.client.calls`
(shared with :class:`~inference_service.client.aio.AsyncInferenceClient`); this module only
sends them, with the retries of :mod:`~inference_service.client.retry`.
"""

from __future__ import annotations

import builtins
import time
from collections.abc import Mapping, Sequence
from types import TracebackType
from typing import Any, Literal, TypeVar, overload

import httpx

from inference_service.client import calls, endpoint_calls
from inference_service.client.stream import Stream
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


class InferenceClient:
    """The inference service (or Elasticsearch) at ``base_url``.

    ``base_url`` defaults to ``INFERENCE_SERVICE_URL``, else ``http://127.0.0.1:9280``;
    ``api_key`` (the ``encoded`` key of ``inference-service api-keys create``) to
    ``INFERENCE_SERVICE_API_KEY``. ``timeout`` is each call's budget in seconds, retries
    included (a call's own ``timeout=`` replaces it); ``max_retries`` bounds the retries of
    one call. Close it (or use ``with``) to release its connections.
    """

    def __init__(
        self,
        base_url: str | None = None,
        api_key: str | None = None,
        *,
        timeout: float = 60.0,
        max_retries: int = 2,
    ) -> None:
        self._options = Options.resolve(base_url, api_key, timeout, max_retries)
        self._http = httpx.Client(base_url=self._options.base_url, headers=self._options.headers())
        self.endpoints = Endpoints(self)
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

    def close(self) -> None:
        self._http.close()

    def __enter__(self) -> InferenceClient:
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()

    # --- inference -----------------------------------------------------------------------

    @overload
    def chat_completion(
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
    def chat_completion(
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
    ) -> Stream: ...

    @overload
    def chat_completion(
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
    ) -> ChatCompletion | Stream: ...

    def chat_completion(
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
    ) -> ChatCompletion | Stream:
        """A chat answer from endpoint ``model``; with ``stream=True`` a :class:`Stream` of
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
            return self._stream(calls.chat_stream(target, body), timeout)
        return self._call(calls.chat(target, body), timeout)

    @overload
    def completion(
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
    def completion(
        self,
        *,
        model: str | None = None,
        inference_id: str | None = None,
        prompt: str,
        stream: Literal[True],
        max_tokens: int | None = None,
        temperature: float | None = None,
        timeout: float | None = None,
    ) -> Stream: ...

    @overload
    def completion(
        self,
        *,
        model: str | None = None,
        inference_id: str | None = None,
        prompt: str,
        stream: bool,
        max_tokens: int | None = None,
        temperature: float | None = None,
        timeout: float | None = None,
    ) -> Completion | Stream: ...

    def completion(
        self,
        *,
        model: str | None = None,
        inference_id: str | None = None,
        prompt: str,
        stream: bool = False,
        max_tokens: int | None = None,
        temperature: float | None = None,
        timeout: float | None = None,
    ) -> Completion | Stream:
        """A completion of ``prompt``; ``max_tokens``/``temperature`` go as task settings."""
        target = calls.endpoint_id(model, inference_id)
        body = calls.completion_body(prompt, max_tokens, temperature)
        if stream:
            return self._stream(calls.completion_stream(target, body), timeout)
        return self._call(calls.completion(target, body), timeout)

    def embedding(
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
        return self._call(call, timeout)

    def sparse_embedding(
        self,
        *,
        model: str | None = None,
        inference_id: str | None = None,
        input: str | Sequence[str],
        timeout: float | None = None,
    ) -> SparseEmbeddingResponse:
        """Token -> weight maps, one per input."""
        return self._call(calls.sparse_embedding(calls.endpoint_id(model, inference_id), input), timeout)

    def rerank(
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
        return self._call(call, timeout)

    # --- transport -----------------------------------------------------------------------

    def _open(self, request: calls.Request, timeout: float | None, *, stream: bool) -> httpx.Response:
        """The response of the first attempt that got an answer worth keeping (a success, or
        an error that is not retried): its headers are read, its body is not."""
        attempts = self._options.attempts(timeout)
        key = idempotency_key(request)
        while True:
            try:
                response = self._http.send(
                    build(self._http, request, attempts, key, stream=stream), stream=True
                )
            except httpx.HTTPError as exc:
                delay = attempts.next_delay(None) if resendable(request, exc) else None
                if delay is None:
                    raise failure(exc) from exc
                time.sleep(delay)
                continue
            if response.is_success:
                return response
            try:
                content = response.read()
            except httpx.HTTPError as exc:
                raise failure(exc, answered=True) from exc
            finally:
                response.close()
            error = status_failure(response, content)
            delay = attempts.next_delay(error.status, parse_retry_after(response.headers.get("retry-after")))
            if delay is None:
                raise error
            time.sleep(delay)

    def _call(self, call: calls.Call[T], timeout: float | None) -> T:
        response = self._open(call, timeout, stream=False)
        try:
            content = response.read()
        except httpx.HTTPError as exc:
            raise failure(exc, answered=True) from exc
        finally:
            response.close()
        return parse(call, content)

    def _stream(self, call: calls.StreamCall, timeout: float | None) -> Stream:
        return Stream(self._open(call, timeout, stream=True), call.kind)


class Endpoints:
    """``client.endpoints``: the management API (``PUT``/``GET``/``DELETE``/``_update``).
    Endpoints come back without their secrets."""

    def __init__(self, client: InferenceClient) -> None:
        self._client = client

    def create(
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
        return self._client._call(call, None)

    def get(self, inference_id: str) -> Endpoint:
        return self._client._call(endpoint_calls.get_endpoint(inference_id), None)

    def list(self, task_type: str | None = None) -> builtins.list[Endpoint]:
        """Every endpoint, or those of ``task_type``."""
        return self._client._call(endpoint_calls.list_endpoints(task_type), None)

    def update(
        self,
        inference_id: str,
        *,
        service_settings: Mapping[str, Any] | None = None,
        task_settings: Mapping[str, Any] | None = None,
    ) -> Endpoint:
        return self._client._call(
            endpoint_calls.update_endpoint(inference_id, service_settings, task_settings), None
        )

    def delete(self, inference_id: str) -> None:
        self._client._call(endpoint_calls.delete_endpoint(inference_id), None)
