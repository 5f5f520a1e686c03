"""A fast fake OpenAI-compatible ``/v1/chat/completions`` streaming server, for benchmarks only.

    python benchmarks/fake_provider.py PORT

Raw asyncio protocol (uvloop), HTTP/1.1 keep-alive, chunked transfer encoding, one SSE event per
HTTP chunk, byte-shaped like OpenAI's stream (role delta, content deltas, finish chunk, usage
chunk, ``data: [DONE]``). The request path carries the script, so one server serves every
scenario: ``/v1/chat/completions?chunks=20&gap_ms=5``. It does no JSON parsing of requests and
precomputes every byte it sends, so it is never the bottleneck (``run_all.py`` measures it
directly). Loopback only.
"""

from __future__ import annotations

import asyncio
import json
import sys

import uvloop
from fake_http import FakeHttpProtocol


def _event(payload: dict[str, object] | str) -> bytes:
    data = payload if isinstance(payload, str) else json.dumps(payload, separators=(",", ":"))
    frame = f"data: {data}\n\n".encode()
    return b"%x\r\n%s\r\n" % (len(frame), frame)


def _chunk(delta: dict[str, object], finish: str | None = None, usage: object = None) -> dict[str, object]:
    choices = [] if usage else [{"index": 0, "delta": delta, "logprobs": None, "finish_reason": finish}]
    return {
        "id": "chatcmpl-bench",
        "object": "chat.completion.chunk",
        "created": 1732450000,
        "model": "bench-model",
        "system_fingerprint": "fp_bench",
        "choices": choices,
        "usage": usage,
    }


HEAD = (
    b"HTTP/1.1 200 OK\r\ncontent-type: text/event-stream; charset=utf-8\r\ntransfer-encoding: chunked\r\n\r\n"
)
ROLE = _event(_chunk({"role": "assistant", "content": "", "refusal": None}))
TOKENS = [_event(_chunk({"content": f" token{i}"})) for i in range(1000)]
FINISH = _event(_chunk({}, "stop"))
USAGE = _event(_chunk({}, usage={"prompt_tokens": 9, "completion_tokens": 20, "total_tokens": 29}))
END = _event("[DONE]") + b"0\r\n\r\n"


class Stream(FakeHttpProtocol):
    def __init__(self) -> None:
        super().__init__()
        self.loop = asyncio.get_running_loop()

    def respond(self, query: dict[str, list[str]], body: bytes) -> None:
        chunks = int(query.get("chunks", ["20"])[0])
        gap = float(query.get("gap_ms", ["0"])[0]) / 1000
        self.stream(chunks, gap)

    def stream(self, chunks: int, gap: float) -> None:
        assert self.transport is not None
        if gap == 0:
            self.transport.write(HEAD + ROLE + b"".join(TOKENS[:chunks]) + FINISH + USAGE + END)
            return
        self.transport.write(HEAD + ROLE)
        for i in range(chunks):
            self.loop.call_later(gap * (i + 1), self.send, TOKENS[i % len(TOKENS)])
        self.loop.call_later(gap * chunks, self.send, FINISH + USAGE + END)

    def send(self, data: bytes) -> None:
        if self.transport is not None and not self.transport.is_closing():
            self.transport.write(data)


async def serve(port: int) -> None:
    server = await asyncio.get_running_loop().create_server(Stream, "127.0.0.1", port, backlog=16384)
    async with server:
        await server.serve_forever()


if __name__ == "__main__":
    uvloop.run(serve(int(sys.argv[1])))
