"""One hypercorn worker with the service's shutdown: drain on SIGTERM, exit at once on a second.

Why not hypercorn's own worker (``hypercorn.asyncio.run.worker_serve``): its shutdown trigger
only says *when* to stop; what follows is fixed — it closes the listeners, sets the worker's
``terminated`` flag (which closes every idle kept-alive connection), gives the connections
``graceful_timeout`` seconds and then *cancels* them: a stream still open is cut without a
word, and a second signal is ignored. The service needs a different order, so this module runs
the same pieces (hypercorn's ``Lifespan``, ``WorkerContext`` and per-connection ``TCPServer``)
in its own order:

1. SIGTERM (or, with several workers, the supervisor's shutdown event): the app starts
   draining (``/_health/ready`` answers 503, every response says ``connection: close``) and the
   listeners close — no new connection is accepted, the kept-alive ones are still answered.
2. Requests in flight run on for up to ``shutdown_grace`` seconds; the drain ends as soon as
   none is left.
3. Every stream still open is ended with the shutting-down error frame
   (:meth:`~inference_service.lifecycle.Lifecycle.stop_streams`); the rest (those frames to
   slow readers, plain requests still waiting on a provider) get hypercorn's
   ``graceful_timeout``; then ``terminated`` is set, idle connections close, and whatever is
   left after another ``graceful_timeout`` is cancelled, as hypercorn does.
4. The lifespan's shutdown runs (usage flush, idempotency store, revision watcher) and the
   worker returns: exit code 0.

A second SIGTERM, or a SIGINT at any time, ends the process at once (``os._exit``, code 128 +
the signal's number, as a shell reports a process killed by it). With ``workers > 1`` the
workers ignore both signals and follow the supervisor (:mod:`inference_service.supervisor`).
"""

from __future__ import annotations

import asyncio
import functools
import gc
import logging
import os
import signal
import ssl
import sys
from collections.abc import Awaitable, Callable
from multiprocessing.synchronize import Event as EventType

from hypercorn.asyncio.lifespan import Lifespan
from hypercorn.asyncio.statsd import StatsdLogger
from hypercorn.asyncio.worker_context import WorkerContext
from hypercorn.config import Config, Sockets
from hypercorn.typing import AppWrapper, LifespanState
from hypercorn.utils import check_multiprocess_shutdown_event, load_application, repr_socket_addr

import inference_service.connections as connections
from inference_service.lifecycle import Lifecycle

log = logging.getLogger("inference_service.server")

SIGNAL_EXIT_BASE = 128
"""An immediate exit's code is this plus the signal's number (130 for SIGINT, 143 for SIGTERM)."""


def exit_at_once(signum: int) -> None:
    """The operator asked twice (or pressed Ctrl-C): no drain, no flush, no lifespan."""
    log.warning("%s received: exiting at once", signal.Signals(signum).name)
    for handler in logging.getLogger().handlers + logging.getLogger("inference_service").handlers:
        handler.flush()
    sys.stderr.flush()
    os._exit(SIGNAL_EXIT_BASE + signum)


def serve_worker(config: Config, sockets: Sockets, shutdown_event: EventType | None = None) -> None:
    """A worker's process body (the supervisor's spawn target, or the single-worker server).

    ``shutdown_event`` set: a supervised worker, which ignores SIGINT and SIGTERM (the
    supervisor decides) and drains when the event is set. Unset: this process owns the signals.
    """
    if shutdown_event is not None:
        signal.signal(signal.SIGINT, signal.SIG_IGN)
        signal.signal(signal.SIGTERM, signal.SIG_IGN)
    app = load_application(config.application_path, config.wsgi_max_body_size)
    loop_factory: Callable[[], asyncio.AbstractEventLoop] | None = None
    if config.worker_class == "uvloop":
        import uvloop

        loop_factory = uvloop.new_event_loop
    with asyncio.Runner(debug=config.debug, loop_factory=loop_factory) as runner:
        runner.get_loop().set_exception_handler(_quiet_tls_failures)
        runner.run(_serve(app, config, sockets, shutdown_event))


def _quiet_tls_failures(loop: asyncio.AbstractEventLoop, context: dict[str, object]) -> None:
    """A client's failed TLS handshake is its problem, not a log line (as in hypercorn)."""
    if not isinstance(context.get("exception"), ssl.SSLError):
        loop.default_exception_handler(context)


def _lifecycle_of(app: AppWrapper) -> Lifecycle:
    inner = getattr(app, "app", None)
    lifecycle = getattr(getattr(inner, "state", None), "lifecycle", None)
    if not isinstance(lifecycle, Lifecycle):
        raise RuntimeError(f"{type(inner).__name__} has no lifecycle: not the service's app")
    return lifecycle


def _signal_trigger(loop: asyncio.AbstractEventLoop) -> Callable[[], Awaitable[object]]:
    """The first SIGTERM starts the drain; a second one, or a SIGINT, exits at once."""
    requested = asyncio.Event()

    def on_term() -> None:
        if requested.is_set():
            exit_at_once(signal.SIGTERM)
        log.info("SIGTERM received: draining (a second SIGTERM or a SIGINT exits at once)")
        requested.set()

    loop.add_signal_handler(signal.SIGTERM, on_term)
    loop.add_signal_handler(signal.SIGINT, exit_at_once, signal.SIGINT)
    return requested.wait


async def _serve(app: AppWrapper, config: Config, sockets: Sockets, shutdown_event: EventType | None) -> None:
    config.set_statsd_logger_class(StatsdLogger)
    loop = asyncio.get_running_loop()
    trigger: Callable[[], Awaitable[object]]
    if shutdown_event is None:
        trigger = _signal_trigger(loop)
    else:
        trigger = functools.partial(check_multiprocess_shutdown_event, shutdown_event, asyncio.sleep)

    lifespan_state: LifespanState = {}
    lifespan = Lifespan(app, config, loop, lifespan_state)
    lifespan_task = loop.create_task(lifespan.handle_lifespan())
    await lifespan.wait_for_startup()
    if lifespan_task.done() and (failure := lifespan_task.exception()) is not None:
        raise failure
    lifecycle = _lifecycle_of(app)
    _freeze_startup_objects()

    context = WorkerContext(None)
    server_tasks: set[asyncio.Task[None]] = set()

    async def on_connection(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        task = asyncio.current_task()
        assert task is not None
        server_tasks.add(task)
        task.add_done_callback(server_tasks.discard)
        await connections.ClosingTCPServer(app, loop, config, context, lifespan_state, reader, writer)

    servers = []
    ssl_context = config.create_ssl_context() if config.ssl_enabled else None
    for secure, group in ((True, sockets.secure_sockets), (False, sockets.insecure_sockets)):
        for sock in group:
            servers.append(
                await asyncio.start_server(
                    on_connection,
                    backlog=config.backlog,
                    sock=sock,
                    ssl=ssl_context if secure else None,
                    ssl_handshake_timeout=config.ssl_handshake_timeout if secure else None,
                )
            )
            bind = repr_socket_addr(sock.family, sock.getsockname())
            await config.log.info(f"Running on {'https' if secure else 'http'}://{bind} (CTRL + C to quit)")
    try:
        await trigger()
        lifecycle.begin_drain()
        for server in servers:
            server.close()  # stop accepting; the connections already open stay
        await _drain(lifecycle, config.graceful_timeout)
    finally:
        await context.terminated.set()  # idle kept-alive connections close now
        for server in servers:
            server.close()
        if cut := await _wait_tasks(server_tasks, config.graceful_timeout):
            log.warning("%d connections still open after graceful_timeout: closed", cut)
        for server in servers:  # after the connections: from Python 3.12 this waits for them
            await server.wait_closed()
        await lifespan.wait_for_shutdown()
        lifespan_task.cancel()
        await asyncio.gather(lifespan_task, return_exceptions=True)
    log.info("drained: exiting")


def _freeze_startup_objects() -> None:
    """Move everything start-up made (modules, the app, the catalog, compiled Structs) out of
    the collector's reach. Those objects live as long as the process, yet every full
    collection traversed them again: with the service's imports that was ~15 % of the
    instructions a stream costs (``benchmarks/instructions.py``). Collect first so that the
    start-up garbage is freed rather than frozen."""
    gc.collect()
    gc.freeze()


async def _drain(lifecycle: Lifecycle, graceful_timeout: float) -> None:
    """Steps 2 and 3 of the module docstring."""
    if lifecycle.in_flight:
        log.info("%d requests in flight: waiting up to %gs", lifecycle.in_flight, lifecycle.grace)
    if await lifecycle.wait_idle(lifecycle.grace):
        return
    stopped = lifecycle.stop_streams()
    log.warning(
        "shutdown_grace (%gs) is over: %d streams ended with the shutting-down error, %d requests in flight",
        lifecycle.grace,
        stopped,
        lifecycle.in_flight,
    )
    await lifecycle.wait_idle(graceful_timeout)


async def _wait_tasks(tasks: set[asyncio.Task[None]], timeout: float) -> int:
    """Wait for the connection tasks; cancel those left after ``timeout``; how many were."""
    if not tasks:
        return 0
    _, left = await asyncio.wait(set(tasks), timeout=timeout)
    for task in left:
        task.cancel()
    if left:
        await asyncio.wait(left, timeout=1)
    return len(left)
