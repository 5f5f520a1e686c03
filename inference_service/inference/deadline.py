"""The request's ``timeout``: Elasticsearch time values, per-task defaults, the 408 it becomes."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Iterable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
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


_EXPIRES: ContextVar[float | None] = ContextVar("inference_deadline_expires", default=None)
"""When (event-loop time) the innermost deadline being awaited in this context expires."""


@contextmanager
def expiring(seconds: float) -> Iterator[None]:
    """Tell the work inside (this task, and tasks it creates) when its deadline expires, so
    it can decide not to start what would end past it (a retry's wait). The caller applies
    the deadline itself (``asyncio.timeout``); an inner deadline never extends an outer one."""
    expires = asyncio.get_running_loop().time() + seconds
    outer = _EXPIRES.get()
    token = _EXPIRES.set(expires if outer is None else min(outer, expires))
    try:
        yield
    finally:
        _EXPIRES.reset(token)


def time_left() -> float | None:
    """Seconds until the deadline of the work this runs in expires; None outside any."""
    expires = _EXPIRES.get()
    return None if expires is None else expires - asyncio.get_running_loop().time()


async def within(deadline: Deadline, work: Awaitable[T]) -> T:
    """``work`` under the deadline; its expiry is the 408 naming the timeout (a ``TimeoutError``
    from inside the work is the work's own error, not the client's deadline). Tasks that
    ``work`` creates see the deadline (:func:`time_left`) only if they are created inside it:
    pass a coroutine, not a gather of tasks made beforehand (:func:`gather`)."""
    window = asyncio.timeout(deadline.seconds)
    try:
        with expiring(deadline.seconds):
            async with window:
                return await work
    except TimeoutError:
        if window.expired():
            raise deadline.expired() from None
        raise


async def gather(works: Iterable[Awaitable[T]]) -> list[T]:
    """``asyncio.gather`` of ``works`` started when awaited: under :func:`within`, their tasks
    are created inside the deadline and see it."""
    return list(await asyncio.gather(*works))
