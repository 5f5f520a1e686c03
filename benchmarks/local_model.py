"""Measure the bundled local model through the service: start-up, first token, tokens/s, RSS.

    .venv/bin/python benchmarks/local_model.py [--requests 5] [--tokens 128]

Starts ``inference-service serve --migrate`` on a temporary data directory (127.0.0.1, a free
port), then streams from the default local chat endpoint (``.smollm2-135m-instruct-llamacpp``;
``--endpoint`` names another, e.g. ``.gemma-3-270m-llamacpp``): the first request includes the
model load (it loads on first use), the next ones are warm. Reports medians and the service's peak RSS.
Everything it starts, it stops.
"""

from __future__ import annotations

import argparse
import json
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx

from inference_service.endpoints.preconfigured import CHAT_ID


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def stream_once(url: str, tokens: int, chat_id: str = CHAT_ID) -> tuple[float, float, int]:
    """(time to first token, tokens/s after the first, completion tokens)."""
    body = {
        "messages": [{"role": "user", "content": "Tell me about search engines."}],
        "max_completion_tokens": tokens,
    }
    started = time.perf_counter()
    first = last = 0.0
    usage = 0
    with httpx.stream(
        "POST", f"{url}/_inference/chat_completion/{chat_id}/_stream", json=body, timeout=120
    ) as r:
        for line in r.iter_lines():
            if not line.startswith("data: {"):
                continue
            chunk = json.loads(line[6:])
            if chunk["choices"] and chunk["choices"][0]["delta"].get("content"):
                last = time.perf_counter()
                first = first or last
            if chunk.get("usage"):
                usage = chunk["usage"]["completion_tokens"]
    return first - started, (usage - 1) / (last - first) if last > first else 0.0, usage


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=5)
    parser.add_argument("--tokens", type=int, default=128)
    parser.add_argument("--endpoint", default=CHAT_ID)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as data:
        port = free_port()
        env = {**os.environ, "INFERENCE_SERVICE_DATA_DIR": data, "INFERENCE_SERVICE_PORT": str(port)}
        started = time.perf_counter()
        process = subprocess.Popen(
            [sys.executable, "-m", "inference_service", "serve", "--migrate"],
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        url = f"http://127.0.0.1:{port}"
        try:
            while True:
                try:
                    httpx.get(url + "/", timeout=0.5)
                    break
                except httpx.TransportError:
                    if time.perf_counter() - started > 60:
                        raise SystemExit("service did not start") from None
                    time.sleep(0.02)
            startup = time.perf_counter() - started
            cold_ttft, _, _ = stream_once(url, 8, args.endpoint)
            runs = [stream_once(url, args.tokens, args.endpoint) for _ in range(args.requests)]
            peak = rss_mb(process.pid)
        finally:
            process.terminate()
            process.wait(20)
    print(f"start-up to first served request: {startup * 1000:.0f} ms (SQLite, migrations included)")
    print(f"first token, cold (includes the model load): {cold_ttft * 1000:.0f} ms")
    warm = statistics.median(r[0] for r in runs)
    print(f"first token, warm (median of {args.requests}): {warm * 1000:.0f} ms")
    print(f"generation speed (median): {statistics.median(r[1] for r in runs):.1f} tokens/s")
    print(f"peak resident memory of the service: {peak:.0f} MB")
    return 0


if __name__ == "__main__":
    sys.exit(main())
