"""``workers > 1``: the parent process that spawns the workers and owns the signals.

Why not hypercorn's own parent (``hypercorn.run.run``): it spawns its own worker function
(without the service's drain, :mod:`inference_service.worker`), restarts a worker that exits
with 0, and handles every SIGTERM alike, so a second one cannot end a stuck drain. Here:

- The workers ignore SIGINT and SIGTERM (a Ctrl-C reaches the whole process group, and a
  ``systemd`` stop signals every process of the unit): this process decides for all.
- The first SIGTERM sets the shared shutdown event (every worker drains, see
  :mod:`inference_service.worker`) and closes this process's copies of the listening sockets,
  so the kernel queues no new connection once the workers have closed theirs.
- A second SIGTERM, or a SIGINT, kills the workers (SIGKILL) and exits at once with
  128 + the signal's number.
- The exit code is 0 when every worker drained and exited 0; a worker that dies while the
  others serve stops the others (drained) and its exit code is returned.
"""

from __future__ import annotations

import logging
import multiprocessing
import signal
from multiprocessing.connection import wait
from multiprocessing.process import BaseProcess
from multiprocessing.synchronize import Event as EventType
from types import FrameType

from hypercorn.config import Config, Sockets

from inference_service.worker import SIGNAL_EXIT_BASE, serve_worker

log = logging.getLogger("inference_service.server")


class ImmediateExit(Exception):
    """Raised by the signal handler: leave now with :attr:`code`."""

    def __init__(self, code: int) -> None:
        super().__init__(code)
        self.code = code


def supervise(config: Config, sockets: Sockets) -> int:
    """Run ``config.workers`` workers until they have all exited; the process's exit code."""
    context = multiprocessing.get_context("spawn")
    shutdown = context.Event()
    draining = False

    def close_sockets() -> None:
        for sock in (*sockets.secure_sockets, *sockets.insecure_sockets):
            sock.close()

    def on_signal(signum: int, _frame: FrameType | None) -> None:
        nonlocal draining
        if signum == signal.SIGTERM and not draining:
            log.info("SIGTERM received: draining %d workers (again, or SIGINT: exit at once)", len(processes))
            draining = True
            shutdown.set()
            close_sockets()
            return
        raise ImmediateExit(SIGNAL_EXIT_BASE + signum)

    # inherited by the spawned workers until they set their own (they ignore both)
    previous = {signum: signal.signal(signum, signal.SIG_IGN) for signum in (signal.SIGINT, signal.SIGTERM)}
    processes: list[BaseProcess] = []
    try:
        for _ in range(config.workers):
            process = context.Process(
                target=serve_worker,
                kwargs={"config": config, "sockets": sockets, "shutdown_event": shutdown},
            )
            process.start()
            processes.append(process)
        for signum in previous:
            signal.signal(signum, on_signal)
        return _wait_all(processes, shutdown)
    except ImmediateExit as exc:
        name = signal.Signals(exc.code - SIGNAL_EXIT_BASE).name
        log.warning("%s: killing the workers, exiting at once", name)
        for worker in processes:
            worker.kill()
        for worker in processes:
            worker.join()
        return exc.code
    finally:
        for signum, handler in previous.items():
            signal.signal(signum, handler)
        close_sockets()


def _wait_all(processes: list[BaseProcess], shutdown: EventType) -> int:
    """Wait for every worker; the first non-zero exit code, else 0."""
    code = 0
    running = list(processes)
    while running:
        wait([process.sentinel for process in running])
        for process in [p for p in running if p.exitcode is not None]:
            running.remove(process)
            exitcode = process.exitcode or 0
            if exitcode != 0 and code == 0:
                code = exitcode
            if running and not shutdown.is_set():
                log.error("worker %d exited with %d: stopping the others", process.pid, exitcode)
                shutdown.set()
                code = code or 1
    return code
