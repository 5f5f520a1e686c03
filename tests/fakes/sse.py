"""SSE frame encoding shared by the provider builders, and access to the recorded transcripts."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

__all__ = ["FIXTURES", "dumps", "fixture", "fixture_frames", "frame", "split_frames"]

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures" / "sse"


def dumps(obj: Any) -> str:
    """Compact JSON with raw UTF-8, as both providers put it on the wire."""
    return json.dumps(obj, separators=(",", ":"), ensure_ascii=False)


def frame(data: Any, *, event: str | None = None) -> bytes:
    """One SSE frame: optional ``event:`` line, one ``data:`` line (``str`` verbatim, else
    compact JSON), blank line. Both providers use LF line endings."""
    text = data if isinstance(data, str) else dumps(data)
    head = f"event: {event}\n" if event is not None else ""
    return f"{head}data: {text}\n\n".encode()


def split_frames(raw: bytes) -> list[bytes]:
    """Split a transcript into frames, each keeping its terminating blank line."""
    frames = [part + b"\n\n" for part in raw.split(b"\n\n")]
    tail = frames.pop()
    if tail != b"\n\n":  # bytes after the last blank line: an unterminated frame
        frames.append(tail[:-2])
    return frames


def fixture(name: str) -> bytes:
    """The bytes of ``tests/fixtures/sse/<name>`` (``.sse`` optional)."""
    path = FIXTURES / (name if name.endswith(".sse") else f"{name}.sse")
    return path.read_bytes()


def fixture_frames(name: str) -> list[bytes]:
    """A recorded transcript as frames, ready for ``Reply.sse(...)``."""
    return split_frames(fixture(name))
