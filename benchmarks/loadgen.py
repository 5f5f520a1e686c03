"""Load generator for streaming chat: open loop (fixed arrival rate) or closed loop (N clients).

    python benchmarks/loadgen.py URL --mode open --rate 50 --duration 5 [--chunks 20 --gap-ms 5]
    python benchmarks/loadgen.py URL --mode closed --concurrency 32 --duration 5
    python benchmarks/loadgen.py URL --mode burst --concurrency 1000 --chunks 50 --gap-ms 200
    python benchmarks/loadgen.py URL ... --authorization "ApiKey <encoded>"   # auth on
    python benchmarks/loadgen.py URL ... --gap-log gaps.json   # every gap and when it ended

Prints one JSON line: streams, failures, throughput, and p50/p99 of time to first token
(first content delta), total time and gaps between chunks. A stream counts as a failure
unless it brought every content chunk and ended with ``[DONE]``. Every loop is bounded in
count and time; loopback only.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import resource
import sys
import time
from dataclasses import dataclass, field

import aiohttp
import uvloop

MESSAGES = [{"role": "user", "content": "benchmark"}]
BODY = json.dumps({"messages": MESSAGES}).encode()
HEADERS = {"content-type": "application/json"}


@dataclass
class Results:
    ttft: list[float] = field(default_factory=list)
    total: list[float] = field(default_factory=list)
    gaps: list[float] = field(default_factory=list)
    gap_ends: list[float] = field(default_factory=list)
    """``time.monotonic()`` at the end of each gap (one clock for every process on the machine)."""
    failures: int = 0
    errors: dict[str, int] = field(default_factory=dict)

    def fail(self, why: str) -> None:
        self.failures += 1
        self.errors[why] = self.errors.get(why, 0) + 1


def percentile(values: list[float], q: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


async def one_stream(
    session: aiohttp.ClientSession,
    url: str,
    chunks: int,
    results: Results,
    body: bytes = BODY,
    headers: dict[str, str] = HEADERS,
) -> None:
    started = time.perf_counter()
    first = last = 0.0
    seen = 0
    done = False
    try:
        async with session.post(url, data=body, headers=headers) as response:
            if response.status != 200:
                results.fail(f"status {response.status}")
                await response.read()
                return
            async for line in response.content:
                if line.startswith(b"data: [DONE]"):
                    done = True
                elif line.startswith(b"data: ") and b'"content":" token' in line:
                    now = time.perf_counter()
                    if seen:
                        results.gaps.append(now - last)
                        results.gap_ends.append(time.monotonic())
                    else:
                        first = now
                    last = now
                    seen += 1
    except (TimeoutError, aiohttp.ClientError, OSError) as exc:
        results.fail(type(exc).__name__)
        return
    if not done or seen != chunks:
        results.fail(f"incomplete ({seen}/{chunks} chunks, done={done})")
        return
    results.ttft.append(first - started)
    results.total.append(time.perf_counter() - started)


async def run(args: argparse.Namespace) -> dict[str, object]:
    url = f"{args.url}{'&' if '?' in args.url else '?'}chunks={args.chunks}&gap_ms={args.gap_ms}"
    if "/_inference/" in args.url or args.openai_model:  # the service passes the query to nobody
        url = args.url
    body = BODY
    if args.openai_model:  # the /v1 face: the endpoint is named in the body
        body = json.dumps({"model": args.openai_model, "messages": MESSAGES, "stream": True}).encode()
    headers = {**HEADERS, "authorization": args.authorization} if args.authorization else HEADERS
    results = Results()
    began = time.monotonic()
    connector = aiohttp.TCPConnector(limit=0, force_close=False)
    timeout = aiohttp.ClientTimeout(total=args.duration + 120)
    started = time.perf_counter()
    async with aiohttp.ClientSession(connector=connector, timeout=timeout) as session:
        if args.mode == "open":
            tasks = []
            interval = 1 / args.rate
            for i in range(int(args.rate * args.duration)):
                await asyncio.sleep(max(0.0, started + i * interval - time.perf_counter()))
                tasks.append(
                    asyncio.create_task(one_stream(session, url, args.chunks, results, body, headers))
                )
            await asyncio.gather(*tasks)
        elif args.mode == "closed":
            deadline = started + args.duration

            async def client() -> None:
                while time.perf_counter() < deadline:
                    await one_stream(session, url, args.chunks, results, body, headers)

            await asyncio.gather(*(client() for _ in range(args.concurrency)))
        else:  # burst: N streams at once, each once
            await asyncio.gather(
                *(
                    one_stream(session, url, args.chunks, results, body, headers)
                    for _ in range(args.concurrency)
                )
            )
    elapsed = time.perf_counter() - started
    ms = 1000.0
    summary: dict[str, object] = {
        "streams": len(results.ttft),
        "failures": results.failures,
        "errors": results.errors,
        "streams_per_s": round(len(results.ttft) / elapsed, 1),
        "ttft_p50_ms": round(percentile(results.ttft, 0.5) * ms, 3),
        "ttft_p99_ms": round(percentile(results.ttft, 0.99) * ms, 3),
        "total_p50_ms": round(percentile(results.total, 0.5) * ms, 3),
        "gap_p50_ms": round(percentile(results.gaps, 0.5) * ms, 3),
        "gap_p99_ms": round(percentile(results.gaps, 0.99) * ms, 3),
        "ttft_max_ms": round(max(results.ttft, default=float("nan")) * ms, 3),
        "elapsed_s": round(elapsed, 2),
        "began_monotonic": began,
    }
    if args.gap_log:  # every gap with the time it ended, for burst.py's windows
        with open(args.gap_log, "w") as out:
            json.dump(list(zip(results.gap_ends, results.gaps, strict=True)), out)
    return summary


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("url")
    parser.add_argument("--mode", choices=("open", "closed", "burst"), default="closed")
    parser.add_argument("--rate", type=float, default=50)
    parser.add_argument("--concurrency", type=int, default=32)
    parser.add_argument("--duration", type=float, default=5)
    parser.add_argument("--chunks", type=int, default=20)
    parser.add_argument("--gap-ms", type=float, default=0)
    parser.add_argument(
        "--openai-model", help="call an OpenAI-compatible /v1/chat/completions URL with this model"
    )
    parser.add_argument("--authorization", help="an Authorization header value for every request")
    parser.add_argument("--gap-log", help="write every chunk gap with its end time (monotonic) here")
    args = parser.parse_args()
    _, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
    print(json.dumps(uvloop.run(run(args))))
    return 0


if __name__ == "__main__":
    sys.exit(main())
