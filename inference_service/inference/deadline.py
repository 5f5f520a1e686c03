"""The request's ``timeout``: Elasticsearch time values, per-task defaults, the 408 it becomes."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable
from dataclasses import dataclass
from typing import TypeVar

from inference_service.errors import RequestTimeoutError
from inference_service.model.task_type import TaskType
from inference_service.model.time_value import parse_time_value
from inference_service.settings import Settings

T = TypeVar("T")


def default_timeout(settings: Settings, task_type: TaskType) -> float:
    """Per-task defaults: generation tasks take longer than embeddings and rerank."""
    if task_type == TaskType.CHAT_COMPLETION:
        return settings.chat_completion_timeout
    if task_type == TaskType.COMPLETION:
        return settings.completion_timeout
    return settings.default_timeout


@dataclass(frozen=True, slots=True)
class Deadline:
    """Seconds a request may take (streams: up to the first chunk), and the label echoed in
    "Request timed out after [..]". ``given`` says whether the client chose it."""

    seconds: float
    label: str
    given: bool

    @classmethod
    def parse(cls, raw: str | None, default: float) -> Deadline:
        """From a time value (``?timeout=``); ``None``, ``0`` and ``-1`` mean the default."""
        seconds = parse_time_value(raw) if raw is not None else None
        if seconds is None or raw is None:
            return cls(default, f"{default:g}s", given=False)
        return cls(seconds, raw, given=True)

    def or_body(self, raw: str | None) -> Deadline:
        """The body's own ``timeout`` field applies when the query string has none (as in
        Elasticsearch's completion body)."""
        if self.given or raw is None:
            return self
        body = Deadline.parse(raw, self.seconds)
        return body if body.given else self

    def expired(self) -> RequestTimeoutError:
        return RequestTimeoutError(f"Request timed out after [{self.label}]")


async def within(deadline: Deadline, work: Awaitable[T]) -> T:
    """``work`` under the deadline; its expiry is the 408 naming the timeout (a ``TimeoutError``
    from inside the work is the work's own error, not the client's deadline)."""
    window = asyncio.timeout(deadline.seconds)
    try:
        async with window:
            return await work
    except TimeoutError:
        if window.expired():
            raise deadline.expired() from None
        raise
