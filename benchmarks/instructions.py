"""Instructions per stream: the service's CPU cost as a count that does not drift with the machine.

    .venv/bin/python benchmarks/instructions.py [--source CHECKOUT] [--streams 256] [--clients 32]

Timed benchmarks on a shared 2-core machine drift by ±15 % from run to run, too much to pin a
CPU shift on one commit. This runs the service (one worker) under ``valgrind --tool=callgrind``
with instrumentation off through start-up and warm-up, turns it on for a fixed mix of
streaming chat requests (``--clients`` closed-loop clients sharing ``--streams`` streams of 20
chunks from the benchmark fake provider, keep-alive connections), and prints the instructions
the service executed per stream (callgrind's ``Ir``; every thread of the process counts). Two
checkouts compare with ``--source``; ``--with-key`` (authentication on, a ``monitor`` key on
every stream) and ``--openai`` (through ``/v1/chat/completions``) show what those cost. The
clients and the fake provider run outside valgrind.
``--keep FILE`` keeps the dump for ``callgrind_annotate FILE``, whose C functions show where a
shift went (the interpreter loop, the allocator, the GC, a lock, a syscall). Loopback only.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import aiohttp
import httpx

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
from run_all import PYTHON, free_port, wait_http, wait_http_port  # noqa: E402

BODY = b'{"messages":[{"role":"user","content":"benchmark"}]}'
OPENAI_BODY = b'{"model":"instructions","stream":true,"messages":[{"role":"user","content":"benchmark"}]}'


async def drive(
    url: str, streams: int, clients: int, body: bytes = BODY, authorization: str | None = None
) -> int:
    """``clients`` workers take streams from one shared count until ``streams`` are done; each
    stream is read to its end. Returns the number that ended with ``[DONE]``."""
    remaining = streams
    done = 0
    headers = {"content-type": "application/json"}
    if authorization:
        headers["authorization"] = authorization

    async def client(session: aiohttp.ClientSession) -> None:
        nonlocal remaining, done
        while remaining > 0:
            remaining -= 1
            async with session.post(url, data=body, headers=headers) as resp:
                answer = await resp.read()
                done += resp.status == 200 and answer.rstrip().endswith(b"[DONE]")

    timeout = aiohttp.ClientTimeout(total=600)
    connector = aiohttp.TCPConnector(limit=clients)
    async with aiohttp.ClientSession(timeout=timeout, connector=connector) as session:
        await asyncio.gather(*(client(session) for _ in range(clients)))
    return done


def control(pid: int, *command: str) -> None:
    """``callgrind_control`` exits 0 even when it finds no such process: check what it says."""
    said = subprocess.run(["callgrind_control", *command, str(pid)], capture_output=True, text=True).stdout
    if "OK." not in said:
        raise SystemExit(f"callgrind_control {' '.join(command)}: {said.strip()}")


def callgrind_total(out_file: Path) -> int:
    """The ``summary:``/``totals:`` line of a callgrind dump: instructions executed."""
    for line in out_file.read_text(errors="replace").splitlines():
        if line.startswith(("summary:", "totals:")):
            return int(line.split()[1])
    raise SystemExit(f"{out_file} has no totals line")


def api_key(env: dict[str, str], cwd: Path | None, role: str) -> str:
    """A new key made offline with the CLI, as ``ApiKey <encoded>``."""
    made = subprocess.run(
        [PYTHON, "-m", "inference_service", "api-keys", "create", "--name", role, "--role", role],
        env=env,
        cwd=cwd,
        check=True,
        capture_output=True,
        text=True,
    )
    return "ApiKey " + str(json.loads(made.stdout)["encoded"])


def measure(args: argparse.Namespace) -> float:
    source: Path | None = args.source
    streams: int = args.streams
    clients: int = args.clients
    keep: Path | None = args.keep
    fake_port = free_port()
    fake = subprocess.Popen([PYTHON, str(HERE / "fake_provider.py"), str(fake_port)])
    try:
        wait_http_port(fake_port)
        with tempfile.TemporaryDirectory() as tmp:
            port = free_port()
            env = {
                **os.environ,
                "INFERENCE_SERVICE_DATA_DIR": tmp,
                "INFERENCE_SERVICE_PORT": str(port),
                "INFERENCE_SERVICE_VALIDATE_ON_PUT": "false",
                "INFERENCE_SERVICE_PROVIDER_URL_ALLOWLIST": "127.0.0.0/8",
                "INFERENCE_SERVICE_LOCAL_MODEL_ENDPOINTS": "false",
                "INFERENCE_SERVICE_STREAM_IDLE_TIMEOUT": "600",
                "INFERENCE_SERVICE_CHAT_COMPLETION_TIMEOUT": "600",
            }
            if source is not None:
                env["PYTHONPATH"] = str(source)
            subprocess.run(
                [PYTHON, "-m", "inference_service", "db", "upgrade"], env=env, cwd=source, check=True
            )
            admin = monitor = None
            if args.with_key:
                env["INFERENCE_SERVICE_AUTH"] = "required"
                admin, monitor = api_key(env, source, "manage"), api_key(env, source, "monitor")
            out_file = Path(tmp) / "callgrind.out"
            service = subprocess.Popen(
                [
                    "valgrind",
                    "--tool=callgrind",
                    "--instr-atstart=no",
                    f"--callgrind-out-file={out_file}",
                    PYTHON,
                    "-m",
                    "inference_service",
                    "serve",
                ],
                env=env,
                cwd=source,
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
            )
            try:
                base = f"http://127.0.0.1:{port}"
                wait_http(base + "/", deadline_s=600)
                inference_id = "instructions"
                put = httpx.put(
                    f"{base}/_inference/chat_completion/{inference_id}",
                    json={
                        "service": "openai",
                        "service_settings": {
                            "api_key": "sk-bench",
                            "model_id": "bench-model",
                            "url": f"http://127.0.0.1:{fake_port}/v1/chat/completions?chunks=20&gap_ms=0",
                            "rate_limit": {"requests_per_minute": 100_000_000},
                        },
                    },
                    headers={"authorization": admin} if admin else None,
                    timeout=600,
                )
                put.raise_for_status()
                url, body = f"{base}/_inference/chat_completion/{inference_id}/_stream", BODY
                if args.openai:
                    url, body = f"{base}/v1/chat/completions", OPENAI_BODY
                asyncio.run(drive(url, clients * 2, clients, body, monitor))  # warm: imports, pools, caches
                control(service.pid, "-i", "on")
                started = time.perf_counter()
                ok = asyncio.run(drive(url, streams, clients, body, monitor))
                elapsed = time.perf_counter() - started
                control(service.pid, "-d")
                control(service.pid, "-i", "off")
                if ok != streams:
                    raise SystemExit(f"only {ok} of {streams} streams completed")
            finally:
                service.terminate()
                service.wait(300)
            dumps = sorted(Path(tmp).glob("callgrind.out.*"))  # -d writes callgrind.out.1
            total = sum(callgrind_total(dump) for dump in dumps)
            if keep is not None:
                shutil.copy(dumps[-1], keep)
            print(f"# {streams} streams, {clients} clients, {elapsed:.1f} s under valgrind", file=sys.stderr)
            return total / streams
    finally:
        fake.terminate()
        fake.wait(10)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--source", type=Path, help="the checkout to run (default: the installed package)")
    parser.add_argument("--streams", type=int, default=256)
    parser.add_argument("--clients", type=int, default=32)
    parser.add_argument("--keep", type=Path, help="copy the callgrind dump here (for callgrind_annotate)")
    parser.add_argument(
        "--with-key", action="store_true", help="auth required; every stream carries a monitor key"
    )
    parser.add_argument("--openai", action="store_true", help="stream through /v1/chat/completions")
    args = parser.parse_args()
    if shutil.which("valgrind") is None or shutil.which("callgrind_control") is None:
        raise SystemExit("valgrind (with callgrind_control) is not installed")
    per_stream = measure(args)
    print(f"{per_stream / 1e6:.3f} M instructions per stream")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
