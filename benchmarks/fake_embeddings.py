"""A fast fake OpenAI-compatible ``/v1/embeddings`` server, for benchmarks only.

    python benchmarks/fake_embeddings.py PORT

Raw asyncio protocol (uvloop), HTTP/1.1 keep-alive, ``content-length`` answers shaped like
OpenAI's (``{"object":"list","data":[{"object":"embedding","index":i,"embedding":[...]}],...}``).
The vector length comes from the path (``/v1/embeddings?dims=1024``); the number of vectors is
the number of inputs in the request. Every vector's bytes are precomputed per (index, dims), so
answering costs a join, and the only parsing is counting the inputs. Loopback only.
"""

from __future__ import annotations

import asyncio
import random
import sys

import msgspec
import uvloop
from fake_http import FakeHttpProtocol


class _Body(msgspec.Struct):
    input: list[str]


_DECODER = msgspec.json.Decoder(_Body)
_ROWS: dict[int, list[bytes]] = {}


def rows(dims: int, count: int) -> list[bytes]:
    """The first ``count`` encoded ``data`` rows for ``dims``-long vectors (made once)."""
    cached = _ROWS.setdefault(dims, [])
    rng = random.Random(dims)
    while len(cached) < count:
        vector = [round(rng.uniform(-0.1, 0.1), 9) for _ in range(dims)]
        cached.append(msgspec.json.encode({"object": "embedding", "index": len(cached), "embedding": vector}))
    return cached[:count]


def answer(dims: int, count: int) -> bytes:
    body = (
        b'{"object":"list","data":['
        + b",".join(rows(dims, count))
        + b'],"model":"bench-embed","usage":{"prompt_tokens":1,"total_tokens":1}}'
    )
    head = b"HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: %d\r\n\r\n" % len(body)
    return head + body


class Embeddings(FakeHttpProtocol):
    def respond(self, query: dict[str, list[str]], body: bytes) -> None:
        dims = int(query.get("dims", ["1024"])[0])
        assert self.transport is not None
        self.transport.write(answer(dims, len(_DECODER.decode(body).input)))


async def serve(port: int) -> None:
    server = await asyncio.get_running_loop().create_server(Embeddings, "127.0.0.1", port, backlog=4096)
    async with server:
        await server.serve_forever()


if __name__ == "__main__":
    uvloop.run(serve(int(sys.argv[1])))
