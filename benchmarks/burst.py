"""Running streams during a burst: do they keep their pace while 1,000 new streams are set up?

    .venv/bin/python benchmarks/burst.py [--running 100] [--burst 1000] [--repeat 2] [--env K=V ...]

One load generator keeps ``--running`` streams open all the time (closed loop; 50 chunks 50 ms
apart, so each runs 2.5 s and a new one follows; with root, at a higher priority than the
burst's client and with the fake provider on their shared core) and logs every chunk gap with
the time it ended.
After 4 s of that, a second load generator opens ``--burst`` streams at once (50 chunks 200 ms
apart). The running streams' gaps are split into the 3 s before the burst and the burst's
set-up window (from its start until its slowest stream had its first token); the table shows
how far the gaps stretch beyond their 50 ms in each window, the burst's time to first token,
and what the service spent. Each row runs against the fake provider directly too, which is what
the load generators and the fake on their shared core add by themselves.

Layout as in run_all.py: the service (one worker) on core 1, fake provider and clients on core
0. ``--env`` passes service settings (``INFERENCE_SERVICE_...=...``) to compare configurations.
Loopback only; every loop is bounded.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import tempfile
import time
from pathlib import Path
from typing import Any

from run_all import (
    CLIENT_CORE,
    HERE,
    PYTHON,
    Service,
    cpu_seconds,
    free_port,
    load,
    peak_rss_mb,
    pinned,
    wait_http_port,
)

RUNNING_CHUNKS, RUNNING_GAP_MS = 50, 50
BURST_CHUNKS, BURST_GAP_MS = 50, 200
WARM_S, BEFORE_S = 4.0, 3.0
FIRST = ["nice", "-n", "-10"] if os.geteuid() == 0 else []
"""The fake provider and the measuring client go first on their shared core (when root may raise
their priority), so the burst's client does not delay the very chunks being measured."""


def quantile(values: list[float], q: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


def one_run(running_url: str, burst_url: str, running: int, burst: int) -> dict[str, Any]:
    """Running streams for the whole run, the burst after ``WARM_S``; gaps split by window.
    (Against the fake provider directly, loadgen adds the chunk script to the URL itself.)"""
    with tempfile.TemporaryDirectory() as tmp:
        gap_log = Path(tmp) / "gaps.json"
        chunks = ["--chunks", str(RUNNING_CHUNKS), "--gap-ms", str(RUNNING_GAP_MS)]
        keep_running = subprocess.Popen(
            FIRST
            + pinned(
                CLIENT_CORE,
                PYTHON,
                str(HERE / "loadgen.py"),
                running_url,
                *("--mode", "closed", "--concurrency", str(running), "--duration", "16"),
                *chunks,
                "--gap-log",
                str(gap_log),
            ),
            stdout=subprocess.PIPE,
            text=True,
        )
        time.sleep(WARM_S)
        burst_result = load(
            burst_url,
            *("--mode", "burst", "--concurrency", str(burst)),
            *("--chunks", str(BURST_CHUNKS), "--gap-ms", str(BURST_GAP_MS)),
        )
        out, _ = keep_running.communicate(timeout=300)
        running_result = json.loads(out.strip().splitlines()[-1])
        gaps: list[tuple[float, float]] = json.loads(gap_log.read_text())
    began = float(burst_result["began_monotonic"])
    set_up = began + burst_result["ttft_max_ms"] / 1000
    before = [gap for end, gap in gaps if began - BEFORE_S <= end < began]
    during = [gap for end, gap in gaps if began <= end < set_up]
    nominal = RUNNING_GAP_MS / 1000
    return {
        "before_p99": (quantile(before, 0.99) - nominal) * 1000,
        "during_p50": (quantile(during, 0.5) - nominal) * 1000,
        "during_p99": (quantile(during, 0.99) - nominal) * 1000,
        "during_max": (max(during, default=float("nan")) - nominal) * 1000,
        "set_up_s": set_up - began,
        "burst_ttft_p50": burst_result["ttft_p50_ms"],
        "burst_ttft_p99": burst_result["ttft_p99_ms"],
        "failures": burst_result["failures"] + running_result["failures"],
    }


def row(label: str, r: dict[str, Any], extra: str = "") -> str:
    return (
        f"| {label} | {r['before_p99']:.1f} | {r['during_p50']:.1f} / {r['during_p99']:.1f} / "
        f"{r['during_max']:.1f} | {r['set_up_s'] * 1000:.0f} | {r['burst_ttft_p50']:.0f} / "
        f"{r['burst_ttft_p99']:.0f} | {extra}{r['failures']} |"
    )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--running", type=int, default=50)
    parser.add_argument("--burst", type=int, default=1000)
    parser.add_argument("--repeat", type=int, default=2)
    parser.add_argument("--env", action="append", default=[], help="a service setting, NAME=VALUE")
    args = parser.parse_args()
    _, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
    # the default upstream pool (1,000 connections per worker) would hold part of the burst
    # back until running streams end: this measures the set-up, not that limit
    env = {"INFERENCE_SERVICE_UPSTREAM_MAX_CONNECTIONS": "4000"}
    env.update(item.split("=", 1) for item in args.env)

    fake_port = free_port()
    fake_command = pinned(CLIENT_CORE, PYTHON, str(HERE / "fake_provider.py"), str(fake_port))
    fake = subprocess.Popen(FIRST + fake_command)
    print(
        f"| {args.running} running streams ({RUNNING_CHUNKS} chunks {RUNNING_GAP_MS} ms apart), burst "
        f"of {args.burst} | running gap stretch p99 before, ms | during the burst's set-up p50 / p99 / "
        "max, ms | set-up window, ms | burst TTFT p50 / p99, ms | failures |"
    )
    print("|---|---|---|---|---|---|")
    try:
        wait_http_port(fake_port)
        with tempfile.TemporaryDirectory() as tmp:
            service = Service(Path(tmp) / "data", fake_port, env=env)
            try:
                running_url = service.endpoint(RUNNING_CHUNKS, RUNNING_GAP_MS)
                burst_url = service.endpoint(BURST_CHUNKS, BURST_GAP_MS)
                direct = service.fake
                for _ in range(args.repeat):
                    r = one_run(direct, direct, args.running, args.burst)
                    print(row("direct to the fake provider", r), flush=True)
                    cpu_before = cpu_seconds(service.process.pid)
                    r = one_run(running_url, burst_url, args.running, args.burst)
                    cpu = cpu_seconds(service.process.pid) - cpu_before
                    rss = peak_rss_mb(service.process.pid)
                    print(
                        row("through the service", r, f"CPU {cpu:.1f} s, peak RSS {rss:.0f} MB; "), flush=True
                    )
            finally:
                service.stop()
    finally:
        fake.terminate()
        fake.wait(10)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
