"""Soak: does one service process stay as fast and as small over time (issue 15)?

    .venv/bin/python benchmarks/soak.py                     # 10 cycles as in issue 15, ~4 minutes
    .venv/bin/python benchmarks/soak.py --quick             # 5 short cycles, ~1 minute
    .venv/bin/python benchmarks/soak.py --constant 30       # 30 minutes at 200 streams/s
    .venv/bin/python benchmarks/soak.py --source DIR        # serve another checkout (before/after)

Cycles: a burst of ``--burst`` concurrent slow streams (``--burst-chunks`` chunks
``--burst-gap-ms`` apart), then ``--open-seconds`` of open-loop streams at ``--rate``/s (20
chunks 5 ms apart), in the same process, ``--cycles`` times. After each cycle one row: the
burst's chunk-gap p99, the service's CPU ms per slow stream, the open loop's TTFT p50, resident
memory, open descriptors, the service's accepted sockets by TCP state (a socket the client has
closed but the server has not is ``CLOSE_WAIT``), and from inside the process (``soak_serve.py``,
on ``SIGUSR1``) the asyncio tasks alive, how many are hypercorn connections and the most
numerous object types. ``--constant M`` instead runs the open loop for M minutes and prints one
row per ``--slice`` seconds. Layout as ``run_all.py``: the service pinned to core 1, the fake
provider and the load generator on core 0; everything on 127.0.0.1; every run is bounded.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import signal
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from run_all import CLIENT_CORE, HERE, PYTHON, Service, cpu_seconds, free_port, load, pinned, wait_http_port

TCP_STATES = {"01": "ESTABLISHED", "06": "TIME_WAIT", "08": "CLOSE_WAIT", "09": "LAST_ACK", "0B": "CLOSING"}
LISTEN = "0A"


@dataclass
class Snapshot:
    rss_mb: float
    fds: int
    sockets: dict[str, int]
    inside: dict[str, Any]

    @staticmethod
    def header() -> str:
        return "RSS MB | fds | server sockets | tasks | hypercorn connections | gc objects | top types"

    def cells(self) -> str:
        sockets = ", ".join(f"{state} {n}" for state, n in sorted(self.sockets.items())) or "none"
        top = ", ".join(f"{name} {n}" for name, n in self.inside["top_types"][:4])
        return (
            f"{self.rss_mb:.0f} | {self.fds} | {sockets} | {self.inside['tasks']} | "
            f"{self.inside['connections']} | {self.inside['gc_objects']} | {top}"
        )


def rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def server_sockets(port: int) -> dict[str, int]:
    """The service's accepted sockets (local port ``port``, not the listener) by TCP state."""
    states: dict[str, int] = {}
    for table in ("tcp", "tcp6"):
        path = Path("/proc/net") / table
        if not path.is_file():
            continue
        for line in path.read_text().splitlines()[1:]:
            fields = line.split()
            if int(fields[1].rsplit(":", 1)[1], 16) == port and fields[3] != LISTEN:
                name = TCP_STATES.get(fields[3], fields[3])
                states[name] = states.get(name, 0) + 1
    return states


def snapshot(service: Service, stats: Path) -> Snapshot:
    """Ask the service (SIGUSR1) for its inside view; read the rest from /proc."""
    before = stats.stat().st_mtime_ns if stats.exists() else 0
    os.kill(service.process.pid, signal.SIGUSR1)
    deadline = time.monotonic() + 30
    while not stats.exists() or stats.stat().st_mtime_ns == before:
        if time.monotonic() > deadline:
            raise SystemExit("the service did not answer SIGUSR1 (is it running soak_serve.py?)")
        time.sleep(0.05)
    pid = service.process.pid
    return Snapshot(
        rss_mb(pid),
        len(os.listdir(f"/proc/{pid}/fd")),
        server_sockets(service.port),
        json.loads(stats.read_text()),
    )


def cycles(service: Service, stats: Path, args: argparse.Namespace) -> list[dict[str, float]]:
    slow = service.endpoint(args.burst_chunks, args.burst_gap_ms)
    fast = service.endpoint(20, 5)
    print(
        f"| cycle | burst {args.burst} x {args.burst_chunks} chunks {args.burst_gap_ms:g} ms: "
        f"gap p99 ms | CPU ms / slow stream | open {args.rate:g}/s TTFT p50 ms | failures | "
        f"{Snapshot.header()} |"
    )
    print("|" + "---|" * 12)
    rows = []
    for cycle in range(1, args.cycles + 1):
        cpu_before = cpu_seconds(service.process.pid)
        burst = load(
            slow,
            *("--mode", "burst", "--concurrency", str(args.burst)),
            *("--chunks", str(args.burst_chunks), "--gap-ms", f"{args.burst_gap_ms:g}"),
        )
        cpu_ms = (cpu_seconds(service.process.pid) - cpu_before) * 1000 / max(1, burst["streams"])
        open_loop = load(
            fast,
            *("--mode", "open", "--rate", f"{args.rate:g}", "--duration", f"{args.open_seconds:g}"),
            *("--chunks", "20", "--gap-ms", "5"),
        )
        snap = snapshot(service, stats)
        failures = burst["failures"] + open_loop["failures"]
        print(
            f"| {cycle} | {burst['gap_p99_ms']:.0f} | {cpu_ms:.2f} | {open_loop['ttft_p50_ms']:.2f} | "
            f"{failures} | {snap.cells()} |",
            flush=True,
        )
        rows.append(
            {
                "gap_p99_ms": burst["gap_p99_ms"],
                "cpu_ms": cpu_ms,
                "ttft_p50_ms": open_loop["ttft_p50_ms"],
                "rss_mb": snap.rss_mb,
                "tasks": snap.inside["tasks"],
            }
        )
    first, last = rows[0], rows[-1]
    print()
    print(
        f"cycle {len(rows)} / cycle 1: "
        + ", ".join(f"{key} x{last[key] / first[key]:.2f}" for key in first if first[key])
    )
    return rows


def constant(service: Service, stats: Path, args: argparse.Namespace) -> list[dict[str, float]]:
    fast = service.endpoint(20, 5)
    head = f"| minute | open {args.rate:g}/s TTFT p50 / p99 ms | CPU ms / stream | failures"
    print(f"{head} | {Snapshot.header()} |")
    print("|" + "---|" * 11)
    rows = []
    started = time.monotonic()
    while time.monotonic() - started < args.constant * 60:
        cpu_before = cpu_seconds(service.process.pid)
        result = load(
            fast,
            *("--mode", "open", "--rate", f"{args.rate:g}", "--duration", f"{args.slice:g}"),
            *("--chunks", "20", "--gap-ms", "5"),
        )
        cpu_ms = (cpu_seconds(service.process.pid) - cpu_before) * 1000 / max(1, result["streams"])
        snap = snapshot(service, stats)
        minute = (time.monotonic() - started) / 60
        print(
            f"| {minute:.1f} | {result['ttft_p50_ms']:.2f} / {result['ttft_p99_ms']:.2f} | {cpu_ms:.2f} | "
            f"{result['failures']} | {snap.cells()} |",
            flush=True,
        )
        rows.append(
            {"minute": minute, "rss_mb": snap.rss_mb, "ttft_p50_ms": result["ttft_p50_ms"], "cpu_ms": cpu_ms}
        )
    warm = [row for row in rows if row["minute"] >= args.warm_up]
    if len(warm) > 1:
        first, last = warm[0]["rss_mb"], warm[-1]["rss_mb"]
        growth = 100 * (last / first - 1)
        print(
            f"\nRSS after the {args.warm_up:g}-minute warm-up: {first:.0f} MB -> {last:.0f} MB "
            f"({growth:+.1f} %), peak {max(row['rss_mb'] for row in warm):.0f} MB"
        )
    return rows


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cycles", type=int, default=10)
    parser.add_argument("--burst", type=int, default=1000, help="concurrent slow streams per burst")
    parser.add_argument("--burst-chunks", type=int, default=50)
    parser.add_argument("--burst-gap-ms", type=float, default=200)
    parser.add_argument("--rate", type=float, default=200, help="open-loop streams per second")
    parser.add_argument("--open-seconds", type=float, default=8, help="open loop per cycle")
    parser.add_argument(
        "--constant", type=float, metavar="MINUTES", help="constant-rate mode instead of cycles"
    )
    parser.add_argument("--slice", type=float, default=60, help="seconds per row in constant mode")
    parser.add_argument("--warm-up", type=float, default=5, help="minutes before RSS growth counts")
    parser.add_argument("--quick", action="store_true", help="5 short cycles (~1 minute)")
    parser.add_argument("--source", type=Path, help="the checkout to serve (default: this one)")
    parser.add_argument("--json", type=Path, help="also write the rows here")
    args = parser.parse_args()
    if args.quick:
        args.cycles, args.burst, args.burst_chunks, args.open_seconds = 5, 500, 20, 4
    _, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
    source = (args.source or HERE.parent).resolve()

    fake_port = free_port()
    fake = subprocess.Popen(pinned(CLIENT_CORE, PYTHON, str(HERE / "fake_provider.py"), str(fake_port)))
    try:
        wait_http_port(fake_port)
        with tempfile.TemporaryDirectory() as tmp:
            stats = Path(tmp) / "stats.json"
            service = Service(
                Path(tmp) / "data",
                fake_port,
                serve=(str(HERE / "soak_serve.py"),),
                source=source,
                env={"SOAK_STATS_FILE": str(stats)},
            )
            try:
                print(f"serving {source} on port {service.port}; start: {snapshot(service, stats).cells()}\n")
                rows = constant(service, stats, args) if args.constant else cycles(service, stats, args)
            finally:
                service.stop()
            if args.json:
                args.json.write_text(json.dumps(rows, indent=1))
    finally:
        fake.terminate()
        fake.wait(10)
    return 0


if __name__ == "__main__":
    sys.exit(main())
