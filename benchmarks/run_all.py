"""Run every gateway benchmark scenario (A-E; F: a response cache hit), print a direct-vs-service table.

    .venv/bin/python benchmarks/run_all.py [--repeat 3] [--quick] [--with-key]

Layout on a 2-core machine: the service (one hypercorn worker) is pinned to core 1; the fake
provider and the load generator share core 0 (``taskset``). Each scenario runs against the fake
provider directly and through the service, ``--repeat`` times; the table shows medians. The
service's CPU time per stream comes from /proc (utime+stime), its peak RSS from VmHWM.
Everything runs on 127.0.0.1 and stops by itself; the whole run takes a few minutes.
``--with-key`` runs with authentication on: the service's endpoints are made with a ``manage``
key and every measured request carries one ``monitor`` key (both made with the CLI).
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import httpx

HERE = Path(__file__).resolve().parent
PYTHON = sys.executable
SERVICE_CORE, CLIENT_CORE = "1", "0"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def pinned(core: str, *command: str) -> list[str]:
    return (["taskset", "-c", core] if shutil.which("taskset") else []) + list(command)


def wait_http(url: str, deadline_s: float = 30) -> float:
    started = time.perf_counter()
    while True:
        try:
            if httpx.get(url, timeout=0.5).status_code == 200:
                return time.perf_counter() - started
        except httpx.TransportError:
            pass
        if time.perf_counter() - started > deadline_s:
            raise SystemExit(f"{url} did not answer within {deadline_s} s")
        time.sleep(0.005)


def cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def peak_rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def load(url: str, *args: str) -> dict[str, Any]:
    out = subprocess.run(
        pinned(CLIENT_CORE, PYTHON, str(HERE / "loadgen.py"), url, *args),
        capture_output=True,
        text=True,
        timeout=900,
        check=True,
    )
    result: dict[str, Any] = json.loads(out.stdout.strip().splitlines()[-1])
    return result


class Service:
    """The service as a subprocess on the service core. ``serve`` replaces the command after
    the interpreter (``soak.py`` runs it through its introspection wrapper) and ``source`` names
    the checkout to run (default: whatever ``python -m inference_service`` finds from here)."""

    def __init__(
        self,
        data: Path,
        fake_port: int,
        with_key: bool = False,
        serve: tuple[str, ...] = ("-m", "inference_service", "serve"),
        source: Path | None = None,
        env: dict[str, str] | None = None,
    ) -> None:
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.fake = f"http://127.0.0.1:{fake_port}/v1/chat/completions"
        self.env = {
            **os.environ,
            "INFERENCE_SERVICE_DATA_DIR": str(data),
            "INFERENCE_SERVICE_PORT": str(self.port),
            "INFERENCE_SERVICE_VALIDATE_ON_PUT": "false",
            "INFERENCE_SERVICE_PROVIDER_URL_ALLOWLIST": "127.0.0.0/8",  # the fake providers
            "INFERENCE_SERVICE_LOCAL_MODEL_ENDPOINTS": "false",
            "INFERENCE_SERVICE_STREAM_IDLE_TIMEOUT": "120",
            **(env or {}),
        }
        self.cwd = source
        if source is not None:  # -m looks in the working directory first, scripts on PYTHONPATH
            self.env["PYTHONPATH"] = str(source)
        subprocess.run(
            [PYTHON, "-m", "inference_service", "db", "upgrade"],
            env=self.env,
            cwd=self.cwd,
            check=True,
            capture_output=True,
        )
        self.admin: dict[str, str] = {}
        self.authorization = ""
        """The ``monitor`` key every measured request carries (``--with-key``)."""
        if with_key:
            self.env["INFERENCE_SERVICE_AUTH"] = "required"
            self.admin = {"authorization": "ApiKey " + self._key("manage")}
            self.authorization = "ApiKey " + self._key("monitor")
        started = time.perf_counter()
        self.process = subprocess.Popen(
            pinned(SERVICE_CORE, PYTHON, *serve),
            env=self.env,
            cwd=self.cwd,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        wait_http(self.url + "/")
        self.startup_s = time.perf_counter() - started

    def _key(self, role: str) -> str:
        made = subprocess.run(
            [
                PYTHON,
                "-m",
                "inference_service",
                "api-keys",
                "create",
                "--name",
                f"bench-{role}",
                "--role",
                role,
            ],
            env=self.env,
            cwd=self.cwd,
            check=True,
            capture_output=True,
            text=True,
        )
        encoded: str = json.loads(made.stdout)["encoded"]
        return encoded

    def endpoint(self, chunks: int, gap_ms: float, cache_ttl: str | None = None) -> str:
        inference_id = f"bench-{chunks}-{int(gap_ms)}" + ("-cached" if cache_ttl else "")
        body: dict[str, Any] = {
            "service": "openai",
            "service_settings": {
                "api_key": "sk-bench",
                "model_id": "bench-model",
                "url": f"{self.fake}?chunks={chunks}&gap_ms={gap_ms:g}",
                "rate_limit": {"requests_per_minute": 100_000_000},  # measure the gateway, not the limiter
            },
        }
        if cache_ttl:
            body["cache"] = {"ttl": cache_ttl}
        response = httpx.put(
            f"{self.url}/_inference/chat_completion/{inference_id}", json=body, headers=self.admin
        )
        if response.status_code not in (200, 400):
            raise SystemExit(response.text)
        return f"{self.url}/_inference/chat_completion/{inference_id}/_stream"

    def stop(self) -> None:
        self.process.terminate()
        self.process.wait(30)


def scenario(
    service: Service,
    repeat: int,
    chunks: int,
    gap_ms: float,
    *args: str,
    openai_face: bool = False,
    cache_ttl: str | None = None,
) -> tuple[dict[str, float], dict[str, float], float]:
    """Median direct and service results, and the service's CPU ms per stream (through the
    Elasticsearch face, or the OpenAI-compatible one with ``openai_face``; ``cache_ttl``: the
    endpoint caches its answers, so every identical request after the first is a hit)."""
    stream_url = service.endpoint(chunks, gap_ms, cache_ttl)
    common = ["--chunks", str(chunks), "--gap-ms", f"{gap_ms:g}", *args]
    through_args = [*common, "--authorization", service.authorization] if service.authorization else common
    if openai_face:
        through_args = [*through_args, "--openai-model", stream_url.split("/")[-2]]
        stream_url = f"{service.url}/v1/chat/completions"
    direct, through, cpu = [], [], []
    for _ in range(repeat):
        direct.append(load(service.fake, *common))
        before = cpu_seconds(service.process.pid)
        result = load(stream_url, *through_args)
        cpu.append((cpu_seconds(service.process.pid) - before) * 1000 / max(1, result["streams"]))
        through.append(result)
    return median(direct), median(through), statistics.median(cpu)


def median(results: list[dict[str, Any]]) -> dict[str, float]:
    keys = [k for k, v in results[0].items() if isinstance(v, int | float)]
    return {k: statistics.median(r[k] for r in results) for k in keys}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--quick", action="store_true", help="shorter runs, one repeat, no 10k scenario")
    parser.add_argument("--slow-streams", type=int, default=10000, help="scenario D's stream count")
    parser.add_argument(
        "--with-key", action="store_true", help="authentication on: every request carries a monitor key"
    )
    args = parser.parse_args()
    repeat = 1 if args.quick else args.repeat
    duration = "3" if args.quick else "5"
    _, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))

    fake_port = free_port()
    fake = subprocess.Popen(pinned(CLIENT_CORE, PYTHON, str(HERE / "fake_provider.py"), str(fake_port)))
    rows: list[str] = []
    try:
        wait_http_port(fake_port)
        with tempfile.TemporaryDirectory() as tmp:
            startups: list[float] = []
            for _ in range(repeat):
                data = Path(tmp) / f"startup-{len(startups)}"
                probe = Service(data, fake_port)
                startups.append(probe.startup_s)
                probe.stop()
            service = Service(Path(tmp) / "main", fake_port, with_key=args.with_key)
            try:
                for rate in (50, 200):
                    d, s, cpu = scenario(
                        service, repeat, 20, 5, "--mode", "open", "--rate", str(rate), "--duration", duration
                    )
                    rows.append(
                        f"| A open loop {rate}/s, 20 chunks 5 ms apart "
                        f"| TTFT p50 {d['ttft_p50_ms']:.2f} / p99 {d['ttft_p99_ms']:.2f} ms "
                        f"| TTFT p50 {s['ttft_p50_ms']:.2f} / p99 {s['ttft_p99_ms']:.2f} ms "
                        f"| added p50 {s['ttft_p50_ms'] - d['ttft_p50_ms']:.2f} ms, "
                        f"p99 {s['ttft_p99_ms'] - d['ttft_p99_ms']:.2f} ms; {cpu:.2f} ms CPU/stream; "
                        f"failures {s['failures']:.0f} |"
                    )
                for clients in (32, 256):
                    d, s, cpu = scenario(
                        service,
                        repeat,
                        20,
                        0,
                        "--mode",
                        "closed",
                        "--concurrency",
                        str(clients),
                        "--duration",
                        duration,
                    )
                    rows.append(
                        f"| B closed loop {clients} clients, 20 chunks | {d['streams_per_s']:.0f} streams/s "
                        f"| {s['streams_per_s']:.0f} streams/s | {cpu:.2f} ms CPU/stream; "
                        f"failures {s['failures']:.0f} |"
                    )
                d, s, cpu = scenario(
                    service,
                    repeat,
                    20,
                    0,
                    "--mode",
                    "closed",
                    "--concurrency",
                    "32",
                    "--duration",
                    duration,
                    openai_face=True,
                )
                rows.append(
                    f"| B /v1/chat/completions, closed loop 32 clients, 20 chunks | {d['streams_per_s']:.0f} "
                    f"streams/s | {s['streams_per_s']:.0f} streams/s | {cpu:.2f} ms CPU/stream; "
                    f"failures {s['failures']:.0f} |"
                )
                d, s, cpu = scenario(
                    service,
                    repeat,
                    20,
                    5,
                    "--mode",
                    "open",
                    "--rate",
                    "50",
                    "--duration",
                    duration,
                    openai_face=True,
                )
                rows.append(
                    f"| A /v1/chat/completions, open loop 50/s, 20 chunks 5 ms apart "
                    f"| TTFT p50 {d['ttft_p50_ms']:.2f} ms | TTFT p50 {s['ttft_p50_ms']:.2f} ms "
                    f"| added p50 {s['ttft_p50_ms'] - d['ttft_p50_ms']:.2f} ms; {cpu:.2f} ms CPU/stream; "
                    f"failures {s['failures']:.0f} |"
                )
                d, s, cpu = scenario(
                    service,
                    repeat,
                    20,
                    5,
                    "--mode",
                    "open",
                    "--rate",
                    "50",
                    "--duration",
                    duration,
                    cache_ttl="1h",
                )
                rows.append(
                    f"| F cache hit: open loop 50/s, a 20-chunk stream replayed "
                    f"| TTFT p50 {d['ttft_p50_ms']:.2f} ms, whole stream p50 {d['total_p50_ms']:.2f} ms "
                    f"| TTFT p50 {s['ttft_p50_ms']:.2f} / p99 {s['ttft_p99_ms']:.2f} ms, whole stream p50 "
                    f"{s['total_p50_ms']:.2f} ms | a hit costs {s['total_p50_ms']:.2f} ms at p50 end to end; "
                    f"{cpu:.2f} ms CPU/stream; failures {s['failures']:.0f} |"
                )
                slow = [("C", 1000, 50, 200)]
                if not args.quick:
                    slow.append(("D", args.slow_streams, 10, 1000))
                for name, count, chunks, gap in slow:
                    d, s, cpu = scenario(
                        service, 1, chunks, gap, "--mode", "burst", "--concurrency", str(count)
                    )
                    rss = peak_rss_mb(service.process.pid)
                    rows.append(
                        f"| {name} {count} concurrent streams, {chunks} chunks {gap} ms apart | "
                        f"{d['streams']:.0f} complete, gap p99 {d['gap_p99_ms']:.1f} ms | "
                        f"{s['streams']:.0f} complete, gap p99 {s['gap_p99_ms']:.1f} ms | added gap p99 "
                        f"{s['gap_p99_ms'] - d['gap_p99_ms']:.1f} ms; peak RSS {rss:.0f} MB "
                        f"({rss * 1024 / count:.0f} KB/stream); failures {s['failures']:.0f} |"
                    )
            finally:
                service.stop()
            rows.append(
                f"| E start-up to first served request (SQLite, no local model) | - | "
                f"{statistics.median(startups) * 1000:.0f} ms | median of {len(startups)} |"
            )
    finally:
        fake.terminate()
        fake.wait(10)
    print("| scenario | direct to the fake provider | through the service | service overhead |")
    print("|---|---|---|---|")
    print("\n".join(rows))
    return 0


def wait_http_port(port: int) -> None:
    deadline = time.perf_counter() + 10
    while time.perf_counter() < deadline:
        with socket.socket() as sock:
            if sock.connect_ex(("127.0.0.1", port)) == 0:
                return
        time.sleep(0.02)
    raise SystemExit("fake provider did not start")


if __name__ == "__main__":
    sys.exit(main())
