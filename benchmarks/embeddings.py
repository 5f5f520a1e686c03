"""What the service adds to text_embedding calls: direct to a fast fake vs through the service.

    .venv/bin/python benchmarks/embeddings.py [--quick]

Layout as ``run_all.py``: the service (one hypercorn worker) on core 1; the fake embeddings
server (``fake_embeddings.py``) and this client on core 0. Scenarios, each direct and through
the service:

- 1 input of 1,024 dimensions, calls one after another: latency p50/p99;
- 2,048 inputs of 1,024 dimensions (one upstream batch, about 20 MB of JSON each way): time
  per call, median;
- 32 clients in a closed loop, 16 inputs of 1,024 dimensions per call: calls/s and the
  service's CPU ms per call.

The client reads every answer to its last byte and parses none (the same work either way).
Everything runs on 127.0.0.1 and stops by itself.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import aiohttp
import httpx
import msgspec
import uvloop
from run_all import cpu_seconds, free_port, pinned, wait_http

HERE = Path(__file__).resolve().parent
PYTHON = sys.executable
DIMS = 1024


def body(count: int) -> bytes:
    return msgspec.json.encode({"input": [f"benchmark text number {i}" for i in range(count)]})


async def timed_calls(url: str, payload: bytes, calls: int) -> list[float]:
    """Seconds per call, one call after another on one keep-alive connection."""
    times: list[float] = []
    async with aiohttp.ClientSession(trust_env=False) as session:
        for _ in range(calls):
            started = time.perf_counter()
            async with session.post(url, data=payload, headers={"content-type": "application/json"}) as r:
                await r.read()
                assert r.status == 200, await r.text()
            times.append(time.perf_counter() - started)
    return times


async def closed_loop(url: str, payload: bytes, clients: int, seconds: float) -> int:
    """Calls completed by ``clients`` concurrent clients in ``seconds``."""
    done = 0
    stop = time.perf_counter() + seconds
    connector = aiohttp.TCPConnector(limit=clients)
    async with aiohttp.ClientSession(connector=connector, trust_env=False) as session:

        async def client() -> None:
            nonlocal done
            while time.perf_counter() < stop:
                async with session.post(url, data=payload, headers={"content-type": "application/json"}) as r:
                    await r.read()
                    assert r.status == 200
                done += 1

        await asyncio.gather(*(client() for _ in range(clients)))
    return done


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--quick", action="store_true", help="fewer calls (about a minute)")
    args = parser.parse_args()
    single_calls, big_calls, loop_s = (200, 3, 5.0) if args.quick else (1000, 10, 15.0)
    if hasattr(os, "sched_setaffinity"):
        os.sched_setaffinity(0, {0})

    fake_port, port = free_port(), free_port()
    fake = subprocess.Popen(pinned("0", PYTHON, str(HERE / "fake_embeddings.py"), str(fake_port)))
    with tempfile.TemporaryDirectory() as data:
        env = {
            **os.environ,
            "INFERENCE_SERVICE_DATA_DIR": data,
            "INFERENCE_SERVICE_PORT": str(port),
            "INFERENCE_SERVICE_VALIDATE_ON_PUT": "false",
            "INFERENCE_SERVICE_PROVIDER_URL_ALLOWLIST": "127.0.0.0/8",  # the fake providers
            "INFERENCE_SERVICE_LOCAL_MODEL_ENDPOINTS": "false",
        }
        subprocess.run(
            [PYTHON, "-m", "inference_service", "db", "upgrade"], env=env, check=True, capture_output=True
        )
        service = subprocess.Popen(
            pinned("1", PYTHON, "-m", "inference_service", "serve"),
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        try:
            base = f"http://127.0.0.1:{port}"
            wait_http(base + "/")
            direct = f"http://127.0.0.1:{fake_port}/v1/embeddings?dims={DIMS}"
            put = httpx.put(
                f"{base}/_inference/text_embedding/bench-embed",
                json={
                    "service": "openai",
                    "service_settings": {
                        "api_key": "sk-bench",
                        "model_id": "bench-embed",
                        "url": direct,
                        "rate_limit": {"requests_per_minute": 100_000_000},
                    },
                },
            )
            put.raise_for_status()
            through = f"{base}/_inference/text_embedding/bench-embed"
            rows = run(direct, through, service.pid, single_calls, big_calls, loop_s)
        finally:
            service.terminate()
            service.wait(30)
            fake.terminate()
            fake.wait(30)
    print("| scenario | direct to the fake | through the service | service overhead |")
    print("|---|---|---|---|")
    for row in rows:
        print("| " + " | ".join(row) + " |")


def run(
    direct: str, through: str, pid: int, single_calls: int, big_calls: int, loop_s: float
) -> list[list[str]]:
    one, big, sixteen = body(1), body(2048), body(16)
    uvloop.run(timed_calls(direct, big, 1))  # warm the fake's precomputed rows
    uvloop.run(timed_calls(through, big, 1))

    d1 = [t * 1000 for t in uvloop.run(timed_calls(direct, one, single_calls))]
    s1 = [t * 1000 for t in uvloop.run(timed_calls(through, one, single_calls))]
    d_big = statistics.median(uvloop.run(timed_calls(direct, big, big_calls))) * 1000
    cpu_before = cpu_seconds(pid)
    s_big_times = uvloop.run(timed_calls(through, big, big_calls))
    big_cpu = (cpu_seconds(pid) - cpu_before) * 1000 / big_calls
    s_big = statistics.median(s_big_times) * 1000
    d_loop = uvloop.run(closed_loop(direct, sixteen, 32, loop_s)) / loop_s
    cpu_before = cpu_seconds(pid)
    calls = uvloop.run(closed_loop(through, sixteen, 32, loop_s))
    loop_cpu = (cpu_seconds(pid) - cpu_before) * 1000 / max(1, calls)
    s_loop = calls / loop_s
    return [
        [
            "1 input x 1,024 dims, sequential",
            f"p50 {statistics.median(d1):.2f} / p99 {percentile(d1, 0.99):.2f} ms",
            f"p50 {statistics.median(s1):.2f} / p99 {percentile(s1, 0.99):.2f} ms",
            f"added p50 {statistics.median(s1) - statistics.median(d1):.2f} ms, "
            f"p99 {percentile(s1, 0.99) - percentile(d1, 0.99):.2f} ms",
        ],
        [
            "2,048 inputs x 1,024 dims, sequential",
            f"{d_big:.0f} ms per call",
            f"{s_big:.0f} ms per call",
            f"{s_big / d_big:.2f}x the direct time; {big_cpu:.0f} ms CPU per call",
        ],
        [
            "32 clients, 16 inputs x 1,024 dims",
            f"{d_loop:.0f} calls/s",
            f"{s_loop:.0f} calls/s",
            f"{loop_cpu:.2f} ms CPU per call",
        ],
    ]


if __name__ == "__main__":
    main()
