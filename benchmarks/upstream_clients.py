"""Upstream HTTP client cost on the service's path: aiohttp against httpx, CPU per stream.

    .venv/bin/python benchmarks/upstream_clients.py [--streams 2000] [--repeat 5] [--scenario 32:0 ...]
    .venv/bin/python benchmarks/upstream_clients.py --quick

The path is the one ``inference_service.providers.http`` takes: one pooled keep-alive client
(configured like ``inference_service.app.create_http_client``) making a streamed POST to an
OpenAI-compatible provider and reading the body incrementally to its end; aiohttp with
``ClientSession(trust_env=False)`` on a ``TCPConnector`` and ``response.content.iter_any()``,
httpx with ``AsyncClient.stream()`` and ``aiter_bytes()``. The provider is
``benchmarks/fake_provider.py``, 20 content chunks per stream, on another core than this process
when there are two. The client runs here, on uvloop when it is installed (as the service does),
in a fresh event loop per run.

A scenario is ``CONCURRENCY:GAP_MS``. The defaults: ``32:0``, 32 concurrent streams whose chunks
come back to back (the whole stream usually in one read); ``32:1``, chunks 1 ms apart (about one
read per chunk, as when a model generates); ``1:0``, one stream at a time (a pool of one).

Per run: a warm-up round (one stream per connection, so the pool is full), then ``--streams``
streams by CONCURRENCY workers; CPU time of this process only (``time.process_time()``, every
thread) divided by the streams, and wall-clock streams/s; the fake provider's CPU per stream is
shown to make plain it is not the bottleneck. Clients alternate order between repeats; the table
shows medians (and the CPU range). A run during which other processes used more than
``--max-other`` of a core (from /proc/stat) is discarded and redone, so a shared machine skews no
figure. A stream counts only if its body ends with ``data: [DONE]`` and has the warm-up's exact
length. Loopback (127.0.0.1) only; everything it starts, it stops.
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import json
import os
import platform
import socket
import statistics
import subprocess
import sys
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from importlib.metadata import version
from pathlib import Path

import aiohttp
import httpx

HERE = Path(__file__).resolve().parent
PYTHON = sys.executable
CLIENTS = ("aiohttp", "httpx")
DONE = b"data: [DONE]\n\n"
BODY = json.dumps(
    {
        "model": "bench-model",
        "messages": [{"role": "user", "content": "Write a haiku about search."}],
        "stream": True,
        "stream_options": {"include_usage": True},
    },
    separators=(",", ":"),
).encode()
HEADERS = {
    "authorization": "Bearer sk-bench",
    "content-type": "application/json",
    "accept": "text/event-stream",
}
# inference_service.settings defaults: upstream_max_connections, _keepalive_timeout, _connect_timeout
MAX_CONNECTIONS, KEEPALIVE_S, CONNECT_TIMEOUT_S = 1000, 30.0, 10.0

Reader = Callable[[], Awaitable[tuple[int, bytes]]]
"""One streamed POST read to its end: (body length, the body's last bytes)."""


@dataclass
class Run:
    cpu_us: float
    streams_per_s: float
    fake_cpu_us: float
    failures: int
    other_cores: float
    """CPU used by other processes during the run, in cores (from /proc/stat; NaN without it)."""


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def wait_port(port: int, deadline_s: float = 10) -> None:
    deadline = time.perf_counter() + deadline_s
    while time.perf_counter() < deadline:
        with socket.socket() as sock:
            if sock.connect_ex(("127.0.0.1", port)) == 0:
                return
        time.sleep(0.02)
    raise SystemExit("fake provider did not start")


def proc_cpu_s(pid: int) -> float:
    """CPU seconds of another (single-threaded) process: schedstat's ns, else stat's ticks, else NaN."""
    try:
        return int(Path(f"/proc/{pid}/schedstat").read_text().split()[0]) / 1e9
    except (OSError, ValueError, IndexError):
        pass
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return float("nan")
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def busy_s() -> float:
    """CPU seconds every process has used on this machine since boot (NaN where /proc is missing)."""
    try:
        fields = Path("/proc/stat").read_text().split("\n", 1)[0].split()
    except OSError:
        return float("nan")
    user, nice, system, _idle, _iowait, irq, softirq, steal = (int(f) for f in fields[1:9])
    return (user + nice + system + irq + softirq + steal) / os.sysconf("SC_CLK_TCK")


def loop_factory() -> tuple[Callable[[], asyncio.AbstractEventLoop], str]:
    try:
        import uvloop
    except ImportError:
        return asyncio.new_event_loop, "asyncio"
    return uvloop.new_event_loop, f"uvloop {version('uvloop')}"


def pin(fake_pid: int) -> str:
    """The fake provider on the first allowed core, this process on the second (when there are two)."""
    if not hasattr(os, "sched_setaffinity"):
        return "not pinned (no sched_setaffinity)"
    cores = sorted(os.sched_getaffinity(0))
    if len(cores) < 2:
        return f"not pinned (one core: {cores[0]})"
    os.sched_setaffinity(fake_pid, {cores[0]})
    os.sched_setaffinity(0, {cores[1]})
    return f"fake provider on core {cores[0]}, client on core {cores[1]}"


def aiohttp_client(url: str) -> tuple[Reader, Callable[[], Awaitable[None]]]:
    connector = aiohttp.TCPConnector(
        limit=MAX_CONNECTIONS, limit_per_host=0, keepalive_timeout=KEEPALIVE_S, enable_cleanup_closed=True
    )
    timeout = aiohttp.ClientTimeout(total=None, sock_connect=CONNECT_TIMEOUT_S)
    session = aiohttp.ClientSession(
        connector=connector, timeout=timeout, trust_env=False, auto_decompress=True
    )

    async def read() -> tuple[int, bytes]:
        size, tail = 0, b""
        async with session.post(url, data=BODY, headers=HEADERS) as response:
            if response.status != 200:
                raise RuntimeError(f"status {response.status}")
            async for piece in response.content.iter_any():
                size += len(piece)
                tail = (tail + piece)[-len(DONE) :]
        return size, tail

    return read, session.close


def httpx_client(url: str) -> tuple[Reader, Callable[[], Awaitable[None]]]:
    limits = httpx.Limits(
        max_connections=MAX_CONNECTIONS,
        max_keepalive_connections=MAX_CONNECTIONS,
        keepalive_expiry=KEEPALIVE_S,
    )
    client = httpx.AsyncClient(
        limits=limits, timeout=httpx.Timeout(None, connect=CONNECT_TIMEOUT_S), trust_env=False
    )

    async def read() -> tuple[int, bytes]:
        size, tail = 0, b""
        async with client.stream("POST", url, content=BODY, headers=HEADERS) as response:
            if response.status_code != 200:
                raise RuntimeError(f"status {response.status_code}")
            async for piece in response.aiter_bytes():
                size += len(piece)
                tail = (tail + piece)[-len(DONE) :]
        return size, tail

    return read, client.aclose


async def measure(
    name: str, url: str, streams: int, concurrency: int, fake_pid: int, errors: dict[str, int]
) -> Run:
    read, close = (aiohttp_client if name == "aiohttp" else httpx_client)(url)
    try:
        expected = await warm_up(read, concurrency)
        left, failed = [streams], [0]

        async def worker() -> None:
            while left[0] > 0:
                left[0] -= 1
                try:
                    size, tail = await read()
                except (aiohttp.ClientError, httpx.HTTPError, OSError, RuntimeError) as exc:
                    why = type(exc).__name__
                else:
                    if size == expected and tail == DONE:
                        continue
                    why = "incomplete"
                failed[0] += 1
                errors[why] = errors.get(why, 0) + 1

        gc.collect()
        fake_before, busy_before = proc_cpu_s(fake_pid), busy_s()
        cpu_before, wall_before = time.process_time(), time.perf_counter()
        await asyncio.gather(*(worker() for _ in range(concurrency)))
        cpu = time.process_time() - cpu_before
        wall = time.perf_counter() - wall_before
        fake_cpu = proc_cpu_s(fake_pid) - fake_before
        other = busy_s() - busy_before - cpu - fake_cpu
    finally:
        await close()
    complete = streams - failed[0]
    return Run(cpu * 1e6 / streams, complete / wall, fake_cpu * 1e6 / streams, failed[0], other / wall)


async def warm_up(read: Reader, concurrency: int) -> int:
    """Fill the pool (one stream per connection); the body length every stream must have."""
    sizes = {
        size for size, tail in await asyncio.gather(*(read() for _ in range(concurrency))) if tail == DONE
    }
    if len(sizes) != 1:
        raise SystemExit(f"warm-up streams disagree or did not end with [DONE]: lengths {sorted(sizes)}")
    return sizes.pop()


def check_body(url: str, chunks: int) -> None:
    """Once, outside any measurement: the fake sends what the script asks for."""
    body = httpx.post(url, content=BODY, headers=HEADERS, timeout=30).content
    tokens = body.count(b'"content":" token')
    if tokens != chunks or not body.endswith(DONE):
        raise SystemExit(
            f"fake provider sent {tokens} content chunks (wanted {chunks}), done={body.endswith(DONE)}"
        )


def scenario(text: str) -> tuple[int, float]:
    """``CONCURRENCY:GAP_MS`` (``32:0``: 32 concurrent streams, chunks back to back)."""
    concurrency, _, gap = text.partition(":")
    try:
        return int(concurrency), float(gap or 0)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected CONCURRENCY:GAP_MS, got {text!r}") from None


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--streams", type=int, default=2000, help="measured streams per run (default 2000)")
    parser.add_argument(
        "--scenario",
        type=scenario,
        action="append",
        metavar="CONCURRENCY:GAP_MS",
        help="concurrent streams and gap between chunks, repeatable (default: 32:0 32:1 1:0)",
    )
    parser.add_argument("--chunks", type=int, default=20, help="content chunks per stream (default 20)")
    parser.add_argument("--repeat", type=int, default=5, help="runs per client and scenario (default 5)")
    parser.add_argument("--quick", action="store_true", help="300 streams, 3 repeats, scenario 32:0 only")
    parser.add_argument(
        "--max-other",
        type=float,
        default=0.1,
        help="discard and redo a run in which other processes used more cores than this (default 0.1)",
    )
    parser.add_argument("--retries", type=int, default=30, help="redos allowed per run (default 30)")
    args = parser.parse_args()
    streams, repeat = args.streams, args.repeat
    scenarios: list[tuple[int, float]] = args.scenario or [(32, 0.0), (32, 1.0), (1, 0.0)]
    if args.quick:
        streams, repeat, scenarios = min(streams, 300), min(repeat, 3), args.scenario or [(32, 0.0)]

    port = free_port()
    fake = subprocess.Popen([PYTHON, str(HERE / "fake_provider.py"), str(port)])
    factory, loop_name = loop_factory()
    rows: list[str] = []
    others: list[float] = []
    errors: dict[str, int] = {}
    discarded = 0
    try:
        pinning = pin(fake.pid)
        wait_port(port)
        for concurrency, gap in scenarios:
            url = f"http://127.0.0.1:{port}/v1/chat/completions?chunks={args.chunks}&gap_ms={gap:g}"
            check_body(url, args.chunks)
            runs: dict[str, list[Run]] = {name: [] for name in CLIENTS}
            for i in range(repeat):
                for name in CLIENTS if i % 2 == 0 else CLIENTS[::-1]:
                    for attempt in range(args.retries + 1):
                        with asyncio.Runner(loop_factory=factory) as runner:
                            run = runner.run(measure(name, url, streams, concurrency, fake.pid, errors))
                        if not run.other_cores > args.max_other or attempt == args.retries:
                            break
                        discarded += 1
                        print(
                            f"{name} {concurrency}:{gap:g} run {i + 1}: other processes used "
                            f"{run.other_cores:.2f} cores; redoing it",
                            file=sys.stderr,
                        )
                        time.sleep(5)
                    runs[name].append(run)
            others += [r.other_cores for name in CLIENTS for r in runs[name]]
            chunking = "back to back" if gap == 0 else f"{gap:g} ms apart"
            for name in CLIENTS:
                cpu = [r.cpu_us for r in runs[name]]
                rows.append(
                    f"| {name} {version(name)} | {concurrency} | {args.chunks} chunks {chunking} "
                    f"| **{statistics.median(cpu):.0f} µs** ({min(cpu):.0f}-{max(cpu):.0f}) "
                    f"| {statistics.median(r.streams_per_s for r in runs[name]):.0f} "
                    f"| {statistics.median(r.fake_cpu_us for r in runs[name]):.0f} µs "
                    f"| {sum(r.failures for r in runs[name])} |"
                )
    finally:
        fake.terminate()
        fake.wait(10)
    print(
        f"{streams} streams per run after warm-up, median of {repeat} runs; Python "
        f"{platform.python_version()}, {loop_name}, {os.cpu_count()} CPUs; {pinning}"
    )
    print()
    print(
        "| client | concurrent | stream | client CPU/stream (range) | streams/s "
        "| fake provider CPU/stream | failures |"
    )
    print("|---|---|---|---|---|---|---|")
    print("\n".join(rows))
    print(
        f"\nOther processes during the kept runs: median {statistics.median(others):.2f}, "
        f"max {max(others):.2f} of a core; {discarded} disturbed runs (> {args.max_other:g}) redone."
    )
    if errors:
        print(f"\nfailures: {errors}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
