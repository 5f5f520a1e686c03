"""The log writer thread (inference_service.logs): batches, both formats, redaction."""

from __future__ import annotations

import io
import json
import logging
import os
import re

from inference_service.logs import RequestLine, _Writer, text_pairs


def written(log_format: str, *items: logging.LogRecord | RequestLine) -> list[str]:
    stream = io.StringIO()
    writer = _Writer(stream)
    writer.use(log_format)
    for item in items:
        writer.queue.put(item)
    writer.stop()
    return stream.getvalue().splitlines()


def record(message: str, *args: object) -> logging.LogRecord:
    return logging.LogRecord("inference_service.catalog", logging.WARNING, __file__, 1, message, args, None)


def test_text_lines_look_like_hypercorns_and_request_lines_are_pairs() -> None:
    lines = written(
        "text",
        RequestLine(1_700_000_000.5, {"request_id": "r1", "status": 200, "route": "a=ok 5ms"}),
        record("reloaded %d endpoints", 3),
    )
    pid = os.getpid()
    stamp = r"\[\d{4}-\d\d-\d\d \d\d:\d\d:\d\d [+-]\d{4}\]"
    assert re.fullmatch(
        stamp + rf' \[{pid}\] \[INFO\] request request_id=r1 status=200 route="a=ok 5ms"', lines[0]
    )
    assert lines[1].endswith(f"[{pid}] [WARNING] reloaded 3 endpoints")


def test_json_lines_carry_the_fields_inline() -> None:
    lines = written(
        "json", RequestLine(1_700_000_000.25, {"request_id": "r2", "status": 404}), record("x %s", "y")
    )
    first, second = (json.loads(line) for line in lines)
    assert first == {
        "time": "2023-11-14T22:13:20.250Z",
        "level": "info",
        "logger": "inference_service.requests",
        "message": "request",
        "request_id": "r2",
        "status": 404,
    }
    assert (second["level"], second["logger"], second["message"]) == (
        "warning",
        "inference_service.catalog",
        "x y",
    )


def test_ordinary_records_are_redacted_in_the_writer() -> None:
    (line,) = written(
        "text", record("upstream said %s", "Authorization: Bearer sk-live-abcdefghijklmnop1234")
    )
    assert "sk-live-abcdefghijklmnop1234" not in line


def test_pairs_quote_what_would_break_them() -> None:
    assert text_pairs({"a": 1, "b": 'say "hi"', "c": "x=y", "d": "two words"}) == (
        'a=1 b="say \\"hi\\"" c="x=y" d="two words"'
    )
