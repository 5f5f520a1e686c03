"""The real service under hypercorn on 127.0.0.1, in a background thread with its own loop."""

from __future__ import annotations

import asyncio
import socket
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

import httpx
from aiohttp.abc import AbstractResolver
from hypercorn.asyncio import serve
from hypercorn.config import Config
from starlette.applications import Starlette

from inference_service.app import create_app
from inference_service.connections import use_closing_tcp_server
from inference_service.settings import Settings
from inference_service.store.migrate import upgrade

if TYPE_CHECKING:
    from inference_service.observe.tracing import Tracing

T = TypeVar("T")


class RunningService:
    """A started service: its base URL and the app (for state introspection in tests)."""

    def __init__(self, url: str, app: Starlette, settings: Settings, loop: asyncio.AbstractEventLoop) -> None:
        self.url = url
        self.app = app
        self.settings = settings
        self.loop = loop
        """The loop the service runs on (its own thread): inspect it through :meth:`inspect`."""

    def inspect(self, probe: Callable[[], T]) -> T:
        """``probe()``'s result, computed inside the service's loop (where its tasks live)."""

        async def run() -> T:
            return probe()

        return asyncio.run_coroutine_threadsafe(run(), self.loop).result(timeout=10)

    def client(self, **kwargs: Any) -> httpx.Client:
        return httpx.Client(base_url=self.url, timeout=30, **kwargs)


@contextmanager
def migrated_service(
    data_dir: Path, resolver: AbstractResolver | None = None, **overrides: Any
) -> Iterator[RunningService]:
    """A service on a fresh SQLite database in ``data_dir``, migrated with alembic
    (``resolver``: as for :func:`run_service`)."""
    from tests.conftest import make_settings

    settings = make_settings(data_dir, **overrides)
    upgrade(settings)
    with run_service(settings, resolver) as running:
        yield running


@contextmanager
def run_service(
    settings: Settings,
    resolver: AbstractResolver | None = None,
    keep_alive_timeout: float | None = None,
    tracing: Tracing | None = None,
) -> Iterator[RunningService]:
    """Serve ``create_app(settings, resolver)`` on a free port until the block exits
    (``resolver``: the provider URL guard's name resolver, tests.support.resolver), with the
    connection handling ``serve`` uses (hypercorn's keep-alive unless ``keep_alive_timeout``)."""
    use_closing_tcp_server()
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    sock.listen(128)
    config = Config()
    config.bind = [f"fd://{sock.detach()}"]  # hypercorn owns (and closes) the descriptor
    config.accesslog = None
    config.graceful_timeout = 1
    if keep_alive_timeout is not None:
        config.keep_alive_timeout = keep_alive_timeout
    app = create_app(settings, resolver, tracing)
    loop = asyncio.new_event_loop()
    stop = asyncio.Event()
    failure: list[BaseException] = []

    def run() -> None:
        asyncio.set_event_loop(loop)
        try:
            loop.run_until_complete(serve(app, config, shutdown_trigger=stop.wait))  # type: ignore[arg-type]
        except BaseException as exc:  # reported to the test thread below
            failure.append(exc)
        finally:
            loop.run_until_complete(loop.shutdown_asyncgens())
            loop.close()

    thread = threading.Thread(target=run, name=f"service-{port}", daemon=True)
    thread.start()
    url = f"http://127.0.0.1:{port}"
    _wait_ready(url, thread, failure)
    try:
        yield RunningService(url, app, settings, loop)
    finally:
        loop.call_soon_threadsafe(stop.set)
        thread.join(timeout=10)


def _wait_ready(url: str, thread: threading.Thread, failure: list[BaseException]) -> None:
    deadline = time.monotonic() + 15
    while time.monotonic() < deadline:
        if failure:
            raise RuntimeError(f"service failed to start: {failure[0]!r}") from failure[0]
        if not thread.is_alive():
            raise RuntimeError("service thread exited during start-up")
        try:
            if httpx.get(url + "/", timeout=1).status_code == 200:
                return
        except httpx.TransportError:
            time.sleep(0.02)
    raise RuntimeError("service did not become ready within 15 s")
