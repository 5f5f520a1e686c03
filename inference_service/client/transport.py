"""What the sync and the async client share about HTTP: options, headers, the request of one
attempt, and the translation of httpx's failures and of undecodable answers into SDK errors
(the one boundary where that happens, as ``map_httpcore_exceptions`` is httpx's)."""

from __future__ import annotations

import os
import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from typing import TypeVar

import httpx
import msgspec

from inference_service import __version__
from inference_service.client.calls import Call, Request
from inference_service.client.errors import (
    APIConnectionError,
    APIStatusError,
    APITimeoutError,
    InferenceServiceError,
    response_error,
)
from inference_service.client.retry import Attempts

T = TypeVar("T")

DEFAULT_URL = "http://127.0.0.1:9280"
URL_ENV = "INFERENCE_SERVICE_URL"
API_KEY_ENV = "INFERENCE_SERVICE_API_KEY"
USER_AGENT = f"inference-service-python/{__version__}"


@dataclass(frozen=True, slots=True)
class Options:
    base_url: str
    api_key: str | None
    timeout: float
    max_retries: int

    @classmethod
    def resolve(
        cls,
        base_url: str | None,
        api_key: str | None,
        timeout: float,
        max_retries: int,
        environ: Mapping[str, str] | None = None,
    ) -> Options:
        """Arguments first, then ``INFERENCE_SERVICE_URL`` / ``INFERENCE_SERVICE_API_KEY``,
        then the local default; a bad value is refused here, before any request."""
        env = os.environ if environ is None else environ
        url = (base_url or env.get(URL_ENV) or DEFAULT_URL).rstrip("/")
        parsed = httpx.URL(url)
        if parsed.scheme not in ("http", "https") or not parsed.host:
            raise ValueError(f"base_url must be an http:// or https:// URL, got [{url}]")
        key = api_key if api_key is not None else env.get(API_KEY_ENV) or None
        if key is not None and (not key.strip() or any(c in key for c in "\r\n")):
            raise ValueError("api_key must be the encoded key (one line, not blank)")
        if isinstance(timeout, bool) or not isinstance(timeout, int | float) or not timeout > 0:
            raise ValueError(f"timeout must be a positive number of seconds, got {timeout!r}")
        if isinstance(max_retries, bool) or not isinstance(max_retries, int) or max_retries < 0:
            raise ValueError(f"max_retries must be an integer >= 0, got {max_retries!r}")
        return cls(url, key, float(timeout), max_retries)

    def headers(self) -> dict[str, str]:
        """Headers of every request: the API key as ``Authorization: ApiKey <encoded>``."""
        headers = {"user-agent": USER_AGENT}
        if self.api_key is not None:
            headers["authorization"] = f"ApiKey {self.api_key}"
        return headers

    def attempts(self, timeout: float | None) -> Attempts:
        if timeout is not None and (isinstance(timeout, bool) or not timeout > 0):
            raise ValueError(f"timeout must be a positive number of seconds, got {timeout!r}")
        return Attempts(self.timeout if timeout is None else float(timeout), self.max_retries)


def idempotency_key(request: Request) -> str | None:
    """One key per call, the same on each of its retries; POSTs only."""
    return uuid.uuid4().hex if request.method == "POST" else None


def resendable(request: Request, exc: httpx.HTTPError) -> bool:
    """Whether an attempt that got no answer (``exc``) may be sent again, budget allowing.

    A timeout spent the budget: no. A connection that could not be made: the request never
    left, yes. Otherwise the service may have acted on it: yes for reads, and for POSTs, whose
    ``Idempotency-Key`` makes the service replay the first outcome instead of running it
    twice; no for ``PUT`` and ``DELETE``, which carry no key (a create sent twice would answer
    "already exists" for the endpoint it just made, a delete "not found")."""
    if isinstance(exc, httpx.TimeoutException):
        return False
    if isinstance(exc, httpx.ConnectError):
        return True
    return request.method in ("GET", "HEAD", "POST")


def build(
    http: httpx.Client | httpx.AsyncClient,
    request: Request,
    attempts: Attempts,
    key: str | None,
    *,
    stream: bool,
) -> httpx.Request:
    """The httpx request of one attempt."""
    headers = {"accept": "text/event-stream" if stream else "application/json"}
    if request.body is not None:
        headers["content-type"] = "application/json"
    if key is not None:
        headers["idempotency-key"] = key
    params = {"timeout": attempts.deadline_param()} if request.deadline_param else None
    return http.build_request(
        request.method,
        request.path,
        content=request.body,
        params=params,
        headers=headers,
        timeout=attempts.network_timeout(),
    )


def failure(exc: httpx.HTTPError, *, answered: bool = False) -> APIConnectionError:
    """httpx's failure as the SDK's (``answered``: the service had started its answer)."""
    if isinstance(exc, httpx.TimeoutException):
        return APITimeoutError("the service did not answer within the call's timeout")
    if answered:
        return APIConnectionError(f"the connection broke while the answer was read: {exc}")
    return APIConnectionError(f"could not reach the service: {exc}")


def status_failure(response: httpx.Response, content: bytes) -> APIStatusError:
    return response_error(
        response.status_code,
        content,
        response.headers.get("content-type"),
        response.headers.get("retry-after"),
    )


def parse(call: Call[T], content: bytes) -> T:
    try:
        return call.parse(content)
    except (msgspec.DecodeError, msgspec.ValidationError) as exc:
        raise InferenceServiceError(
            f"the service's answer to {call.method} {call.path} is unreadable: {exc}"
        ) from None
