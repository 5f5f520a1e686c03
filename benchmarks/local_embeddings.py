"""Texts/s of the bundled embedding model through the service vs the bare engine (2 cores).

    .venv/bin/python benchmarks/local_embeddings.py [--texts 512] [--batch 64] [--concurrency 2] [--rounds 3]

The same all-MiniLM-L6-v2 GGUF file (Q8_0, converted once into the model cache) and the same
llama.cpp parameters (2 threads, 2 parallel slots, 256-token slots, embedding mode) both ways:

- bare engine: xllamacpp's ``Server.handle_embeddings`` called in this process, ``--batch``
  texts per call (llama.cpp tokenizes them itself), ``--concurrency`` calls at once;
- service: ``inference-service serve`` (one worker, a temporary SQLite data directory, a free
  port on 127.0.0.1) and ``POST /_inference/text_embedding/.all-minilm-l6-v2-llamacpp`` with
  ``--batch`` texts per request from ``--concurrency`` client threads (the answers are read,
  not decoded, so the client takes little of the 2 cores; the first one is checked).

Rounds alternate bare, service, bare, service...; the table shows each round and the medians.
Everything it starts, it stops; nothing leaves 127.0.0.1.
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
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import httpx

from inference_service.endpoints.preconfigured import EMBEDDING_ID
from inference_service.local_models import packages
from inference_service.local_models.bert_gguf import ensure_gguf

SUBJECTS = ["The search engine", "A small model", "The service", "Our index", "The user", "This query"]
VERBS = ["returns", "ranks", "embeds", "stores", "ignores", "rewrites"]
OBJECTS = ["relevant documents", "short passages", "every request", "the nearest vectors", "old results"]
TAILS = ["quickly.", "in order.", "on two cores.", "without a network.", "for each tenant.", "again."]


def corpus(n: int) -> list[str]:
    """``n`` distinct short English sentences (8 to 14 tokens each)."""
    out: list[str] = []
    i = 0
    while len(out) < n:
        s, v, o, t = (i % 6, (i // 6) % 6, (i // 36) % 5, (i // 180) % 6)
        out.append(f"{SUBJECTS[s]} {VERBS[v]} {OBJECTS[o]} {TAILS[t]} ({i})")
        i += 1
    return out


def batches(texts: list[str], size: int) -> list[list[str]]:
    return [texts[i : i + size] for i in range(0, len(texts), size)]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def timed(parts: list[list[str]], concurrency: int, call: Callable[[list[str]], None]) -> float:
    """Texts per second for all ``parts`` with ``concurrency`` calls in flight."""
    started = time.perf_counter()
    with ThreadPoolExecutor(concurrency) as pool:
        list(pool.map(call, parts))
    return sum(len(p) for p in parts) / (time.perf_counter() - started)


def bare_server(path: Path, threads: int, slots: int, tokens: int) -> Any:
    import xllamacpp

    params = xllamacpp.CommonParams()
    params.model.path = str(path)
    params.embedding = True
    params.n_parallel = slots
    params.n_ctx = params.n_batch = params.n_ubatch = tokens * slots
    params.cpuparams.n_threads = params.cpuparams_batch.n_threads = threads
    params.fit_params = False
    params.warmup = True
    params.hostnames = ["127.0.0.1"]
    params.port = 0
    params.ui = False
    params.verbosity = -1
    return xllamacpp.Server(params)


def start_service(data: str, port: int) -> subprocess.Popen[bytes]:
    env = {
        **{k: v for k, v in os.environ.items() if not k.startswith("INFERENCE_SERVICE_")},
        "INFERENCE_SERVICE_DATA_DIR": data,
        "INFERENCE_SERVICE_PORT": str(port),
        "INFERENCE_SERVICE_WORKERS": "1",
        "INFERENCE_SERVICE_LOG_LEVEL": "warning",
    }
    return subprocess.Popen(
        [sys.executable, "-m", "inference_service", "serve", "--migrate"],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )


def wait_ready(url: str, process: subprocess.Popen[bytes]) -> None:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise SystemExit("the service exited during start-up")
        try:
            httpx.get(url + "/", timeout=0.5)
            return
        except httpx.TransportError:
            time.sleep(0.05)
    raise SystemExit("the service did not start within 60 s")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--texts", type=int, default=512)
    parser.add_argument("--batch", type=int, default=64)
    parser.add_argument("--concurrency", type=int, default=2)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    texts = corpus(args.texts)
    parts = batches(texts, args.batch)
    model = packages.ALL_MINILM_L6_V2
    content = packages.content_digest(model)
    gguf_file = ensure_gguf(packages.model_files(model), packages.cache_dir(), model.name, content=content)
    server = bare_server(gguf_file, threads=2, slots=2, tokens=256)

    def bare(inputs: list[str]) -> None:
        answer = server.handle_embeddings({"input": inputs})
        if len(answer["data"]) != len(inputs):
            raise SystemExit(f"bare engine: {answer}")

    with tempfile.TemporaryDirectory() as data, httpx.Client(timeout=120) as client:
        port = free_port()
        url = f"http://127.0.0.1:{port}"
        process = start_service(data, port)
        try:
            wait_ready(url, process)
            endpoint = f"{url}/_inference/text_embedding/{EMBEDDING_ID}"
            first = client.post(endpoint, json={"input": texts[:3]})  # loads the model
            vectors = json.loads(first.content)["text_embedding"]
            assert first.status_code == 200 and [len(v["embedding"]) for v in vectors] == [384] * 3

            def service(inputs: list[str]) -> None:
                response = client.post(endpoint, json={"input": inputs})
                if response.status_code != 200:
                    raise SystemExit(f"service: {response.status_code} {response.text[:300]}")

            bare(texts[:8])  # warm both
            service(texts[:8])
            rounds: list[tuple[float, float]] = []
            for _ in range(args.rounds):
                rounds.append((timed(parts, args.concurrency, bare), timed(parts, args.concurrency, service)))
        finally:
            process.terminate()
            process.wait(20)
    print(f"{args.texts} texts, {args.batch} per call, {args.concurrency} in flight, 2 threads, 2 slots")
    print(f"{'round':>5}  {'bare engine':>12}  {'service':>12}  {'ratio':>6}")
    for i, (b, s) in enumerate(rounds, 1):
        print(f"{i:>5}  {b:>9.1f}/s  {s:>9.1f}/s  {s / b:>6.1%}")
    bare_median = statistics.median(b for b, _ in rounds)
    service_median = statistics.median(s for _, s in rounds)
    ratio = service_median / bare_median
    print(f"median  {bare_median:>9.1f}/s  {service_median:>9.1f}/s  {ratio:>6.1%}  (target >= 90%)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
