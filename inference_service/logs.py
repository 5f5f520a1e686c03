"""Logging of the service's own loggers (``inference_service.*``) at the ``log_level`` setting.

One stderr stream in hypercorn's error-log format (``log_format = "text"``), so the service's
lines and hypercorn's read as one log, or one JSON object per line (``"json"``: ``time``,
``level``, ``logger``, ``message``, and the request log's fields). The CLI calls
:func:`configure_logging` once per process and so does each hypercorn worker; calling it again
only changes the level and format. ``create_app`` does not call it: an embedding application
(or a test) keeps its own logging setup, and request lines reach it as ordinary records.

The event loop never writes a log line itself: records go on a queue, and a writer thread
formats, redacts and writes them, everything that is waiting in one write (a write to a full
pipe would otherwise stall every request of the worker, and one write per line costs a system
call each). Request lines (:mod:`inference_service.observe.request_log`), one per request,
skip the ``logging`` machinery on the way: they are put on the queue as their fields and
formatted by the writer, which keeps their cost per request to a few microseconds.

Every record the writer writes, and every record of hypercorn's error and access logs, first
passes a :class:`~inference_service.redaction.RedactingFilter`: a backstop that cuts
credential-shaped text (``?key=``, ``Authorization: …``, ``Bearer …``, well-known key formats)
out of whatever a log line carries, tracebacks included. Request lines are built from vetted
values only and are not scanned again.
"""

from __future__ import annotations

import atexit
import logging
import os
import queue
import sys
import threading
import time
from logging.handlers import QueueHandler
from typing import Any, NamedTuple, TextIO

import msgspec

from inference_service.redaction import RedactingFilter

ROOT_LOGGER = "inference_service"
REQUEST_LOGGER = "inference_service.requests"
HANDLER_NAME = "inference_service.queue"
# hypercorn.logging's format, so that both loggers' lines look alike.
_FORMAT = "%(asctime)s [%(process)d] [%(levelname)s] %(message)s"
_DATE_FORMAT = "[%Y-%m-%d %H:%M:%S %z]"
HYPERCORN_LOGGERS = ("hypercorn.error", "hypercorn.access")
SERVER_LOGGER = "hypercorn.error"
"""hypercorn's error log: ``serve`` hands it this logger, so its lines go through the same
writer, in the same format (JSON too), and never block the loop."""
_FILTER = RedactingFilter()
_ENCODER = msgspec.json.Encoder()


class RequestLine(NamedTuple):
    """A request log line on its way to the writer: when, and its fields."""

    created: float
    fields: dict[str, Any]


Item = logging.LogRecord | RequestLine | None
"""What the writer's queue carries (None: stop)."""


def text_pairs(fields: dict[str, Any]) -> str:
    """``key=value`` pairs; a value holding a space, a quote or ``=`` is quoted (JSON string
    syntax), so the line stays pairs a machine can split."""
    parts = []
    for key, value in fields.items():
        text = str(value)
        if " " in text or '"' in text or "=" in text:
            text = _ENCODER.encode(text).decode()
        parts.append(f"{key}={text}")
    return " ".join(parts)


def _utc(created: float) -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(created)) + f".{int(created * 1000) % 1000:03d}Z"


class JsonFormatter(logging.Formatter):
    """One JSON object per line; a request line's fields (its ``request`` attribute) inline."""

    def format(self, record: logging.LogRecord) -> str:
        fields: dict[str, Any] = getattr(record, "request", None) or {}
        out: dict[str, Any] = {
            "time": _utc(record.created),
            "level": record.levelname.lower(),
            "logger": record.name,
            "message": "request" if fields else record.getMessage(),
            **fields,
        }
        if record.exc_info and not record.exc_text:
            record.exc_text = self.formatException(record.exc_info)
        if record.exc_text:
            out["exception"] = record.exc_text
        if record.stack_info:
            out["stack"] = record.stack_info
        return _ENCODER.encode(out).decode()


class _Writer:
    """The thread that formats and writes what the queue holds, in batches."""

    def __init__(self, stream: TextIO) -> None:
        self.queue: queue.SimpleQueue[Item] = queue.SimpleQueue()
        self.stream = stream
        self.json = False
        self.formatter: logging.Formatter = logging.Formatter(_FORMAT, _DATE_FORMAT)
        self._pid = os.getpid()
        self._second = -1
        self._stamp = ""
        self._thread = threading.Thread(target=self._run, name="inference-service-log", daemon=True)
        self._thread.start()

    def use(self, log_format: str) -> None:
        self.json = log_format == "json"
        self.formatter = JsonFormatter() if self.json else logging.Formatter(_FORMAT, _DATE_FORMAT)

    def _run(self) -> None:
        while True:
            items = [self.queue.get()]
            try:
                while len(items) < 1000:
                    items.append(self.queue.get_nowait())
            except queue.Empty:
                pass
            lines = []
            stop = False
            for item in items:
                if item is None:
                    stop = True
                elif isinstance(item, RequestLine):
                    lines.append(self._request_line(item))
                elif _FILTER.filter(item):
                    try:
                        lines.append(self.formatter.format(item))
                    except Exception:  # a record that cannot be formatted must not stop the log
                        lines.append(f"unformattable log record from {item.name}")
            if lines:
                try:
                    self.stream.write("\n".join(lines) + "\n")
                    self.stream.flush()
                except (OSError, ValueError):
                    pass  # stderr closed: nowhere left to say so
            if stop:
                return

    def _request_line(self, line: RequestLine) -> str:
        if self.json:
            out = {
                "time": _utc(line.created),
                "level": "info",
                "logger": REQUEST_LOGGER,
                "message": "request",
            }
            return _ENCODER.encode({**out, **line.fields}).decode()
        second = int(line.created)
        if second != self._second:
            self._second = second
            self._stamp = time.strftime(_DATE_FORMAT, time.localtime(second))
        return f"{self._stamp} [{self._pid}] [INFO] request {text_pairs(line.fields)}"

    def stop(self) -> None:
        self.queue.put(None)
        self._thread.join(timeout=5)


class _Enqueue(QueueHandler):
    """Puts the record itself on the writer's queue: formatting (and redacting) happen in the
    writer's thread, not on the event loop. The queue is in-process: nothing is pickled."""

    def prepare(self, record: logging.LogRecord) -> logging.LogRecord:
        return record


_writer: _Writer | None = None


def configure_logging(level: str, log_format: str = "text") -> None:
    """``level`` is a validated ``log_level`` setting (``debug`` … ``critical``), ``log_format``
    a validated ``log_format`` (``text`` or ``json``)."""
    global _writer
    logger = logging.getLogger(ROOT_LOGGER)
    logger.setLevel(level.upper())
    if _writer is None:
        _writer = _Writer(sys.stderr)
        atexit.register(stop_logging)
    _writer.use(log_format)
    server_errors = logging.getLogger(SERVER_LOGGER)  # hypercorn's error log, see server.py
    for target in (logger, server_errors):
        if not any(handler.get_name() == HANDLER_NAME for handler in target.handlers):
            enqueue = _Enqueue(_writer.queue)
            enqueue.set_name(HANDLER_NAME)
            target.addHandler(enqueue)
        target.propagate = False
    server_errors.setLevel(level.upper())
    for name in HYPERCORN_LOGGERS:
        # A logger's filter sees the records logged on it (hypercorn logs on these directly).
        other = logging.getLogger(name)
        if _FILTER not in other.filters:
            other.addFilter(_FILTER)


def request_line_queue() -> queue.SimpleQueue[Item] | None:
    """The writer's queue when the service's own logging is on and feeds it (else None: the
    request line goes through ``logging`` like any record)."""
    writer = _writer
    if writer is None:
        return None
    logger = logging.getLogger(ROOT_LOGGER)
    if not any(handler.get_name() == HANDLER_NAME for handler in logger.handlers):
        return None
    return writer.queue


def stop_logging() -> None:
    """Write what is still queued and stop the writer (at exit)."""
    global _writer
    if _writer is not None:
        _writer.stop()
        _writer = None
